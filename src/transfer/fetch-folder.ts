// src/transfer/fetch-folder.ts
// Fetching one folder (GETDIRFILES, §5.3) into a partial folder, never writing outside it.

import { closeSync, constants, futimesSync, mkdirSync, openSync, utimesSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { IpmsgError, isIpmsgError } from '../errors.js';
import { DirStreamParser } from './dir-stream-parser.js';
import { type FetchCommon, diskError, receive, transferError } from './file-client.js';

/** 'wx', and never through a symbolic link. */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

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
 * @throws IpmsgError IPMSG_ERR_TRANSFER, IPMSG_ERR_PROTOCOL, IPMSG_ERR_CANT_CREATE, IPMSG_ERR_IO (a
 *   file that cannot be written)
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
  // Resolved once: where the files go does not depend on the working directory later.
  const partDir = resolve(options.partDir);
  let writing = partDir;
  try {
    await receive(options, 0, { data: writeEvents }).catch((error: unknown) => {
      throw diskError(writing, error);
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
          file = { fd: create(path, () => openSync(path, CREATE_NEW, 0o644)), path, mtime: event.mtime };
          writing = path;
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
          writing = left?.path ?? partDir;
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
