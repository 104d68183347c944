// src/transfer/save.ts
// Where received things go: names from the LAN checked, `.part` names while in flight, and the
// final name chosen without overwriting anything unless asked.

import { type Stats, linkSync, lstatSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { extname, join } from 'node:path';
import { IpmsgError } from '../errors.js';
import busyRetry from '../state/busy-retry.cjs';

const { retryWhileBusy } = busyRetry;

export const CONFLICT_POLICIES = ['rename', 'overwrite', 'skip', 'fail'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/**
 * Why a name from the LAN cannot be used as a file name on `platform`, or undefined when it can.
 * A path is refused on every platform, '\' included (a peer may be on Windows), so that nothing
 * lands outside the folder. Other names Windows cannot hold are made into names it can (localName()).
 */
export function unsafeName(name: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name === '.' || name === '..') return `it is ${JSON.stringify(name)}`;
  if (/[/\\]/.test(name)) return 'it contains a path separator';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'it contains a control character';
  if (/^[A-Za-z]:/.test(name)) return 'it starts with a drive letter';
  // Windows counts UTF-16 code units, and a long name is shortened there (localName()).
  if (platform !== 'win32' && Buffer.byteLength(name) > 255) return 'it is longer than 255 bytes';
  return undefined;
}

/** Most `name (N).ext` candidates tried before giving up on a folder that holds them all. */
export const MAX_NAME_CANDIDATES = 10_000;

/**
 * What holds `path` (a dangling symbolic link included), or undefined when nothing does.
 * @throws IpmsgError IPMSG_ERR_CANT_CREATE when the name cannot even be looked up (too long, no access)
 */
function holder(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function taken(path: string): boolean {
  return holder(path) !== undefined;
}

/** The longest file name: 255 bytes on Linux and macOS, 255 UTF-16 code units on Windows. */
const NAME_MAX = 255;

function nameLength(name: string, platform: NodeJS.Platform): number {
  return platform === 'win32' ? name.length : Buffer.byteLength(name);
}

/**
 * `stem + tail`, with `stem` shortened (whole code points) when together they would be longer than
 * a file name can be: a name near the limit still gets its ` (1)` or `.part`.
 */
function fitName(stem: string, tail: string, platform: NodeJS.Platform): string {
  if (nameLength(stem + tail, platform) <= NAME_MAX) return stem + tail;
  const points = Array.from(stem);
  while (points.length > 0 && nameLength(points.join('') + tail, platform) > NAME_MAX) points.pop();
  return points.join('') + tail;
}

/** The in-flight name of `name` (`NAME.part`, shortened when NAME is near the limit). */
export function partFileName(name: string, platform: NodeJS.Platform = process.platform): string {
  return fitName(name, '.part', platform);
}

/** `name`, then `name (1).ext`, `name (2).ext`, … (iptux PR #463), at most MAX_NAME_CANDIDATES. */
export function* candidates(name: string, platform: NodeJS.Platform = process.platform): Generator<string> {
  yield name;
  let ext = extname(name);
  // An extension too long to keep beside a number is treated as part of the stem.
  if (ext.length === name.length || nameLength(` (${MAX_NAME_CANDIDATES})${ext}`, platform) >= NAME_MAX) ext = '';
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; i < MAX_NAME_CANDIDATES; i++) yield fitName(stem, ` (${i})${ext}`, platform);
}

function noFreeName(dir: string, name: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${join(dir, name)}: it and ${MAX_NAME_CANDIDATES - 1} numbered alternatives exist`);
}

/**
 * The first of `name`, `name (1).ext`, … that nothing in `dir` holds (not even a dangling link).
 * @throws IpmsgError IPMSG_ERR_CANT_CREATE when every candidate is taken
 */
export function availableName(dir: string, name: string): string {
  for (const candidate of candidates(name)) if (!taken(join(dir, candidate))) return candidate;
  throw noFreeName(dir, name);
}

/**
 * The in-flight name of a download: `NAME.part` when an old one is to be continued (`reuse`), else
 * a new one (`NAME (1).part`, …), or, under `existing: 'fail'`, an error naming the old one.
 * @throws IpmsgError IPMSG_ERR_CANT_CREATE
 */
export function partName(dir: string, name: string, reuse: boolean, existing: 'rename' | 'fail' = 'rename'): string {
  const part = partFileName(name);
  if (reuse) return part;
  if (existing === 'fail' && taken(join(dir, part))) {
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `${join(dir, part)} exists from an earlier attempt: continue it with --resume, or remove it`);
  }
  return availableName(dir, part);
}

/** The errors of link() and rename() that mean "this name is taken": the next candidate is tried. */
const NAME_TAKEN = new Set(['EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'EISDIR']);

function cantPlace(partPath: string, target: string, error: unknown): IpmsgError {
  return new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create ${target}: ${(error as Error).message} (the download is kept as ${partPath})`, { cause: error });
}

