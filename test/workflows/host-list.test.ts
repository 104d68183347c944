// test/workflows/host-list.test.ts
// Client with `via` on the fake LAN and fake clock: names are found among the hosts a peer lists,
// the lists are asked once, and a peer without a list is one notice while the run goes on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { Client } from '../../src/workflows/client.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan } from '../helpers/fake-lan.js';
import { PORT, openNode } from '../helpers/lan-node.js';
import { answerGetList, manyHosts, pagesOf } from '../helpers/list-peer.js';
import { track } from '../helpers/track.js';

const LISTER = '10.0.0.9';

async function setup(via: string[]) {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const node = await openNode(lan, clock, '10.0.0.1');
  lan.addHost(LISTER);
  const socket = lan.open(LISTER, PORT);
  const notices: string[] = [];
  const client = new Client(node.messenger, { port: PORT, clock, charset: undefined, fallbackCharset: 'gb18030', via, onNotice: (m) => notices.push(m) });
  return { clock, lan, socket, client, notices };
}

async function run<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  const tracked = track(promise);
  await clock.tickUntil(() => tracked.settled, 20_000);
  return tracked.promise;
}

describe('Client with via', () => {
  it('resolves a name that only the listed hosts hold, asking the list once', async () => {
    const { clock, socket, client, notices } = await setup([LISTER]);
    const asked = answerGetList(socket, pagesOf(manyHosts(3), 2));
    const [alice] = await run(clock, client.resolve('user2', { wait: 1500 }));
    assert.deepEqual({ address: alice?.address, port: alice?.port, label: alice?.label }, { address: '10.1.0.3', port: PORT, label: 'user2@host2' });
    await run(clock, client.resolve('user1', { wait: 1500 }));
    assert.deepEqual(asked, [0, 2], 'two pages, once');
    assert.deepEqual(notices, []);
  });

  it('addresses alone need no list', async () => {
    const { clock, socket, client } = await setup([LISTER]);
    const asked = answerGetList(socket, pagesOf(manyHosts(3), 2));
    await run(clock, client.resolve('10.0.0.7'));
    assert.deepEqual(asked, []);
  });

  it('a peer that sends no list (iptux) is one notice, and names are still looked for', async () => {
    const { clock, client, notices } = await setup([LISTER]);
    await assert.rejects(run(clock, client.resolve('nobody', { wait: 1500 })), (e: unknown) => isIpmsgError(e, 'IPMSG_ERR_UNKNOWN_TARGET'));
    assert.equal(notices.length, 1);
    assert.match(notices[0] ?? '', /^10\.0\.0\.9 sent no host list .*; going on with what broadcasting finds$/);
  });

  it('several via peers: hostLists gives each its hosts or its problem', async () => {
    const { clock, lan, socket, client } = await setup([LISTER, '10.0.0.8:2426']);
    lan.addHost('10.0.0.8');
    answerGetList(lan.open('10.0.0.8', 2426), () => ({ next: 0, hosts: manyHosts(2, '10.2') }));
    answerGetList(socket, () => 'garbage');
    const outcomes = await run(clock, client.hostLists());
    assert.deepEqual(outcomes.map((o) => [o.via, o.peers.length, o.problem !== undefined]), [[LISTER, 0, true], ['10.0.0.8:2426', 2, false]]);
    assert.equal(outcomes[1]?.peers[0]?.via, '10.0.0.8:2426');
  });
});
