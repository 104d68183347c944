// test/transport/clock.test.ts
// `sleep` on an injected clock, and the fake clock the other tests rely on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sleep } from '../../src/transport/clock.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';
import { track } from '../helpers/track.js';

describe('FakeClock', () => {
  it('fires due timers in time order, same-time ones in scheduling order, with now() at their due time', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.after(300, () => fired.push(`c@${clock.now()}`));
    clock.after(100, () => fired.push(`a@${clock.now()}`));
    clock.after(100, () => fired.push(`b@${clock.now()}`));
    clock.after(301, () => fired.push('late'));
    clock.advance(300);
    assert.deepEqual(fired, ['a@1100', 'b@1100', 'c@1300']);
    assert.equal(clock.now(), 1300);
    assert.equal(clock.pending, 1);
  });

  it('fires timers scheduled by fired timers when they fall within the advance', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const every = (): void => {
      fired.push(clock.now());
      clock.after(250, every);
    };
    clock.after(250, every);
    clock.advance(1000);
    assert.deepEqual(fired, [250, 500, 750, 1000]);
    assert.deepEqual(clock.dueTimes, [1250]);
  });

  it('does not fire cancelled timers', () => {
    const clock = new FakeClock(0);
    let fired = false;
    const timer = clock.after(10, () => (fired = true));
    timer.cancel();
    clock.advance(100);
    assert.equal(fired, false);
    assert.equal(clock.pending, 0);
  });

  it('runs deferred work only when the test moves the clock, even by 0 ms', async () => {
    const clock = new FakeClock(0);
    let ran = false;
    clock.defer(() => (ran = true));
    await flush();
    assert.equal(ran, false);
    clock.advance(0);
    assert.equal(ran, true);
    assert.equal(clock.now(), 0);
  });

  it('tick lets promise callbacks between timers schedule more timers; advance does not', async () => {
    const run = (clock: FakeClock, seen: number[]) =>
      track(
        (async () => {
          for (let i = 0; i < 3; i++) {
            await sleep(clock, 100);
            seen.push(clock.now());
          }
        })(),
      );
    const fast = new FakeClock(0);
    const seenFast: number[] = [];
    const byAdvance = run(fast, seenFast);
    fast.advance(300);
    await flush();
    assert.deepEqual(seenFast, [300], 'the continuation ran only after advance returned');
    assert.equal(byAdvance.settled, false);

    const clock = new FakeClock(0);
    const seen: number[] = [];
    const byTick = run(clock, seen);
    await clock.tick(300);
    assert.deepEqual(seen, [100, 200, 300]);
    assert.ok(byTick.fulfilled);
  });
});

describe('sleep', () => {
  it('resolves after exactly `ms` on the clock', async () => {
    const clock = new FakeClock(0);
    const s = track(sleep(clock, 500));
    clock.advance(499);
    await flush();
    assert.equal(s.settled, false);
    clock.advance(1);
    await flush();
    assert.ok(s.fulfilled);
  });

  it('rejects with the signal’s reason on abort and cancels its timer', async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    const reason = new Error('stop');
    const s = track(sleep(clock, 500, controller.signal));
    controller.abort(reason);
    await flush();
    assert.equal(s.error, reason);
    assert.equal(clock.pending, 0);
    await assert.rejects(sleep(clock, 500, AbortSignal.abort(reason)), (e) => e === reason);
    assert.equal(clock.pending, 0);
  });
});
