// src/transfer/fetch-file.ts
// Fetching one file (GETFILEDATA, §5.2) into a `.part` file, resumable from what it holds.

import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { IpmsgError } from '../errors.js';
import { type FetchCommon, diskError, receive, transferError } from './file-client.js';
import { WriteBehind } from './write-behind.js';

/** Bytes re-requested before the resume point, to see whether the server honoured the offset. */
export const RESUME_OVERLAP = 64 * 1024;

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
 * @throws IpmsgError IPMSG_ERR_TRANSFER (the `.part` file stays), IPMSG_ERR_PROTOCOL (longer than announced),
 *   IPMSG_ERR_CANT_CREATE (the `.part` cannot be created), IPMSG_ERR_IO (it cannot be written)
 */
export async function fetchFile(options: FetchFileOptions): Promise<FetchFileResult> {
  const fd = openPart(options.partPath, options.resume);
  try {
    return await fetchInto(fd, options);
  } catch (error) {
    throw diskError(options.partPath, error);
  } finally {
    closeSync(fd);
  }
}

async function fetchInto(fd: number, options: FetchFileOptions): Promise<FetchFileResult> {
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
}

/**
 * Not 'a+': on Linux O_APPEND makes positional writes append.
 * @throws IpmsgError IPMSG_ERR_CANT_CREATE, IPMSG_ERR_IO (an existing `.part` that cannot be opened)
 */
function openPart(path: string, resume: boolean): number {
  if (resume) {
    try {
      return openSync(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new IpmsgError('IPMSG_ERR_IO', `Cannot open ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
  try {
    return openSync(path, 'wx', 0o644);
  } catch (error) {
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${path}: ${(error as Error).message}`, { cause: error });
  }
}
