// src/transfer/fetch-folder.ts
// Fetching one folder (GETDIRFILES, §5.3) into a partial folder, never writing outside it.

import { closeSync, constants, futimesSync, lstatSync, mkdirSync, openSync, utimesSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { IpmsgError, isIpmsgError } from '../errors.js';
import { DirStreamParser } from './dir-stream-parser.js';
import { type FetchCommon, diskError, receive, transferError } from './file-client.js';
import { candidates } from './save.js';

/** 'wx', and never through a symbolic link. */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface FetchFolderOptions extends FetchCommon {
  /** Created here (it must not exist); everything received goes inside it. */
  readonly partDir: string;
  readonly decodeName: (bytes: Uint8Array) => string;
  /** Most bytes of file content accepted (the announced size, or --max-size). */
  readonly maxTotalBytes: number | undefined;
  /**
   * The name each entry is saved under (Windows' rule on Windows): when given, an entry whose
   * name is already taken in its folder (two names made the same, or differing only in case on a
   * disk that ignores case) is saved as `name (1).ext`, … instead of failing.
   */
  readonly localName?: (name: string) => string;
  /** An entry saved under another name than offered: both as paths inside the folder, '/'-separated. */
  readonly onRenamed?: (offered: string, saved: string) => void;
}

/** Numbered names tried for an entry whose name is taken: few, as a stream may hold a million entries. */
export const MAX_ENTRY_CANDIDATES = 100;

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
  const stack: { path: string; offered: string; saved: string; mtime: number | undefined }[] = [];
  let file: { fd: number; path: string; mtime: number | undefined } | undefined;
  const result = { files: 0, folders: 0, bytes: 0 };
  const create = <T>(what: string, action: () => T): T => {
    try {
      return action();
    } catch (error) {
      throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  /** Makes entry `name` in folder `here` with `make`: its path, its name there, and what `make` gave. */
  const entry = <T>(here: string, name: string, make: (path: string) => T): { path: string; name: string; made: T } => {
    if (options.localName === undefined) {
      const path = `${here}/${name}`;
      return { path, name, made: create(path, () => make(path)) };
    }
    const wanted = options.localName(name);
    let tries = 0;
    for (const candidate of candidates(wanted)) {
      const path = `${here}/${candidate}`;
      try {
        return { path, name: candidate, made: make(path) };
      } catch (error) {
        // Something holds the name (Windows may say EPERM, not EEXIST): the next number.
        if (!holds(path) || ++tries >= MAX_ENTRY_CANDIDATES) {
          throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${path}: ${(error as Error).message}`, { cause: error });
        }
      }
    }
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${here}/${wanted}: it and its numbered alternatives exist`);
  };
  /** Where the entries' offered and saved paths are told from (onRenamed). */
  const named = (parent: { offered: string; saved: string }, offered: string, saved: string) => {
    const paths = { offered: `${parent.offered}/${offered}`, saved: `${parent.saved}/${saved}` };
    if (saved !== offered) options.onRenamed?.(paths.offered, paths.saved);
    return paths;
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
          const parent = stack[stack.length - 1];
          if (here === undefined || parent === undefined) {
            create(partDir, () => mkdirSync(partDir));
            stack.push({ path: partDir, offered: event.name, saved: options.localName?.(event.name) ?? event.name, mtime: event.mtime });
          } else {
            const made = entry(here, event.name, (path) => mkdirSync(path));
            stack.push({ path: made.path, ...named(parent, event.name, made.name), mtime: event.mtime });
          }
          result.folders++;
          break;
        }
        case 'file': {
          const parent = stack[stack.length - 1];
          if (here === undefined || parent === undefined) throw new IpmsgError('IPMSG_ERR_PROTOCOL', 'Invalid folder stream: a file before the folder');
          const made = entry(here, event.name, (path) => openSync(path, CREATE_NEW, 0o644));
          named(parent, event.name, made.name);
          file = { fd: made.made, path: made.path, mtime: event.mtime };
          writing = made.path;
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

/** Whether anything (a dangling link included) holds `path`; false when it cannot even be looked up. */
function holds(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}
