// src/transfer/dir-stream.ts
// The GETDIRFILES reply (§5.3): `HHHH:name:size:attr:14=mtime:16=ctime:` headers, each regular
// file's bytes right after its header, a RETPARENT (`HHHH:.:0:3:`) closing every directory.

import { IpmsgError } from '../errors.js';
import { COLON, toHex } from '../encoding/fields.js';
import {
  IPMSG_FILE_BDEV,
  IPMSG_FILE_CDEV,
  IPMSG_FILE_CLIPBOARD,
  IPMSG_FILE_CREATETIME,
  IPMSG_FILE_DIR,
  IPMSG_FILE_FIFO,
  IPMSG_FILE_MTIME,
  IPMSG_FILE_REGULAR,
  IPMSG_FILE_RESFORK,
  IPMSG_FILE_RETPARENT,
  IPMSG_FILE_SYMLINK,
  fileType,
} from '../protocol/file-attr.js';

/** Default header limit of DirStreamParser: the official receiver reads headers into 1 KiB. */
export const DEFAULT_MAX_DIR_HEADER_BYTES = 1024;
/**
 * Default limit of DirStreamParser on files and folders in one stream: headers are not counted in
 * the announced size, so without it a stream of empty files would never end.
 */
export const DEFAULT_MAX_DIR_ENTRIES = 1_000_000;
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
const EQUALS = 0x3d;

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
 * encodeDirHeader() straight into `target` at `offset` (a folder of 10,000 files has 20,000
 * headers: no allocation and copy for each, and no string in between).
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

/** Everything the checks of entryNameProblem() refuse matches this (a drive prefix has its ':'). */
const MAYBE_PROBLEM = /^\.{0,2}$|[\u0000-\u001f\u007f-\u009f/\\:]/;
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;
const SEPARATOR = /[/\\]/;
const DRIVE = /^[A-Za-z]:/;

function quote(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/**
 * Why `name` cannot be one path component of a received folder, or undefined when it can. Refused:
 * empty, '.', '..', a path separator ('/', '\'), ':', a control character (C0, DEL, C1), anything
 * that looks absolute ('/x', '\x', 'C:x'). RETPARENT entries are checked by the parser, not here.
 */
export function entryNameProblem(name: string): string | undefined {
  if (!MAYBE_PROBLEM.test(name)) return undefined; // one scan for the usual name; the reason below
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `name '${name}'`;
  if (CONTROL_CHAR.test(name)) return 'name contains a control character';
  if (name.startsWith('/') || name.startsWith('\\') || DRIVE.test(name)) return `absolute name ${quote(name)}`;
  if (SEPARATOR.test(name)) return `name ${quote(name)} contains a path separator`;
  if (name.includes(':')) return `name ${quote(name)} contains ':'`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Parser

export interface DirEvent {
  readonly type: 'dir';
  readonly name: string;
  readonly attr: number;
  readonly mtime?: number;
  /** 0 for the top folder, 1 for its children, … */
  readonly depth: number;
}
export interface FileEvent {
  readonly type: 'file';
  readonly name: string;
  readonly size: number;
  readonly attr: number;
  readonly mtime?: number;
  /** The depth of the folder the file is in plus one (0 only for a top-level file). */
  readonly depth: number;
}
/** File content: a view into the pushed chunk (not a copy), valid as long as the chunk is. */
export interface DataEvent {
  readonly type: 'data';
  readonly bytes: Uint8Array;
}
export interface FileEndEvent {
  readonly type: 'fileEnd';
}
/** RETPARENT: the current folder is complete; mtime is the folder's when the sender gave it. */
export interface UpEvent {
  readonly type: 'up';
  readonly mtime?: number;
}
/** The top folder (or the top-level file) is complete: the stream is over. */
export interface EndEvent {
  readonly type: 'end';
}
export type DirStreamEvent = DirEvent | FileEvent | DataEvent | FileEndEvent | UpEvent | EndEvent;

export interface DirStreamOptions {
  /**
   * Turns a name's bytes into text (the caller knows the charset). The bytes may be a view into a
   * reused buffer: do not keep them.
   */
  readonly decodeName: (bytes: Uint8Array) => string;
  /** Largest header accepted, in bytes (default 1024, the official receiver's buffer). */
  readonly maxHeaderBytes?: number;
  /** Largest sum of the regular files' sizes (e.g. the offered size); undefined = no limit. */
  readonly maxTotalBytes?: number;
  /** Most files and folders (RETPARENTs not counted); default DEFAULT_MAX_DIR_ENTRIES. */
  readonly maxEntries?: number;
  /**
   * What the stream must hold. 'dir' (default): a folder, closed by its RETPARENT. 'file': one
   * regular file and its bytes, nothing else — what the official sender streams when GETDIRFILES
   * asks for a regular file (§5.2 "official quirk"; its receiver expects exactly that shape).
   */
  readonly expect?: 'dir' | 'file';
}

const FILE_END: FileEndEvent = Object.freeze({ type: 'fileEnd' });
const END: EndEvent = Object.freeze({ type: 'end' });

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [IPMSG_FILE_SYMLINK]: 'symbolic link',
  [IPMSG_FILE_CDEV]: 'character device',
  [IPMSG_FILE_BDEV]: 'block device',
  [IPMSG_FILE_FIFO]: 'FIFO',
  [IPMSG_FILE_RESFORK]: 'resource fork',
  [IPMSG_FILE_CLIPBOARD]: 'clipboard image',
};

/** Most digits of the header-size field (every sender writes 4; strtoul would take more). */
const MAX_SIZE_DIGITS = 8;
/** HHHH + ':' + name + ':' + size + ':' + attr + ':' with one-character name, size and attr. */
const MIN_FIELDS_AFTER_SIZE = 7;

function invalid(reason: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_PROTOCOL', `Invalid folder stream: ${reason}`);
}

/** The index of the first ':' in bytes[from, end), or -1 (a loop: shorter than a native indexOf call). */
function colonAt(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (bytes[i] === COLON) return i;
  return -1;
}

/** Value of the hex digits in bytes[start, end), or -1 when empty, not hex or above `max`. */
function hexNumber(bytes: Uint8Array, start: number, end: number, max: number): number {
  if (start >= end) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    let digit: number;
    if (b >= 0x30 && b <= 0x39) digit = b - 0x30;
    else if (b >= 0x61 && b <= 0x66) digit = b - 0x57;
    else if (b >= 0x41 && b <= 0x46) digit = b - 0x37;
    else return -1;
    value = value * 16 + digit;
    if (value > max) return -1;
  }
  return value;
}

