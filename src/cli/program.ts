// src/cli/program.ts
// The ipmsg program: subcommands, one catch, one exit status.

import { Command, CommanderError } from 'commander';
import { ERROR_CODES, IpmsgError } from '../errors.js';
import { type Context, processContext } from './context.js';
import { makeAliasesCommand } from './aliases.js';
import { makeCompletionCommand } from './completion.js';
import { makeDoctorCommand } from './doctor.js';
import { makeGetFileCommand } from './get-file.js';
import { makeKeysCommand } from './keys.js';
import { makeListCommand } from './list.js';
import { makeServeDirCommand } from './serve-dir.js';
import { makeAbsenceCommand, makeInfoCommand } from './query.js';
import { makeRecvCommand } from './recv.js';
import { EXIT_OK, EXIT_STATUSES, ExitStatus, endRecord, outputClosed, report } from './report.js';
import { makeRunCommand } from './run.js';
import { makeSendCommand } from './send.js';

const SUBCOMMANDS = {
  send: makeSendCommand,
  list: makeListCommand,
  recv: makeRecvCommand,
  info: makeInfoCommand,
  absence: makeAbsenceCommand,
  'get-file': makeGetFileCommand,
  'serve-dir': makeServeDirCommand,
  keys: makeKeysCommand,
  aliases: makeAliasesCommand,
  // The script describes every subcommand: the whole program is built for it.
  completion: (ctx: Context) => makeCompletionCommand(ctx, () => makeProgram(ctx)),
  doctor: makeDoctorCommand,
  run: makeRunCommand,
} as const;

/**
 * The program with its subcommands. When `only` names one, only that one is built: the others'
 * option tables cost start-up time and are not needed to run it.
 */
export function makeProgram(ctx: Context, only?: string): Command {
  const program = new Command('ipmsg')
    .description('Scriptable IP Messenger (IPMsg, 飞鸽传书) client for the command line')
    .version(ctx.version, '-V, --version')
    .showSuggestionAfterError()
    // What follows a subcommand's name is its own: keys list --json is list's --json, not keys'.
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Examples:
  ipmsg list --wait 2s
  ipmsg send 192.168.1.20 "build finished"
  make test 2>&1 | tail -20 | ipmsg send bob
  ipmsg recv --count 1 --timeout 60s --json

${exitStatusHelp()}`,
    );
  const single = only !== undefined && Object.hasOwn(SUBCOMMANDS, only) ? [SUBCOMMANDS[only as keyof typeof SUBCOMMANDS]] : undefined;
  for (const make of single ?? Object.values(SUBCOMMANDS)) program.addCommand(make(ctx));
  // Help, versions and commander's own errors go to the context's streams, and come back as a
  // CommanderError to run()'s single catch instead of exiting.
  const output = { writeOut: (s: string) => void ctx.stdout.write(s), writeErr: (s: string) => void ctx.stderr.write(s) };
  for (const command of [program, ...program.commands]) command.configureOutput(output).exitOverride();
  return program;
}

/** The help's list of every exit status, wrapped into short lines. */
function exitStatusHelp(): string {
  const items = Object.entries(EXIT_STATUSES).map(([status, meaning]) => `${status} ${meaning}`);
  const lines = ['Exit status:'];
  for (const item of [...items.slice(0, -1).map((i) => `${i},`), `${items.at(-1) ?? ''} (see man ipmsg).`]) {
    const last = lines.length - 1;
    if ((lines[last] ?? '').length + 1 + item.length > 96) lines.push(`  ${item}`);
    else lines[last] += ` ${item}`;
  }
  return lines.join('\n');
}

/** Whether the subcommand being run parsed --json (commander sets only the options it reached). */
function wantsJson(command: Command): boolean {
  return command.opts()['json'] === true || command.commands.some(wantsJson);
}

const kept = (error: unknown): boolean => error instanceof ExitStatus && error.kept;

const SHOWN_TEXT = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * Runs the CLI with `argv` (user arguments only) and returns the exit status. With --json, the
 * last line on stdout is the run's end record, whatever happened (not after --help or --version,
 * whose text is not JSON).
 */
export async function run(argv: readonly string[], ctx: Context): Promise<number> {
  const program = makeProgram(ctx, argv[0]);
  let status = EXIT_OK;
  let failure: unknown;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!outputClosed(ctx.signal) || kept(error)) status = report(error, ctx.stderr, argv.includes('--debug'));
    if (error instanceof CommanderError && SHOWN_TEXT.has(error.code)) return status;
    failure = error;
  }
  // Whatever the run was doing when its reader went away, its results did not all arrive: it
  // ends quietly, as a program killed by SIGPIPE does, with 141.
  if (outputClosed(ctx.signal) && !kept(failure)) {
    failure = ctx.signal.reason;
    status = ERROR_CODES.IPMSG_ERR_OUTPUT_CLOSED;
  }
  if (wantsJson(program)) ctx.stdout.write(`${JSON.stringify(endRecord(status, failure))}\n`);
  return status;
}

/** Runs the CLI as this process: signals, EPIPE on stdout, and the exit status. */
export async function runProcess(argv: readonly string[], version: string): Promise<void> {
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C does not wait for BR_EXIT
    controller.abort(new IpmsgError('IPMSG_ERR_INTERRUPTED', 'interrupted'));
  };
  // Ctrl-Break on Windows (SIGBREAK) ends a run as Ctrl-C does, keeping its .part files.
  const signals = process.platform === 'win32' ? (['SIGINT', 'SIGTERM', 'SIGBREAK'] as const) : (['SIGINT', 'SIGTERM'] as const);
  for (const signal of signals) process.on(signal, interrupt);
  const outputClosed = (): void => controller.abort(new IpmsgError('IPMSG_ERR_OUTPUT_CLOSED', 'standard output was closed'));
  process.exitCode = await run(argv, processContext(controller.signal, version, outputClosed));
  for (const signal of signals) process.off(signal, interrupt);
}
