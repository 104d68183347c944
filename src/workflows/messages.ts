// src/workflows/messages.ts
// Messages as an async iterator: `for await (const m of messages(messenger)) …`.

import type { Messenger, ReceivedMessage } from '../messenger/index.js';
import { IPMSG_SECRETOPT, hasOpt } from '../protocol/command.js';
import { REFUSE_ALL, senderFilter } from './receive.js';

export interface MessagesOptions {
  /** Accept only messages from these senders (see senderFilter); others are not acknowledged. */
  readonly from?: readonly string[];
  /** Ends the iteration (the loop then throws the signal's reason). */
  readonly signal?: AbortSignal;
  /** Send the read notice when a sealed message is delivered (default true). */
  readonly readNotices?: boolean;
}

/**
 * The messages that arrive, one per `next()`. A message is acknowledged only while the loop is
 * waiting for one, so that none is acknowledged and then lost when the loop stops early; those
 * arriving while the loop body runs are taken on a resend (senders resend for seconds). A message
 * acknowledged and still being decrypted when the signal fires is still returned by that next().
 */
export function messages(messenger: Messenger, options: MessagesOptions = {}): AsyncIterableIterator<ReceivedMessage> {
  const accept = senderFilter(options.from ?? []);
  let waiting: { resolve(result: IteratorResult<ReceivedMessage>): void; reject(error: unknown): void } | undefined;
  /** Accepted for the waiting `next()` and still being decrypted. */
  let pending = false;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    messenger.handler = REFUSE_ALL;
    options.signal?.removeEventListener('abort', onAbort);
  };
  /** Ends the waiting next(): with the signal's reason when it fired, else done. */
  const release = (): void => {
    const w = waiting;
    waiting = undefined;
    if (options.signal?.aborted) w?.reject(options.signal.reason);
    else w?.resolve({ value: undefined, done: true });
  };
  const onAbort = (): void => {
    end();
    // A message accepted for the waiting next() has been acknowledged: that next() still gets it.
    if (!pending) release();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) end();
  else messenger.handler = {
    accepts: (packet, from) => {
      if (!waiting || pending || !accept(packet, from, messenger.peers.get(from)?.nick)) return false;
      pending = true;
      return true;
    },
    dropped: () => {
      pending = false;
      if (ended) release();
    },
    deliver: (message) => {
      pending = false;
      const w = waiting;
      waiting = undefined;
      if (options.readNotices !== false && hasOpt(message.packet.command, IPMSG_SECRETOPT)) void messenger.sendReadNotice(message);
      w?.resolve({ value: message, done: false });
    },
  };
  const iterator: AsyncIterableIterator<ReceivedMessage> = {
    next() {
      if (ended) return options.signal?.aborted ? Promise.reject(options.signal.reason) : Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return() {
      end();
      if (!pending) release();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
