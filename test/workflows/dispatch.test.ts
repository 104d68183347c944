// test/workflows/dispatch.test.ts
// The bounded pool behind `recv --exec`: at most `jobs` at once, a full pool refuses (so the message
// is not acknowledged), per-sender shares, and stopping: waiting items are reported unhandled,
// running ones get their grace on the fake clock and are then aborted.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dispatcher } from '../../src/workflows/dispatch.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';
import { track } from '../helpers/track.js';

/** A pool whose jobs end only when the test says so (or their signal aborts). */
function pool(jobs: number, queue: number, perKey = 100) {
  const clock = new FakeClock();
  const started: string[] = [];
  const finished: string[] = [];
  const aborted: string[] = [];
  const unhandled: [string, string][] = [];
  const release = new Map<string, () => void>();
  const dispatcher = new Dispatcher<string>({
    jobs,
    queue,
    perKey,
    clock,
    run: (item, signal) =>
      new Promise<void>((resolve) => {
        started.push(item);
        const end = (): void => {
          finished.push(item);
          resolve();
        };
        release.set(item, end);
        signal.addEventListener('abort', () => {
          aborted.push(item);
          end();
        });
      }),
    onUnhandled: (item, reason) => unhandled.push([item, reason]),
  });
  const take = (key: string, item: string): boolean => {
    if (!dispatcher.reserve(key)) return false;
    dispatcher.push(key, item);
    return true;
  };
  const finish = async (item: string): Promise<void> => {
    release.get(item)?.();
    await flush();
  };
  return { clock, dispatcher, started, finished, aborted, unhandled, take, finish };
}

describe('Dispatcher', () => {
  it('runs at most `jobs` at once; the others wait their turn in order', async () => {
    const p = pool(2, 5);
    for (const item of ['a', 'b', 'c', 'd']) assert.ok(p.take('10.0.0.1', item));
    await flush();
    assert.deepEqual(p.started, ['a', 'b']);
    assert.equal(p.dispatcher.waiting, 2);
    await p.finish('b');
    assert.deepEqual(p.started, ['a', 'b', 'c']);
    await p.finish('a');
    await p.finish('c');
    await p.finish('d');
    assert.deepEqual(p.finished, ['b', 'a', 'c', 'd']);
    assert.equal(p.dispatcher.running, 0);
  });

  it('a full pool (jobs + queue) refuses: the message is not acknowledged and none is dropped', async () => {
    const p = pool(1, 2);
    assert.ok(p.take('x', 'a'));
    assert.ok(p.take('y', 'b'));
    assert.ok(p.take('z', 'c'));
    assert.equal(p.dispatcher.reserve('w'), false, 'one running and two waiting: full');
    await flush();
    await p.finish('a');
    assert.ok(p.take('w', 'd'), 'room again once one ended');
    await p.finish('b');
    await p.finish('c');
    await p.finish('d');
    assert.deepEqual(p.finished, ['a', 'b', 'c', 'd']);
    assert.deepEqual(p.unhandled, []);
  });

  it('a reservation holds a room until it is filled or cancelled', () => {
    const p = pool(1, 0);
    assert.ok(p.dispatcher.reserve('x'), 'one room');
    assert.equal(p.dispatcher.reserve('y'), false, 'held by the reservation (a message being decrypted)');
    p.dispatcher.cancel('x');
    assert.ok(p.dispatcher.reserve('y'));
  });

  it('one sender holds at most its share, so others still get in', async () => {
    const p = pool(1, 10, 2);
    assert.ok(p.take('flood', 'f1'));
    assert.ok(p.take('flood', 'f2'));
    assert.equal(p.take('flood', 'f3'), false);
    assert.ok(p.take('other', 'o1'));
    await flush();
    await p.finish('f1');
    assert.ok(p.take('flood', 'f3'), 'its share is free again');
  });

  it('stop: waiting items are unhandled at once; running ones get the grace, then their signal aborts', async () => {
    const p = pool(1, 5);
    for (const item of ['a', 'b', 'c']) p.take('k', item);
    await flush();
    const stopping = track(p.dispatcher.stop('stopped', 3000));
    await p.clock.tick(0);
    assert.deepEqual(p.unhandled, [
      ['b', 'stopped'],
      ['c', 'stopped'],
    ]);
    await p.clock.tick(2999);
    assert.deepEqual(p.aborted, []);
    assert.equal(stopping.settled, false, 'waits for the running handler');
    await p.clock.tick(1);
    assert.deepEqual(p.aborted, ['a']);
    assert.ok(stopping.fulfilled);
    assert.equal(p.dispatcher.reserve('k'), false, 'takes nothing after stop');
  });

  it('stop: a handler that finishes within the grace is not aborted, and stop resolves then', async () => {
    const p = pool(2, 5);
    p.take('k', 'a');
    await flush();
    const stopping = track(p.dispatcher.stop('stopped', 5000));
    await p.clock.tick(100);
    await p.finish('a');
    assert.ok(stopping.fulfilled);
    assert.deepEqual(p.aborted, []);
    assert.equal(p.clock.pending, 0, 'the grace timer is cancelled');
  });

  it('an item pushed after stop (a message still being decrypted) is reported unhandled, not run', async () => {
    const p = pool(1, 5);
    assert.ok(p.dispatcher.reserve('k'));
    await p.dispatcher.stop('timeout', 0);
    p.dispatcher.push('k', 'late');
    await flush();
    assert.deepEqual(p.started, []);
    assert.deepEqual(p.unhandled, [['late', 'timeout']]);
  });

  it('drain resolves once everything ran, or when its signal aborts', async () => {
    const p = pool(1, 5);
    p.take('k', 'a');
    p.take('k', 'b');
    const draining = track(p.dispatcher.drain());
    await flush();
    await p.finish('a');
    assert.equal(draining.settled, false);
    await p.finish('b');
    assert.ok(draining.fulfilled);
    p.take('k', 'c');
    const stop = new AbortController();
    const cut = track(p.dispatcher.drain(stop.signal));
    await flush();
    stop.abort();
    await flush();
    assert.ok(cut.fulfilled);
    assert.deepEqual(p.finished, ['a', 'b']);
  });

  it('a run that throws is reported and frees its job', async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const ran: string[] = [];
    const d = new Dispatcher<string>({
      jobs: 1,
      clock,
      run: async (item) => {
        ran.push(item);
        if (item === 'bad') throw new Error('boom');
      },
      onUnhandled: () => assert.fail('nothing is unhandled'),
      onError: (item, error) => errors.push(`${item}: ${(error as Error).message}`),
    });
    for (const item of ['bad', 'good']) {
      assert.ok(d.reserve('k'));
      d.push('k', item);
    }
    await d.drain();
    assert.deepEqual(ran, ['bad', 'good']);
    assert.deepEqual(errors, ['bad: boom']);
  });
});