/** A `%llx` time: up to 16 hex digits, negative when the 64th bit is set (times before 1970). */
function timeValue(bytes: Uint8Array, start: number, end: number, what: string): number {
  const value = hexNumber(bytes, start, end, Number.MAX_SAFE_INTEGER);
  if (value >= 0) return value;
  let first = start;
  while (first < end && bytes[first] === 0x30) first++;
  if (end - first === 16 && hexNumber(bytes, first, end, Infinity) >= 0) {
    let text = '';
    for (let i = first; i < end; i++) text += String.fromCharCode(bytes[i] as number);
    const signed = Number(BigInt.asIntN(64, BigInt(`0x${text}`)));
    if (Number.isSafeInteger(signed)) return signed;
  }
  throw invalid(`${what} is not a hex number of seconds`);
}

/** Parser states: reading a header, inside a file's bytes, after the end. */
const HEADER = 0;
const DATA = 1;
const DONE = 2;
type State = typeof HEADER | typeof DATA | typeof DONE;

/**
 * Push parser for a GETDIRFILES reply. push() each chunk as it arrives and act on the events in
 * order; call finish() when the connection ends. Every rule the stream breaks throws an IpmsgError
 * IPMSG_ERR_PROTOCOL ("Invalid folder stream: …"); the events of the chunk that broke it are lost
 * and the parser throws the same error from then on.
 */
export class DirStreamParser {
  readonly #decodeName: (bytes: Uint8Array) => string;
  readonly #maxHeader: number;
  readonly #maxTotal: number;
  readonly #maxEntries: number;
  readonly #expectFile: boolean;

  #state: State = HEADER;
  #error: IpmsgError | undefined;
  /** Folders entered and not yet left. */
  #depth = 0;
  #entries = 0;
  /** Files and folders so far. */
  #items = 0;
  #totalDeclared = 0;
  /** Bytes of the current file still to come. */
  #remaining = 0;
  #fileName = '';
  /** A header split across chunks: its bytes so far, and its declared size once known (else -1). */
  #head: Uint8Array | undefined;
  #headLength = 0;
  #headSize = -1;

  constructor(options: DirStreamOptions) {
    this.#decodeName = options.decodeName;
    this.#maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_DIR_HEADER_BYTES;
    this.#maxTotal = options.maxTotalBytes ?? Number.MAX_SAFE_INTEGER;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_DIR_ENTRIES;
    this.#expectFile = options.expect === 'file';
  }

