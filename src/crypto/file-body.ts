// src/crypto/file-body.ts
// The fields an encrypted file request (§5.6) appends to `pkt:fid:` (GETDIRFILES) or
// `pkt:fid:offset:` (GETFILEDATA): how the body is to travel. A pure codec, apart from the stream
// cipher (file-crypto.ts), so that parsing requests does not load node:crypto.

import { IPMSG_AES_256, IPMSG_NOENC_FILEBODY, IPMSG_PACKETNO_IV } from '../protocol/command.js';

const AES_CTR_CAPA = IPMSG_AES_256 | IPMSG_PACKETNO_IV; // 0x900000
/** The AES-256 key of an encrypted file stream. */
export const FILE_KEY_BYTES = 32;

/** What the request asks for the file body. */
export type FileBodyCrypto =
  /** `900000:<64 hex key>:<request pktno hex>`: the stream is AES-256-CTR with this key. */
  | { readonly kind: 'aes-256-ctr'; readonly key: Uint8Array; readonly packetNo: number | undefined }
  /** `4000000:<request pktno hex>`: the request is signed, the body travels in clear. */
  | { readonly kind: 'clear'; readonly packetNo: number };

/** The fields as the official StartRecvFile appends them (no trailing colon). */
export function encodeFileBodyCrypto(crypto: FileBodyCrypto): string {
  if (crypto.kind === 'clear') return `${IPMSG_NOENC_FILEBODY.toString(16)}:${hexNumber(crypto.packetNo)}`;
  if (crypto.key.length !== FILE_KEY_BYTES) throw new RangeError(`AES-256 key of ${crypto.key.length} bytes`);
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
