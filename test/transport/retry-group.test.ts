// test/transport/retry-group.test.ts
// The retry engine's fleet form against a fake clock: a thousand members on one timer, who gets
// retried and when, how answers find their member (address and port), abort and send failures.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { IPMSG_RECVMSG } from '../../src/protocol/command.js';
import type { Packet } from '../../src/protocol/packet.js';
import { asPacketNo } from '../../src/protocol/packet-no.js';
import type { RemoteAddress } from '../../src/transport/datagram.js';
import { Exchanges } from '../../src/transport/reliable.js';
import type { Identify } from '../../src/transport/retry-group.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';
import { track } from '../helpers/track.js';

const PACKET = 42;
const key = (at: RemoteAddress): string => `${at.address}|${at.port}`;

function recvmsg(ref = PACKET): Packet {
  return { version: '1', packetNo: asPacketNo(900), user: 'peer', host: 'pc', command: IPMSG_RECVMSG, charset: 'utf-8', kind: 'RECVMSG', ref: asPacketNo(ref) };
}

/** RECVMSG for PACKET, known by address and port, or by address alone. */
const identify: Identify<string> = (p, from) => (p.kind === 'RECVMSG' && p.ref === PACKET ? { keys: [key(from), from.address], value: p.user } : undefined);

function peerAt(i: number): RemoteAddress {
  return { address: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 2425 };
}

