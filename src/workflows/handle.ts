// src/workflows/handle.ts
// Receiving with a handler for each message: receive() feeds a bounded pool (dispatch.ts), a
// message is acknowledged only when the pool has room for it, and when the run ends every
// message taken either ran or is reported unhandled.

import { IpmsgError, isIpmsgError } from '../errors.js';
import type { Messenger, ReceivedMessage } from '../messenger/index.js';
import { systemClock } from '../transport/clock.js';
import { Dispatcher } from './dispatch.js';
import { lifetime } from './lifetime.js';
import { type ReceiveOptions, type ReceiveResult, receive } from './receive.js';
import type { Saved } from './save-offer.js';

/** After Ctrl-C or SIGTERM, handlers still running get this long to finish before they are stopped. */
export const STOP_GRACE = 5000;

export interface HandleOptions extends Omit<ReceiveOptions, 'onMessage' | 'admit'> {
  /** Handlers running at once (default 1); more messages wait, up to `queue`. */
  readonly jobs?: number;
  /** Messages waiting for a handler (default DISPATCH_LIMITS.queue); beyond, new ones are not acknowledged. */
  readonly queue?: number;
  /** After the signal fires, running handlers get this long (ms, default STOP_GRACE) before their signal aborts. */
  readonly stopGrace?: number;
  /** Handles one message; `signal` aborts when the run stops and the grace is over. */
  readonly handle: (message: ReceivedMessage, saved: readonly Saved[] | undefined, signal: AbortSignal) => Promise<void>;
  /** Each message as it is taken (before it is handled). */
  readonly onMessage?: (message: ReceivedMessage, saved: readonly Saved[] | undefined) => void;
  /** A message taken that no handler ran for: 'stopped' (the signal) or 'timeout' (the run's). */
  readonly onUnhandled: (message: ReceivedMessage, reason: 'stopped' | 'timeout') => void;
  /** A handler that threw. */
  readonly onError?: (message: ReceivedMessage, error: unknown) => void;
}

interface Taken {
  readonly message: ReceivedMessage;
  readonly saved: readonly Saved[] | undefined;
}

/**
 * Receives as receive() does and runs `handle` for each message, at most `jobs` at once. With
 * `count`, the run ends once that many were handled; on the signal or the timeout, waiting
 * messages are reported unhandled and running handlers are stopped (after `stopGrace` for the signal).
 * @throws as receive(), or the signal's reason when it fires while the last handlers run
 */
export async function handleMessages(messenger: Messenger, options: HandleOptions): Promise<ReceiveResult> {
  const clock = options.clock ?? systemClock;
  const pool = new Dispatcher<Taken>({
    jobs: options.jobs ?? 1,
    ...(options.queue !== undefined ? { queue: options.queue } : {}),
    clock,
    run: (taken, signal) => options.handle(taken.message, taken.saved, signal),
    onUnhandled: (taken, reason) => options.onUnhandled(taken.message, reason === 'timeout' ? 'timeout' : 'stopped'),
    ...(options.onError ? { onError: (taken: Taken, error: unknown) => options.onError?.(taken.message, error) } : {}),
  });
  const stopGrace = options.stopGrace ?? STOP_GRACE;
  const deadline = clock.now() + (options.timeout ?? 0);
  const interrupted = (): boolean => options.signal?.aborted === true;
  let result: ReceiveResult;
  try {
    result = await receive(messenger, {
      ...options,
      admit: (_packet, from) => pool.reserve(from.address),
      onMessage: (message, saved) => {
        options.onMessage?.(message, saved);
        pool.push(message.from.address, { message, saved });
      },
      onDropped: (packet, from, reason) => {
        pool.cancel(from.address);
        options.onDropped?.(packet, from, reason);
      },
    });
  } catch (error) {
    if (interrupted()) await pool.stop('stopped', stopGrace);
    else if (isIpmsgError(error, 'IPMSG_ERR_TIMEOUT')) await pool.stop('timeout', 0);
    else {
      await pool.drain(options.signal);
      await pool.stop('stopped', stopGrace);
    }
    throw error;
  }
  // The run's timeout bounds the last handlers too.
  const run = lifetime(clock, { signal: options.signal, timeout: options.timeout === undefined ? undefined : Math.max(0, deadline - clock.now()) });
  try {
    await pool.drain(run.signal);
  } finally {
    run.dispose();
  }
  await pool.stop(run.timedOut ? 'timeout' : 'stopped', run.timedOut ? 0 : stopGrace);
  if (interrupted()) throw options.signal?.reason;
  if (run.timedOut) throw new IpmsgError('IPMSG_ERR_TIMEOUT', `handlers still running after ${(options.timeout ?? 0) / 1000}s`);
  return result;
}
