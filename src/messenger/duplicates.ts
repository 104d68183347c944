// src/messenger/duplicates.ts
// Remembers recent (packet number, user, host, address) tuples so that a resent SENDMSG is
// acknowledged again but delivered once (§2.3; the official keeps 32, we keep more).

export class RecentPackets {
  readonly #seen = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 4096) {
    this.#capacity = capacity;
  }

  has(packetNo: number, user: string, host: string, address: string): boolean {
    return this.#seen.has(`${packetNo}\0${user}\0${host}\0${address}`);
  }

  /** Records the tuple; true when it had been seen before. */
  check(packetNo: number, user: string, host: string, address: string): boolean {
    const key = `${packetNo}\0${user}\0${host}\0${address}`;
    if (this.#seen.has(key)) return true;
    this.#seen.add(key);
    if (this.#seen.size > this.#capacity) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return false;
  }
}
