// test/lan/lan.test.ts
// Three hosts on a private bridge (network namespaces made by the test, 10.249.0.0/24), real
// broadcast, port 2425: list finds the others; send by name; a sealed message is read; a host whose
// broadcasts are all refused still receives.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { binPath, jsonLines, makeSandbox } from '../helpers/cli.js';
import { lanCommands, lanIdentity as identity } from '../helpers/lan-recv.js';
import { type Lan, createLan, netnsUnavailableReason, nftUnavailableReason } from '../helpers/netns.js';

const skip = netnsUnavailableReason();
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

describe('a LAN of three ipmsg hosts', { skip: skip ?? false }, () => {
  let lan: Lan;
  before(async () => {
    lan = await createLan(3);
  });
  after(async () => {
    await lan?.destroy();
  });

  const { ipmsg, startRecv } = lanCommands(() => lan, sandbox.env);

  test('list finds the other hosts by broadcast; send by name; sealed message read', async () => {
    const bob = startRecv(1, 'bob', ['--count', '2', '--timeout', '25s']);
    const carol = startRecv(2, 'carol', ['--count', '2', '--timeout', '25s']);
    await Promise.all([bob.ready, carol.ready]);

    const list = await ipmsg(0, ['list', ...identity('alice'), '--wait', '1500ms', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const peers = jsonLines(list.stdout);
    assert.deepEqual(
      // With keys, user names carry the key fingerprint (§6.6): compare the base names.
      peers.map((p) => [p['address'], p['port'], String(p['user']).replace(/-<[0-9a-f]{16}>$/, ''), p['host'], p['nick'], p['group']]),
      [
        ['10.249.0.2', 2425, 'bob', 'bob-pc', 'BOB', 'lab'],
        ['10.249.0.3', 2425, 'carol', 'carol-pc', 'CAROL', 'lab'],
      ],
    );
    assert.match(String(peers[0]?.['user']), /^bob-<[0-9a-f]{16}>$/);
    assert.deepEqual(peers[0]?.['capabilities'], { utf8: true, fileAttach: false, encrypt: true, encryptExt: true, fileEncrypt: true });

    const early = await ipmsg(0, ['list', ...identity('alice'), '--count', '2', '--wait', '20s', '--json']);
    assert.equal(early.code, 0, early.stderr);
    assert.equal(jsonLines(early.stdout).length, 2);

    const broadcast = await ipmsg(0, ['send', ...identity('alice'), '--all', 'hello everybody']);
    assert.equal(broadcast.code, 0, broadcast.stderr);

    const sealed = await ipmsg(0, ['send', ...identity('alice'), 'bob', 'for your eyes only', '--wait-read', '--read-timeout', '10s', '--json', '--no-dns']);
    assert.equal(sealed.code, 0, sealed.stderr);
    const [result] = jsonLines(sealed.stdout);
    assert.equal(result?.['status'], 'read');
    assert.equal(result?.['address'], '10.249.0.2');

    const byNick = await ipmsg(0, ['send', ...identity('alice'), 'CAROL', 'hi carol', '--no-dns']);
    assert.equal(byNick.code, 0, byNick.stderr);

    const [b, c] = await Promise.all([bob.done, carol.done]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(c.code, 0, c.stderr);
    const bobMessages = jsonLines(b.stdout);
    assert.deepEqual(bobMessages.map((m) => [m['text'], m['broadcast'], m['sealed']]), [
      ['hello everybody', true, false],
      ['for your eyes only', false, true],
    ]);
    assert.equal((bobMessages[1]?.['from'] as Record<string, unknown>)['address'], '10.249.0.1');
    assert.deepEqual(jsonLines(c.stdout).map((m) => m['text']), ['hello everybody', 'hi carol']);
  });

  test('two hosts with the same name make a name ambiguous (68), user@host picks one', async () => {
    const one = startRecv(1, 'dave', ['--count', '1', '--timeout', '25s']);
    const two = lan.spawn(2, process.execPath, [binPath, 'recv', '--user', 'dave', '--host', 'other-pc', '--count', '0', '-v'], { env: sandbox.env });
    await one.ready;
    await new Promise((r) => setTimeout(r, 300));
    const ambiguous = await ipmsg(0, ['send', ...identity('alice'), 'dave', 'which one?', '--no-dns', '--wait', '3s']);
    assert.equal(ambiguous.code, 68);
    assert.match(ambiguous.stderr, /"dave" matches 2 peers: dave-<[0-9a-f]{16}>@dave-pc \(10\.249\.0\.2:2425\), dave-<[0-9a-f]{16}>@other-pc \(10\.249\.0\.3:2425\)/);
    const picked = await ipmsg(0, ['send', ...identity('alice'), 'dave@dave-pc', 'this one', '--no-dns']);
    assert.equal(picked.code, 0, picked.stderr);
    const done = await one.done;
    assert.equal(jsonLines(done.stdout)[0]?.['text'], 'this one');
    two.kill('SIGINT');
  });

  test('every broadcast refused (EPERM): recv warns and still receives; list and send --all exit 69', { skip: nftUnavailableReason() ?? false }, async () => {
    // Node 0 may not send to any broadcast address or IPv6 group: sendto() fails with EPERM, as behind a firewall.
    const refuse = (rule: string) => lan.run(0, 'nft', ['-f', '-'], { input: `table inet ipmt_bcast\ndelete table inet ipmt_bcast\n${rule}`, timeoutMs: 10_000 });
    const added = await refuse(
      `table inet ipmt_bcast {\n  chain out { type filter hook output priority 0; policy accept; ip daddr { ${lan.broadcast}, 255.255.255.255 } drop; ip6 daddr { ff15::979, ff02::1 } drop; }\n}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    try {
      const erin = startRecv(0, 'erin', ['--count', '1', '--timeout', '25s']);
      await erin.ready;
      const sent = await ipmsg(1, ['send', ...identity('frank'), '10.249.0.1', 'no broadcast needed', '--no-dns']);
      assert.equal(sent.code, 0, sent.stderr);
      const done = await erin.done;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stderr, /Cannot broadcast: .*; listening anyway/);
      assert.deepEqual(jsonLines(done.stdout).map((m) => m['text']), ['no broadcast needed']);
      // Without broadcast, list and send --all can do nothing: 69.
      const list = await ipmsg(0, ['list', ...identity('erin'), '--wait', '500ms']);
      assert.equal(list.code, 69, list.stderr);
      assert.match(list.stderr, /Cannot broadcast/);
      const all = await ipmsg(0, ['send', ...identity('erin'), '--all', 'to nobody']);
      assert.equal(all.code, 69, all.stderr);
    } finally {
      await refuse('');
    }
  });
});
