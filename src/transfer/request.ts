// src/transfer/request.ts
// The body of a GETFILEDATA / GETDIRFILES request (§5.2, §5.3): `packetID:fileID[:offset]:`, hex.
// The request itself is an ordinary text packet (decodePacket gives kind GETFILEDATA or GETDIRFILES); this is its body.

import { type FileBodyCrypto, decodeFileBodyCrypto, encodeFileBodyCrypto } from '../crypto/file-body.js';
import { IpmsgError } from '../errors.js';
import { toHex } from '../encoding/fields.js';
import { COMMANDS, IPMSG_ENCRYPTOPT, getMode, hasOpt } from '../protocol/command.js';

export interface FileRequest {
  /** The offer's packet number (hex in the body). */
  readonly packetNo: number;
  /**
   * The file ids to try, in order: the field read as hex, then, when it is all decimal digits and
   * means something else, read as decimal (some clients print the offer's decimal id as is; iptux
   * tries both, §5.4).
   */
  readonly fileIds: readonly number[];
  /** Where to start (hex); 0 when absent. Only honoured by some senders (§5.2). */
  readonly offset: number;
}

/** Longest body accepted: real ones are under 40 characters; encrypted ones (§5.6) under 120. */
const MAX_BODY_CHARS = 256;
/** packetID, fileID, offset, and the §5.6 extension fields (`900000:<key>:<pktno>`), with room. */
const MAX_FIELDS = 8;
/** 16 hex digits still hold 2^53 - 1 with three leading zeros; the value is checked after. */
const HEX_FIELD = /^[0-9a-fA-F]{1,16}$/;
const DECIMAL_FIELD = /^[0-9]{1,16}$/;
/** §5.6 extension fields are hex too (an AES-256 key is 64 digits). */
const EXTRA_FIELD = /^[0-9a-fA-F]{1,64}$/;

function checkNumber(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new IpmsgError('IPMSG_ERR_INTERNAL', `Invalid file request: ${what} ${value} is not a non-negative safe integer`);
  }
}

/**
 * GETFILEDATA body: `packetID:fileID:offset:` in lower-case hex with a trailing colon, as the
 * official client writes it (which always sends offset 0).
 * @throws IpmsgError IPMSG_ERR_INTERNAL when a number is negative, fractional or unsafe
 */
export function encodeFileDataRequest(packetNo: number, fileId: number, offset: number): string {
  checkNumber('packet number', packetNo);
  checkNumber('file id', fileId);
  checkNumber('offset', offset);
  return `${toHex(packetNo)}:${toHex(fileId)}:${toHex(offset)}:`;
}

/**
 * GETDIRFILES body: `packetID:fileID:` in lower-case hex (official).
 * @throws IpmsgError IPMSG_ERR_INTERNAL when a number is negative, fractional or unsafe
 */
export function encodeDirFilesRequest(packetNo: number, fileId: number): string {
  checkNumber('packet number', packetNo);
  checkNumber('file id', fileId);
  return `${toHex(packetNo)}:${toHex(fileId)}:`;
}

