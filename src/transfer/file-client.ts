// src/transfer/file-client.ts
// Fetching over TCP: one file (GETFILEDATA) into a `.part` file, resumable, or one folder
// (GETDIRFILES) into a partial folder, never writing outside it (§5.2, §5.3). An encrypted
// request (§5.6) comes with its decipher: every received byte is deciphered in place first.

import type { Cipher } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, futimesSync, mkdirSync, openSync, readSync, utimesSync, write, writeSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { resolve } from 'node:path';
import { IpmsgError, isIpmsgError } from '../errors.js';
import { cipherInPlace } from '../crypto/file-crypto.js';
import { DirStreamParser } from './dir-stream.js';

const RECEIVE_BUFFER = 1024 * 1024;
/** 'wx', and never through a symbolic link. */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Bytes re-requested before the resume point, to see whether the server honoured the offset. */
export const RESUME_OVERLAP = 64 * 1024;

/** A request packet, and the AES-256-CTR decipher of the stream it asks for (§5.6). */
export interface CipheredRequest {
  readonly bytes: Uint8Array;
  readonly decipher: Cipher | undefined;
}

export interface FetchCommon {
  readonly address: string;
  readonly port: number;
  /** Local address to connect from (--bind); the system's choice when undefined. */
  readonly localAddress?: string;
  /**
   * The whole request packet (an IPMsg text packet ending in NUL), sent in one write; made when the
   * connection is up, each time with a fresh packet number (and key).
   */
  readonly request: (offset: number) => Uint8Array | CipheredRequest;
  /** No byte for this long: the transfer is stalled. */
  readonly stallTimeout: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (bytes: number) => void;
}

function transferError(message: string, cause?: unknown): IpmsgError {
  return new IpmsgError('IPMSG_ERR_TRANSFER', message, cause === undefined ? undefined : { cause });
}

interface ReceiveHandler {
  /**
   * One read: `bytes` is a view of `owner`. Unless a `buffer` provider is given, `owner` is reused
   * for the next read, so the bytes are valid only during the call. 'pause' stops reading until
   * the function passed to `onResume` is called.
   */
  data(bytes: Buffer, owner: Uint8Array): 'more' | 'done' | 'pause';
  /** Supplies the buffer of each read (the handler then owns it until it hands it back). */
  buffer?: () => Uint8Array;
  onResume?: (resume: () => void) => void;
}

/**
 * Connects, sends the request, and hands every received chunk to the handler. Resolves when the
 * peer closes or the handler says 'done'.
 */
function receive(options: FetchCommon, offset: number, handler: ReceiveHandler): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let socket: Socket | undefined;
    let decipher: Cipher | undefined;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = (): void => finish(options.signal?.reason as Error);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket = connect({
      host: options.address,
      port: options.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      noDelay: true,
      onread: {
        buffer: handler.buffer ?? Buffer.allocUnsafe(RECEIVE_BUFFER),
        callback: (n: number, buffer: Uint8Array): boolean => {
          if (settled) return false;
          let next: 'more' | 'done' | 'pause' = 'more';
          try {
            const received = Buffer.from(buffer.buffer, buffer.byteOffset, n);
            if (decipher) cipherInPlace(decipher, received);
            next = handler.data(received, buffer);
            if (next === 'done') finish();
          } catch (error) {
            finish(error as Error);
          }
          return !settled && next !== 'pause';
        },
      },
    });
    handler.onResume?.(() => {
      if (!settled) socket?.resume();
    });
    socket.setTimeout(options.stallTimeout, () => finish(transferError(`the transfer stalled: nothing arrived for ${options.stallTimeout / 1000}s`)));
    socket.on('connect', () => {
      try {
        const request = options.request(offset);
        if (request instanceof Uint8Array) socket?.write(request);
        else {
          decipher = request.decipher;
          socket?.write(request.bytes);
        }
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ECONNREFUSED'
          ? `${options.address}:${options.port} refused the connection (no file server there, or a firewall)`
          : `the connection to ${options.address}:${options.port} broke (${error.message})`;
      finish(transferError(why, error));
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
  });
}

export interface FetchFileOptions extends FetchCommon {
  /** The `.part` file: created when absent, continued from its length when `resume`. */
  readonly partPath: string;
  readonly resume: boolean;
  /** The size the offer announced; undefined reads until the server closes. */
  readonly size: number | undefined;
}

export interface FetchFileResult {
  readonly bytes: number;
  /** The server ignored the offset and sent the file from the start (iptux, the official). */
  readonly restarted: boolean;
}

/**
 * Fetches one file into `partPath`. With `resume`, asks for the bytes after what the file holds,
 * re-requesting RESUME_OVERLAP bytes before that point: when they differ from ours the server
 * has restarted from 0, and the file is rewritten from the start instead of appended to.
 * @throws IpmsgError IPMSG_ERR_TRANSFER (the `.part` file stays), IPMSG_ERR_PROTOCOL (longer than announced)
 */
