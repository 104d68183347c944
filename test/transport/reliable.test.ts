// test/transport/reliable.test.ts
// The retry engine against a fake clock: when it transmits, what it accepts, how it gives up.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IpmsgError, isIpmsgError } from '../../src/errors.js';
import { IPMSG_RECVMSG, IPMSG_SENDINFO } from '../../src/protocol/command.js';
import type { Packet } from '../../src/protocol/packet.js';
import { asPacketNo } from '../../src/protocol/packet-no.js';
import type { RemoteAddress } from '../../src/transport/datagram.js';
import { Exchanges, type Matcher } from '../../src/transport/reliable.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';
import { track } from '../helpers/track.js';

const PEER: RemoteAddress = { address: '10.0.0.2', port: 2425 };
const OTHER: RemoteAddress = { address: '10.0.0.3', port: 2425 };

function recvmsg(ref: number, packetNo = 900): Packet {
  return {
    version: '1',
    packetNo: asPacketNo(packetNo),
    user: 'bob',
    host: 'pc2',
    command: IPMSG_RECVMSG,
    charset: 'utf-8',
    kind: 'RECVMSG',
    ref: asPacketNo(ref),
  };
}

function sendinfo(text: string): Packet {
  return {
    version: '1',
    packetNo: asPacketNo(901),
    user: 'bob',
    host: 'pc2',
    command: IPMSG_SENDINFO,
    charset: 'utf-8',
    kind: 'SENDINFO',
    text,
  };
}

/** Answers RECVMSG for packet 42 from PEER only. */
const ack42: Matcher<true> = (p, from) =>
  p.kind === 'RECVMSG' && p.ref === 42 && from.address === PEER.address ? true : undefined;

function setup(start = 0) {
  const clock = new FakeClock(start);
  const exchanges = new Exchanges(clock);
  const sentAt: number[] = [];
  const transmit = (): Promise<void> => {
    sentAt.push(clock.now() - start);
    return Promise.resolve();
  };
  return { clock, exchanges, sentAt, transmit };
}

