// src/state/busy-retry.cts
// Windows refuses to rename over, or delete, a file that another program has open (an editor, an
// indexer, an antivirus scanning what was just written): EPERM, EACCES or EBUSY, usually for a few
// milliseconds. There such a step is tried again a few times before it fails; elsewhere those
// errors mean a real permission problem and fail at once. Synchronous, as atomic-write.cts is.
// CommonJS because atomic-write.cts (shared with the launcher) uses it.

// Types in a namespace merged with the export: a CommonJS module with `export =` has no other exports.
declare namespace busyRetry {
  interface BusyRetryOptions {
    /** Whose file semantics apply (default: the running platform's); only 'win32' retries. */
    readonly platform?: NodeJS.Platform;
    /** Tries in all (default BUSY_TRIES). */
    readonly tries?: number;
    /** Waits `ms` milliseconds; tests pass one that only records. */
    readonly sleep?: (ms: number) => void;
  }
}

/** Tries in all: the waits between them (10, 20, 40, 80, 160 ms) add up to about a third of a second. */
const BUSY_TRIES = 6;
const FIRST_WAIT_MS = 10;
const BUSY_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Runs `action`, again after a short wait while Windows says the file is busy. When every try
 * failed, the error says so (its code is kept).
 */
function retryWhileBusy<T>(action: () => T, options: busyRetry.BusyRetryOptions = {}): T {
  const tries = (options.platform ?? process.platform) === 'win32' ? (options.tries ?? BUSY_TRIES) : 1;
  const sleep = options.sleep ?? sleepSync;
  for (let attempt = 1; ; attempt++) {
    try {
      return action();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!BUSY_CODES.has(code) || tries === 1) throw error;
      if (attempt >= tries) {
        const message = `${(error as Error).message} (still refused after ${tries} tries: another program may have the file open)`;
        throw Object.assign(new Error(message, { cause: error }), { code });
      }
      sleep(FIRST_WAIT_MS * 2 ** (attempt - 1));
    }
  }
}

const busyRetry = { retryWhileBusy, BUSY_TRIES };
export = busyRetry;