describe('RetryGroup', () => {
  it('drives 1,000 members from one timer: silent ones get every try, late ones are answered on the 2nd', async () => {
    const clock = new FakeClock(0);
    const exchanges = new Exchanges(clock);
    const group = exchanges.group({ identify, tries: 5, interval: 1000 });
    const count = 1000;
    const sent = new Array<number>(count).fill(0);
    // Every 10th peer never answers; every 10th + 1 answers from its 2nd copy on; the rest at once.
    const answers: RemoteAddress[] = [];
    let maxTimers = 0;
    const results = Array.from({ length: count }, (_, i) =>
      track(
        group.add([key(peerAt(i)), peerAt(i).address], {
          transmit: () => {
            sent[i] = (sent[i] ?? 0) + 1;
            if (i % 10 !== 0 && (i % 10 !== 1 || (sent[i] ?? 0) >= 2)) answers.push(peerAt(i));
            return Promise.resolve();
          },
          failure: `No acknowledgement from ${peerAt(i).address}`,
        }),
      ),
    );
    assert.equal(exchanges.pending, 1, 'one waiter for the whole group');
    for (let elapsed = 0; elapsed <= 5000; elapsed += 100) {
      for (const from of answers.splice(0)) exchanges.offer(recvmsg(), from);
      await clock.tick(100);
      maxTimers = Math.max(maxTimers, clock.pending);
    }
    await flush();
    assert.ok(maxTimers <= 1, `one timer at a time (saw ${maxTimers})`);
    for (let i = 0; i < count; i++) {
      const r = results[i];
      assert.ok(r?.settled, `member ${i} settled`);
      if (i % 10 === 0) {
        assert.ok(r.rejected && isIpmsgError(r.error) && r.error.code === 'IPMSG_ERR_NO_ACK', `member ${i} failed`);
        assert.match((r.error as Error).message, /after 5 tries in 5s$/);
        assert.equal(sent[i], 5);
      } else {
        assert.ok(r.fulfilled, `member ${i}: ${String(r.error)}`);
        assert.deepEqual(r.value, { value: 'peer', attempts: i % 10 === 1 ? 2 : 1 });
        assert.equal(sent[i], i % 10 === 1 ? 2 : 1);
      }
    }
    assert.equal(group.pending, 0);
    assert.equal(clock.pending, 0, 'no timer left');
    group.close();
    assert.equal(exchanges.pending, 0);
  });

  it('transmits each member at its own start and every interval after, failing one interval after its last try', async () => {
    const clock = new FakeClock(0);
    const exchanges = new Exchanges(clock);
    const group = exchanges.group({ identify, tries: 3, interval: 1000 });
    const times: Record<string, number[]> = { a: [], b: [] };
    const member = (name: 'a' | 'b', at: RemoteAddress) =>
      track(group.add([key(at)], { transmit: () => (times[name]?.push(clock.now()), Promise.resolve()), failure: name }));
    const a = member('a', peerAt(0));
    await clock.tick(300);
    const b = member('b', peerAt(1));
    await clock.tick(2699);
    assert.equal(a.settled, false, 'a fails at 3000, not before');
    await clock.tick(1);
    assert.ok(a.rejected);
    assert.equal(b.settled, false);
    await clock.tick(300);
    assert.ok(b.rejected);
    assert.deepEqual(times, { a: [0, 1000, 2000], b: [300, 1300, 2300] });
    group.close();
  });

  it('tells peers on one address apart by port, and an answer from a third port answers none of them', async () => {
    const clock = new FakeClock(0);
    const exchanges = new Exchanges(clock);
    const group = exchanges.group({ identify, tries: 2, interval: 500 });
    const at = (port: number): RemoteAddress => ({ address: '127.0.0.2', port });
    const [p1, p2] = [at(3001), at(3002)].map((to) => track(group.add([key(to), to.address], { transmit: () => Promise.resolve(), failure: `${to.port}` })));
    assert.equal(exchanges.offer(recvmsg(), at(3003)), false, 'an address two members share names neither');
    assert.equal(exchanges.offer(recvmsg(), at(3002)), true);
    assert.equal(exchanges.offer(recvmsg(PACKET + 1), at(3001)), false, 'another packet number');
    await clock.tick(1000);
    assert.ok(p1?.rejected, 'the peer on 3001 never answered');
    assert.ok(p2?.fulfilled);
    group.close();
  });

  it('a peer alone on its address is answered from any port; the same peer named twice is answered once for both', async () => {
    const clock = new FakeClock(0);
    const exchanges = new Exchanges(clock);
    const group = exchanges.group({ identify, tries: 2, interval: 500 });
    const lone = peerAt(5);
    const twice = peerAt(6);
    const a = track(group.add([key(lone), lone.address], { transmit: () => Promise.resolve(), failure: 'lone' }));
    const b = [1, 2].map(() => track(group.add([key(twice), twice.address], { transmit: () => Promise.resolve(), failure: 'twice' })));
    exchanges.offer(recvmsg(), { address: lone.address, port: 40000 });
    exchanges.offer(recvmsg(), twice);
    await flush();
    assert.ok(a.fulfilled);
    assert.ok(b.every((t) => t.fulfilled));
    assert.equal(clock.pending, 0);
    group.close();
  });

  it('abort rejects every pending member with the reason and leaves no timer or waiter', async () => {
    const clock = new FakeClock(0);
    const exchanges = new Exchanges(clock);
    const controller = new AbortController();
    const group = exchanges.group({ identify, tries: 5, interval: 1000, signal: controller.signal });
    const members = Array.from({ length: 50 }, (_, i) => track(group.add([key(peerAt(i))], { transmit: () => Promise.resolve(), failure: 'x' })));
    await clock.tick(1500);
    const reason = new Error('stop');
    controller.abort(reason);
    await flush();
    assert.ok(members.every((m) => m.rejected && m.error === reason));
    assert.equal(clock.pending, 0);
    assert.equal(exchanges.pending, 0);
    await assert.rejects(group.add(['late'], { transmit: () => Promise.resolve(), failure: 'late' }), (e) => e === reason);
  });

  it('a send that fails ends that member (IPMSG_ERR_UNAVAILABLE) and no other', async () => {
    const clock = new FakeClock(0);
    const exchanges = new Exchanges(clock);
    const group = exchanges.group({ identify, tries: 3, interval: 1000 });
    const broken = track(group.add(['a'], { transmit: () => Promise.reject(new Error('ENOBUFS')), failure: 'a' }));
    const fine = track(group.add([key(peerAt(1))], { transmit: () => Promise.resolve(), failure: 'b' }));
    await flush();
    assert.ok(broken.rejected && isIpmsgError(broken.error) && broken.error.code === 'IPMSG_ERR_UNAVAILABLE');
    assert.equal(fine.settled, false);
    exchanges.offer(recvmsg(), peerAt(1));
    await flush();
    assert.ok(fine.fulfilled);
    group.close();
  });

  it('cancelAll (the messenger closing) rejects the pending members', async () => {
    const clock = new FakeClock(0);
    const exchanges = new Exchanges(clock);
    const group = exchanges.group({ identify, tries: 3, interval: 1000 });
    const member = track(group.add(['a'], { transmit: () => Promise.resolve(), failure: 'a' }));
    const reason = new Error('closed');
    exchanges.cancelAll(reason);
    await flush();
    assert.ok(member.rejected && member.error === reason);
    assert.equal(exchanges.pending, 0);
    assert.equal(clock.pending, 0);
  });
});
