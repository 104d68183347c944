// test/lan/host-list.test.ts
// Three hosts on a private bridge (namespaces made by the test, 10.249.0.0/24). carol does not
// hear alice's broadcasts (nftables drops them), so only a host list names her: `list --via`
// learns her from a peer that keeps one, and `send --via … carol` reaches her by name. An ipmsg
// `recv` keeps no list: asking it is a notice and the run goes on.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { binPath, jsonLines, makeSandbox } from '../helpers/cli.js';
import { lanIdentity as identity } from '../helpers/lan-recv.js';
import { type Lan, createLan, netnsUnavailableReason, nftUnavailableReason } from '../helpers/netns.js';

const skip = netnsUnavailableReason() ?? nftUnavailableReason();
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

const ALICE = '10.249.0.1';
const LISTER = '10.249.0.2';
const CAROL = '10.249.0.3';
const listServer = new URL('../helpers/list-server.js', import.meta.url).pathname;

/** Resolves once `text` appears on the child's output, rejects if it ends first. */
function started(child: ChildProcess, stream: 'stdout' | 'stderr', text: string): { ready: Promise<void>; output: () => string; done: Promise<number | null> } {
  let out = '';
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child[stream]?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes(text)) resolve();
    });
    void done.then(() => reject(new Error(`ended before "${text}": ${out}`)));
  });
  return { ready, output: () => out, done };
}

describe('host list across a broadcast that does not arrive', { skip: skip ?? false }, () => {
  let lan: Lan;
  before(async () => {
    lan = await createLan(3);
  });
  after(async () => {
    await lan?.destroy();
  });

  function ipmsg(args: readonly string[]) {
    return lan.run(0, process.execPath, [binPath, ...args, ...identity('alice')], { env: sandbox.env, timeoutMs: 30_000 });
  }

  test('list --via learns carol, send --via reaches her by name; a recv asked for its list is a notice', async () => {
    // carol hears nothing alice broadcasts (IPv4 broadcast, IPv6 discovery multicast); unicast still flows both ways.
    const drop = await lan.run(2, 'nft', ['-f', '-'], {
      input: `table inet ipmt_nobcast {\n  chain in { type filter hook input priority -300; policy accept; ip saddr ${ALICE} meta pkttype broadcast drop; ip6 daddr { ff15::979, ff02::1 } drop; }\n}\n`,
      timeoutMs: 10_000,
    });
    assert.equal(drop.code, 0, drop.stderr);

    const carolChild = lan.spawn(2, process.execPath, [binPath, 'recv', ...identity('carol'), '--json', '-v', '--count', '1', '--timeout', '25s'], { env: sandbox.env });
    const carol = started(carolChild, 'stderr', 'listening on UDP port 2425');
    let carolOut = '';
    carolChild.stdout?.setEncoding('utf8').on('data', (d: string) => (carolOut += d));
    const hosts = [
      { user: 'alice', host: 'alice-pc', status: 0x01000000, address: ALICE, port: 2425, nick: 'ALICE', group: 'lab' },
      { user: 'carol', host: 'carol-pc', status: 0x01400000, address: CAROL, port: 2425, nick: 'CAROL', group: 'lab' },
      { user: 'gone', host: 'gone-pc', status: 0, address: '10.249.0.9', port: 2425, nick: '', group: '' },
    ];
    const lister = started(lan.spawn(1, process.execPath, [listServer, JSON.stringify(hosts)], { env: sandbox.env }), 'stdout', 'listening');
    await Promise.all([carol.ready, lister.ready]);

    const plain = await ipmsg(['list', '--wait', '1s', '--json']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(jsonLines(plain.stdout), [], 'broadcast finds nobody: the lister does not answer entries, carol does not hear them');

    const listed = await ipmsg(['list', '--via', LISTER, '--wait', '1s', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      jsonLines(listed.stdout).map((p) => [p['address'], p['port'], p['user'], p['via']]),
      [[CAROL, 2425, 'carol', LISTER]],
      'carol once, via the lister; not alice herself, not a host the list marks as gone',
    );

    const text = await ipmsg(['list', '--via', LISTER, '--wait', '1s']);
    assert.match(text.stdout, /VIA/);
    assert.match(text.stdout, new RegExp(`${CAROL.replaceAll('.', '\\.')}:2425 +carol@carol-pc .* ${LISTER.replaceAll('.', '\\.')} `));

    const noList = await ipmsg(['list', '--via', CAROL, '--wait', '500ms', '--json']);
    assert.equal(noList.code, 0, noList.stderr);
    assert.match(noList.stderr, new RegExp(`${CAROL.replaceAll('.', '\\.')} sent no host list .*; going on with what broadcasting finds`));
    assert.equal(noList.stderr.trim().split('\n').filter((l) => !l.startsWith('{')).length, 1, 'one line');

    const sent = await ipmsg(['send', '--via', LISTER, 'carol', 'found you through the list', '--no-dns', '--wait', '2s', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(jsonLines(sent.stdout)[0]?.['address'], CAROL);
    assert.equal(await carol.done, 0, carol.output());
    assert.deepEqual(jsonLines(carolOut).map((m) => m['text']), ['found you through the list']);
  });
});