export async function fetchFile(options: FetchFileOptions): Promise<FetchFileResult> {
  const fd = openPart(options.partPath, options.resume);
  try {
    let have = 0;
    if (options.resume) {
      have = fstatSync(fd).size;
      if (options.size !== undefined && have > options.size) {
        ftruncateSync(fd, 0);
        have = 0;
      }
    }
    // A .part that is already whole needs no connection; an empty file still asks, so that the
    // sender knows it was fetched.
    if (have > 0 && have === options.size) return { bytes: have, restarted: false };
    const overlap = Math.min(have, RESUME_OVERLAP);
    const ours = Buffer.alloc(overlap);
    if (overlap > 0) readSync(fd, ours, 0, overlap, have - overlap);
    const check = Buffer.alloc(overlap);
    let checked = 0;
    let position = have - overlap;
    let restarted = false;
    const writeAt = (bytes: Buffer): void => {
      if (options.size !== undefined && position + bytes.length > options.size) {
        throw new IpmsgError('IPMSG_ERR_PROTOCOL', `the server sent more than the announced ${options.size} bytes`);
      }
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
      options.onProgress?.(position);
    };
    const disk = new WriteBehind(fd);
    await receive(options, have - overlap, {
      buffer: () => disk.take(),
      onResume: (resume) => (disk.onFree = resume),
      data: (chunk, owner) => {
        let rest = chunk;
        if (checked < overlap) {
          const n = Math.min(overlap - checked, rest.length);
          rest.copy(check, checked, 0, n);
          checked += n;
          rest = rest.subarray(n);
          if (checked < overlap) return 'more';
          if (check.equals(ours)) {
            position = have;
          } else {
            restarted = true; // the server ignored the offset: what came is the start of the file
            ftruncateSync(fd, 0);
            position = 0;
            writeAt(check);
          }
        }
        if (rest.length > 0) {
          if (options.size !== undefined && position + rest.length > options.size) {
            throw new IpmsgError('IPMSG_ERR_PROTOCOL', `the server sent more than the announced ${options.size} bytes`);
          }
          disk.write(rest, owner, position);
          position += rest.length;
          options.onProgress?.(position);
        }
        if (options.size !== undefined && position >= options.size) return 'done';
        return disk.full ? 'pause' : 'more';
      },
    }).finally(() => disk.drain());
    await disk.drain();
    if (checked < overlap) throw transferError(`the connection closed after ${checked} bytes`);
    if (options.size !== undefined && position < options.size) {
      throw transferError(`the transfer broke off at ${position} of ${options.size} bytes`);
    }
    return { bytes: position, restarted };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes to the disk behind the socket: each read lands in one of a few pooled buffers, which is
 * written asynchronously (libuv's thread pool) while the next read happens, so receiving and
 * writing use both cores. Reading pauses while every buffer is still being written.
 */
class WriteBehind {
  static readonly SLOTS = 4;
  readonly #fd: number;
  readonly #free: Uint8Array[] = [];
  #pending = 0;
  #failure: Error | undefined;
  #idle: (() => void)[] = [];
  /** Called when a buffer comes back after `full` said stop. */
  onFree: (() => void) | undefined;

  constructor(fd: number) {
    this.#fd = fd;
    for (let i = 0; i < WriteBehind.SLOTS; i++) this.#free.push(Buffer.allocUnsafe(RECEIVE_BUFFER));
  }

  /** No buffer to read into, or as many writes pending as buffers. */
  get full(): boolean {
    return this.#free.length === 0 || this.#pending >= WriteBehind.SLOTS;
  }

  /**
   * The buffer for the next read. It stays free until data in it is written: the socket asks for a
   * buffer on every read attempt, also those that find nothing to read.
   */
  take(): Uint8Array {
    return this.#free[this.#free.length - 1] ?? Buffer.allocUnsafe(RECEIVE_BUFFER);
  }


  write(bytes: Buffer, owner: Uint8Array, position: number): void {
    if (this.#failure) throw this.#failure;
    const slot = this.#free.indexOf(owner);
    if (slot >= 0) this.#free.splice(slot, 1);
    this.#pending++;
    const step = (offset: number): void => {
      write(this.#fd, bytes, offset, bytes.length - offset, position + offset, (error, written) => {
        if (!error && offset + written < bytes.length) return step(offset + written);
        if (error) this.#failure ??= error;
        const wasFull = this.full;
        this.#pending--;
        if (slot >= 0) this.#free.push(owner);
        if (wasFull && !this.full) this.onFree?.();
        if (this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    };
    step(0);
  }

  /** Waits for every write; throws the first write error. */
  async drain(): Promise<void> {
    if (this.#pending > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#failure) throw this.#failure;
  }
}

/** Not 'a+': on Linux O_APPEND makes positional writes append. */
function openPart(path: string, resume: boolean): number {
  if (resume) {
    try {
      return openSync(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return openSync(path, 'wx', 0o644);
}

export interface FetchFolderOptions extends FetchCommon {
  /** Created here (it must not exist); everything received goes inside it. */
  readonly partDir: string;
  readonly decodeName: (bytes: Uint8Array) => string;
  /** Most bytes of file content accepted (the announced size, or --max-size). */
  readonly maxTotalBytes: number | undefined;
}

export interface FetchFolderResult {
  readonly files: number;
  readonly folders: number;
  readonly bytes: number;
}

/**
 * Fetches a folder into `partDir`. Names were checked by the parser (no separators, no '..'),
 * files are created exclusively (never through an existing name or link), so nothing lands
 * outside `partDir`. On failure what arrived stays in `partDir`.
 * @throws IpmsgError IPMSG_ERR_TRANSFER, IPMSG_ERR_PROTOCOL, IPMSG_ERR_CANT_CREATE
 */
export async function fetchFolder(options: FetchFolderOptions): Promise<FetchFolderResult> {
  const parser = new DirStreamParser({
    decodeName: options.decodeName,
    ...(options.maxTotalBytes === undefined ? {} : { maxTotalBytes: options.maxTotalBytes }),
  });
  const stack: { path: string; mtime: number | undefined }[] = [];
  let file: { fd: number; path: string; mtime: number | undefined } | undefined;
  const result = { files: 0, folders: 0, bytes: 0 };
  const create = <T>(what: string, action: () => T): T => {
    try {
      return action();
    } catch (error) {
      throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  // Absolute: the working directory changes while files are created (WorkingFolder).
  const partDir = resolve(options.partDir);
  const cwd = new WorkingFolder();
  try {
    await receive(options, 0, {
      data: (chunk) => {
        try {
          return writeEvents(chunk);
        } finally {
          cwd.restore();
        }
      },
    });
    if (!parser.done) {
      try {
        parser.finish();
      } catch (error) {
        throw isIpmsgError(error, 'IPMSG_ERR_PROTOCOL') ? transferError(`the folder transfer broke off: ${error.message}`) : error;
      }
    }
    return result;
  } finally {
    if (file) closeSync(file.fd);
  }

  function writeEvents(chunk: Uint8Array): 'done' | 'more' {
    for (const event of parser.push(chunk)) {
      const here = stack[stack.length - 1]?.path;
      switch (event.type) {
        case 'dir': {
          // Names were checked by the parser (no separators, not '..'): plain concatenation is safe.
          const path = here === undefined ? partDir : `${here}/${event.name}`;
          create(path, () => mkdirSync(path));
          stack.push({ path, mtime: event.mtime });
          result.folders++;
          break;
        }
        case 'file': {
          if (here === undefined) throw new IpmsgError('IPMSG_ERR_PROTOCOL', 'Invalid folder stream: a file before the folder');
          const path = `${here}/${event.name}`;
          file = { fd: create(path, () => openSync(cwd.enter(here) ? event.name : path, CREATE_NEW, 0o644)), path, mtime: event.mtime };
          result.files++;
          break;
        }
        case 'data':
          if (file) for (let done = 0; done < event.bytes.length; ) done += writeSync(file.fd, event.bytes, done);
          result.bytes += event.bytes.length;
          options.onProgress?.(result.bytes);
          break;
        case 'fileEnd':
          if (file) {
            if (file.mtime !== undefined) futimesSync(file.fd, file.mtime, file.mtime);
            closeSync(file.fd);
            file = undefined;
          }
          break;
        case 'up': {
          const left = stack.pop();
          // The folder's own header first: iptux's RETPARENT carries the times of the last entry
          // it stat'ed (§5.3), not the folder's; the official sends the folder's time in both.
          const mtime = left?.mtime ?? event.mtime;
          if (left && mtime !== undefined) utimesSync(left.path, mtime, mtime);
          break;
        }
        case 'end':
          return 'done';
      }
    }
    return 'more';
  }
}

/**
 * Creating a file by its bare name inside the current working directory spares the kernel the
 * walk down the whole path: a quarter of what a small file costs. The process directory is
 * changed only within one synchronous stretch of writes and restored before anything else runs
 * (other paths in the process are absolute). Where chdir is not allowed (a worker thread) or
 * fails, full paths are used.
 */
class WorkingFolder {
  #original: string | undefined;
  #current: string | undefined;
  #disabled = false;

  /** Whether `dir` is now the working directory. */
  enter(dir: string): boolean {
    if (this.#current === dir) return true;
    if (this.#disabled) return false;
    try {
      this.#original ??= process.cwd();
      process.chdir(dir);
      this.#current = dir;
      return true;
    } catch {
      this.#disabled = true;
      this.restore();
      return false;
    }
  }

  restore(): void {
    if (this.#original === undefined) return;
    const original = this.#original;
    this.#original = undefined;
    this.#current = undefined;
    try {
      process.chdir(original);
    } catch {
      this.#disabled = true; // the original folder went away; keep using full paths
    }
  }
}
