// src/transfer/dir-header.ts
// Writes the headers of a GETDIRFILES reply (§5.3): `HHHH:name:size:attr:14=mtime:16=ctime:`,
// each regular file's bytes following its header, a RETPARENT (`HHHH:.:0:3:`) closing every folder.

import { IpmsgError } from '../errors.js';
import { COLON, toHex } from '../encoding/fields.js';
import { IPMSG_FILE_CREATETIME, IPMSG_FILE_DIR, IPMSG_FILE_MTIME, IPMSG_FILE_REGULAR, IPMSG_FILE_RETPARENT, fileType } from '../protocol/file-attr.js';

/** Longest header encodeDirHeader writes: the official receiver refuses 1023 and up (§5.3). */
export const MAX_SENT_DIR_HEADER_BYTES = 1022;

/** One header of the stream. RETPARENT is `{ name: '.', size: 0, attr: IPMSG_FILE_RETPARENT }`. */
export interface DirHeader {
  /** Already encoded (UTF-8 or the peer's code page); written as is, not escaped. */
  readonly name: Uint8Array;
  readonly size: number;
  /** IPMSG_FILE_REGULAR, _DIR or _RETPARENT, with attribute options above the type byte. */
  readonly attr: number;
  /** Unix seconds, written as ext attribute 14 (IPMSG_FILE_MTIME). */
  readonly mtime?: number;
  /** Unix seconds, written as ext attribute 16 (IPMSG_FILE_CREATETIME). */
  readonly ctime?: number;
}

const MAX_ATTR = 0xffffffff;
const DOT = 0x2e;
const SLASH = 0x2f;

function entryError(code: 'IPMSG_ERR_INPUT' | 'IPMSG_ERR_INTERNAL', reason: string): IpmsgError {
  return new IpmsgError(code, `Invalid folder entry: ${reason}`);
}

/**
 * A time as the official and iptux print it (`%llx` of a signed 64-bit number): a non-negative
 * one is its own hex, a negative one the 16 hex digits of its two's complement.
 */
function timeDigits(what: string, seconds: number): number | string {
  if (!Number.isSafeInteger(seconds)) throw entryError('IPMSG_ERR_INTERNAL', `${what} ${seconds} is not a safe integer`);
  return seconds >= 0 ? seconds : BigInt.asUintN(64, BigInt(seconds)).toString(16);
}

/** How many hex digits `value` (a non-negative safe integer, or digits already) takes. */
function hexLength(value: number | string): number {
  if (typeof value === 'string') return value.length;
  let digits = 1;
  for (let rest = value; rest >= 16; rest = Math.floor(rest / 16)) digits++;
  return digits;
}

/** Writes `value` in lower-case hex so that it ends just before `end`. */
function putHex(target: Uint8Array, end: number, value: number | string): void {
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) target[end - value.length + i] = value.charCodeAt(i);
    return;
  }
  let at = end;
  let rest = value;
  do {
    const digit = rest % 16;
    target[--at] = digit < 10 ? 0x30 + digit : 0x57 + digit;
    rest = Math.floor(rest / 16);
  } while (rest > 0);
}

/**
 * Byte-level name checks that hold in every code page we speak: ':' (0x3a), '/', NUL and the
 * other control bytes are never part of a CP932/GBK/GB18030/Big5 multi-byte character. '\' is
 * (CP932 0x95 0x5c): check the text with entryNameProblem() before encoding it.
 */
function nameBytesProblem(name: Uint8Array, type: number): string | undefined {
  if (name.length === 0) return 'empty name';
  const dots = name.length <= 2 && name.every((b) => b === DOT);
  if (dots && !(type === IPMSG_FILE_RETPARENT && name.length === 1)) return `name '${'.'.repeat(name.length)}'`;
  for (let i = 0; i < name.length; i++) {
    const b = name[i] as number;
    if (b < 0x20 || b === 0x7f) return 'name contains a control character';
    if (b === COLON) return "name contains ':' (dir stream names are not escaped)";
    if (b === SLASH) return "name contains '/'";
  }
  return undefined;
}

/** A checked header, its numbers ready to write, and its length in bytes. */
interface HeaderPlan {
  readonly entry: DirHeader;
  readonly mtime: number | string | undefined;
  readonly ctime: number | string | undefined;
  readonly length: number;
}

