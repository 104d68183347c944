// src/crypto/rsa-pkcs1.ts
// RSAES-PKCS1-v1_5 for the session key (§6.3). Node 20 refuses RSA_PKCS1_PADDING in
// privateDecrypt (CVE-2023-46809), so decryption is OpenSSL's raw RSA (RSA_NO_PADDING: native,
// blinded) followed by an unpad that looks at every byte whatever it finds and never says why
// it failed. The key length is known beforehand, so the 00 separator has a fixed place.

import { type KeyObject, constants, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';

/** Encrypts `data` to `publicKey` with PKCS#1 v1.5 type-2 padding; big-endian output. */
export function rsaEncrypt(publicKey: KeyObject, data: Uint8Array): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, data);
}

/**
 * Decrypts a PKCS#1 v1.5 block that must hold exactly `length` bytes. On any failure it returns
 * `ok: false` with random bytes in place of the key, so the caller runs the same steps as for a good
 * key and only then reports one generic error (no padding oracle).
 */
export function rsaDecrypt(privateKey: KeyObject, ciphertext: Uint8Array, length: number): { key: Buffer; ok: boolean } {
  const decoy = randomBytes(length);
  let block: Buffer;
  try {
    block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
  } catch {
    return { key: decoy, ok: false }; // wrong length or not below the modulus: public facts
  }
  // EM = 00 02 PS(≥ 8 nonzero bytes) 00 M, with M `length` bytes long.
  const separator = block.length - length - 1;
  let bad = separator < 10 ? 1 : 0;
  bad |= block[0] ?? 1;
  bad |= (block[1] ?? 0) ^ 2;
  bad |= block[separator] ?? 1;
  for (let i = 2; i < separator; i++) bad |= ((block[i] ?? 0) - 1) >>> 31; // 1 when the byte is 0
  const ok = bad === 0;
  const key = Buffer.alloc(length);
  const mask = ok ? 0xff : 0;
  for (let i = 0; i < length; i++) key[i] = ((block[separator + 1 + i] ?? 0) & mask) | ((decoy[i] ?? 0) & ~mask);
  return { key, ok };
}
