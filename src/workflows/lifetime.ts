// src/workflows/lifetime.ts
// One way to bound a run: the caller's signal, a deadline and "enough" end it alike, and the
// reason tells which.

import { IpmsgError } from '../errors.js';
import type { Clock } from '../transport/clock.js';

export interface Lifetime {
  /** Aborted when the caller's signal fires, the deadline passes or finish() is called. */
  readonly signal: AbortSignal;
  /** Ends the run because it has done what it was asked (not a failure). */
  finish(): void;
  readonly finished: boolean;
  readonly timedOut: boolean;
  /** Stops the deadline timer (call when the run is over). */
  dispose(): void;
}

/** Marks the abort reason of a run that reached its deadline. */
const DEADLINE = new IpmsgError('IPMSG_ERR_TIMEOUT', 'the time is up');

export function lifetime(clock: Clock, options: { signal?: AbortSignal | undefined; timeout?: number | undefined }): Lifetime {
  const own = new AbortController();
  let finished = false;
  let timedOut = false;
  const timer =
    options.timeout === undefined
      ? undefined
      : clock.after(options.timeout, () => {
          timedOut = true;
          own.abort(DEADLINE);
        });
  const signal = options.signal ? AbortSignal.any([own.signal, options.signal]) : own.signal;
  return {
    signal,
    finish() {
      finished = true;
      own.abort(new IpmsgError('IPMSG_ERR_INTERRUPTED', 'finished'));
    },
    get finished() {
      return finished && !options.signal?.aborted;
    },
    get timedOut() {
      return timedOut && !finished && !options.signal?.aborted;
    },
    dispose: () => timer?.cancel(),
  };
}

/** Resolves when `signal` aborts (never rejects). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
