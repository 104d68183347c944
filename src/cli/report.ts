// src/cli/report.ts
// The single exit path: an error becomes one stderr line and an exit status.

import { CommanderError } from 'commander';
import { ERROR_CODES, IpmsgError } from '../errors.js';
import type { OutputStream } from './context.js';
import { oneLine } from './output.js';

export const EXIT_OK = 0;

/** Prints `error` (stack and cause only with --debug) and returns the exit status. */
export function report(error: unknown, stderr: OutputStream, debug: boolean): number {
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
