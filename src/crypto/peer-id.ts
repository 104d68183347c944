// src/crypto/peer-id.ts
// Who a peer is, for key pinning. IPMsg names a peer by user name and host name (the official's
// IsSameHost), not by address (DHCP moves it). The official client's user name ends in
// `-<fingerprint>` of its key, so the whole name changes with the key; a peer is therefore
// `base@host`, the user name without that suffix, so that a new key under the same person and
// machine shows up as a change instead of a stranger.

import { type KeyObject, createHash, createPublicKey } from 'node:crypto';
import { IpmsgError } from '../errors.js';
import { fingerprint, parseFingerprintName } from './fingerprint.js';
import { modulusBits } from './keys.js';

/** A peer as packets name it: the user name (with or without a fingerprint) and the host name. */
export interface PeerName {
  readonly user: string;
  readonly host: string;
}

/** `base@host`: how pinned keys are filed (and what `ipmsg keys trust` takes). */
export function peerId(peer: PeerName): string {
  return `${parseFingerprintName(peer.user)?.base ?? peer.user}@${peer.host}`;
}

/** The §6.6 fingerprint for RSA-2048 keys; for other sizes `sha256:` and 16 hex digits of the key. */
export function keyFingerprint(key: KeyObject): string {
  if (modulusBits(key) === 2048) return fingerprint(key);
  return `sha256:${createHash('sha256').update(spkiDer(key)).digest('hex').slice(0, 16)}`;
}

/** The public key as SPKI DER (of a private key: its public half). */
export function spkiDer(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

/** The public key in SPKI DER bytes; throws node:crypto's error for bytes that are not one. */
export function publicKeyFromSpki(der: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
}

/** The error for a changed key: both fingerprints, and the command that accepts the new one. */
export function keyChangedError(id: string, mismatch: { readonly known: string; readonly seen: string }): IpmsgError {
  return new IpmsgError(
    'IPMSG_ERR_KEY_MISMATCH',
    `The public key of ${id} has changed: known ${mismatch.known}, now ${mismatch.seen}. Someone may be impersonating this peer, or it made a new key; if you trust the new key, run: ipmsg keys trust ${id}`,
  );
}
