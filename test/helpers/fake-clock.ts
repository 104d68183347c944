// test/helpers/fake-clock.ts
// A Clock whose time moves only when a test says so: `advance` fires due timers (and deferred work)
// synchronously, `tick` also lets promise callbacks and setImmediate work (fake-LAN deliveries) run
// between them.

import type { Clock, Timer } from '../../src/transport/clock.js';

interface Scheduled {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets pending promise callbacks and setImmediate callbacks (and what they schedule) run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Scheduled[] = [];

  /** `start` in ms since the epoch; the default is a round second (2024-01-01T00:00:00Z). */
  constructor(start = 1_704_067_200_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    const timer: Scheduled = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.#timers = this.#timers.filter((t) => t !== timer);
      },
    };
  }

  /** Runs with the next `advance` or `tick`, even of 0 ms: deferred work runs only when a test moves the clock. */
  defer(fn: () => void): void {
    this.after(0, fn);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** The due times of the pending timers, earliest first. */
  get dueTimes(): number[] {
    return this.#sorted().map((t) => t.due);
  }

  #sorted(): Scheduled[] {
    return [...this.#timers].sort((a, b) => a.due - b.due || a.seq - b.seq);
  }

  #takeDue(until: number): Scheduled | undefined {
    const next = this.#sorted()[0];
    if (next === undefined || next.due > until) return undefined;
    this.#timers = this.#timers.filter((t) => t !== next);
    return next;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, synchronously. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (let timer = this.#takeDue(until); timer; timer = this.#takeDue(until)) {
      this.#now = Math.max(this.#now, timer.due);
      if (!timer.cancelled) timer.fn();
    }
    this.#now = until;
  }

  /**
   * Like `advance`, but lets promise callbacks and setImmediate callbacks run before, between and
   * after the timers (code that transmits from promise callbacks, deliveries on the fake LAN).
   */
  async tick(ms = 0): Promise<void> {
    const until = this.#now + ms;
    await flush();
    for (let timer = this.#takeDue(until); timer; timer = this.#takeDue(until)) {
      this.#now = Math.max(this.#now, timer.due);
      if (!timer.cancelled) timer.fn();
      await flush();
    }
    this.#now = until;
    await flush();
  }

  /** Ticks in steps of `step` ms until `done()` or `limit` ms have passed; returns the time spent. */
  async tickUntil(done: () => boolean, limit: number, step = 10): Promise<number> {
    const start = this.#now;
    await flush();
    while (!done() && this.#now - start < limit) await this.tick(Math.min(step, limit - (this.#now - start)));
    return this.#now - start;
  }
}
