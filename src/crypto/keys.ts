// src/crypto/keys.ts
// RSA keys as node:crypto KeyObjects, and their modulus/exponent as ANSPUBKEY carries them.

import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { IpmsgError } from '../errors.js';
import type { PublicKeyAnswer } from '../protocol/pubkey.js';

export type RsaBits = 1024 | 2048;

export interface RsaKeyPair {
  readonly bits: RsaBits;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A fresh RSA key pair with e = 65537 (generated off the main thread: it takes long enough to stall packets). */
export function generateRsaKeyPair(bits: RsaBits): Promise<RsaKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, (error, publicKey, privateKey) => {
      if (error) reject(error);
      else resolve({ bits, privateKey, publicKey });
    });
  });
}

export interface RsaPublicParts {
  readonly exponent: number;
  /** Big-endian, no leading zero bytes. */
  readonly modulus: Uint8Array;
}

/** Modulus and exponent of an RSA key (public or private). */
export function publicParts(key: KeyObject): RsaPublicParts {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || jwk.n === undefined || jwk.e === undefined) throw new TypeError('not an RSA key');
  const exponent = Buffer.from(jwk.e, 'base64url');
  if (exponent.length > 4) throw new RangeError('RSA exponent above 2^32');
  const modulus = Buffer.from(jwk.n, 'base64url');
  let start = 0;
  while (start < modulus.length - 1 && modulus[start] === 0) start++;
  return { exponent: exponent.readUIntBE(0, exponent.length), modulus: Uint8Array.from(modulus.subarray(start)) };
}

/** The ANSPUBKEY content for one of our keys. */
export function answerFor(key: KeyObject, capa: number): PublicKeyAnswer {
  return { capa: capa >>> 0, ...publicParts(key) };
}

/**
 * The peer's key from ANSPUBKEY parts (JWK import).
 * @throws IpmsgError IPMSG_ERR_DECODE for a key node:crypto does not accept
 */
export function publicKeyFrom(parts: RsaPublicParts): KeyObject {
  const exponent = Buffer.alloc(4);
  exponent.writeUInt32BE(parts.exponent >>> 0);
  let start = 0;
  while (start < 3 && exponent[start] === 0) start++;
  try {
    return createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(parts.modulus).toString('base64url'), e: exponent.subarray(start).toString('base64url') },
      format: 'jwk',
    });
  } catch (error) {
    throw new IpmsgError('IPMSG_ERR_DECODE', 'Invalid ANSPUBKEY: not a usable RSA key', { cause: error });
  }
}

/** Modulus length in bits (e.g. 2048). */
export function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits === undefined) throw new TypeError('not an RSA key');
  return bits;
}

/** Our own keys: RSA-2048 always; RSA-1024 only with legacy crypto. */
export interface OwnKeys {
  readonly rsa2048: RsaKeyPair;
  readonly rsa1024: RsaKeyPair | undefined;
}

/** The private key as PKCS#8 PEM, the form our key files hold. */
export function privateKeyPem(pair: RsaKeyPair): string {
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The key pair in a PEM private key, which must be an RSA key of `bits` bits.
 * @throws TypeError whose message says what is wrong with it (the cause: node:crypto's error)
 */
export function keyPairFromPem(pem: string, bits: RsaBits): RsaKeyPair {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new TypeError('it is not a PEM private key', { cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'rsa' || modulusBits(privateKey) !== bits) {
    throw new TypeError(`it holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key of another size`);
  }
  return { bits, privateKey, publicKey: createPublicKey(privateKey) };
}
