// src/crypto/file-crypto.ts
// Encrypted file requests (§5.6): the fields the requester appends to `pkt:fid:` (GETDIRFILES) or
// `pkt:fid:offset:` (GETFILEDATA) before encrypting the request like a message, and the AES-256-CTR
// stream the sender then writes (headers and data alike).

import { type Cipher, createCipheriv } from 'node:crypto';
import { IPMSG_AES_256, IPMSG_NOENC_FILEBODY, IPMSG_PACKETNO_IV } from '../protocol/command.js';

const AES_CTR_CAPA = IPMSG_AES_256 | IPMSG_PACKETNO_IV; // 0x900000
const KEY_BYTES = 32;

/** What the request asks for the file body. */
export type FileBodyCrypto =
  /** `900000:<64 hex key>:<request pktno hex>`: the stream is AES-256-CTR with this key. */
  | { readonly kind: 'aes-256-ctr'; readonly key: Uint8Array; readonly packetNo: number | undefined }
  /** `4000000:<request pktno hex>`: the request is signed, the body travels in clear. */
  | { readonly kind: 'clear'; readonly packetNo: number };

/** The fields as the official StartRecvFile appends them (no trailing colon). */
export function encodeFileBodyCrypto(crypto: FileBodyCrypto): string {
  if (crypto.kind === 'clear') return `${IPMSG_NOENC_FILEBODY.toString(16)}:${hexNumber(crypto.packetNo)}`;
  if (crypto.key.length !== KEY_BYTES) throw new RangeError(`AES-256 key of ${crypto.key.length} bytes`);
  const key = Buffer.from(crypto.key).toString('hex');
  return `${AES_CTR_CAPA.toString(16)}:${key}${crypto.packetNo === undefined ? '' : `:${hexNumber(crypto.packetNo)}`}`;
}

function hexNumber(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a packet number: ${value}`);
  return value.toString(16);
}

const HEX_NUMBER = /^[0-9a-fA-F]{1,13}$/;

/**
 * Reads the fields as the official StartSendFile does: the capa word decides; the AES key must be
 * exactly 32 bytes; the packet number (for the replay check: it must grow) is optional after a
 * key, required otherwise. Undefined for anything else.
 */
export function decodeFileBodyCrypto(fields: string): FileBodyCrypto | undefined {
  const [capaText = '', first = '', second] = fields.split(':');
  if (!HEX_NUMBER.test(capaText)) return undefined;
  const capa = Number.parseInt(capaText, 16);
  if (capa === AES_CTR_CAPA) {
    if (!/^[0-9a-fA-F]{64}$/.test(first)) return undefined;
    const key = Uint8Array.from(Buffer.from(first, 'hex'));
    if (second === undefined || second === '') return { kind: 'aes-256-ctr', key, packetNo: undefined };
    return HEX_NUMBER.test(second) ? { kind: 'aes-256-ctr', key, packetNo: Number.parseInt(second, 16) } : undefined;
  }
  if (capa === IPMSG_NOENC_FILEBODY && HEX_NUMBER.test(first)) return { kind: 'clear', packetNo: Number.parseInt(first, 16) };
  return undefined;
}

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
  if (key.length !== KEY_BYTES) throw new RangeError(`AES-256 key of ${key.length} bytes`);
  return createCipheriv('aes-256-ctr', key, fileStreamIv(packetNo));
}

/**
 * Node's update() returns each output in a new buffer, and one of 1 MiB is fresh memory: its page
 * faults cost as much as the AES itself. Slices of 64 KiB come from reused memory.
 */
const IN_PLACE_SLICE = 64 * 1024;

/**
 * Runs the stream cipher (CTR: output as long as input) over `bytes`, writing the result back into
 * them, in slices of 64 KiB: about half the CPU of one update() over 1 MiB, and no new buffer.
 */
export function cipherInPlace(cipher: Cipher, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += IN_PLACE_SLICE) {
    const piece = bytes.subarray(at, Math.min(at + IN_PLACE_SLICE, bytes.length));
    const out = cipher.update(piece);
    if (out.length !== piece.length) throw new RangeError(`a stream cipher gave ${out.length} bytes for ${piece.length}`);
    bytes.set(out, at);
  }
}
