// test/e2e/output-closed.test.ts
// A reader that goes away (`ipmsg recv --json | head -1`): the run stops as an interrupted one
// does, quietly, and exits 141 (128 + SIGPIPE, as a shell reports a writer killed by a broken
// pipe), not 0 as if everything had been printed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { binPath, freePort, local, makeSandbox, runCli, watchChild } from '../helpers/cli.js';

const sandbox = makeSandbox();
after(() => sandbox.cleanup());

test('recv --json --count 0 whose reader left after the first message: ends with 141, no error line', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [binPath, 'recv', ...local(port), '-v', '--json', '--count', '0', '--timeout', '60s'], {
    env: sandbox.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const recv = watchChild(child);
  await recv.waitFor('listening on UDP port');
  const send = async (text: string) => runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, text, '--no-crypto'], sandbox.env);
  assert.equal((await send('first')).code, 0);
  await recv.waitFor('"first"');
  // The reader goes away, as head does after its line.
  child.stdout?.destroy();
  // The next message is written to the closed pipe: that ends the run.
  await send('second');
  const done = await recv.done;
  assert.equal(done.code, 141, done.stderr);
  assert.doesNotMatch(done.stderr, /closed|interrupted|error/i);
});