/**
 * Moves a completed `.part` file or folder to its final name under `policy`. Under 'rename' every
 * candidate name is tried once: a name that cannot be placed (taken meanwhile, a dangling link)
 * moves on to the next.
 * @returns the final path, or undefined when skipped
 * @throws IpmsgError IPMSG_ERR_CANT_CREATE under 'fail' when the name exists, or when the name
 *   cannot be placed (the `.part` stays)
 */
export function placeCompleted(partPath: string, dir: string, name: string, policy: ConflictPolicy): string | undefined {
  const wanted = join(dir, name);
  const existing = holder(wanted);
  if (existing && policy === 'fail') {
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `${wanted} exists (the download is kept as ${partPath}; use --on-conflict)`);
  }
  if (existing && policy === 'skip') {
    rmSync(partPath, { recursive: true, force: true });
    return undefined;
  }
  const isDir = statSync(partPath).isDirectory();
  if (existing && policy === 'overwrite') {
    try {
      if (existing.isDirectory() || isDir) rmSync(wanted, { recursive: true, force: true });
      retryWhileBusy(() => renameSync(partPath, wanted));
    } catch (error) {
      throw cantPlace(partPath, wanted, error);
    }
    return wanted;
  }
  // rename (or no conflict): never replace what appears meanwhile.
  for (const candidate of candidates(name)) {
    const target = join(dir, candidate);
    if (taken(target)) continue;
    try {
      // Windows refuses while another program has the file (or a file in the folder) open: tried again a few times.
      if (isDir) retryWhileBusy(() => renameSync(partPath, target));
      else placeFile(partPath, target);
      return target;
    } catch (error) {
      // Windows says EPERM, not EEXIST, for a folder renamed onto a name that appeared meanwhile.
      if (NAME_TAKEN.has((error as NodeJS.ErrnoException).code ?? '') || (isDir && taken(target))) continue;
      throw cantPlace(partPath, target, error);
    }
  }
  throw noFreeName(dir, name);
}

/**
 * link() fails if the name exists: no clobbering, even in a race, on Windows too (where rename()
 * replaces); rename() where links cannot be made (link() refused while nothing holds the name:
 * EPERM or ENOTSUP here, EISDIR on a Windows FAT disk). When the `.part` cannot be removed after
 * the link, the link is undone, so that the file is in one place.
 */
function placeFile(partPath: string, target: string): void {
  try {
    linkSync(partPath, target);
  } catch (error) {
    if (NAME_TAKEN.has((error as NodeJS.ErrnoException).code ?? '') && taken(target)) throw error;
    retryWhileBusy(() => renameSync(partPath, target));
    return;
  }
  try {
    retryWhileBusy(() => unlinkSync(partPath));
  } catch (error) {
    try {
      rmSync(target, { force: true });
    } catch {
      // Both names stay: the error below says the .part is kept.
    }
    throw error;
  }
}
