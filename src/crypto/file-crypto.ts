// src/crypto/file-crypto.ts
// Encrypted file transfer (§5.6): the AES-256-CTR stream the sender writes (headers and data
// alike) once the request asked for it; the request fields themselves are in file-body.ts.

import type { Cipher } from 'node:crypto';
import { createRequire } from 'node:module';
import { FILE_KEY_BYTES } from './file-body.js';

/**
 * The CTR counter block: the request packet number in ASCII decimal at the start, zeros after,
 * counted up as one 128-bit big-endian number (node's aes-256-ctr does exactly that). The official
 * prints it with `%d` into an int, so a number of 2^31 or more would show as negative there; we
 * print the same 32-bit signed value.
 */
export function fileStreamIv(packetNo: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.write(String(packetNo | 0), 'latin1');
  return iv;
}

/**
 * A Transform that encrypts (or, being CTR, decrypts) a whole file stream from its first byte.
 * @throws RangeError for a key that is not 32 bytes
 */
export function createFileStreamCipher(key: Uint8Array, packetNo: number): Cipher {
  if (key.length !== FILE_KEY_BYTES) throw new RangeError(`AES-256 key of ${key.length} bytes`);
  // Loaded here, not imported: the file server and client load this module for plain transfers
  // too, which should not wait for OpenSSL to start.
  const { createCipheriv } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createCipheriv('aes-256-ctr', key, fileStreamIv(packetNo));
}

/**
 * Node's update() returns each output in a new, zero-filled buffer; a large one is fresh memory
 * whose page faults cost as much as the AES itself. Slices stay under 64 KiB with their malloc
 * header, because glibc's free() of a chunk of 64 KiB or more consolidates and gives the top of
 * the heap back to the system, so the next slice faults its pages in again.
 */
const IN_PLACE_SLICE = 65_000;

/**
 * Runs the stream cipher (CTR: output as long as input) over `bytes`, writing the result back into
 * them, in slices of just under 64 KiB (see IN_PLACE_SLICE).
 */
export function cipherInPlace(cipher: Cipher, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += IN_PLACE_SLICE) {
    const piece = bytes.subarray(at, Math.min(at + IN_PLACE_SLICE, bytes.length));
    const out = cipher.update(piece);
    if (out.length !== piece.length) throw new RangeError(`a stream cipher gave ${out.length} bytes for ${piece.length}`);
    bytes.set(out, at);
  }
}
