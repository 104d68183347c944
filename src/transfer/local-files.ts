// src/transfer/local-files.ts
// What we offer: files and folders on disk, their ids, sizes and times. A folder is listed once,
// when offered, without following symbolic links (§5.1, §5.3): its stream sends exactly what was
// announced, so the announced total holds, and sending needs no second walk.

import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { IpmsgError } from '../errors.js';
import type { Attachment } from '../protocol/attachment.js';
import { IPMSG_FILE_DIR, IPMSG_FILE_REGULAR } from '../protocol/file-attr.js';
import { entryNameProblem } from './entry-name.js';

export interface FileNode {
  readonly kind: 'file';
  readonly name: string;
  readonly path: string;
  readonly size: number;
  /** Unix seconds. */
  readonly mtime: number;
}

export interface FolderNode {
  readonly kind: 'dir';
  readonly name: string;
  readonly mtime: number;
  readonly entries: readonly (FileNode | FolderNode)[];
}

export interface Skipped {
  readonly path: string;
  readonly reason: string;
}

export interface OfferedFile {
  /** Decimal in the offer, hex in requests. Ids 0–9 read the same either way. */
  readonly fileId: number;
  readonly name: string;
  /** Real path (symbolic links resolved once, when offered); `name` is the name given, a link's own. */
  readonly path: string;
  readonly kind: 'file' | 'dir';
  /** Bytes; for a folder the total of its files (iptux never fetches a folder announced as 0: §15). */
  readonly size: number;
  /** Unix seconds. */
  readonly mtime: number;
  /** A folder's contents as offered. */
  readonly tree?: FolderNode;
  /** What the folder holds but cannot be sent: links, devices, names a stream cannot carry. */
  readonly skipped?: readonly Skipped[];
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * Lists a folder whose own time is `mtime`: regular files and sub-folders; links and special files
 * are skipped, never followed. One lstat per entry gives its kind, size and time (names without
 * Dirent objects, sorted natively: the same UTF-16 order as comparing the strings).
 */
export function snapshotFolder(path: string, name: string, mtime: number, skipped: Skipped[]): { node: FolderNode; bytes: number } {
  const entries: (FileNode | FolderNode)[] = [];
  let bytes = 0;
  for (const entryName of readdirSync(path).sort()) {
    const child = `${path}/${entryName}`; // a directory entry's name has no separator: no join() needed
    const problem = entryNameProblem(entryName);
    if (problem !== undefined) {
      skipped.push({ path: child, reason: `its name cannot be sent (${problem})` });
      continue;
    }
    const stat = lstatSync(child);
    if (stat.isFile()) {
      entries.push({ kind: 'file', name: entryName, path: child, size: stat.size, mtime: seconds(stat.mtimeMs) });
      bytes += stat.size;
    } else if (stat.isDirectory()) {
      const sub = snapshotFolder(child, entryName, seconds(stat.mtimeMs), skipped);
      entries.push(sub.node);
      bytes += sub.bytes;
    } else {
      skipped.push({ path: child, reason: stat.isSymbolicLink() ? 'a symbolic link' : 'not a regular file' });
    }
  }
  return { node: { kind: 'dir', name, mtime, entries }, bytes };
}

/**
 * Stats the paths a user wants to offer, listing folders.
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
    // A link is offered under its own name (as `cp` names its copy); '.', '..' and '/' by the folder's.
    const own = basename(given);
    const name = own === '' || own === '.' || own === '..' ? basename(path) : own;
    if (stat.isFile()) return { fileId, name, path, kind: 'file', size: stat.size, mtime: seconds(stat.mtimeMs) };
    if (!stat.isDirectory()) throw new IpmsgError('IPMSG_ERR_INPUT', `Cannot offer ${given}: not a regular file or a folder`);
    const skipped: Skipped[] = [];
    const { node, bytes } = snapshotFolder(path, name, seconds(stat.mtimeMs), skipped);
    return { fileId, name, path, kind: 'dir', size: bytes, mtime: node.mtime, tree: node, skipped };
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