/**
 * One header: `HHHH:name:size:attr:14=mtime:16=ctime:`, HHHH = `%04x` of the header length
 * counting itself and the final ':' (§5.3); size, attr and times in lower-case hex, times omitted
 * when undefined.
 * @throws IpmsgError IPMSG_ERR_INPUT for a name the stream cannot carry or a header over
 *   MAX_SENT_DIR_HEADER_BYTES; IPMSG_ERR_INTERNAL for bad numbers or an unsupported type
 */
export function encodeDirHeader(entry: DirHeader): Uint8Array {
  const plan = planHeader(entry);
  const out = Buffer.allocUnsafe(plan.length);
  writeHeader(out, 0, plan);
  return out;
}

/**
 * encodeDirHeader() straight into `target` at `offset` (a folder stream is mostly headers when its
 * files are small: no allocation and copy for each, and no string in between).
 * @returns the bytes written, or 0 when the header does not fit before the end of `target`
 * @throws IpmsgError as encodeDirHeader()
 */
export function writeDirHeader(target: Uint8Array, offset: number, entry: DirHeader): number {
  const plan = planHeader(entry);
  if (offset + plan.length > target.length) return 0;
  return writeHeader(target, offset, plan);
}

/** Checks the entry and measures its header. */
function planHeader(entry: DirHeader): HeaderPlan {
  const { name, size, attr } = entry;
  if (!Number.isSafeInteger(size) || size < 0) throw entryError('IPMSG_ERR_INTERNAL', `size ${size} is not a non-negative safe integer`);
  if (!Number.isInteger(attr) || attr < 0 || attr > MAX_ATTR) throw entryError('IPMSG_ERR_INTERNAL', `attr ${attr} is not a 32-bit value`);
  const type = fileType(attr);
  if (type !== IPMSG_FILE_REGULAR && type !== IPMSG_FILE_DIR && type !== IPMSG_FILE_RETPARENT) {
    throw entryError('IPMSG_ERR_INTERNAL', `unsupported entry type ${type}`);
  }
  const problem = nameBytesProblem(name, type);
  if (problem !== undefined) throw entryError('IPMSG_ERR_INPUT', problem);
  const mtime = entry.mtime === undefined ? undefined : timeDigits('mtime', entry.mtime);
  const ctime = entry.ctime === undefined ? undefined : timeDigits('ctime', entry.ctime);
  // HHHH: name : size : attr : [14= mtime :] [16= ctime :]
  let length = 5 + name.length + 1 + hexLength(size) + 1 + hexLength(attr) + 1;
  if (mtime !== undefined) length += MTIME_KEY.length + hexLength(mtime) + 1;
  if (ctime !== undefined) length += CTIME_KEY.length + hexLength(ctime) + 1;
  if (length > MAX_SENT_DIR_HEADER_BYTES) {
    throw entryError('IPMSG_ERR_INPUT', `header of ${length} bytes exceeds the ${MAX_SENT_DIR_HEADER_BYTES} the official client accepts`);
  }
  return { entry, mtime, ctime, length };
}

/** `14=` and `16=`: the ext attribute numbers of the times, in hex. */
const MTIME_KEY = Buffer.from(`${toHex(IPMSG_FILE_MTIME)}=`, 'latin1');
const CTIME_KEY = Buffer.from(`${toHex(IPMSG_FILE_CREATETIME)}=`, 'latin1');

/** Byte by byte: a header is ~40 bytes, shorter than a native Buffer.write() call is worth. */
function writeHeader(target: Uint8Array, offset: number, plan: HeaderPlan): number {
  const { name, size, attr } = plan.entry;
  let at = offset + 4;
  for (let i = offset; i < at; i++) target[i] = 0x30; // %04x: zeros, then the digits over them
  putHex(target, at, plan.length);
  target[at++] = COLON;
  target.set(name, at);
  at += name.length;
  target[at++] = COLON;
  at += hexLength(size);
  putHex(target, at, size);
  target[at++] = COLON;
  at += hexLength(attr);
  putHex(target, at, attr);
  target[at++] = COLON;
  if (plan.mtime !== undefined) at = putTime(target, at, MTIME_KEY, plan.mtime);
  if (plan.ctime !== undefined) at = putTime(target, at, CTIME_KEY, plan.ctime);
  return at - offset;
}

/** `key` (`14=` or `16=`), the time in hex and ':' at `at`; returns where the next byte goes. */
function putTime(target: Uint8Array, at: number, key: Uint8Array, time: number | string): number {
  target.set(key, at);
  const end = at + key.length + hexLength(time);
  putHex(target, end, time);
  target[end] = COLON;
  return end + 1;
}
