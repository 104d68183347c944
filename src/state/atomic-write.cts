// src/state/atomic-write.cts
// The one way persistent state is written: the bytes go to a temporary file beside the target,
// then appear under the target's name in one step, so a reader (or the next run after a crash)
// sees the old file or the new one, never half of one. CommonJS because the launcher shares it and
// runs before the ESM code (Node 20 cannot require ESM). Synchronous because two of its writers
// cannot wait: the launcher writes its code cache in an exit handler, and plain-peer marks are
// set from a synchronous interface.

import fs = require('node:fs');
import path = require('node:path');
import busy = require('./busy-retry.cjs');

// Types in a namespace merged with the export: a CommonJS module with `export =` has no other exports.
declare namespace atomicWrite {
  interface AtomicWriteOptions {
    /** Permissions of the new file (before the umask); 0o600 for anything private. */
    readonly mode?: number;
    /** Permissions of folders made on the way (0o700 by default: state is the user's alone). */
    readonly dirMode?: number;
    /** Flush the data to disk before it takes the name: for what cannot be made again (keys, pinned peer keys); a cache skips it. */
    readonly fsync?: boolean;
    /** Only if no file has the name yet: returns false and leaves the existing file alone otherwise. */
    readonly exclusive?: boolean;
    /** Whose file semantics apply (default: the running platform's): on 'win32' a rename refused while the file is open elsewhere is retried. */
    readonly platform?: NodeJS.Platform;
    /** The file operations (tests fail some of them). */
    readonly fs?: Pick<typeof fs, 'mkdirSync' | 'openSync' | 'writeFileSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'linkSync' | 'rmSync'>;
    /** Waits between retries (tests record them). */
    readonly sleep?: (ms: number) => void;
  }
}

let written = 0;

/**
 * Writes `data` to `file` atomically (temporary file, then rename, or a hard link with
 * `exclusive`: of two processes racing to create the file exactly one wins, and the loser can read
 * the winner's complete file). Makes the missing folders. The temporary file never outlives a
 * failure that the process survives.
 * @returns false when `exclusive` found the file already there; true when the file was written
 */
function writeFileAtomic(file: string, data: string | Uint8Array, options: atomicWrite.AtomicWriteOptions = {}): boolean {
  const io = options.fs ?? fs;
  io.mkdirSync(path.dirname(file), { recursive: true, mode: options.dirMode ?? 0o700 });
  // pid + counter: unique among live writers; the random part guards against a dead run's leftover with a reused pid.
  const temporary = `${file}.${process.pid}.${++written}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  let created = false;
  try {
    const fd = io.openSync(temporary, 'wx', options.mode ?? 0o600);
    created = true;
    try {
      io.writeFileSync(fd, data);
      if (options.fsync) io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
    if (!options.exclusive) {
      // Windows refuses to rename over a file that another program has open: tried again a few times.
      const retry = { ...(options.platform ? { platform: options.platform } : {}), ...(options.sleep ? { sleep: options.sleep } : {}) };
      busy.retryWhileBusy(() => io.renameSync(temporary, file), retry);
      created = false;
      return true;
    }
    try {
      io.linkSync(temporary, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    if (created) io.rmSync(temporary, { force: true });
  }
}

const atomicWrite = { writeFileAtomic };
export = atomicWrite;