  /** True once the top folder (or the top-level file) is complete. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Parses one chunk.
   * @returns the events it completes, in order; file content as views into `chunk`
   * @throws IpmsgError IPMSG_ERR_PROTOCOL when the stream breaks a rule (§5.3)
   */
  push(chunk: Uint8Array): DirStreamEvent[] {
    if (this.#error) throw this.#error;
    try {
      return this.#push(chunk);
    } catch (error) {
      this.#error = error instanceof IpmsgError ? error : new IpmsgError('IPMSG_ERR_INTERNAL', 'Folder stream parser failed', { cause: error });
      throw this.#error;
    }
  }

  /**
   * Call when the connection has ended.
   * @throws IpmsgError IPMSG_ERR_PROTOCOL when the stream is incomplete
   */
  finish(): void {
    if (this.#error) throw this.#error;
    if (this.#state === DONE) return;
    if (this.#state === DATA) {
      this.#error = invalid(`the stream ended ${this.#remaining} bytes before the end of ${quote(this.#fileName)}`);
    } else if (this.#headLength > 0) {
      this.#error = invalid('the stream ended in the middle of a header');
    } else if (this.#entries === 0) {
      this.#error = invalid('the stream ended before the first entry');
    } else {
      this.#error = invalid(`the stream ended inside ${this.#depth} open folder(s)`);
    }
    throw this.#error;
  }

  #push(chunk: Uint8Array): DirStreamEvent[] {
    const events: DirStreamEvent[] = [];
    const length = chunk.length;
    let pos = 0;
    while (pos < length) {
      if (this.#state === DATA) {
        const n = Math.min(this.#remaining, length - pos);
        events.push({ type: 'data', bytes: pos === 0 && n === length ? chunk : chunk.subarray(pos, pos + n) });
        pos += n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#endFile(events);
      } else if (this.#state === DONE) {
        throw invalid(`${length - pos} bytes after the end (the stream is longer than announced)`);
      } else if (this.#headLength === 0) {
        // Fast path: the whole header is in this chunk; parse it in place.
        const size = this.#headerSize(chunk, pos, length);
        if (size > 0 && pos + size <= length) {
          this.#entry(chunk, pos, pos + size, events);
          pos += size;
        } else {
          pos = this.#collect(chunk, pos, events);
        }
      } else {
        pos = this.#collect(chunk, pos, events);
      }
    }
    return events;
  }

  /** Copies header bytes into #head until the header is complete (then parses it) or the chunk ends. */
  #collect(chunk: Uint8Array, pos: number, events: DirStreamEvent[]): number {
    const head = (this.#head ??= new Uint8Array(Math.max(this.#maxHeader, MAX_SIZE_DIGITS + 1)));
    if (this.#headSize < 0) {
      // Every valid header is longer than the size field and its ':', so these bytes are all header.
      const take = Math.min(MAX_SIZE_DIGITS + 1 - this.#headLength, chunk.length - pos);
      head.set(chunk.subarray(pos, pos + take), this.#headLength);
      this.#headLength += take;
      pos += take;
      this.#headSize = this.#headerSize(head, 0, this.#headLength);
      if (this.#headSize < 0) return pos;
    }
    const take = Math.min(this.#headSize - this.#headLength, chunk.length - pos);
    head.set(chunk.subarray(pos, pos + take), this.#headLength);
    this.#headLength += take;
    pos += take;
    if (this.#headLength === this.#headSize) {
      const size = this.#headSize;
      this.#headLength = 0;
      this.#headSize = -1;
      this.#entry(head, 0, size, events);
    }
    return pos;
  }

  /**
   * The header size declared at bytes[start]: `HHHH:` (4 to 8 hex digits, then ':'), checked
   * against the limits; -1 when more bytes are needed.
   */
  #headerSize(bytes: Uint8Array, start: number, end: number): number {
    const stop = Math.min(end, start + MAX_SIZE_DIGITS + 1);
    for (let i = start; i < stop; i++) {
      if (bytes[i] !== COLON) continue;
      const digits = i - start;
      if (digits < 4) throw invalid(`header size field of ${digits} digits (at least 4 expected)`);
      const size = hexNumber(bytes, start, i, Number.MAX_SAFE_INTEGER);
      if (size < 0) throw invalid('header size field is not a hex number');
      if (size > this.#maxHeader) throw invalid(`header of ${size} bytes exceeds the limit of ${this.#maxHeader}`);
      if (size < digits + MIN_FIELDS_AFTER_SIZE) throw invalid(`header size ${size} is smaller than the smallest header`);
      return size;
    }
    if (hexNumber(bytes, start, stop, Infinity) < 0) throw invalid('header size field is not a hex number');
    if (stop - start > MAX_SIZE_DIGITS) throw invalid(`header size field of more than ${MAX_SIZE_DIGITS} digits`);
    return -1;
  }

  /**
   * One complete header, h[start, end) (exactly its declared bytes): validates it and emits its
   * events. Offsets, not a view: a header is ~40 bytes, less than a subarray() costs.
   */
  #entry(h: Uint8Array, start: number, end: number, events: DirStreamEvent[]): void {
    if (h[end - 1] !== COLON) throw invalid("header does not end with ':' (header size smaller than its content?)");
    const nameStart = colonAt(h, start, end) + 1;
    const nameEnd = colonAt(h, nameStart, end);
    const sizeEnd = nameEnd + 1 < end ? colonAt(h, nameEnd + 1, end) : -1;
    if (sizeEnd < 0) throw invalid('header has no size field');
    const attrEnd = sizeEnd + 1 < end ? colonAt(h, sizeEnd + 1, end) : -1;
    if (attrEnd < 0) throw invalid('header has no attr field');
    const size = hexNumber(h, nameEnd + 1, sizeEnd, Number.MAX_SAFE_INTEGER);
    if (size < 0) throw invalid('size field is not a hex number (or too large)');
    const attr = hexNumber(h, sizeEnd + 1, attrEnd, MAX_ATTR);
    if (attr < 0) throw invalid('attr field is not a 32-bit hex number');

    let mtime: number | undefined;
    for (let p = attrEnd + 1; p < end; ) {
      const fieldEnd = colonAt(h, p, end);
      let eq = p;
      while (eq < fieldEnd && h[eq] !== EQUALS) eq++;
      if (eq === fieldEnd) throw invalid("extended attribute without '='");
      const key = hexNumber(h, p, eq, MAX_ATTR);
      if (key < 0) throw invalid('extended attribute key is not a hex number');
      // Only the times are read; other values (spec: `val1[,val2…]`) are skipped unread.
      if (key === IPMSG_FILE_MTIME) mtime = timeValue(h, eq + 1, fieldEnd, 'mtime (14)');
      else if (key === IPMSG_FILE_CREATETIME) timeValue(h, eq + 1, fieldEnd, 'ctime (16)');
      p = fieldEnd + 1;
    }

    const type = fileType(attr);
    if (type !== IPMSG_FILE_REGULAR && type !== IPMSG_FILE_DIR && type !== IPMSG_FILE_RETPARENT) {
      throw invalid(`unsupported entry type ${type}${TYPE_NAMES[type] === undefined ? '' : ` (${TYPE_NAMES[type]})`}`);
    }
    // Only a first entry can find depth 0: after the top folder's RETPARENT the stream is over.
    if (type === IPMSG_FILE_RETPARENT && this.#depth === 0) throw invalid('RETPARENT at the top level (unbalanced)');
    if (this.#entries === 0) {
      if (this.#expectFile && type !== IPMSG_FILE_REGULAR) throw invalid('the stream must hold one regular file');
      if (!this.#expectFile && type !== IPMSG_FILE_DIR) throw invalid('the stream must start with a directory');
    }
    this.#entries++;

    if (type === IPMSG_FILE_RETPARENT) {
      if (!(nameEnd - nameStart === 1 && h[nameStart] === DOT)) this.#name(h, nameStart, nameEnd);
      this.#depth--;
      events.push(mtime === undefined ? { type: 'up' } : { type: 'up', mtime });
      if (this.#depth === 0) {
        this.#state = DONE;
        events.push(END);
      }
      return;
    }

    if (++this.#items > this.#maxEntries) throw invalid(`more than ${this.#maxEntries} files and folders`);
    const name = this.#name(h, nameStart, nameEnd);
    const depth = this.#depth;
    if (type === IPMSG_FILE_DIR) {
      events.push(mtime === undefined ? { type: 'dir', name, attr, depth } : { type: 'dir', name, attr, mtime, depth });
      this.#depth++;
      return;
    }
    if (size > this.#maxTotal - this.#totalDeclared) {
      throw invalid(`file sizes add up to more than the limit of ${this.#maxTotal} bytes`);
    }
    this.#totalDeclared += size;
    events.push(mtime === undefined ? { type: 'file', name, size, attr, depth } : { type: 'file', name, size, attr, mtime, depth });
    if (size === 0) {
      this.#endFile(events);
    } else {
      this.#state = DATA;
      this.#remaining = size;
      this.#fileName = name;
    }
  }

  #name(h: Uint8Array, start: number, end: number): string {
    let name: string;
    try {
      name = this.#decodeName(h.subarray(start, end));
    } catch (cause) {
      throw new IpmsgError('IPMSG_ERR_PROTOCOL', 'Invalid folder stream: a name cannot be decoded', { cause });
    }
    const problem = entryNameProblem(name);
    if (problem !== undefined) throw invalid(problem);
    return name;
  }

  #endFile(events: DirStreamEvent[]): void {
    events.push(FILE_END);
    if (this.#depth === 0) {
      this.#state = DONE;
      events.push(END);
    } else {
      this.#state = HEADER;
    }
  }
}
