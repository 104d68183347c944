// src/state/plain-peers.ts
// Peers (address:port) that did not answer GETPUBKEY (iptux has no crypto), remembered for a day in
// the state folder, so `send --encrypt auto` probes each of them once, not on every run. It is the
// messenger's PlainPeers (matched by shape: state sits below the messenger and does not import it).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import atomicWrite from './atomic-write.cjs';

export const PLAIN_PEERS_FILE = 'plain-peers.json';
/** A peer may install a client that can encrypt: ask again after this long. */
export const PLAIN_PEER_TTL = 24 * 3_600_000;
const MAX_ENTRIES = 1000;

export class FilePlainPeers {
  readonly #path: string;
  readonly #now: () => number;
  #entries: Map<string, number> | undefined;
  #dirty = false;

  constructor(stateDir: string, now: () => number = Date.now) {
    this.#path = join(stateDir, PLAIN_PEERS_FILE);
    this.#now = now;
  }

  /** Read on first use: most runs never ask. A damaged file counts as empty. */
  #load(): Map<string, number> {
    if (this.#entries) return this.#entries;
    const entries = new Map<string, number>();
    try {
      const data = JSON.parse(readFileSync(this.#path, 'utf8')) as unknown;
      if (typeof data === 'object' && data !== null) {
        for (const [address, until] of Object.entries(data)) if (typeof until === 'number') entries.set(address, until);
      }
    } catch {
      // missing or damaged: nothing remembered
    }
    this.#entries = entries;
    return entries;
  }

  has(address: string): boolean {
    const until = this.#load().get(address);
    return until !== undefined && until > this.#now();
  }

  add(address: string): void {
    this.#load().set(address, this.#now() + PLAIN_PEER_TTL);
    this.#dirty = true;
  }

  delete(address: string): void {
    if (this.#load().delete(address)) this.#dirty = true;
  }

  /** Writes the marks added or deleted since the last flush (one write for a message to a thousand peers). */
  flush(): void {
    if (!this.#dirty || !this.#entries) return;
    this.#dirty = false;
    this.#save(this.#entries);
  }

  #save(entries: Map<string, number>): void {
    const now = this.#now();
    for (const [key, until] of entries) if (until <= now) entries.delete(key);
    while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    try {
      atomicWrite.writeFileAtomic(this.#path, JSON.stringify(Object.fromEntries(entries))); // no fsync: only a cache
    } catch {
      // only a cache: the next run probes again
    }
  }
}
