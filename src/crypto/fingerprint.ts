// src/crypto/fingerprint.ts
// The 64-bit key fingerprint the official client appends to its user name, `name-<16 hex>` (§6.6).

import { type KeyObject, createHash } from 'node:crypto';
import { modulusBits, publicParts } from './keys.js';

const MODULUS_BYTES = 256;
const MAX_BASE_BYTES = 60; // MAX_NAMEBUF (80) - 20

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

/** `base-<fp>` as the official writes its own user name: base cut to 60 bytes of UTF-8, whole characters only. */
export function withFingerprint(name: string, fp: string): string {
  let base = '';
  let bytes = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char);
    if (bytes + size > MAX_BASE_BYTES) break;
    base += char;
    bytes += size;
  }
  return `${base}-<${fp}>`;
}

export interface FingerprintName {
  /** The name before `-<`. */
  readonly base: string;
  /** The 16 characters between `<` and `>`, lower-cased. */
  readonly fingerprint: string;
}

const isAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);

/**
 * Finds a fingerprint in a user name as the official GetUserNameDigestField does: the first `-<`,
 * exactly 16 letters or digits, `>`. A candidate that breaks off is not rescanned from the
 * character that broke it (so `a--<…>` and `-<x-<…>` carry none): that is the official's reading.
 */
export function parseFingerprintName(name: string): FingerprintName | undefined {
  let state = 0;
  let start = 0;
  let length = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name[i] ?? '';
    if (state === 0) {
      if (c === '-') {
        state = 1;
        start = i;
        length = 0;
      }
    } else if (state === 1) {
      state = c === '<' ? 2 : 0;
    } else if (isAlnum(c)) {
      length++;
    } else if (length === 16 && c === '>') {
      return { base: name.slice(0, start), fingerprint: name.slice(start + 2, start + 18).toLowerCase() };
    } else {
      state = 0;
    }
  }
  return undefined;
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
