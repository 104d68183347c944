// src/transport/reliable.ts
// The one retry engine for every packet that expects an answer (SENDMSG→RECVMSG, READMSG→ANSREADMSG,
// GETINFO→SENDINFO, GETABSENCEINFO→SENDABSENCEINFO), driven by an injected clock.

import { IpmsgError } from '../errors.js';
import type { Packet } from '../protocol/packet.js';
import type { Clock, Timer } from './clock.js';
import type { RemoteAddress } from './datagram.js';
import { type GroupOptions, RetryGroup } from './retry-group.js';

/** Returns a value when `packet` is the awaited answer, else undefined. */
export type Matcher<T> = (packet: Packet, from: RemoteAddress) => T | undefined;

export interface ExchangeRequest<T> {
  /** Sends the request; called again, unchanged, for every retry. */
  readonly transmit: () => Promise<void>;
  readonly match: Matcher<T>;
  /** Time between transmissions, and after the last one. */
  readonly interval: number;
  /** Transmissions in all (1 = no retry). */
  readonly tries: number;
  /** Text for the error when no answer comes, e.g. "No acknowledgement from 10.0.0.2:2425". */
  readonly failure: string;
  /** Appended to the error text, e.g. why the answer may never come. */
  readonly hint?: string;
  readonly signal?: AbortSignal;
}

export interface ExchangeResult<T> {
  readonly value: T;
  /** How many transmissions it took. */
  readonly attempts: number;
}

interface Waiter {
  match: Matcher<unknown>;
  settle: (value: unknown) => void;
  cancel: (reason: unknown) => void;
}

export class Exchanges {
  readonly #clock: Clock;
  readonly #waiters = new Set<Waiter>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Offers an incoming packet to every pending exchange; true when one took it. */
  offer(packet: Packet, from: RemoteAddress): boolean {
    let taken = false;
    for (const waiter of [...this.#waiters]) {
      const value = waiter.match(packet, from);
      if (value !== undefined) {
        waiter.settle(value);
        taken = true;
      }
    }
    return taken;
  }

  get pending(): number {
    return this.#waiters.size;
  }

  /**
   * Exchanges of one schedule with many peers (one message to each), driven by one timer; the
   * caller closes the group when it is done with it.
   */
  group<T>(options: GroupOptions<T>): RetryGroup<T> {
    return new RetryGroup(this.#clock, (take, cancel) => this.#listen(take, cancel), options);
  }

  /** A standing waiter: `take` sees every packet until the returned function removes it. */
  #listen(take: (packet: Packet, from: RemoteAddress) => boolean, cancel: (reason: unknown) => void): () => void {
    const waiter: Waiter = {
      match: (packet, from) => (take(packet, from) ? true : undefined),
      settle: () => undefined,
      cancel,
    };
    this.#waiters.add(waiter);
    return () => {
      this.#waiters.delete(waiter);
    };
  }

  /** Stops every pending exchange and wait (their promises reject with `reason`). */
  cancelAll(reason: unknown): void {
    for (const waiter of [...this.#waiters]) waiter.cancel(reason);
  }

  /**
   * Transmits until the answer arrives or every try has had its interval.
   * @throws IpmsgError IPMSG_ERR_NO_ACK when no answer came; IPMSG_ERR_UNAVAILABLE when sending failed
   */
  run<T>(request: ExchangeRequest<T>): Promise<ExchangeResult<T>> {
    return new Promise((resolve, reject) => {
      let attempts = 0;
      let timer: Timer | undefined;
      let done = false;
      const finish = (): void => {
        done = true;
        timer?.cancel();
        this.#waiters.delete(waiter);
        request.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        match: request.match,
        settle: (value) => {
          if (done) return;
          finish();
          resolve({ value: value as T, attempts });
        },
        cancel: (reason) => {
          if (done) return;
          finish();
          reject(reason);
        },
      };
      const onAbort = (): void => {
        if (done) return;
        finish();
        reject(request.signal?.reason);
      };
      const fail = (error: IpmsgError): void => {
        if (done) return;
        finish();
        reject(error);
      };
      const tick = (): void => {
        if (done) return;
        if (attempts >= request.tries) {
          const seconds = (request.tries * request.interval) / 1000;
          fail(new IpmsgError('IPMSG_ERR_NO_ACK', `${request.failure} after ${request.tries} ${request.tries === 1 ? 'try' : 'tries'} in ${seconds}s${request.hint ?? ''}`));
          return;
        }
        attempts++;
        request.transmit().catch((error: unknown) => {
          fail(new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot send: ${(error as Error).message}`, { cause: error }));
        });
        timer = this.#clock.after(request.interval, tick);
      };
      if (request.signal?.aborted) return reject(request.signal.reason);
      request.signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
      tick();
    });
  }

  /**
   * Waits for a packet without transmitting anything; `timeout` undefined waits until aborted.
   * @throws IpmsgError IPMSG_ERR_TIMEOUT
   */
  waitFor<T>(match: Matcher<T>, timeout: number | undefined, failure: string, signal?: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      let timer: Timer | undefined;
      const finish = (): void => {
        timer?.cancel();
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        match,
        settle: (value) => {
          finish();
          resolve(value as T);
        },
        cancel: (reason) => {
          finish();
          reject(reason);
        },
      };
      const onAbort = (): void => {
        finish();
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
      if (timeout !== undefined) {
        timer = this.#clock.after(timeout, () => {
          finish();
          reject(new IpmsgError('IPMSG_ERR_TIMEOUT', failure));
        });
      }
    });
  }
}
