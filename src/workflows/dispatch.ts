// src/workflows/dispatch.ts
// A bounded worker pool for accepted messages: at most `jobs` run at once, at most `queue` wait,
// and a room is reserved when a message is accepted, so that a full pool refuses (does not
// acknowledge) a new message instead of dropping one it acknowledged. Stopping says which
// waiting items never ran, and gives the running ones a grace period before aborting them.

import type { Clock } from '../transport/clock.js';
import { sleep } from '../transport/clock.js';

/** Waiting items in all and held (waiting or running) for one key (a sender's address). */
export const DISPATCH_LIMITS = { queue: 16, perKey: 4 };

export interface DispatcherOptions<T> {
  /** How many items run at once (at least 1). */
  readonly jobs: number;
  /** How many accepted items may wait for a job (default DISPATCH_LIMITS.queue). */
  readonly queue?: number;
  /** How many items one key may hold, waiting or running (default DISPATCH_LIMITS.perKey). */
  readonly perKey?: number;
  /** Runs one item; `signal` aborts when the pool is stopped and its grace is over. Never rejects the pool: errors go to onError. */
  readonly run: (item: T, signal: AbortSignal) => Promise<void>;
  /** An item that was taken and will never run (the pool stopped first), with why. */
  readonly onUnhandled: (item: T, reason: string) => void;
  /** A run that threw. */
  readonly onError?: (item: T, error: unknown) => void;
  readonly clock: Clock;
}

interface Waiting<T> {
  readonly key: string;
  readonly item: T;
}

export class Dispatcher<T> {
  readonly #options: DispatcherOptions<T>;
  readonly #jobs: number;
  readonly #queueCap: number;
  readonly #perKey: number;
  readonly #waiting: Waiting<T>[] = [];
  readonly #running = new Set<Promise<void>>();
  /** Items held per key: reserved, waiting or running. */
  readonly #held = new Map<string, number>();
  /** Rooms reserved by reserve() and not yet filled by push() or given back by cancel(). */
  #reserved = 0;
  readonly #abort = new AbortController();
  #stopped: string | undefined;
  #idle: (() => void) | undefined;

  constructor(options: DispatcherOptions<T>) {
    this.#options = options;
    this.#jobs = Math.max(1, Math.floor(options.jobs));
    this.#queueCap = Math.max(0, options.queue ?? DISPATCH_LIMITS.queue);
    this.#perKey = Math.max(1, options.perKey ?? DISPATCH_LIMITS.perKey);
  }

  get running(): number {
    return this.#running.size;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Reserves room for one item from `key`; false when the pool (jobs plus queue) or the key's
   * share is full, or the pool is stopped: the caller then refuses the item.
   */
  reserve(key: string): boolean {
    if (this.#stopped !== undefined) return false;
    if (this.#running.size + this.#waiting.length + this.#reserved >= this.#jobs + this.#queueCap) return false;
    if ((this.#held.get(key) ?? 0) >= this.#perKey) return false;
    this.#reserved++;
    this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
    return true;
  }

  /** Gives back a reservation that will not be used. */
  cancel(key: string): void {
    if (this.#reserved > 0) this.#reserved--;
    this.#release(key);
    this.#idle?.();
  }

  /** Fills a reservation of `key` with `item`: it runs now or waits its turn; after stop() it is recorded unhandled at once. */
  push(key: string, item: T): void {
    if (this.#reserved > 0) this.#reserved--;
    else this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
    if (this.#stopped !== undefined) {
      this.#release(key);
      this.#options.onUnhandled(item, this.#stopped);
      return;
    }
    this.#waiting.push({ key, item });
    this.#pump();
  }

  /** Resolves when nothing waits or runs (or `signal` aborts). */
  async drain(signal?: AbortSignal): Promise<void> {
    const wake = (): void => this.#idle?.();
    signal?.addEventListener('abort', wake, { once: true });
    try {
      while ((this.#waiting.length > 0 || this.#running.size > 0 || this.#reserved > 0) && !signal?.aborted) {
        await new Promise<void>((resolve) => (this.#idle = resolve));
      }
    } finally {
      this.#idle = undefined;
      signal?.removeEventListener('abort', wake);
    }
  }

  /**
   * Takes no more: every waiting item is recorded unhandled with `reason`; the running ones get
   * `grace` ms to finish, then their signal aborts. Resolves when they have all ended.
   */
  async stop(reason: string, grace: number): Promise<void> {
    this.#stopped ??= reason;
    for (const { key, item } of this.#waiting.splice(0)) {
      this.#release(key);
      this.#options.onUnhandled(item, reason);
    }
    if (this.#running.size === 0) return;
    const done = new AbortController();
    const all = Promise.all([...this.#running]).then(() => done.abort());
    if (grace > 0) await sleep(this.#options.clock, grace, done.signal).catch(() => undefined);
    if (this.#running.size > 0) this.#abort.abort(new Error(reason));
    await all;
  }

  #pump(): void {
    while (this.#running.size < this.#jobs && this.#waiting.length > 0) {
      const next = this.#waiting.shift() as Waiting<T>;
      const task: Promise<void> = this.#start(next).finally(() => {
        this.#running.delete(task);
        this.#release(next.key);
        if (this.#stopped === undefined) this.#pump();
        this.#idle?.();
      });
      this.#running.add(task);
    }
  }

  async #start({ item }: Waiting<T>): Promise<void> {
    try {
      await this.#options.run(item, this.#abort.signal);
    } catch (error) {
      this.#options.onError?.(item, error);
    }
  }

  #release(key: string): void {
    const left = (this.#held.get(key) ?? 0) - 1;
    if (left > 0) this.#held.set(key, left);
    else this.#held.delete(key);
  }
}
