// test/windows/messages.test.ts
// Messages between a Windows-Node process (under Wine) and a Linux-Node process on 127.0.0.1, in
// both directions, encrypted and plain, in UTF-8 and CP932; and where the Windows side keeps its
// keys (%APPDATA%\ipmsg) and run state (%LOCALAPPDATA%\ipmsg).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, jsonLines, local, makeSandbox, runCli, type Running, startCli } from '../helpers/cli.js';
import { runWin, startWin, windowsFolder, wineSkip } from '../helpers/wine.js';

const sandbox = makeSandbox();
// The Windows side pins this peer's key in its prefix, which outlives this file: a name of its own.
sandbox.env['IPMSG_HOST'] = `linux-messages-${process.pid}`;
after(() => sandbox.cleanup());

type Side = 'windows' | 'linux';

function start(side: Side, args: readonly string[]): Running {
  return side === 'windows' ? startWin(args) : startCli(args, sandbox.env);
}

function run(side: Side, args: readonly string[]) {
  return side === 'windows' ? runWin(args) : runCli(args, sandbox.env);
}

const TEXTS = {
  'utf-8': 'hello 飞鸽传书 ✓ ünïcode\nsecond line: with colons',
  // ① and halfwidth ｶﾀｶﾅ are CP932 (Windows' Shift_JIS), not plain Shift_JIS.
  cp932: '日本語のメッセージ ① ｶﾀｶﾅ\n二行目',
} as const;

const CASES = (['linux', 'windows'] as const).flatMap((from) =>
  (['utf-8', 'cp932'] as const).flatMap((charset) => [true, false].map((encrypted) => ({ from, charset, encrypted }))),
);

describe('Windows Node under Wine ↔ Linux Node: send → recv', { skip: wineSkip }, () => {
  for (const { from, charset, encrypted } of CASES) {
    const to: Side = from === 'windows' ? 'linux' : 'windows';
    test(`${from} → ${to}, ${encrypted ? 'encrypted' : 'plain'}, ${charset}`, async () => {
      const port = await freePort();
      const encoding = charset === 'cp932' ? ['--encoding', 'cp932'] : [];
      const recv = start(to, ['recv', ...local(port), '-v', '--json', '--timeout', '30s', ...encoding]);
      await recv.waitFor('listening on UDP port', 30_000);
      const text = TEXTS[charset];
      const send = await run(from, ['send', ...local(await freePort()), ...encoding, ...(encrypted ? [] : ['--encrypt', 'never']), `127.0.0.1:${port}`, text, '--json']);
      assert.equal(send.code, 0, send.stderr);
      const [result] = jsonLines(send.stdout);
      assert.equal(result?.['status'], 'delivered');
      assert.equal(result?.['encrypted'], encrypted);
      assert.equal(result?.['charset'], charset);
      const done = await recv.done;
      assert.equal(done.code, 0, done.stderr);
      const [message] = jsonLines(done.stdout);
      assert.equal(message?.['text'], text);
      assert.equal(message?.['packetNo'], result?.['packetNo']);
      assert.equal(message?.['encrypted'], encrypted);
      assert.equal(message?.['charset'], charset);
      const user = from === 'windows' ? 'wintester' : 'tester';
      assert.match(String((message?.['from'] as Record<string, unknown>)['user']), new RegExp(`^${user}(-<[0-9a-f]{16}>)?$`));
      if (encrypted) assert.equal(message?.['signature'], 'verified');
    });
  }
});

describe('Windows Node under Wine: the message from standard input', { skip: wineSkip }, () => {
  // From a file (`ipmsg send host < note.txt`): Wine cannot give Windows' Node a Unix pipe (see helpers/wine.ts).
  test('send reads the text from a redirected file; its CRLF line ends arrive as LF, the last one dropped', async () => {
    const port = await freePort();
    const recv = startCli(['recv', ...local(port), '-v', '--json', '--timeout', '30s'], sandbox.env);
    await recv.waitFor('listening on UDP port');
    const send = await runWin(['send', ...local(await freePort()), `127.0.0.1:${port}`], { input: 'from a file 飞鸽\r\nsecond line\r\n' });
    assert.equal(send.code, 0, send.stderr);
    const [message] = jsonLines((await recv.done).stdout);
    assert.equal(message?.['text'], 'from a file 飞鸽\nsecond line');
  });
});

