// src/messenger/budget.ts
// How many encrypted messages we try to decrypt: each costs an RSA private-key operation, so a
// flood of encrypted-looking datagrams would otherwise keep the event loop busy and make everything
// else wait (answers, acknowledgements, genuine messages). Token buckets per sender address and in
// all; a message over budget is neither acknowledged nor decrypted, so a genuine sender simply
// tries again.

import type { Clock } from '../transport/clock.js';

export interface Rate {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Most tokens kept (a burst). */
  readonly burst: number;
}

export interface BudgetLimits {
  readonly perAddress: Rate;
  readonly total: Rate;
  /** Addresses tracked; beyond this the least recently seen is forgotten (the total still bounds). */
  readonly addresses: number;
}

/**
 * Per address: bursts large enough for many senders on one machine at once. In all: a small share
 * of one core, whatever the flood.
 */
export const DECRYPT_BUDGET: BudgetLimits = {
  perAddress: { perSecond: 50, burst: 100 },
  total: { perSecond: 200, burst: 200 },
  addresses: 1024,
};

class Bucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly rate: Rate,
    now: number,
  ) {
    this.#tokens = rate.burst;
    this.#at = now;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.rate.burst, this.#tokens + (elapsed * this.rate.perSecond) / 1000);
    this.#at = now;
  }

  has(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  take(): void {
    this.#tokens -= 1;
  }
}

/** Token buckets per sender address and in all (the decryptions tried, the auto-replies sent). */
export class RateBudget {
  readonly #clock: Clock;
  readonly #limits: BudgetLimits;
  readonly #total: Bucket;
  readonly #byAddress = new Map<string, Bucket>();

  constructor(clock: Clock, limits: BudgetLimits = DECRYPT_BUDGET) {
    this.#clock = clock;
    this.#limits = limits;
    this.#total = new Bucket(limits.total, clock.now());
  }

  /** Takes one token for `address`; false when its budget or the total is spent. */
  take(address: string): boolean {
    const now = this.#clock.now();
    let bucket = this.#byAddress.get(address);
    if (bucket) this.#byAddress.delete(address); // re-inserted below: the most recently seen last
    else bucket = new Bucket(this.#limits.perAddress, now);
    this.#byAddress.set(address, bucket);
    if (this.#byAddress.size > this.#limits.addresses) {
      const oldest = this.#byAddress.keys().next().value;
      if (oldest !== undefined) this.#byAddress.delete(oldest);
    }
    if (!bucket.has(now) || !this.#total.has(now)) return false;
    bucket.take();
    this.#total.take();
    return true;
  }
}

export { RateBudget as DecryptBudget };
