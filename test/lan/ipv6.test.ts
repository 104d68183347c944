// test/lan/ipv6.test.ts
// IPv6 on a private bridge (namespaces made by the test; fd00:249::/64 and 10.249.0.0/24, multicast
// snooping off): node 0 and 1 are dual-stack, node 2 has IPv6 alone. list finds a dual-stack peer
// once with both addresses, and the IPv6-only recv over ff15::979 alone; send by name and by
// address (scoped link-local too), a sealed message read, a file and a folder, info and absence, all over IPv6.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { binPath, jsonLines, makeSandbox } from '../helpers/cli.js';
import { lanCommands, lanIdentity as identity } from '../helpers/lan-recv.js';
import { type Lan, createLan, netnsUnavailableReason, nftUnavailableReason } from '../helpers/netns.js';

const skip = netnsUnavailableReason();
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

const baseUser = (user: unknown): string => String(user).replace(/-<[0-9a-f]{16}>$/, '');

describe('IPv6 between ipmsg hosts', { skip: skip ?? false }, () => {
  let lan: Lan;
  before(async () => {
    lan = await createLan(3, { ipv6: true, ipv6Only: [2] });
  });
  after(async () => {
    await lan?.destroy();
  });

  const { ipmsg, startRecv } = lanCommands(() => lan, sandbox.env);

  test('a malformed IPv6 literal is a usage error (64) at once', async () => {
    const r = await ipmsg(0, ['send', ...identity('alice'), 'fd53:::1', 'hello', '--wait', '20s'], 5000);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /Invalid IPv6 address in target "fd53:::1"/);
  });

  test('list, send by name and address, sealed, a file and a folder, info and absence over IPv6', { timeout: 90_000 }, async () => {
    const bobSave = join(sandbox.dir, 'bob-got');
    const carolSave = join(sandbox.dir, 'carol-got');
    const bob = startRecv(1, 'bob', ['--count', '3', '--timeout', '40s', '--save', bobSave]);
    const carol = startRecv(2, 'carol', ['--count', '2', '--timeout', '40s', '--save', carolSave]);
    await Promise.all([bob.ready, carol.ready]);

    const list = await ipmsg(0, ['list', ...identity('alice'), '--wait', '1500ms', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const peers = jsonLines(list.stdout).filter((p) => p['user'] !== undefined);
    assert.deepEqual(peers.map((p) => [baseUser(p['user']), p['address'], p['family']]), [
      ['bob', '10.249.0.2', 'IPv4'],
      ['carol', 'fd00:249::3', 'IPv6'],
    ]);
    // bob answered over both families: one peer, both addresses (and its link-local one).
    const bobAddresses = (peers[0]?.['addresses'] as { address: string; family: string }[]).map((a) => `${a.family} ${a.address}`);
    assert.deepEqual(bobAddresses.slice(0, 2), ['IPv4 10.249.0.2', 'IPv6 fd00:249::2']);
    assert.equal(bobAddresses.length, 3, bobAddresses.join(', '));
    assert.match(bobAddresses[2] ?? '', /^IPv6 fe80::[0-9a-f:]+%eth0$/);
    const text = await ipmsg(0, ['list', ...identity('alice'), '--wait', '1500ms']);
    assert.equal(text.code, 0, text.stderr);
    const bobRows = text.stdout.split('\n').filter((l) => /bob-<[0-9a-f]{16}>@bob-pc/.test(l));
    assert.equal(bobRows.length, 1, text.stdout);
    assert.match(bobRows[0] ?? '', /^10\.249\.0\.2:2425,\[fd00:249::2\]:2425/);

    const info = await ipmsg(0, ['info', ...identity('alice'), 'fd00:249::3']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^ipmsg CLI \(Node\.js\) Ver/);
    const absence = await ipmsg(0, ['absence', ...identity('alice'), '[fd00:249::2]', '--json']);
    assert.equal(absence.code, 0, absence.stderr);
    assert.equal(jsonLines(absence.stdout)[0]?.['absence'], 'Not Absence mode');

    // carol has no IPv4: by name, the search finds her over IPv6 and the sealed message is read.
    const sealed = await ipmsg(0, ['send', ...identity('alice'), 'carol', 'sealed for carol', '--wait-read', '--read-timeout', '10s', '--json', '--no-dns']);
    assert.equal(sealed.code, 0, sealed.stderr);
    const [outcome] = jsonLines(sealed.stdout);
    assert.deepEqual([outcome?.['status'], outcome?.['address'], outcome?.['encrypted']], ['read', 'fd00:249::3', true]);

    // A file and a folder to [fd00:249::3]:2425; carol fetches them over TCP/IPv6.
    const src = join(sandbox.dir, 'src6');
    mkdirSync(join(src, 'folder', 'inner'), { recursive: true });
    writeFileSync(join(src, 'note.txt'), 'over IPv6\n');
    writeFileSync(join(src, 'folder', 'a.txt'), 'a');
    writeFileSync(join(src, 'folder', 'inner', 'b.bin'), Buffer.alloc(100_000, 7));
    const files = await ipmsg(0, ['send', ...identity('alice'), '[fd00:249::3]:2425', 'files', '--file', join(src, 'note.txt'), '--file', join(src, 'folder'), '--serve-timeout', '30s', '--json']);
    assert.equal(files.code, 0, files.stderr);

    // bob by name: one peer over two families, one message.
    const byName = await ipmsg(0, ['send', ...identity('alice'), 'bob', 'hi bob', '--json', '--no-dns']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(jsonLines(byName.stdout).filter((l) => l['status'] === 'delivered').length, 1);
    // and by its IPv6 address.
    const byAddress = await ipmsg(0, ['send', ...identity('alice'), 'fd00:249::2', 'hi bob over IPv6']);
    assert.equal(byAddress.code, 0, byAddress.stderr);
    // and by its scoped link-local address.
    const scoped = await ipmsg(0, ['send', ...identity('alice'), (bobAddresses[2] ?? '').slice('IPv6 '.length), 'hi bob link-local']);
    assert.equal(scoped.code, 0, scoped.stderr);

    const [b, c] = await Promise.all([bob.done, carol.done]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(c.code, 0, c.stderr);
    const bobMessages = jsonLines(b.stdout).filter((m) => m['text'] !== undefined);
    assert.deepEqual(bobMessages.map((m) => [m['text'], String((m['from'] as Record<string, unknown>)['address']).replace(/^fe80::[0-9a-f:]+%eth0$/, 'fe80::…%eth0')]), [
      ['hi bob', '10.249.0.1'],
      ['hi bob over IPv6', 'fd00:249::1'],
      ['hi bob link-local', 'fe80::…%eth0'],
    ]);
    const carolMessages = jsonLines(c.stdout).filter((m) => m['text'] !== undefined);
    assert.deepEqual(carolMessages.map((m) => [m['text'], m['sealed'], (m['from'] as Record<string, unknown>)['address']]), [
      ['sealed for carol', true, 'fd00:249::1'],
      ['files', false, 'fd00:249::1'],
    ]);
    assert.equal(readFileSync(join(carolSave, 'note.txt'), 'utf8'), 'over IPv6\n');
    assert.equal(readFileSync(join(carolSave, 'folder', 'a.txt'), 'utf8'), 'a');
    assert.deepEqual(readFileSync(join(carolSave, 'folder', 'inner', 'b.bin')), Buffer.alloc(100_000, 7));
  });

  test('a recv with no IPv4 is found over ff15::979 alone', { skip: nftUnavailableReason() ?? false }, async () => {
    // Node 0 may send neither IPv4 broadcasts nor to ff02::1: only the ff15::979 group is left.
    const refuse = (rule: string) => lan.run(0, 'nft', ['-f', '-'], { input: `table inet ipmt_v6\ndelete table inet ipmt_v6\n${rule}`, timeoutMs: 10_000 });
    const added = await refuse(
      `table inet ipmt_v6 {\n  chain out { type filter hook output priority 0; policy accept; ip daddr { 10.249.0.255, 255.255.255.255 } drop; ip6 daddr ff02::1 drop; }\n}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    try {
      const dave = startRecv(2, 'dave', ['--count', '0', '--timeout', '20s', '--no-announce']);
      await dave.ready;
      const list = await ipmsg(0, ['list', ...identity('alice'), '--wait', '1500ms', '--json', '-v']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stderr, /broadcast to ff02::1%eth0: .*EPERM/);
      const peers = jsonLines(list.stdout).filter((p) => baseUser(p['user']) === 'dave');
      assert.deepEqual(peers.map((p) => p['address']), ['fd00:249::3']);
    } finally {
      await refuse('');
    }
  });
});
