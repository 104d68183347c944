// src/transfer/save.ts
// Where received things go: names from the LAN checked, `.part` names while in flight, and the
// final name chosen without overwriting anything unless asked.

import { existsSync, linkSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { extname, join } from 'node:path';
import { IpmsgError } from '../errors.js';

export const CONFLICT_POLICIES = ['rename', 'overwrite', 'skip', 'fail'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/** Why a name from the LAN cannot be used as a file name here, or undefined when it can. */
export function unsafeName(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name === '.' || name === '..') return `it is ${JSON.stringify(name)}`;
  if (/[/\\]/.test(name)) return 'it contains a path separator';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'it contains a control character';
  if (/^[A-Za-z]:/.test(name)) return 'it starts with a drive letter';
  if (Buffer.byteLength(name) > 255) return 'it is longer than 255 bytes';
  return undefined;
}

/** `name (1).ext`, `name (2).ext`, … the first that does not exist in `dir` (iptux PR #463). */
export function availableName(dir: string, name: string): string {
  if (!existsSync(join(dir, name))) return name;
  const ext = extname(name);
  const stem = ext.length > 0 && ext.length < name.length ? name.slice(0, -ext.length) : name;
  const suffix = ext.length < name.length ? ext : '';
  for (let i = 1; ; i++) {
    const candidate = `${stem} (${i})${suffix}`;
    if (!existsSync(join(dir, candidate))) return candidate;
  }
}

/** The in-flight name of a download; a unique one when an old `.part` is not to be continued. */
export function partName(dir: string, name: string, reuse: boolean): string {
  const part = `${name}.part`;
  return reuse ? part : availableName(dir, part);
}

/**
 * Moves a completed `.part` file or folder to its final name under `policy`.
 * @returns the final path, or undefined when skipped
 * @throws IpmsgError IPMSG_ERR_CANT_CREATE under 'fail' when the name exists
 */
export function placeCompleted(partPath: string, dir: string, name: string, policy: ConflictPolicy): string | undefined {
  const wanted = join(dir, name);
  const exists = existsSync(wanted);
  if (exists && policy === 'fail') {
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `${wanted} exists (the download is kept as ${partPath}; use --on-conflict)`);
  }
  if (exists && policy === 'skip') {
    rmSync(partPath, { recursive: true, force: true });
    return undefined;
  }
  if (exists && policy === 'overwrite') {
    if (statSync(wanted).isDirectory() || statSync(partPath).isDirectory()) rmSync(wanted, { recursive: true, force: true });
    renameSync(partPath, wanted);
    return wanted;
  }
  // rename (or no conflict): never replace what appears meanwhile.
  for (;;) {
    const target = join(dir, availableName(dir, name));
    if (statSync(partPath).isDirectory()) {
      if (existsSync(target)) continue;
      renameSync(partPath, target);
      return target;
    }
    try {
      linkSync(partPath, target); // fails if the name exists: no clobbering, even in a race
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    unlinkSync(partPath);
    return target;
  }
}
