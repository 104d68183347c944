// src/workflows/run-report.ts
// The message `ipmsg run` sends when its command ends: a status line, the command line, how it
// ended, how long it took, where, and the end of its output, trimmed to fit one datagram.

import type { TailLines } from './output-tail.js';

/** Shell statuses for a command that cannot be run: not found, or not executable. */
export const NOT_FOUND = 127;
export const NOT_EXECUTABLE = 126;

/** How a command ended. */
export type CommandEnd =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signal: string; readonly number: number }
  | { readonly kind: 'not-started'; readonly reason: string; readonly code: number };

export interface RunReport {
  readonly argv: readonly string[];
  readonly end: CommandEnd;
  readonly durationMs: number;
  /** The host the command ran on. */
  readonly host: string;
  readonly tail: TailLines;
}

/** The status a shell gives a command that ended so: its code, 128 + the signal's number, 126/127. */
export function exitStatusOf(end: CommandEnd): number {
  return end.kind === 'signaled' ? 128 + end.number : end.code;
}

export function succeeded(end: CommandEnd): boolean {
  return end.kind === 'exited' && end.code === 0;
}

/** One argument as a POSIX shell would need it written: bare when safe, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[\w@%+=:,./-]+$/u.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** 850ms, 12.3s, 4m05s, 2h03m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}m`;
}

export function describeEnd(end: CommandEnd): string {
  switch (end.kind) {
    case 'exited':
      return `exit ${end.code}`;
    case 'signaled':
      return `killed by ${end.signal} (exit ${128 + end.number})`;
    case 'not-started':
      return `could not start: ${end.reason} (exit ${end.code})`;
  }
}

const CUT = '…';

/** The report with the command line and output as given; fitReport shortens them. */
export function composeReport(report: RunReport, shownCommand = commandLine(report.argv), shownTail = tailText(report.tail)): string {
  const head = [
    `${succeeded(report.end) ? '✔' : '✖'} ${shownCommand}`,
    `${describeEnd(report.end)} · ${formatDuration(report.durationMs)} · on ${report.host}`,
  ];
  return shownTail === '' ? head.join('\n') : [...head, '', shownTail].join('\n');
}

function tailText(tail: TailLines): string {
  if (tail.lines.length === 0) return '';
  return `${tail.cut ? `${CUT}\n` : ''}${tail.lines.join('\n')}`;
}

/**
 * The report as long as `fits` allows (the peer's datagram in its code page): the oldest output
 * goes first, whole lines while a line fits, then the command line's end; '…' marks each cut.
 */
export function fitReport(report: RunReport, fits: (text: string) => boolean): string {
  const full = composeReport(report);
  if (fits(full)) return full;
  const command = commandLine(report.argv);
  const tail = [...tailText(report.tail)];
  // The most output characters that fit, counted from the end: the head stays whole if it can.
  const withTail = (keep: number): string => composeReport(report, command, keep === 0 ? '' : `${CUT}${tail.slice(tail.length - keep).join('')}`);
  const keep = largest(tail.length, (n) => fits(withTail(n)));
  if (keep > 0) {
    // Whole lines where one fits: the first line kept is shown from its start.
    const kept = tail.slice(tail.length - keep).join('');
    const newline = kept.indexOf('\n');
    return newline < 0 ? withTail(keep) : composeReport(report, command, `${CUT}${kept.slice(newline)}`);
  }
  if (fits(withTail(0))) return withTail(0);
  const chars = [...command];
  const withCommand = (n: number): string => composeReport(report, `${chars.slice(0, n).join('')}${CUT}`, '');
  return withCommand(largest(chars.length, (n) => fits(withCommand(n))));
}

/** The largest n in 0..max with ok(n) (ok holds for small n and stops holding past some n). */
function largest(max: number, ok: (n: number) => boolean): number {
  let low = 0;
  let high = max;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (ok(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}
