// test/messenger/host-list.test.ts
// Messenger.hostList on the fake LAN and fake clock: GETLIST paging, the hosts joining the peer
// table marked `via`, and the bounds a silent, endless or garbled lister runs into.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import type { HostListResult } from '../../src/messenger/index.js';
import { MAX_LIST_PAGES } from '../../src/protocol/host-list.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan } from '../helpers/fake-lan.js';
import { PORT, openNode } from '../helpers/lan-node.js';
import { answerGetList, manyHosts, pagesOf } from '../helpers/list-peer.js';
import { track } from '../helpers/track.js';

const LISTER = '10.0.0.9';
const RETRY = { timeout: 2000, retries: 1 };

async function setup() {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const asker = await openNode(lan, clock, '10.0.0.1');
  lan.addHost(LISTER);
  const socket = lan.open(LISTER, PORT);
  const list = (options = RETRY) => track(asker.messenger.hostList({ text: LISTER, address: LISTER, port: PORT }, options));
  return { clock, lan, asker, socket, list };
}

async function settled<T>(clock: FakeClock, tracked: { settled: boolean; promise: Promise<T> }, limit = 10_000): Promise<T> {
  await clock.tickUntil(() => tracked.settled, limit);
  assert.ok(tracked.settled, 'settled');
  return tracked.promise;
}

describe('Messenger.hostList', () => {
  it('pages through the list (next start index) and learns every host once, marked via', async () => {
    const { clock, asker, socket, list } = await setup();
    const hosts = manyHosts(5);
    const asked = answerGetList(socket, pagesOf(hosts, 2));
    const result: HostListResult = await settled(clock, list());
    assert.deepEqual(asked, [0, 2, 4]);
    assert.deepEqual(result.peers.map((p) => p.host), ['host0', 'host1', 'host2', 'host3', 'host4']);
    assert.equal(result.incomplete, undefined);
    assert.ok(result.peers.every((p) => p.via === LISTER && p.port === 2425));
    assert.equal(asker.messenger.peers.match('user3')[0]?.address, '10.1.0.4', 'names find them');
  });

  it('leaves out ourselves, hosts that have left (status 0, BR_EXIT) and entries without an address', async () => {
    const { clock, socket, list } = await setup();
    const [a, b, c, d] = manyHosts(4);
    assert.ok(a && b && c && d);
    answerGetList(socket, () => ({
      next: 0,
      hosts: [a, { ...b, address: '10.0.0.1' }, { ...c, status: 0 }, { ...d, status: 0x01200002 }, { ...a, host: 'x', address: 'nowhere' }],
    }));
    const result = await settled(clock, list());
    assert.deepEqual(result.peers.map((p) => p.host), ['host0']);
  });

  it('does not replace a peer we heard ourselves', async () => {
    const { clock, lan, asker, socket, list } = await setup();
    const other = await openNode(lan, clock, '10.0.0.2');
    await settled(clock, track(asker.messenger.discover({ wait: 100 })));
    answerGetList(socket, () => ({ next: 0, hosts: [{ ...manyHosts(1)[0]!, address: '10.0.0.2', user: 'someone-else' }] }));
    await settled(clock, list());
    const peer = asker.messenger.peers.get({ address: '10.0.0.2', port: PORT });
    assert.equal(peer?.user, other.identity.user);
    assert.equal(peer?.via, undefined);
  });

  it('a peer without a host list (iptux) is IPMSG_ERR_NO_ACK after the retries', async () => {
    const { clock, lan, list } = await setup();
    const tracked = list();
    await assert.rejects(settled(clock, tracked), (e: unknown) => isIpmsgError(e) && e.code === 'IPMSG_ERR_NO_ACK' && /No ANSLIST answer from 10\.0\.0\.9/.test(e.message));
    assert.equal(lan.packets((d) => d.to.address === LISTER).filter((d) => d.packet?.kind === 'GETLIST').length, 2);
  });

  it('endless paging stops after MAX_LIST_PAGES pages, with what it got', async () => {
    const { clock, socket, list } = await setup();
    const hosts = manyHosts(MAX_LIST_PAGES + 10);
    const asked = answerGetList(socket, (start) => ({ next: start + 1, hosts: hosts.slice(start, start + 1) }));
    const result = await settled(clock, list(), 60_000);
    assert.equal(asked.length, MAX_LIST_PAGES);
    assert.equal(result.peers.length, MAX_LIST_PAGES);
    assert.match(result.incomplete ?? '', /stopped after 64 pages/);
  });

  it('a next index that does not move forward (libipmsg, or hostile) ends the paging', async () => {
    const { clock, socket, list } = await setup();
    const hosts = manyHosts(3);
    const asked = answerGetList(socket, (start) => ({ next: start === 0 ? 2 : 1, hosts: hosts.slice(start, start + 2) }));
    const result = await settled(clock, list());
    assert.deepEqual(asked, [0, 2]);
    assert.equal(result.peers.length, 3);
  });

  it('a malformed page or 32 KiB of garbage ends the list with a reason, never a crash', async () => {
    for (const garbage of ['    0\x07 9999\x07bob\x07', 'x'.repeat(32 * 1024), '\x07'.repeat(32 * 1024)]) {
      const { clock, socket, list } = await setup();
      answerGetList(socket, () => garbage);
      const result = await settled(clock, list());
      assert.deepEqual(result.peers, []);
      assert.match(result.incomplete ?? '', /malformed host list/);
    }
  });

  it('a second page that never comes leaves the first page learned', async () => {
    const { clock, socket, list } = await setup();
    const hosts = manyHosts(4);
    answerGetList(socket, (start) => (start === 0 ? pagesOf(hosts, 2)(0) : ''));
    const result = await settled(clock, list());
    assert.equal(result.peers.length, 2);
    assert.match(result.incomplete ?? '', /malformed host list/);
  });
});
