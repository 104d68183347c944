// test/e2e/ipv6-loopback.test.ts
// The real binary over IPv6 loopback (::1): a message and a file (TCP over IPv6), info, and -6/-4.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, jsonLines, makeSandbox, runCli, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const dir = mkdtempSync(join(tmpdir(), 'ipmsg-v6-'));
after(() => {
  sandbox.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('send a message and a file to [::1]:PORT, -6 on both sides; info over ::1', async () => {
  const port = await freePort();
  const save = join(dir, 'got');
  const recv = startCli(['recv', '-6', '--bind', '::1', '--port', String(port), '--save', save, '--count', '1', '--timeout', '20s', '--json', '-v'], sandbox.env);
  await recv.waitFor('listening on UDP port');
  const info = await runCli(['info', '--bind', '::1', '--port', String(await freePort()), `[::1]:${port}`], sandbox.env);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^ipmsg CLI \(Node\.js\) Ver/);
  const file = join(dir, 'six.txt');
  writeFileSync(file, 'sent over ::1\n');
  const send = await runCli(['send', '-6', '--bind', '::1', '--port', String(await freePort()), `[::1]:${port}`, 'over IPv6', '--file', file, '--serve-timeout', '20s', '--json'], sandbox.env);
  assert.equal(send.code, 0, send.stderr);
  assert.deepEqual([jsonLines(send.stdout)[0]?.['status'], jsonLines(send.stdout)[0]?.['address']], ['delivered', '::1']);
  const done = await recv.done;
  assert.equal(done.code, 0, done.stderr);
  const [message] = jsonLines(done.stdout);
  assert.equal((message?.['from'] as Record<string, unknown>)['address'], '::1');
  assert.equal(readFileSync(join(save, 'six.txt'), 'utf8'), 'sent over ::1\n');
});

test('-4 refuses an IPv6 target and -6 an IPv4 one (64), before anything is sent', async () => {
  const v4 = await runCli(['send', '-4', '--bind', '127.0.0.1', '--port', String(await freePort()), '::1', 'x'], sandbox.env);
  assert.equal(v4.code, 64, v4.stderr);
  assert.match(v4.stderr, /"::1" is an IPv6 address/);
  const v6 = await runCli(['send', '-6', '--bind', '::1', '--port', String(await freePort()), '127.0.0.1', 'x'], sandbox.env);
  assert.equal(v6.code, 64, v6.stderr);
});
