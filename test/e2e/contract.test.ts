// test/e2e/contract.test.ts
// The JSON and exit-status contract between real processes: one progress schema on both sides of
// a transfer (the item's name, the peer apart, a number for an empty file's total); recv
// --decline-files releasing what it will not fetch (RELEASEFILES, §5.5), so that send --file
// exits 77 at once.

import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, local, makeSandbox, ndjson, runCli, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const root = mkdtempSync(join(tmpdir(), 'ipmsg-contract-'));
after(() => {
  sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** The JSON lines of stderr (the others are diagnostics). */
function events(stderr: string): Record<string, unknown>[] {
  return ndjson(stderr.split('\n').filter((l) => l.startsWith('{')).join('\n'));
}

test('progress of an empty file: its name, the peer apart, total 0 on both sides', async () => {
  const file = join(root, 'empty.txt');
  writeFileSync(file, '');
  const save = join(root, 'saved');
  mkdirSync(save);
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', '--save', save, '--timeout', '20s'], sandbox.env);
  await recv.waitFor('listening on UDP port');
  const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, '--file', file, '--serve-timeout', '20s', '--json'], sandbox.env);
  assert.equal(send.code, 0, send.stderr);
  const done = await recv.done;
  assert.equal(done.code, 0, done.stderr);
  const served = events(send.stderr).find((e) => e['event'] === 'done');
  const fetched = events(done.stderr).find((e) => e['event'] === 'done');
  assert.deepEqual({ ...served, elapsedMs: 0 }, { event: 'done', name: 'empty.txt', to: '127.0.0.1', bytes: 0, total: 0, elapsedMs: 0 });
  assert.deepEqual({ ...fetched, elapsedMs: 0 }, { event: 'done', name: 'empty.txt', from: '127.0.0.1', bytes: 0, total: 0, elapsedMs: 0 });
  assert.deepEqual(ndjson(send.stdout).at(-1), { event: 'end', ok: true, exit: 0 });
});

test('send --file to recv --decline-files: send exits 77 at once, recv prints the offer and exits 0', async () => {
  const file = join(root, 'unwanted.txt');
  writeFileSync(file, 'not for you\n');
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', '--decline-files', '--timeout', '20s'], sandbox.env);
  await recv.waitFor('listening on UDP port');
  // The serve timeout is far beyond the test's: only the release can end the send in time.
  const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'take it', '--file', file, '--serve-timeout', '10m', '--json'], sandbox.env);
  assert.equal(send.code, 77, send.stderr);
  const sent = ndjson(send.stdout);
  assert.equal(sent[0]?.['status'], 'delivered');
  assert.deepEqual({ ...sent.at(-1), error: undefined }, { event: 'end', ok: false, exit: 77, code: 'IPMSG_ERR_DECLINED', error: undefined });
  assert.match(send.stderr, /127\.0\.0\.1 declined the files/);
  const done = await recv.done;
  assert.equal(done.code, 0, done.stderr);
  const [message, end] = ndjson(done.stdout);
  assert.equal(message?.['text'], 'take it');
  assert.equal((message?.['attachments'] as unknown[]).length, 1);
  assert.deepEqual(end, { event: 'end', ok: true, exit: 0 });
});

test('--decline-files and --save conflict (64)', async () => {
  const result = await runCli(['recv', '--decline-files', '--save', root, '--json'], sandbox.env);
  assert.equal(result.code, 64);
});