describe('Exchanges.run', () => {
  it('transmits at 0, interval, 2×interval… exactly `tries` times', async () => {
    const { clock, exchanges, sentAt, transmit } = setup(5_000);
    const run = track(exchanges.run({ transmit, match: ack42, interval: 500, tries: 4, failure: 'No acknowledgement' }));
    assert.deepEqual(sentAt, [0], 'the first transmission is immediate');
    clock.advance(499);
    assert.deepEqual(sentAt, [0]);
    clock.advance(1);
    assert.deepEqual(sentAt, [0, 500]);
    clock.advance(500);
    assert.deepEqual(sentAt, [0, 500, 1000]);
    clock.advance(500);
    assert.deepEqual(sentAt, [0, 500, 1000, 1500]);
    clock.advance(10_000);
    assert.deepEqual(sentAt, [0, 500, 1000, 1500], 'never more than `tries` transmissions');
    await flush();
    assert.ok(run.rejected);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('resolves with the value and the attempt count when the answer comes after k tries', async () => {
    const { clock, exchanges, sentAt, transmit } = setup();
    const run = track(exchanges.run({ transmit, match: ack42, interval: 1000, tries: 5, failure: 'No acknowledgement' }));
    clock.advance(2000);
    assert.equal(sentAt.length, 3);
    assert.equal(exchanges.pending, 1);
    assert.equal(exchanges.offer(recvmsg(42), PEER), true);
    await flush();
    assert.ok(run.fulfilled);
    assert.deepEqual(run.value, { value: true, attempts: 3 });
    assert.equal(exchanges.pending, 0);
    clock.advance(10_000);
    assert.equal(sentAt.length, 3, 'no transmission after the answer');
    assert.equal(clock.pending, 0);
  });

  it('resolves with attempts 1 when answered before the first retry', async () => {
    const { clock, exchanges, transmit } = setup();
    const run = track(exchanges.run({ transmit, match: ack42, interval: 1000, tries: 5, failure: 'x' }));
    clock.advance(999);
    exchanges.offer(recvmsg(42), PEER);
    await flush();
    assert.deepEqual(run.value, { value: true, attempts: 1 });
  });

  it('passes the matcher’s value through', async () => {
    const { exchanges, transmit } = setup();
    const run = exchanges.run({
      transmit,
      match: (p) => (p.kind === 'SENDINFO' ? p.text : undefined),
      interval: 1000,
      tries: 2,
      failure: 'x',
    });
    exchanges.offer(sendinfo('Win版Ver4.99r3'), PEER);
    assert.deepEqual(await run, { value: 'Win版Ver4.99r3', attempts: 1 });
  });

  it('does not take packets the matcher refuses', async () => {
    const { clock, exchanges, sentAt, transmit } = setup();
    const run = track(exchanges.run({ transmit, match: ack42, interval: 1000, tries: 3, failure: 'x' }));
    assert.equal(exchanges.offer(recvmsg(41), PEER), false, 'another packet number');
    assert.equal(exchanges.offer(recvmsg(42), OTHER), false, 'another address');
    assert.equal(exchanges.offer(sendinfo('42'), PEER), false, 'another kind');
    await flush();
    assert.equal(run.settled, false);
    assert.equal(exchanges.pending, 1);
    clock.advance(1000);
    assert.equal(sentAt.length, 2, 'still retrying');
    assert.equal(exchanges.offer(recvmsg(42), PEER), true);
    await flush();
    assert.deepEqual(run.value, { value: true, attempts: 2 });
  });

  it('offers one packet to every pending exchange that wants it', async () => {
    const { exchanges, transmit } = setup();
    const a = exchanges.run({ transmit, match: ack42, interval: 1000, tries: 3, failure: 'x' });
    const b = exchanges.run({ transmit, match: ack42, interval: 1000, tries: 3, failure: 'x' });
    assert.equal(exchanges.offer(recvmsg(42), PEER), true);
    assert.deepEqual(await Promise.all([a, b]), [
      { value: true, attempts: 1 },
      { value: true, attempts: 1 },
    ]);
    assert.equal(exchanges.offer(recvmsg(42), PEER), false, 'nobody waits any more');
  });

  it('rejects with IPMSG_ERR_NO_ACK after tries × interval, saying how many tries', async () => {
    const { clock, exchanges, sentAt, transmit } = setup();
    const run = track(
      exchanges.run({ transmit, match: ack42, interval: 1000, tries: 3, failure: 'No acknowledgement from 10.0.0.2:2425' }),
    );
    clock.advance(2999);
    await flush();
    assert.equal(run.settled, false, 'the last try gets its full interval');
    clock.advance(1);
    await flush();
    assert.ok(run.rejected);
    assert.ok(isIpmsgError(run.error, 'IPMSG_ERR_NO_ACK'), String(run.error));
    assert.match((run.error as Error).message, /^No acknowledgement from 10\.0\.0\.2:2425 /);
    assert.match((run.error as Error).message, /after 3 tries in 3s/);
    assert.equal(sentAt.length, 3);
    assert.equal(exchanges.pending, 0, 'the waiter is removed');
    assert.equal(exchanges.offer(recvmsg(42), PEER), false, 'a late answer is not taken');
  });

  it('says "1 try" when there is no retry', async () => {
    const { clock, exchanges, sentAt, transmit } = setup();
    const run = track(exchanges.run({ transmit, match: ack42, interval: 2500, tries: 1, failure: 'No answer' }));
    clock.advance(2500);
    await flush();
    assert.equal(sentAt.length, 1);
    assert.ok(isIpmsgError(run.error, 'IPMSG_ERR_NO_ACK'));
    assert.match((run.error as Error).message, /after 1 try in 2\.5s/);
  });

  it('rejects with IPMSG_ERR_UNAVAILABLE when a transmission fails, and stops', async () => {
    const { clock, exchanges } = setup();
    const cause = new Error('ENETUNREACH');
    let calls = 0;
    const run = track(
      exchanges.run({
        transmit: () => {
          calls++;
          return calls === 2 ? Promise.reject(cause) : Promise.resolve();
        },
        match: ack42,
        interval: 1000,
        tries: 5,
        failure: 'x',
      }),
    );
    await flush();
    assert.equal(run.settled, false, 'the first transmission worked');
    clock.advance(1000);
    await flush();
    assert.ok(isIpmsgError(run.error, 'IPMSG_ERR_UNAVAILABLE'), String(run.error));
    assert.match((run.error as Error).message, /ENETUNREACH/);
    assert.equal((run.error as IpmsgError).cause, cause);
    clock.advance(10_000);
    assert.equal(calls, 2, 'no transmission after the failure');
    assert.equal(exchanges.pending, 0);
    assert.equal(clock.pending, 0);
  });

  it('rejects with the signal’s reason on abort and stops transmitting', async () => {
    const { clock, exchanges, sentAt, transmit } = setup();
    const controller = new AbortController();
    const reason = new Error('interrupted');
    const run = track(
      exchanges.run({ transmit, match: ack42, interval: 1000, tries: 5, failure: 'x', signal: controller.signal }),
    );
    clock.advance(1000);
    controller.abort(reason);
    await flush();
    assert.ok(run.rejected);
    assert.equal(run.error, reason);
    clock.advance(10_000);
    assert.equal(sentAt.length, 2);
    assert.equal(exchanges.pending, 0);
    assert.equal(clock.pending, 0);
  });

  it('does not transmit at all when the signal is already aborted', async () => {
    const { exchanges, sentAt, transmit } = setup();
    const reason = new Error('too late');
    await assert.rejects(
      exchanges.run({ transmit, match: ack42, interval: 1000, tries: 5, failure: 'x', signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    assert.equal(sentAt.length, 0);
    assert.equal(exchanges.pending, 0);
  });

  it('ignores an abort after it has settled', async () => {
    const { exchanges, transmit } = setup();
    const controller = new AbortController();
    const run = exchanges.run({ transmit, match: ack42, interval: 1000, tries: 5, failure: 'x', signal: controller.signal });
    exchanges.offer(recvmsg(42), PEER);
    controller.abort(new Error('late'));
    assert.deepEqual(await run, { value: true, attempts: 1 });
  });
});

describe('Exchanges.cancelAll', () => {
  it('rejects every pending exchange and wait with the reason', async () => {
    const { clock, exchanges, sentAt, transmit } = setup();
    const a = track(exchanges.run({ transmit, match: ack42, interval: 1000, tries: 5, failure: 'x' }));
    const b = track(exchanges.waitFor(ack42, undefined, 'x'));
    const c = track(exchanges.waitFor(ack42, 5000, 'x'));
    assert.equal(exchanges.pending, 3);
    const reason = new IpmsgError('IPMSG_ERR_INTERRUPTED', 'Closed');
    exchanges.cancelAll(reason);
    await flush();
    for (const t of [a, b, c]) assert.equal(t.error, reason);
    assert.equal(exchanges.pending, 0);
    clock.advance(10_000);
    assert.equal(sentAt.length, 1, 'the cancelled exchange stopped transmitting');
    assert.equal(clock.pending, 0);
  });
});

describe('Exchanges.waitFor', () => {
  it('without a timeout waits as long as it takes', async () => {
    const { clock, exchanges } = setup();
    const wait = track(exchanges.waitFor(ack42, undefined, 'x'));
    clock.advance(24 * 3600 * 1000);
    await flush();
    assert.equal(wait.settled, false);
    assert.equal(exchanges.offer(recvmsg(41), PEER), false);
    assert.equal(exchanges.offer(recvmsg(42), PEER), true);
    await flush();
    assert.equal(wait.value, true);
    assert.equal(exchanges.pending, 0);
  });

  it('with a timeout resolves when the packet comes in time', async () => {
    const { clock, exchanges } = setup();
    const wait = track(exchanges.waitFor(ack42, 3000, 'x'));
    clock.advance(2999);
    exchanges.offer(recvmsg(42), PEER);
    await flush();
    assert.equal(wait.value, true);
    assert.equal(clock.pending, 0, 'the timeout timer is cancelled');
  });

  it('rejects with IPMSG_ERR_TIMEOUT and the failure text when the timeout passes', async () => {
    const { clock, exchanges } = setup();
    const wait = track(exchanges.waitFor(ack42, 3000, 'bob did not open the sealed message in time'));
    clock.advance(2999);
    await flush();
    assert.equal(wait.settled, false);
    clock.advance(1);
    await flush();
    assert.ok(isIpmsgError(wait.error, 'IPMSG_ERR_TIMEOUT'), String(wait.error));
    assert.equal((wait.error as Error).message, 'bob did not open the sealed message in time');
    assert.equal(exchanges.pending, 0);
    assert.equal(exchanges.offer(recvmsg(42), PEER), false);
  });

  it('rejects with the signal’s reason on abort', async () => {
    const { clock, exchanges } = setup();
    const controller = new AbortController();
    const reason = new Error('stop');
    const wait = track(exchanges.waitFor(ack42, 3000, 'x', controller.signal));
    controller.abort(reason);
    await flush();
    assert.equal(wait.error, reason);
    assert.equal(exchanges.pending, 0);
    assert.equal(clock.pending, 0);
    await assert.rejects(exchanges.waitFor(ack42, 3000, 'x', AbortSignal.abort(reason)), (e) => e === reason);
  });
});
