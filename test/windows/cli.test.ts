// test/windows/cli.test.ts
// The CLI under Windows' Node (Wine): --version, --help, and the exit statuses a Windows script
// sees: 64 usage, 68 unknown target, 75 timeout, 130 Ctrl-C.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort, jsonLines, local, ndjson, repoRoot } from '../helpers/cli.js';
import { runWin, startWin, wineSkip } from '../helpers/wine.js';

describe('Windows Node under Wine: the CLI', { skip: wineSkip }, () => {
  test('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const done = await runWin(['--version']);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout.trim(), version);
  });

  test('--help lists the subcommands and the exit statuses, and exits 0', async () => {
    const done = await runWin(['--help']);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^Usage: ipmsg /);
    for (const name of ['send', 'recv', 'get-file', 'serve-dir', 'keys']) assert.match(done.stdout, new RegExp(`\\n  ${name}\\b`));
    assert.match(done.stdout, /Exit status: 0 ok, 64 usage/);
  });

  test('a bad option value is a usage error: 64', async () => {
    const done = await runWin(['send', '--port', 'nope', '127.0.0.1', 'x']);
    assert.equal(done.code, 64);
    assert.match(done.stderr, /expected a port number 1-65535, got "nope"/);
  });

  test('an unknown name is 68, with its end record', async () => {
    const done = await runWin(['send', ...local(await freePort()), 'nobody-by-this-name', 'x', '--wait', '300ms', '--no-dns', '--json']);
    assert.equal(done.code, 68);
    assert.match(done.stderr, /Unknown target "nobody-by-this-name"/);
    const end = ndjson(done.stdout).at(-1);
    assert.deepEqual([end?.['event'], end?.['exit'], end?.['code']], ['end', 68, 'IPMSG_ERR_UNKNOWN_TARGET']);
  });

  test('recv --timeout with nothing arriving is 75', async () => {
    const done = await runWin(['recv', ...local(await freePort()), '--timeout', '300ms']);
    assert.equal(done.code, 75);
    assert.match(done.stderr, /received 0 of 1 messages within 0\.3s/);
  });

  test('send to a port nobody acknowledges is 75', async () => {
    const done = await runWin(['send', ...local(await freePort()), `127.0.0.1:${await freePort()}`, 'anyone?', '-t', '300ms', '-r', '1']);
    assert.equal(done.code, 75, done.stderr);
  });

  test('SIGINT to the Wine process reaches Node as Ctrl-C: recv ends with 130 and its end record', async () => {
    const recv = startWin(['recv', ...local(await freePort()), '-v', '--json']);
    await recv.waitFor('listening on UDP port');
    recv.child.kill('SIGINT');
    const done = await recv.done;
    assert.equal(done.code, 130, done.stderr);
    assert.equal(done.signal, null);
    assert.match(done.stderr, /ipmsg: interrupted/);
    assert.deepEqual(jsonLines(done.stdout), []);
    assert.deepEqual(ndjson(done.stdout).at(-1), { event: 'end', ok: false, exit: 130, code: 'IPMSG_ERR_INTERRUPTED', error: 'interrupted' });
  });
});
