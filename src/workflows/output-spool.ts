// src/workflows/output-spool.ts
// A command's whole output kept on disk (never in memory) until it has been offered, then removed.

import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { IpmsgError } from '../errors.js';

export interface OutputSpool {
  /** The file, named after the command: `make-output.log`. */
  readonly path: string;
  /** Appends; resolves when the file can take more (backpressure). */
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes and closes the file. */
  close(): Promise<void>;
  /** Removes the file and its folder. */
  remove(): void;
}

/** The log's name for the command `program`: its base name, with characters names should not hold replaced. */
export function spoolName(program: string | undefined): string {
  const base = basename(program ?? '').replace(/[^\w.+-]/gu, '_').replace(/^\.+/, '').slice(0, 64);
  return base === '' ? 'output.log' : `${base}-output.log`;
}

/**
 * A new spool in a private temporary folder.
 * @throws IpmsgError IPMSG_ERR_CANT_CREATE when the folder cannot be made
 */
export function openSpool(program: string | undefined): OutputSpool {
  let folder: string;
  try {
    folder = mkdtempSync(join(tmpdir(), 'ipmsg-run-'));
  } catch (error) {
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot make a temporary file for the output in ${tmpdir()}: ${(error as Error).message}`);
  }
  const path = join(folder, spoolName(program));
  const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  let failure: Error | undefined;
  file.on('error', (error) => {
    failure = error;
  });
  return {
    path,
    write(chunk) {
      if (failure) return Promise.reject(failure);
      if (file.write(chunk)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const drained = (): void => {
          file.off('error', failed);
          resolve();
        };
        const failed = (error: Error): void => {
          file.off('drain', drained);
          reject(error);
        };
        file.once('drain', drained);
        file.once('error', failed);
      });
    },
    close() {
      if (failure || file.closed) return Promise.resolve();
      return new Promise((resolve) => file.end(() => resolve()));
    },
    remove() {
      file.destroy();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
