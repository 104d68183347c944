// src/transfer/dir-stream-parser.ts
// Push parser for a GETDIRFILES reply (§5.3): headers and file bytes in, events out; a header
// split across chunks is kept until its last byte arrives.

import { IpmsgError } from '../errors.js';
import { COLON } from '../encoding/fields.js';
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
import { entryNameProblem, quoteName } from './entry-name.js';
import { FieldCursor, hexNumber, timeValue } from './header-cursor.js';

/** Default header limit of DirStreamParser: the official receiver reads headers into 1 KiB. */
export const DEFAULT_MAX_DIR_HEADER_BYTES = 1024;
/**
 * Default limit of DirStreamParser on files and folders in one stream: headers are not counted in
 * the announced size, so without it a stream of empty files would never end.
 */
export const DEFAULT_MAX_DIR_ENTRIES = 1_000_000;

const MAX_ATTR = 0xffffffff;
const DOT = 0x2e;
const EQUALS = 0x3d;

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

/** A time field as a number of seconds. */
function seconds(cursor: FieldCursor, start: number, what: string): number {
  const value = timeValue(cursor.bytes, start, cursor.to);
  if (value === undefined) throw invalid(`${what} is not a hex number of seconds`);
  return value;
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
  readonly #cursor = new FieldCursor();

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
      this.#error = invalid(`the stream ended ${this.#remaining} bytes before the end of ${quoteName(this.#fileName)}`);
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

  /** One complete header, h[start, end) (exactly its declared bytes): validates it and emits its events. */
  #entry(h: Uint8Array, start: number, end: number, events: DirStreamEvent[]): void {
    if (h[end - 1] !== COLON) throw invalid("header does not end with ':' (header size smaller than its content?)");
    const c = this.#cursor.reset(h, start, end);
    c.next(); // the header size, read by #headerSize
    c.next(); // found: the header ends with ':'
    const nameStart = c.from;
    const nameEnd = c.to;
    const isDot = c.is(DOT);
    if (!c.next()) throw invalid('header has no size field');
    const size = c.hex(Number.MAX_SAFE_INTEGER);
    if (!c.next()) throw invalid('header has no attr field');
    if (size < 0) throw invalid('size field is not a hex number (or too large)');
    const attr = c.hex(MAX_ATTR);
    if (attr < 0) throw invalid('attr field is not a 32-bit hex number');

    let mtime: number | undefined;
    while (c.next()) {
      const eq = c.indexOf(EQUALS);
      if (eq < 0) throw invalid("extended attribute without '='");
      const key = hexNumber(h, c.from, eq, MAX_ATTR);
      if (key < 0) throw invalid('extended attribute key is not a hex number');
      // Only the times are read; other values (spec: `val1[,val2…]`) are skipped unread.
      if (key === IPMSG_FILE_MTIME) mtime = seconds(c, eq + 1, 'mtime (14)');
      else if (key === IPMSG_FILE_CREATETIME) seconds(c, eq + 1, 'ctime (16)');
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
      if (!isDot) this.#name(h, nameStart, nameEnd);
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
