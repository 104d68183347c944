// src/cli/output.ts
// Results on stdout (plain lines or --json objects), diagnostics on stderr.

import type { Settings } from './config.js';
import type { Context } from './context.js';

export interface Output {
  /** A result: one JSON object per line with --json, else the human text (nothing with --quiet). */
  result(json: object, human: string | undefined): void;
  /** Many results in one write (one system call for a thousand lines): as `result` for each. */
  results(list: readonly (readonly [json: object, human: string | undefined])[]): void;
  /** Something the user should know, always on stderr. */
  notice(message: string): void;
  /** Detail shown only with --verbose. */
  verbose(message: string): void;
}

export function makeOutput(ctx: Context, settings: Pick<Settings, 'json' | 'quiet' | 'verbose'>): Output {
  const resultLine = (json: object, human: string | undefined): string | undefined => {
    if (settings.json) return `${JSON.stringify(json)}\n`;
    return !settings.quiet && human !== undefined ? `${human}\n` : undefined;
  };
  return {
    result(json, human) {
      const line = resultLine(json, human);
      if (line !== undefined) ctx.stdout.write(line);
    },
    results(list) {
      const text = list.map(([json, human]) => resultLine(json, human) ?? '').join('');
      if (text.length > 0) ctx.stdout.write(text);
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

/**
 * Pads columns to the widest cell, by the width a terminal gives each character: East Asian wide
 * and fullwidth characters (and emoji) take two columns, combining marks and format characters none.
 */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const width = (text: string): number => {
    let columns = 0;
    for (const ch of text) {
      const c = ch.codePointAt(0) ?? 0;
      if (/[\p{Mn}\p{Me}\p{Cf}]/u.test(ch)) continue;
      const wide =
        (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) || (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
        (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
        (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
        (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd);
      columns += wide ? 2 : 1;
    }
    return columns;
  };
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd(),
  );
}
