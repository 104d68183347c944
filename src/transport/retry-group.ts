// src/transport/retry-group.ts
// The retry engine for many requests of one schedule (a message to hundreds of peers): one timer
// drives every pending member, and an answer finds its member by key instead of a scan of them all.

import { IpmsgError } from '../errors.js';
import type { Packet } from '../protocol/packet.js';
import type { Clock, Timer } from './clock.js';
import type { RemoteAddress } from './datagram.js';
import type { ExchangeResult } from './reliable.js';

/** The keys an answer may belong to, best first, and what it says; undefined when it answers none. */
export type Identify<T> = (packet: Packet, from: RemoteAddress) => { readonly keys: readonly string[]; readonly value: T } | undefined;

export interface GroupOptions<T> {
  readonly identify: Identify<T>;
  /** Time between a member's transmissions, and after its last one. */
  readonly interval: number;
  /** Transmissions per member in all (1 = no retry). */
  readonly tries: number;
  /** Appended to every member's error text. */
  readonly hint?: string;
  readonly signal?: AbortSignal;
}

export interface MemberRequest {
  /** Sends the request; called again, unchanged, for every retry. */
  readonly transmit: () => Promise<void>;
  /** Text for the error when no answer comes, e.g. "No acknowledgement from 10.0.0.2:2425". */
  readonly failure: string;
}

interface Member {
  readonly request: MemberRequest;
  readonly keys: readonly string[];
  attempts: number;
  done: boolean;
  /** When its next transmission (or, after the last, its failure) is due. */
  due: number;
  resolve: (result: ExchangeResult<unknown>) => void;
  reject: (reason: unknown) => void;
}

/** How the group is told of packets and of a cancel-everything: Exchanges.listen. */
export type Listen = (take: (packet: Packet, from: RemoteAddress) => boolean, cancel: (reason: unknown) => void) => () => void;

/**
 * Members share one interval, so their due times grow in the order they are queued: the queue is a
 * FIFO and only its head needs a timer. A key members of different first keys share (an address
 * peers on several ports share) answers none of them.
 */
export class RetryGroup<T> {
  readonly #clock: Clock;
  readonly #options: GroupOptions<T>;
  readonly #byKey = new Map<string, Member[]>();
  #queue: Member[] = [];
  #head = 0;
  #timer: Timer | undefined;
  #timerDue = Infinity;
  #pending = 0;
  #closed: unknown;
  readonly #unlisten: () => void;
  readonly #onAbort = (): void => this.#cancel(this.#options.signal?.reason);

  constructor(clock: Clock, listen: Listen, options: GroupOptions<T>) {
    this.#clock = clock;
    this.#options = options;
    this.#unlisten = listen(
      (packet, from) => this.#take(packet, from),
      (reason) => this.#cancel(reason),
    );
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (options.signal?.aborted) this.#cancel(options.signal.reason);
  }

  /** Members not yet answered, failed or cancelled. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Transmits `request` now and on the shared schedule until an answer identified by one of `keys`
   * arrives (the first names the peer; a later one, such as its address alone, counts only while
   * no member of another first key claims it).
   * @throws IpmsgError IPMSG_ERR_NO_ACK when no answer came; IPMSG_ERR_UNAVAILABLE when sending failed
   */
  add(keys: readonly string[], request: MemberRequest): Promise<ExchangeResult<T>> {
    return new Promise((resolve, reject) => {
      if (this.#closed !== undefined) return reject(this.#closed);
      const member: Member = { request, keys, attempts: 0, done: false, due: 0, resolve: resolve as Member['resolve'], reject };
      for (const key of keys) {
        const list = this.#byKey.get(key);
        if (list) list.push(member);
        else this.#byKey.set(key, [member]);
      }
      this.#pending++;
      this.#transmit(member);
      this.#arm();
    });
  }

  /** Stops listening; members still pending are cancelled with `reason`. */
  close(reason: unknown = new IpmsgError('IPMSG_ERR_INTERRUPTED', 'Closed')): void {
    this.#cancel(reason);
  }

  #take(packet: Packet, from: RemoteAddress): boolean {
    const answer = this.#options.identify(packet, from);
    if (!answer) return false;
    for (const key of answer.keys) {
      const members = this.#byKey.get(key);
      if (!members) continue;
      // The same peer named twice is answered once for both; a key peers share answers none of them.
      const own = members[0]?.keys[0];
      if (members.some((m) => m.keys[0] !== own)) return false;
      let taken = false;
      for (const member of members) {
        if (member.done) continue;
        this.#finish(member);
        member.resolve({ value: answer.value, attempts: member.attempts });
        taken = true;
      }
      return taken;
    }
    return false;
  }

  #transmit(member: Member): void {
    member.attempts++;
    member.due = this.#clock.now() + this.#options.interval;
    this.#queue.push(member);
    member.request.transmit().catch((error: unknown) => {
      if (member.done) return;
      this.#finish(member);
      member.reject(new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot send: ${(error as Error).message}`, { cause: error }));
    });
  }

  /** Everything due: one more transmission each, or the failure of those that had every try. */
  #tick(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const now = this.#clock.now();
    const { tries, interval, hint } = this.#options;
    while (this.#head < this.#queue.length) {
      const member = this.#queue[this.#head] as Member;
      if (!member.done && member.due > now) break;
      this.#head++;
      if (member.done) continue;
      if (member.attempts < tries) {
        this.#transmit(member);
        continue;
      }
      this.#finish(member);
      const seconds = (tries * interval) / 1000;
      member.reject(new IpmsgError('IPMSG_ERR_NO_ACK', `${member.request.failure} after ${tries} ${tries === 1 ? 'try' : 'tries'} in ${seconds}s${hint ?? ''}`));
    }
    // Drop what was consumed once it is most of the queue: memory stays proportional to the members.
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
  }

  /** One timer, for the earliest pending member still waiting. */
  #arm(): void {
    while (this.#head < this.#queue.length && (this.#queue[this.#head] as Member).done) this.#head++;
    const head = this.#queue[this.#head];
    if (!head || this.#closed !== undefined) return;
    if (this.#timer && this.#timerDue <= head.due) return;
    this.#timer?.cancel();
    this.#timerDue = head.due;
    this.#timer = this.#clock.after(head.due - this.#clock.now(), () => this.#tick());
  }

  #finish(member: Member): void {
    member.done = true;
    this.#pending--;
    if (this.#pending === 0) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerDue = Infinity;
      this.#queue = [];
      this.#head = 0;
    }
  }

  #cancel(reason: unknown): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason ?? new IpmsgError('IPMSG_ERR_INTERRUPTED', 'Cancelled');
    this.#unlisten();
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#timer?.cancel();
    this.#timer = undefined;
    const members = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const member of members) {
      if (member.done) continue;
      this.#finish(member);
      member.reject(this.#closed);
    }
  }
}
