// src/messenger/duplicates.ts
// Remembers recent SENDMSGs by sender (port, user, host) and packet number, so that a resent
// SENDMSG is acknowledged again but delivered once (§2.3; the official keeps 32, we keep more).
// The port matters: two CLI runs of one user on one machine are two senders, and their packet
// numbers may meet (a run that could not take the packet-number lock draws on its own). The
// address does not: a dual-stack sender's broadcast arrives over IPv4 and IPv6 (§8).

import type { RemoteAddress } from '../transport/datagram.js';

export interface SenderName {
  readonly user: string;
  readonly host: string;
}

function keyOf(packetNo: number, sender: SenderName, from: RemoteAddress): string {
  return JSON.stringify([packetNo, from.port, sender.user, sender.host]); // unambiguous whatever the names hold
}

export class RecentPackets {
  readonly #seen = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 4096) {
    this.#capacity = capacity;
  }

  has(packetNo: number, sender: SenderName, from: RemoteAddress): boolean {
    return this.#seen.has(keyOf(packetNo, sender, from));
  }

  /** Records the message; true when it had been seen before. */
  check(packetNo: number, sender: SenderName, from: RemoteAddress): boolean {
    const key = keyOf(packetNo, sender, from);
    if (this.#seen.has(key)) return true;
    this.#seen.add(key);
    if (this.#seen.size > this.#capacity) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return false;
  }
}