function hexValue(field: string): number | undefined {
  if (!HEX_FIELD.test(field)) return undefined;
  const value = Number.parseInt(field, 16);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Parses a request body as real clients write it: official `%x:%x:0:`, iptux `%x:%x:%llx` (no
 * trailing colon), IpMsg.Net `{0:x}:{1:x}:0:`; trailing empty fields are ignored, fields after the
 * offset (§5.6 extensions) must be hex and are otherwise ignored.
 * @returns undefined for anything else: junk, empty inner fields, negative or unsafe numbers, more
 *   than 8 fields, more than 256 characters
 */
export function parseFileRequest(body: string): FileRequest | undefined {
  if (body.length > MAX_BODY_CHARS) return undefined;
  const fields = body.split(':');
  while (fields.length > 0 && fields[fields.length - 1] === '') fields.pop();
  if (fields.length < 2 || fields.length > MAX_FIELDS) return undefined;
  const [packetText = '', idText = '', offsetText = '0', ...extra] = fields;
  const packetNo = hexValue(packetText);
  const hexId = hexValue(idText);
  const offset = hexValue(offsetText);
  if (packetNo === undefined || hexId === undefined || offset === undefined) return undefined;
  if (!extra.every((field) => EXTRA_FIELD.test(field))) return undefined;
  const fileIds = [hexId];
  if (DECIMAL_FIELD.test(idText)) {
    const decimalId = Number(idText);
    if (decimalId !== hexId && Number.isSafeInteger(decimalId)) fileIds.push(decimalId);
  }
  return { packetNo, fileIds, offset };
}

/**
 * The plaintext of an encrypted request (§5.6), before it is encrypted like a message: GETFILEDATA
 * `packetID:fileID:offset:` and GETDIRFILES `packetID:fileID:`, followed by the body-crypto fields
 * (`900000:<key>:<pktno>` or `4000000:<pktno>`) when the request has ENCFILEOPT.
 * @throws IpmsgError IPMSG_ERR_INTERNAL when a number is negative, fractional or unsafe
 */
export function encodeEncryptedRequest(kind: 'file' | 'dir', packetNo: number, fileId: number, offset: number, body: FileBodyCrypto | undefined): string {
  const head = kind === 'file' ? encodeFileDataRequest(packetNo, fileId, offset) : encodeDirFilesRequest(packetNo, fileId);
  return body === undefined ? head : `${head}${encodeFileBodyCrypto(body)}`;
}

export interface EncryptedRequest extends FileRequest {
  /** ENCFILEOPT: what the requester asked for the stream; undefined without ENCFILEOPT (a clear stream). */
  readonly body: FileBodyCrypto | undefined;
}

/**
 * Reads a decrypted request plaintext as the official GetAcceptableFileInfo does: the body-crypto
 * fields follow the offset (GETFILEDATA) or the file id (GETDIRFILES, which has no offset), and
 * must be well formed when the request has ENCFILEOPT. Ids are hex only (the official's requests).
 * @returns undefined for anything else
 */
export function parseEncryptedRequest(plaintext: string, kind: 'file' | 'dir', encFile: boolean): EncryptedRequest | undefined {
  if (plaintext.length > MAX_BODY_CHARS) return undefined;
  const fields = plaintext.split(':');
  const head = kind === 'file' ? 3 : 2;
  const [packetText = '', idText = '', offsetText = '0'] = fields;
  const rest = fields.slice(head);
  const packetNo = hexValue(packetText);
  const fileId = hexValue(idText);
  const offset = kind === 'file' ? hexValue(offsetText) : 0;
  if (fields.length < head || packetNo === undefined || fileId === undefined || offset === undefined) return undefined;
  if (!encFile) return rest.every((field) => field === '') ? { packetNo, fileIds: [fileId], offset, body: undefined } : undefined;
  const body = decodeFileBodyCrypto(rest.join(':'));
  return body && { packetNo, fileIds: [fileId], offset, body };
}

/**
 * How far a file request that has not (yet) ended in its NUL has come: 'complete' when a plain
 * GETFILEDATA holds `packetID:fileID:offset:` or a plain GETDIRFILES `packetID:fileID:` (each field
 * closed by its colon), 'invalid' when its header already shows it is no file request, else
 * 'incomplete' (an encrypted request has no such end: only its NUL or the connection's end tell).
 */
export function requestProgress(bytes: Uint8Array): 'complete' | 'incomplete' | 'invalid' {
  const fields = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').split(':');
  if (fields[0] !== undefined && fields.length > 1 && !/^\d+$/.test(fields[0])) return 'invalid';
  if (fields.length < 6) return 'incomplete';
  const commandText = fields[4] ?? '';
  if (!/^[0-9]{1,10}$/.test(commandText)) return 'invalid';
  const command = Number(commandText) >>> 0;
  const mode = getMode(command);
  const wanted = mode === COMMANDS.IPMSG_GETFILEDATA ? 3 : mode === COMMANDS.IPMSG_GETDIRFILES ? 2 : undefined;
  if (wanted === undefined) return 'invalid';
  if (hasOpt(command, IPMSG_ENCRYPTOPT)) return 'incomplete';
  const body = fields.slice(5);
  return body.length === wanted + 1 && body[wanted] === '' && body.slice(0, wanted).every((f) => f.length > 0) ? 'complete' : 'incomplete';
}