describe('Windows Node under Wine: where keys and state land', { skip: wineSkip }, () => {
  let appData = '';
  let localAppData = '';
  let profile = '';
  before(async () => {
    appData = await windowsFolder('APPDATA');
    localAppData = await windowsFolder('LOCALAPPDATA');
    profile = await windowsFolder('USERPROFILE');
  });

  test('after an encrypted exchange: our key and the known peers under %APPDATA%\\ipmsg, the packet counter and code caches under %LOCALAPPDATA%\\ipmsg, nothing in a Unix-style folder', async () => {
    const port = await freePort();
    const recv = startCli(['recv', ...local(port), '-v', '--json', '--timeout', '30s'], sandbox.env);
    await recv.waitFor('listening on UDP port');
    const send = await runWin(['send', ...local(await freePort()), '--encrypt', 'always', `127.0.0.1:${port}`, 'pin me', '--json']);
    assert.equal(send.code, 0, send.stderr);
    assert.equal((await recv.done).code, 0);

    const config = join(appData, 'ipmsg');
    assert.ok(existsSync(join(config, 'rsa2048.pem')), `no rsa2048.pem in ${config}: ${send.stderr}`);
    const known = JSON.parse(readFileSync(join(config, 'known-peers.json'), 'utf8')) as unknown;
    assert.match(JSON.stringify(known), /tester/);
    // Run state in %LOCALAPPDATA%\ipmsg, the launcher's code caches in %LOCALAPPDATA%\ipmsg\cache.
    const state = join(localAppData, 'ipmsg');
    assert.ok(existsSync(join(state, 'packet-no')), `no packet-no in ${state}`);
    assert.ok(readdirSync(join(state, 'cache')).length > 0, `no code cache in ${state}\\cache`);
    assert.equal(findFile(config, 'packet-no'), false, 'the packet counter is in %APPDATA%');
    // Not where the Linux rules would put them: ~/.config, ~/.local/state under the Windows
    // profile, or the Linux home Wine runs with.
    for (const unixStyle of [join(profile, '.config'), join(profile, '.local'), join(process.env['HOME'] ?? '', '.config', 'ipmsg')]) {
      assert.equal(existsSync(unixStyle), false, `${unixStyle} exists`);
    }
  });
});

describe('Windows Node under Wine: XDG_* handed through', { skip: wineSkip }, () => {
  test('Wine passes Unix variables to Windows programs: an absolute XDG_CONFIG_HOME/XDG_STATE_HOME wins over %APPDATA%', async () => {
    const config = mkdtempSync(join(tmpdir(), 'ipmsg-wine-xdg-config-'));
    const state = mkdtempSync(join(tmpdir(), 'ipmsg-wine-xdg-state-'));
    try {
      // As a Linux shell would hand them on: Unix paths, which Windows' Node reads on the current drive (Z:).
      const env = { XDG_CONFIG_HOME: config, XDG_STATE_HOME: state, XDG_CACHE_HOME: join(state, 'cache') };
      const port = await freePort();
      const recv = startCli(['recv', ...local(port), '-v', '--json', '--timeout', '30s'], sandbox.env);
      await recv.waitFor('listening on UDP port');
      const send = await runWin(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'xdg', '--json'], { env });
      assert.equal(send.code, 0, send.stderr);
      assert.equal((await recv.done).code, 0);
      assert.ok(existsSync(join(config, 'ipmsg', 'rsa2048.pem')), send.stderr);
      assert.ok(existsSync(join(config, 'ipmsg', 'known-peers.json')));
      assert.ok(existsSync(join(state, 'ipmsg', 'packet-no')));
    } finally {
      rmSync(config, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    }
  });
});

function findFile(dir: string, name: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? findFile(join(dir, e.name), name) : e.name === name));
}
