// src/cli/context.ts
// Everything a subcommand touches of the outside world, injected so tests can replace it.

import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Clock } from '../transport/clock.js';
import { systemClock } from '../transport/clock.js';

export interface OutputStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Context {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  /** Aborted on SIGINT / SIGTERM. */
  readonly signal: AbortSignal;
  /** The package version. */
  readonly version: string;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Standard output written with writeSync: creating process.stdout is a start-up cost a one-shot command avoids,
 * and results are small. `ipmsg list | head` closes the pipe early: what follows is dropped and
 * `onClosed` ends the run, which then stops as Ctrl-C stops it (BR_EXIT, `.part` files kept).
 */
export function fdOutput(fd: number, onClosed: () => void = () => undefined): OutputStream {
  let closed = false;
  return {
    write(chunk) {
      if (closed) return true;
      const bytes = Buffer.from(chunk);
      for (let offset = 0; offset < bytes.length; ) {
        try {
          offset += writeSync(fd, bytes, offset);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1); // a non-blocking pipe that is full
          else if (code === 'EPIPE') {
            closed = true;
            onClosed();
            return true;
          } else throw error;
        }
      }
      return true;
    },
    get isTTY() {
      // node:tty loads net and streams: only when someone asks.
      return (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')).isatty(fd);
    },
  };
}

/** This process's context; `onStdoutClosed` is called once when the reader of stdout has gone. */
export function processContext(signal: AbortSignal, version: string, onStdoutClosed?: () => void): Context {
  return {
    stdout: fdOutput(1, onStdoutClosed),
    // Created on first use, like stdin: most runs write nothing to stderr.
    get stderr() {
      return process.stderr;
    },
    // process.stdin is created on first access; only a message read from stdin needs it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    clock: systemClock,
    signal,
    version,
  };
}

/** Spinners and bars only on an interactive terminal that has a width (a 0-column pty loops). */
export function isInteractive(ctx: Context): boolean {
  return ctx.stderr.isTTY === true && (ctx.stderr.columns ?? 0) > 0 && ctx.env['TERM'] !== 'dumb' && !ctx.env['CI'];
}
