// src/cli/output.ts
// Results on stdout (plain lines or --json objects), diagnostics on stderr.

import type { Settings } from './config.js';
import type { Context } from './context.js';

export interface Output {
  /** A result: one JSON object per line with --json, else the human text (nothing with --quiet). */
  result(json: object, human: string | undefined): void;
  /** Something the user should know, always on stderr. */
  notice(message: string): void;
  /** Detail shown only with --verbose. */
  verbose(message: string): void;
}

export function makeOutput(ctx: Context, settings: Pick<Settings, 'json' | 'quiet' | 'verbose'>): Output {
  return {
    result(json, human) {
      if (settings.json) ctx.stdout.write(`${JSON.stringify(json)}\n`);
      else if (!settings.quiet && human !== undefined) ctx.stdout.write(`${human}\n`);
    },
    notice(message) {
      ctx.stderr.write(`ipmsg: ${oneLine(message)}\n`);
    },
    verbose(message) {
      if (settings.verbose) ctx.stderr.write(`ipmsg: ${oneLine(message)}\n`);
    },
  };
}

/**
 * Diagnostics quote names and text from the LAN: control characters (C0, DEL, C1) are shown as
 * \xNN so that a peer cannot split a line or drive the terminal.
 */
export function oneLine(message: string): string {
  return message.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Pads columns to the widest cell (plain ASCII width; East Asian wide characters count as one). */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
