// test/workflows/handle.test.ts
// handleMessages() on the fake LAN and the fake clock: a full pool leaves a message unacknowledged
// (its sender resends and it is taken once there is room), --count ends the run once the handlers
// are done, and the signal stops it: waiting messages unhandled, running ones after their grace.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReceivedMessage } from '../../src/messenger/index.js';
import { IPMSG_SENDCHECKOPT, IPMSG_SENDMSG } from '../../src/protocol/command.js';
import type { Packet } from '../../src/protocol/packet.js';
import { handleMessages } from '../../src/workflows/handle.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan, decode } from '../helpers/fake-lan.js';
import { PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const MSG = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT;

async function setup() {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const node = await openNode(lan, clock, '10.0.0.2');
  const socket = lan.open('10.0.0.7', 40000);
  const inbox: Packet[] = [];
  socket.onMessage((bytes) => inbox.push(decode(bytes)));
  const send = (no: number, text: string): Promise<void> => socket.send(Buffer.from(`1:${no}:alice:apc:${MSG}:${text}\0`), { address: '10.0.0.2', port: PORT });
  const acks = (): string[] => inbox.flatMap((p) => (p.kind === 'RECVMSG' ? [String(p.ref)] : []));
  /** Handlers that end when the test says so, or when their signal aborts. */
  const running = new Map<string, () => void>();
  const handled: string[] = [];
  const aborted: string[] = [];
  const handle = (m: ReceivedMessage, _saved: unknown, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const end = (): void => {
        running.delete(m.packet.text);
        handled.push(m.packet.text);
        resolve();
      };
      running.set(m.packet.text, end);
      signal.addEventListener('abort', () => {
        aborted.push(m.packet.text);
        end();
      });
    });
  return { clock, node, send, acks, running, handled, aborted, handle };
}

describe('handleMessages()', () => {
  it('with one job and one waiting, a third message is not acknowledged until there is room; its resend is then taken', async () => {
    const t = await setup();
    const unhandled: string[] = [];
    const run = track(handleMessages(t.node.messenger, { count: 3, jobs: 1, queue: 1, clock: t.clock, linger: 0, handle: t.handle, onUnhandled: (m) => unhandled.push(m.packet.text) }));
    await t.send(1, 'one');
    await t.send(2, 'two');
    await t.send(3, 'three');
    await t.clock.tick(0);
    assert.deepEqual(t.acks(), ['1', '2'], 'the third is refused: its sender will resend');
    assert.deepEqual([...t.running.keys()], ['one']);
    t.running.get('one')?.();
    await t.clock.tick(0);
    assert.deepEqual([...t.running.keys()], ['two']);
    await t.send(3, 'three');
    await t.clock.tick(0);
    assert.deepEqual(t.acks(), ['1', '2', '3']);
    t.running.get('two')?.();
    await t.clock.tick(0);
    assert.equal(run.settled, false, 'count reached, but a handler still runs');
    t.running.get('three')?.();
    await t.clock.tick(0);
    assert.ok(run.fulfilled, String(run.error));
    assert.deepEqual(t.handled, ['one', 'two', 'three']);
    assert.deepEqual(unhandled, []);
  });

  it('the signal: waiting messages are reported unhandled at once, the running one is aborted after the grace', async () => {
    const t = await setup();
    const stop = new AbortController();
    const unhandled: [string, string][] = [];
    const run = track(
      handleMessages(t.node.messenger, { count: 0, jobs: 1, stopGrace: 4000, signal: stop.signal, clock: t.clock, linger: 0, handle: t.handle, onUnhandled: (m, reason) => unhandled.push([m.packet.text, reason]) }),
    );
    await t.send(1, 'one');
    await t.send(2, 'two');
    await t.clock.tick(0);
    stop.abort(new Error('interrupted'));
    await t.clock.tick(0);
    assert.deepEqual(unhandled, [['two', 'stopped']]);
    await t.clock.tick(3999);
    assert.deepEqual(t.aborted, [], 'within its grace');
    assert.equal(run.settled, false);
    await t.clock.tick(1);
    assert.deepEqual(t.aborted, ['one']);
    assert.ok(run.rejected);
    assert.equal((run.error as Error).message, 'interrupted');
  });

  it('the run timeout stops the handlers at once and reports the waiting ones as timed out', async () => {
    const t = await setup();
    const unhandled: [string, string][] = [];
    const run = track(handleMessages(t.node.messenger, { count: 5, jobs: 1, timeout: 10_000, clock: t.clock, linger: 0, handle: t.handle, onUnhandled: (m, reason) => unhandled.push([m.packet.text, reason]) }));
    await t.send(1, 'one');
    await t.send(2, 'two');
    await t.clock.tick(10_000);
    assert.deepEqual(unhandled, [['two', 'timeout']]);
    assert.deepEqual(t.aborted, ['one']);
    assert.ok(run.rejected);
    assert.match((run.error as Error).message, /received 2 of 5 messages within 10s/);
  });

  it('count reached, the timeout still bounds the last handlers', async () => {
    const t = await setup();
    const run = track(handleMessages(t.node.messenger, { count: 1, jobs: 1, timeout: 10_000, clock: t.clock, linger: 0, handle: t.handle, onUnhandled: () => assert.fail('none waits') }));
    await t.send(1, 'one');
    await t.clock.tick(9_999);
    assert.equal(run.settled, false);
    await t.clock.tick(1);
    assert.deepEqual(t.aborted, ['one']);
    assert.ok(run.rejected);
    assert.match((run.error as Error).message, /handlers still running after 10s/);
  });
});
