// test/lan/iptux.test.ts
// Interoperability with a real iptux 0.8.3 (Debian's package), headless under Xvfb in its own
// network namespace: list finds it, messages are acknowledged and appear in its chat log.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { binPath, jsonLines, makeSandbox } from '../helpers/cli.js';
import { type IptuxPeer, iptuxUnavailableReason, startIptux } from '../helpers/iptux.js';
import { type Lan, createLan } from '../helpers/netns.js';

const skip = iptuxUnavailableReason();
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

describe('iptux interop', { skip: skip ?? false }, () => {
  let lan: Lan;
  let iptux: IptuxPeer;
  before(async () => {
    lan = await createLan(2);
    iptux = await startIptux(lan, 1, { nick: 'iptux-peer', group: 'lab' });
  });
  after(async () => {
    await iptux?.stop();
    await lan?.destroy();
  });

  function ipmsg(args: readonly string[]) {
    return lan.run(0, process.execPath, [binPath, ...args, '--user', 'alice', '--host', 'alice-pc', '--nick', 'Alice'], {
      env: sandbox.env,
      timeoutMs: 30_000,
    });
  }

  test('list finds iptux, with its nick, group and version, and not as absent', async () => {
    const list = await ipmsg(['list', '--wait', '1s', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const peers = jsonLines(list.stdout);
    const peer = peers.find((p) => p['address'] === iptux.address);
    assert.ok(peer, list.stdout);
    assert.equal(peer['port'], 2425);
    assert.equal(peer['user'], iptux.user);
    assert.equal(peer['host'], iptux.hostname);
    assert.equal(peer['nick'], 'iptux-peer');
    assert.equal(peer['group'], 'lab');
    assert.equal(peer['client'], 'iptux 0.8.3');
    assert.equal(peer['absent'], false);
  });

  test('ASCII, UTF-8 Chinese and GBK messages are acknowledged and logged exactly', async () => {
    const ascii = await ipmsg(['send', iptux.address, 'hello from ipmsg: build #42 passed']);
    assert.equal(ascii.code, 0, ascii.stderr);
    await iptux.waitForLog('[STRING]hello from ipmsg: build #42 passed\n', 5000);

    const chinese = await ipmsg(['send', iptux.address, '飞鸽传书：构建成功']);
    assert.equal(chinese.code, 0, chinese.stderr);
    await iptux.waitForLog('[STRING]飞鸽传书：构建成功\n', 5000);

    const gbk = await ipmsg(['send', '--encoding', 'gbk', iptux.address, '今晚开会，GBK 编码']);
    assert.equal(gbk.code, 0, gbk.stderr);
    await iptux.waitForLog('[STRING]今晚开会，GBK 编码\n', 5000);
  });

  test('five sends back to back all appear (packet numbers keep rising across runs)', async () => {
    for (let i = 1; i <= 5; i++) {
      const r = await ipmsg(['send', iptux.address, `back-to-back ${i}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const log = await iptux.waitForLog('[STRING]back-to-back 5\n', 5000);
    for (let i = 1; i <= 5; i++) assert.ok(log.includes(`[STRING]back-to-back ${i}\n`), `message ${i} missing from the log`);
  });

  test('a target named by iptux nick is found by discovery', async () => {
    const r = await ipmsg(['send', 'iptux-peer', 'found you by name', '--no-dns', '--wait', '3s', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonLines(r.stdout)[0]?.['address'], iptux.address);
    await iptux.waitForLog('[STRING]found you by name\n', 5000);
  });

  test('iptux does not answer GETINFO: info fails with 75 and says so', async () => {
    const r = await ipmsg(['info', iptux.address, '--timeout', '1s', '--retries', '1']);
    assert.equal(r.code, 75);
    assert.match(r.stderr, /No SENDINFO answer from 10\.249\.0\.2/);
  });
});
