// src/state/known-peers.ts
// Peers' public keys, trusted on first use, in `known-peers.json` beside our keys, filed by
// `base@host` (crypto/peer-id.ts says why). File: {"version":1,"peers":{"alice@PC1":
// {"fingerprint":"…","publicKey":"<SPKI DER, base64>","firstSeen":"<ISO date>"}}}. Every change
// re-reads the file and replaces it atomically (0600): simultaneous runs never leave it damaged;
// the last change wins.

import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpmsgError } from '../errors.js';
import { type PeerName, keyFingerprint, peerId, publicKeyFromSpki, spkiDer } from '../crypto/peer-id.js';
import atomicWrite from './atomic-write.cjs';

export const KNOWN_PEERS_FILE = 'known-peers.json';

export interface KnownPeer {
  /** `base@host`. */
  readonly id: string;
  readonly fingerprint: string;
  readonly publicKey: KeyObject;
  /** ISO 8601. */
  readonly firstSeen: string;
}

export type PeerCheck = 'new' | 'match' | { readonly mismatch: { readonly known: string; readonly seen: string } };

interface Entry {
  readonly fingerprint: string;
  readonly publicKey: string;
  readonly firstSeen: string;
}

export class KnownPeers {
  readonly #path: string;
  readonly #now: () => Date;
  #entries: Map<string, Entry>;

  private constructor(path: string, entries: Map<string, Entry>, now: () => Date) {
    this.#path = path;
    this.#entries = entries;
    this.#now = now;
  }

  /**
   * Reads `dir/known-peers.json` (a missing file is an empty list).
   * @throws IpmsgError IPMSG_ERR_KEY_FILE for a file that cannot be read or is damaged
   */
  static async open(dir: string, options: { readonly now?: () => Date } = {}): Promise<KnownPeers> {
    const path = join(dir, KNOWN_PEERS_FILE);
    return new KnownPeers(path, readEntries(path), options.now ?? (() => new Date()));
  }

  check(peer: PeerName, key: KeyObject): PeerCheck {
    const known = this.#entries.get(peerId(peer));
    if (!known) return 'new';
    if (known.publicKey === spkiDer(key).toString('base64')) return 'match';
    return { mismatch: { known: known.fingerprint, seen: keyFingerprint(key) } };
  }

  /** The fingerprint of the key pinned for a peer (without reading the key itself). */
  fingerprint(peer: PeerName | string): string | undefined {
    return this.#entries.get(typeof peer === 'string' ? peer : peerId(peer))?.fingerprint;
  }

  get(peer: PeerName | string): KnownPeer | undefined {
    const id = typeof peer === 'string' ? peer : peerId(peer);
    const entry = this.#entries.get(id);
    return entry && toKnownPeer(id, entry);
  }

  list(): KnownPeer[] {
    return [...this.#entries].map(([id, entry]) => toKnownPeer(id, entry)).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Adds a new peer's key; a known peer is left as it is (the result tells match or mismatch). */
  async remember(peer: PeerName, key: KeyObject): Promise<PeerCheck> {
    const result = this.check(peer, key);
    if (result !== 'new') return result;
    const id = peerId(peer);
    this.#change((entries) => {
      if (!entries.has(id)) entries.set(id, this.#entry(key)); // another run may have added it meanwhile
    });
    return result;
  }

  /** Accepts `key` for the peer, replacing any key known before. */
  async trust(peer: PeerName | string, key: KeyObject): Promise<void> {
    const id = typeof peer === 'string' ? peer : peerId(peer);
    this.#change((entries) => {
      entries.set(id, this.#entry(key));
    });
  }

  /** Drops a peer; false when it was not known. */
  async forget(peer: PeerName | string): Promise<boolean> {
    const id = typeof peer === 'string' ? peer : peerId(peer);
    let found = false;
    this.#change((entries) => {
      found = entries.delete(id);
    });
    return found;
  }

  #entry(key: KeyObject): Entry {
    return { fingerprint: keyFingerprint(key), publicKey: spkiDer(key).toString('base64'), firstSeen: this.#now().toISOString() };
  }

  /** Applies `edit` to the file's current content and writes it back. */
  #change(edit: (entries: Map<string, Entry>) => void): void {
    const entries = readEntries(this.#path);
    edit(entries);
    const peers = Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b)));
    try {
      atomicWrite.writeFileAtomic(this.#path, `${JSON.stringify({ version: 1, peers }, null, 2)}\n`, { mode: 0o600, fsync: true });
    } catch (error) {
      throw new IpmsgError('IPMSG_ERR_KEY_FILE', `Cannot write ${this.#path}: ${(error as Error).message}`, { cause: error });
    }
    this.#entries = entries;
  }
}

function toKnownPeer(id: string, entry: Entry): KnownPeer {
  return { id, fingerprint: entry.fingerprint, firstSeen: entry.firstSeen, publicKey: publicKeyFromSpki(Buffer.from(entry.publicKey, 'base64')) };
}

function readEntries(path: string): Map<string, Entry> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8'); // sync: a small file, read on the start-up path
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new IpmsgError('IPMSG_ERR_KEY_FILE', `Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const damaged = (reason: string, cause?: unknown): IpmsgError =>
    new IpmsgError('IPMSG_ERR_KEY_FILE', `Known-peers file ${path} is damaged (${reason}); it was left alone: fix or remove it`, { cause });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw damaged('not JSON', error);
  }
  if (typeof data !== 'object' || data === null) throw damaged('not a JSON object');
  const { version, peers } = data as { version?: unknown; peers?: unknown };
  if (version !== 1 || typeof peers !== 'object' || peers === null) throw damaged('not version 1');
  const entries = new Map<string, Entry>();
  for (const [id, value] of Object.entries(peers)) {
    const { fingerprint: fp, publicKey, firstSeen } = (value ?? {}) as Partial<Record<keyof Entry, unknown>>;
    if (typeof fp !== 'string' || typeof publicKey !== 'string' || typeof firstSeen !== 'string') throw damaged(`entry ${JSON.stringify(id)}`);
    try {
      publicKeyFromSpki(Buffer.from(publicKey, 'base64'));
    } catch (error) {
      throw damaged(`the key of ${JSON.stringify(id)}`, error);
    }
    entries.set(id, { fingerprint: fp, publicKey, firstSeen });
  }
  return entries;
}
