// src/state/peer-charsets.ts
// What each peer (address:port) announced it reads (UTF-8, iptux's encoding, a legacy code page),
// remembered for a week in the state folder, so a send to a peer heard in an earlier run goes out
// in its code page without asking it first. It is the messenger's PeerCharsets (matched by shape).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PeerReads, asPeerReads } from '../protocol/peer-charset.js';
import atomicWrite from './atomic-write.cjs';

export const PEER_CHARSETS_FILE = 'peer-charsets.json';
/** Addresses change hands (DHCP): forget what a peer said after this long without hearing it again. */
export const PEER_CHARSET_TTL = 7 * 24 * 3_600_000;
const MAX_ENTRIES = 1000;

interface Remembered {
  readonly reads: PeerReads;
  /** When it expires (ms since the epoch). */
  readonly until: number;
}

export class FilePeerCharsets {
  readonly #path: string;
  readonly #now: () => number;
  #entries: Map<string, Remembered> | undefined;
  /** Set since the last flush: written over what the file holds then (another run may have added peers). */
  readonly #dirty = new Map<string, Remembered>();

  constructor(stateDir: string, now: () => number = Date.now) {
    this.#path = join(stateDir, PEER_CHARSETS_FILE);
    this.#now = now;
  }

  /** A damaged or missing file counts as empty; expired and malformed entries are skipped. */
  #read(): Map<string, Remembered> {
    const entries = new Map<string, Remembered>();
    try {
      const data = JSON.parse(readFileSync(this.#path, 'utf8')) as unknown;
      if (typeof data === 'object' && data !== null) {
        const now = this.#now();
        for (const [peer, value] of Object.entries(data)) {
          const until = (value as { until?: unknown } | null)?.until;
          const reads = asPeerReads(value);
          if (reads && typeof until === 'number' && until > now) entries.set(peer, { reads, until });
        }
      }
    } catch {
      // missing or damaged: nothing remembered
    }
    return entries;
  }

  get(peer: string): PeerReads | undefined {
    this.#entries ??= this.#read();
    const found = this.#entries.get(peer);
    return found && found.until > this.#now() ? found.reads : undefined;
  }

  set(peer: string, reads: PeerReads): void {
    this.#entries ??= this.#read();
    const remembered = { reads, until: this.#now() + PEER_CHARSET_TTL };
    // Deleted first so the peer moves to the end: the bound drops the longest unheard first.
    this.#entries.delete(peer);
    this.#entries.set(peer, remembered);
    this.#dirty.delete(peer);
    this.#dirty.set(peer, remembered);
  }

  /** Writes what was set since the last flush, over the file as it is now; failures are ignored (only a cache). */
  flush(): void {
    if (this.#dirty.size === 0) return;
    const entries = this.#read();
    for (const [peer, remembered] of this.#dirty) {
      entries.delete(peer); // re-inserted last: the oldest are dropped first
      entries.set(peer, remembered);
    }
    this.#dirty.clear();
    while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    this.#entries = entries;
    const data = Object.fromEntries([...entries].map(([peer, { reads, until }]) => [peer, { ...reads, until }]));
    try {
      atomicWrite.writeFileAtomic(this.#path, JSON.stringify(data)); // no fsync: only a cache
    } catch {
      // only a cache: the next run sends UTF-8 until it hears the peer again
    }
  }
}
