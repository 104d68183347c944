// src/transfer/local-files.ts
// What we offer: files and folders on disk, their ids, sizes and times, and a walk of a folder that
// never follows a symbolic link (§5.1, §5.3).

import { type Dirent, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { IpmsgError } from '../errors.js';
import type { Attachment } from '../protocol/attachment.js';
import { IPMSG_FILE_DIR, IPMSG_FILE_REGULAR } from '../protocol/file-attr.js';

export interface OfferedFile {
  /** Decimal in the offer, hex in requests. Ids 0–9 read the same either way. */
  readonly fileId: number;
  readonly name: string;
  /** Real path (symbolic links resolved once, when offered). */
  readonly path: string;
  readonly kind: 'file' | 'dir';
  /** Bytes; for a folder the total of its files (iptux never fetches a folder announced as 0: §15). */
  readonly size: number;
  /** Unix seconds. */
  readonly mtime: number;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * Stats the paths a user wants to offer.
 * @throws IpmsgError IPMSG_ERR_NO_INPUT for a missing path, IPMSG_ERR_INPUT for anything that is
 * neither a regular file nor a folder
 */
export function prepareOffer(paths: readonly string[]): OfferedFile[] {
  return paths.map((given, fileId) => {
    let path: string;
    try {
      path = realpathSync(given);
    } catch (error) {
      throw new IpmsgError('IPMSG_ERR_NO_INPUT', `Cannot offer ${given}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (error as Error).message}`);
    }
    const stat = statSync(path);
    const name = basename(path);
    if (stat.isFile()) return { fileId, name, path, kind: 'file', size: stat.size, mtime: seconds(stat.mtimeMs) };
    if (stat.isDirectory()) return { fileId, name, path, kind: 'dir', size: folderSize(path), mtime: seconds(stat.mtimeMs) };
    throw new IpmsgError('IPMSG_ERR_INPUT', `Cannot offer ${given}: not a regular file or a folder`);
  });
}

export function toAttachment(file: OfferedFile): Attachment {
  return {
    fileId: file.fileId,
    name: file.name,
    size: file.size,
    mtime: file.mtime,
    attr: file.kind === 'dir' ? IPMSG_FILE_DIR : IPMSG_FILE_REGULAR,
  };
}

export type WalkEntry =
  /** size and mtime are NaN when the walk was asked not to stat files. */
  | { readonly type: 'file'; readonly name: string; readonly path: string; readonly size: number; readonly mtime: number }
  | { readonly type: 'dir'; readonly name: string; readonly mtime: number }
  | { readonly type: 'up'; readonly mtime: number }
  | { readonly type: 'skipped'; readonly path: string; readonly reason: string };

function sortedEntries(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The folder as the dir stream sends it: the folder itself, its files and sub-folders (each closed
 * by 'up'), then 'up' for the folder. Symbolic links and special files are skipped, never followed.
 */
export function* walkFolder(
  path: string,
  name: string,
  statFiles = true,
  nameProblem: (name: string) => string | undefined = () => undefined,
): Generator<WalkEntry> {
  const top = lstatSync(path);
  yield { type: 'dir', name, mtime: seconds(top.mtimeMs) };
  for (const entry of sortedEntries(path)) {
    const child = `${path}/${entry.name}`; // a directory entry's name has no separator: no join() needed
    const problem = nameProblem(entry.name);
    if (problem !== undefined) {
      yield { type: 'skipped', path: child, reason: `its name cannot be sent (${problem})` };
    } else if (entry.isDirectory()) {
      yield* walkFolder(child, entry.name, statFiles, nameProblem);
    } else if (entry.isFile()) {
      const stat = statFiles ? lstatSync(child) : undefined;
      yield { type: 'file', name: entry.name, path: child, size: stat?.size ?? Number.NaN, mtime: stat ? seconds(stat.mtimeMs) : Number.NaN };
    } else {
      yield { type: 'skipped', path: child, reason: entry.isSymbolicLink() ? 'a symbolic link' : 'not a regular file' };
    }
  }
  yield { type: 'up', mtime: seconds(top.mtimeMs) };
}

/** The bytes of the regular files below `path`, links not followed (the same files walkFolder sends). */
export function folderSize(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory()) total += folderSize(child);
    else if (entry.isFile()) total += lstatSync(child).size;
  }
  return total;
}
