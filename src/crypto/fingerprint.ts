// src/crypto/fingerprint.ts
// The 64-bit key fingerprint the official client appends to its user name, `name-<16 hex>` (§6.6).

import { type KeyObject, createHash } from 'node:crypto';
import { parseFingerprintName } from '../protocol/user-name.js';
import { modulusBits, publicParts } from './keys.js';

export { type FingerprintName, parseFingerprintName, withFingerprint } from '../protocol/user-name.js';

const MODULUS_BYTES = 256;

/** Each intermediate of the computation, for tests and for anyone checking it by hand. */
export interface FingerprintSteps {
  /** The 256-byte modulus, little-endian ("for historical reasons": CryptoAPI's order). */
  readonly littleEndianModulus: Uint8Array;
  readonly sha1: Uint8Array;
  /** The digest reversed, then 4 zero bytes: 24 bytes. */
  readonly reversedPadded: Uint8Array;
  /** Chunk 0 XOR chunk 1 XOR chunk 2 (8 bytes each). */
  readonly folded: Uint8Array;
  /** `folded` in lower-case hex, memory order. */
  readonly fingerprint: string;
}

/**
 * The steps for an RSA-2048 modulus (big-endian, as ANSPUBKEY and JWK carry it).
 * @throws RangeError for a modulus that is not 2048 bits
 */
export function fingerprintSteps(modulus: Uint8Array): FingerprintSteps {
  if (modulus.length !== MODULUS_BYTES || ((modulus[0] ?? 0) & 0x80) === 0) {
    throw new RangeError('fingerprints are defined for RSA-2048 keys only');
  }
  const littleEndianModulus = Uint8Array.from(modulus).reverse();
  const sha1 = Uint8Array.from(createHash('sha1').update(littleEndianModulus).digest());
  const reversedPadded = new Uint8Array(24);
  reversedPadded.set(Uint8Array.from(sha1).reverse());
  const folded = new Uint8Array(8);
  for (let i = 0; i < 8; i++) folded[i] = (reversedPadded[i] ?? 0) ^ (reversedPadded[8 + i] ?? 0) ^ (reversedPadded[16 + i] ?? 0);
  const fingerprint = Buffer.from(folded).toString('hex');
  return { littleEndianModulus, sha1, reversedPadded, folded, fingerprint };
}

/** The 16-hex-digit fingerprint of an RSA-2048 key, or of its big-endian modulus. */
export function fingerprint(key: KeyObject | Uint8Array): string {
  return fingerprintSteps(key instanceof Uint8Array ? key : publicParts(key).modulus).fingerprint;
}

/**
 * Whether the fingerprint in a user name belongs to `key`: 'none' for a name without one. The
 * official drops an ANSPUBKEY whose key does not match the sender's name.
 */
export function checkNameFingerprint(user: string, key: KeyObject): 'match' | 'mismatch' | 'none' {
  const parsed = parseFingerprintName(user);
  if (!parsed) return 'none';
  if (modulusBits(key) !== 2048) return 'mismatch';
  return fingerprint(key) === parsed.fingerprint ? 'match' : 'mismatch';
}
