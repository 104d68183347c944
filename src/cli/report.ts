// src/cli/report.ts
// The single exit path: an error becomes one stderr line and an exit status.

import { CommanderError } from 'commander';
import { ERROR_CODES, type ErrorCode, IpmsgError, isIpmsgError } from '../errors.js';
import type { OutputStream } from './context.js';
import { oneLine } from './output.js';

export const EXIT_OK = 0;

/** What every exit status means, in --help; the type makes it list every status ERROR_CODES uses. */
export const EXIT_STATUSES = {
  0: 'ok',
  64: 'usage',
  65: 'bad input',
  66: 'no file to offer',
  67: 'changed peer key',
  68: 'unknown or ambiguous target',
  69: 'unavailable',
  70: 'internal error',
  73: 'cannot create',
  74: 'I/O error',
  75: 'no acknowledgement or timeout',
  76: 'protocol error',
  77: 'files declined',
  78: 'bad key file',
  79: 'cannot encrypt',
  130: 'interrupted',
  141: 'output closed',
} as const satisfies Record<typeof EXIT_OK | (typeof ERROR_CODES)[ErrorCode], string>;

/**
 * The last NDJSON line of every --json run: `ok`, the exit status, and for a failure its code and
 * one-line message (README "JSON output").
 */
export interface EndRecord {
  readonly event: 'end';
  readonly ok: boolean;
  readonly exit: number;
  readonly code?: ErrorCode;
  readonly error?: string;
}

/**
 * A run that ends with a status that is not one of ipmsg's own: `ipmsg run` exits with its
 * command's. Nothing is printed for it; the end record carries `message` without a code.
 */
export class ExitStatus extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The status stands even when stdout was closed under the run (run keeps its command's). */
    readonly kept = false,
  ) {
    super(message);
    this.name = 'ExitStatus';
  }
}

/** Whether the run was stopped because the reader of its stdout went away. */
export function outputClosed(signal: AbortSignal): boolean {
  return signal.aborted && isIpmsgError(signal.reason, 'IPMSG_ERR_OUTPUT_CLOSED');
}

/** The final record of a run that ended with `status` (and `error` when it failed). */
export function endRecord(status: number, error?: unknown): EndRecord {
  if (status === EXIT_OK) return { event: 'end', ok: true, exit: status };
  if (error instanceof ExitStatus) return { event: 'end', ok: false, exit: status, error: oneLine(error.message) };
  const code: ErrorCode =
    error instanceof IpmsgError ? error.code : error instanceof CommanderError ? 'IPMSG_ERR_USAGE' : 'IPMSG_ERR_INTERNAL';
  const message = error instanceof Error ? error.message.replace(/^error: /, '') : String(error);
  return { event: 'end', ok: false, exit: status, code, error: oneLine(message) };
}

/** Prints `error` (stack and cause only with --debug) and returns the exit status. */
export function report(error: unknown, stderr: OutputStream, debug: boolean): number {
  if (error instanceof ExitStatus) return error.status;
  if (error instanceof CommanderError) {
    // commander has already printed its message (or the help/version text).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return EXIT_OK;
    }
    return ERROR_CODES.IPMSG_ERR_USAGE;
  }
  if (error instanceof IpmsgError) {
    stderr.write(`ipmsg: ${oneLine(error.message)}\n`);
    if (debug) writeDetail(error, stderr);
    return error.exitStatus;
  }
  stderr.write(`ipmsg: internal error: ${oneLine(error instanceof Error ? error.message : String(error))}${debug ? '' : ' (use --debug for details)'}\n`);
  if (debug) writeDetail(error, stderr);
  return ERROR_CODES.IPMSG_ERR_INTERNAL;
}

function writeDetail(error: unknown, stderr: OutputStream): void {
  if (error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause !== undefined) stderr.write(`caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`);
}
