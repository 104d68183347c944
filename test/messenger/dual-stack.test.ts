// test/messenger/dual-stack.test.ts
// One peer heard over IPv4 and IPv6 is one peer: grouped with all its addresses, reached by name
// once at its preferred address; targets of a family the socket does not speak are usage errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { type Peer, PeerTable, groupPeers } from '../../src/messenger/peers.js';
import { type PeerDirectory, resolveTargets } from '../../src/messenger/resolve.js';
import { parseTarget } from '../../src/messenger/target.js';
import type { Family } from '../../src/transport/address.js';
import { FakeClock } from '../helpers/fake-clock.js';

function peer(address: string, user = 'bob', host = 'pc2', port = 2425): Peer {
  return {
    address,
    port,
    user,
    host,
    nick: user,
    group: '',
    absent: false,
    capabilities: { utf8: true, fileAttach: false, encrypt: false, encryptExt: false, fileEncrypt: false },
    client: undefined,
    version: '1',
    seenAt: 0,
  };
}

describe('a peer over both families', () => {
  it('is one group, its IPv4 address first, then IPv6, link-local last', () => {
    const groups = groupPeers([peer('fe80::2%eth0'), peer('fd00::2'), peer('10.0.0.2'), peer('fd00::3', 'carol', 'pc3')]);
    assert.deepEqual(
      groups.map((g) => [g.peer.user, g.peer.address, g.addresses]),
      [
        ['bob', '10.0.0.2', ['10.0.0.2', 'fd00::2', 'fe80::2%eth0']],
        ['carol', 'fd00::3', ['fd00::3']],
      ],
    );
  });

  it('on another port is another peer (two runs on one machine)', () => {
    assert.equal(groupPeers([peer('10.0.0.2'), peer('fd00::2', 'bob', 'pc2', 2426)]).length, 2);
  });

  it('is matched once by name, at its preferred address', () => {
    const table = new PeerTable();
    for (const address of ['fe80::2%eth0', 'fd00::2']) table.update(peer(address));
    assert.deepEqual(table.match('bob').map((p) => p.address), ['fd00::2']);
    table.update(peer('10.0.0.2'));
    assert.deepEqual(table.match('bob@pc2').map((p) => p.address), ['10.0.0.2']);
  });
});

function directory(families: readonly Family[]): PeerDirectory {
  return { peers: new PeerTable(), discover: () => Promise.resolve([]), families };
}

function resolve(families: readonly Family[], targets: string[]) {
  return resolveTargets(directory(families), targets.map((t) => parseTarget(t, 2425)), 2425, {
    wait: 100,
    clock: new FakeClock(),
    lookup: (name) => Promise.resolve(name === 'v6host.example' ? 'fd00::5' : undefined),
  });
}

describe('targets and the families of the socket', () => {
  it('takes IPv6 literals and host names that resolve to IPv6 on a dual-stack socket', async () => {
    const out = await resolve(['IPv6', 'IPv4'], ['fd00::4', '[fe80::1%eth0]:2426', 'v6host.example', '10.0.0.9']);
    assert.deepEqual(out.map((d) => [d.address, d.port]), [
      ['fd00::4', 2425],
      ['fe80::1%eth0', 2426],
      ['fd00::5', 2425],
      ['10.0.0.9', 2425],
    ]);
  });

  it('refuses an IPv6 target under -4 and an IPv4 one under -6 (64)', async () => {
    await assert.rejects(resolve(['IPv4'], ['fd00::4']), (e: unknown) => isIpmsgError(e, 'IPMSG_ERR_USAGE') && /"fd00::4" is an IPv6 address/.test(e.message));
    await assert.rejects(resolve(['IPv4'], ['v6host.example']), (e: unknown) => isIpmsgError(e, 'IPMSG_ERR_USAGE'));
    await assert.rejects(resolve(['IPv6'], ['10.0.0.9']), (e: unknown) => isIpmsgError(e, 'IPMSG_ERR_USAGE') && /speaks IPv6 only/.test(e.message));
  });
});
