// src/cli/context.ts
// Everything a subcommand touches of the outside world, injected so tests can replace it.

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

export function processContext(signal: AbortSignal, version: string): Context {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin is created on first access (~2 ms); only a message read from stdin needs it.
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
