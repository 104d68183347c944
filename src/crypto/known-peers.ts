// src/crypto/known-peers.ts
// Peers' public keys, trusted on first use, in `known-peers.json` beside our keys.
//
// Who a peer is: IPMsg names a peer by user name and host name (the official's IsSameHost), not
// by address (DHCP moves it). The official client's user name ends in `-<fingerprint>` of its key,
// so the whole name changes with the key; we therefore key the file by `base@host`, the user name
// without that suffix, so a new key under the same person and machine shows up as a change instead
// of a stranger. File: {"version":1,"peers":{"alice@PC1":{"fingerprint":"…","publicKey":"<SPKI DER,
// base64>","firstSeen":"<ISO date>"}}}. Every change re-reads the file and replaces it in one
// step (0600): simultaneous runs never leave it damaged; the last change wins.

import { type KeyObject, createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpmsgError } from '../errors.js';
import { fingerprint, parseFingerprintName } from './fingerprint.js';
import { modulusBits } from './keys.js';
import { ensurePrivateDir, replaceFile } from './private-file.js';

export const KNOWN_PEERS_FILE = 'known-peers.json';

/** A peer as packets name it: the user name (with or without a fingerprint) and the host name. */
export interface PeerName {
  readonly user: string;
  readonly host: string;
}

export interface KnownPeer {
  /** `base@host`. */
  readonly id: string;
  readonly fingerprint: string;
  readonly publicKey: KeyObject;
  /** ISO 8601. */
  readonly firstSeen: string;
}

export type PeerCheck = 'new' | 'match' | { readonly mismatch: { readonly known: string; readonly seen: string } };

/** `base@host`: the key of the known-peers file (and what `ipmsg keys trust` takes). */
export function peerId(peer: PeerName): string {
  return `${parseFingerprintName(peer.user)?.base ?? peer.user}@${peer.host}`;
}

/** The §6.6 fingerprint for RSA-2048 keys; for other sizes `sha256:` and 16 hex digits of the key. */
export function keyFingerprint(key: KeyObject): string {
  if (modulusBits(key) === 2048) return fingerprint(key);
  return `sha256:${createHash('sha256').update(spki(key)).digest('hex').slice(0, 16)}`;
}

function spki(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

/** The error for a changed key: both fingerprints, and the command that accepts the new one. */
export function keyChangedError(id: string, mismatch: { known: string; seen: string }): IpmsgError {
  return new IpmsgError(
    'IPMSG_ERR_KEY_MISMATCH',
    `The public key of ${id} has changed: known ${mismatch.known}, now ${mismatch.seen}. Someone may be impersonating this peer, or it made a new key; if you trust the new key, run: ipmsg keys trust ${id}`,
  );
}

interface Entry {
  readonly fingerprint: string;
  readonly publicKey: string;
  readonly firstSeen: string;
}

export class KnownPeers {
  readonly #dir: string;
  readonly #path: string;
  readonly #now: () => Date;
  #entries: Map<string, Entry>;

  private constructor(dir: string, entries: Map<string, Entry>, now: () => Date) {
    this.#dir = dir;
    this.#path = join(dir, KNOWN_PEERS_FILE);
    this.#entries = entries;
    this.#now = now;
  }

  /**
   * Reads `dir/known-peers.json` (a missing file is an empty list).
   * @throws IpmsgError IPMSG_ERR_KEY_FILE for a file that cannot be read or is damaged
   */
  static async open(dir: string, options: { readonly now?: () => Date } = {}): Promise<KnownPeers> {
    return new KnownPeers(dir, await readEntries(join(dir, KNOWN_PEERS_FILE)), options.now ?? (() => new Date()));
  }

  check(peer: PeerName, key: KeyObject): PeerCheck {
    const known = this.#entries.get(peerId(peer));
    if (!known) return 'new';
    if (known.publicKey === spki(key).toString('base64')) return 'match';
    return { mismatch: { known: known.fingerprint, seen: keyFingerprint(key) } };
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
    await this.#change((entries) => {
      if (!entries.has(id)) entries.set(id, this.#entry(key)); // another run may have added it meanwhile
    });
    return result;
  }

  /** Accepts `key` for the peer, replacing any key known before. */
  async trust(peer: PeerName | string, key: KeyObject): Promise<void> {
    const id = typeof peer === 'string' ? peer : peerId(peer);
    await this.#change((entries) => {
      entries.set(id, this.#entry(key));
    });
  }

  /** Drops a peer; false when it was not known. */
  async forget(peer: PeerName | string): Promise<boolean> {
    const id = typeof peer === 'string' ? peer : peerId(peer);
    let found = false;
    await this.#change((entries) => {
      found = entries.delete(id);
    });
    return found;
  }

  #entry(key: KeyObject): Entry {
    return { fingerprint: keyFingerprint(key), publicKey: spki(key).toString('base64'), firstSeen: this.#now().toISOString() };
  }

  /** Applies `edit` to the file's current content and writes it back. */
  async #change(edit: (entries: Map<string, Entry>) => void): Promise<void> {
    const entries = await readEntries(this.#path);
    edit(entries);
    await ensurePrivateDir(this.#dir);
    const peers = Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b)));
    await replaceFile(this.#path, `${JSON.stringify({ version: 1, peers }, null, 2)}\n`);
    this.#entries = entries;
  }
}

function toKnownPeer(id: string, entry: Entry): KnownPeer {
  return { id, fingerprint: entry.fingerprint, firstSeen: entry.firstSeen, publicKey: createPublicKey({ key: Buffer.from(entry.publicKey, 'base64'), format: 'der', type: 'spki' }) };
}

async function readEntries(path: string): Promise<Map<string, Entry>> {
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
      createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    } catch (error) {
      throw damaged(`the key of ${JSON.stringify(id)}`, error);
    }
    entries.set(id, { fingerprint: fp, publicKey, firstSeen });
  }
  return entries;
}
