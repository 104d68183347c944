// src/crypto/private-file.ts
// Files only the user may read (0600, in a 0700 folder), written so that a reader never sees half
// a file: the content goes to a temporary file first, then appears under its name in one step.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * node:fs/promises, loaded when a file is written: loading it costs ~2.5 ms, and most runs only
 * read their keys and known peers.
 */
const fsp = async (): Promise<typeof import('node:fs/promises')> => createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');

/** Creates the folder (0700) and its parents when missing; an existing folder is left as it is. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const { mkdir } = await fsp();
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

async function writeTemporary(path: string, data: string): Promise<string> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const { open } = await fsp();
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temporary;
}

/**
 * Puts `data` at `path` unless a file is already there (then returns false and writes nothing).
 * A hard link is the atomic "create if absent": of two processes racing, exactly one wins, and the
 * other then reads the winner's complete file.
 */
export async function createExclusive(path: string, data: string): Promise<boolean> {
  const { link, unlink } = await fsp();
  const temporary = await writeTemporary(path, data);
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
}

/** Replaces the file at `path` with `data` in one step (rename over it). */
export async function replaceFile(path: string, data: string): Promise<void> {
  const { rename, unlink } = await fsp();
  const temporary = await writeTemporary(path, data);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
