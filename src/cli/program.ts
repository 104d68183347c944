// src/cli/program.ts
// The ipmsg program: subcommands, one catch, one exit status.

import { Command } from 'commander';
import { IpmsgError } from '../errors.js';
import { type Context, processContext } from './context.js';
import { makeGetFileCommand } from './get-file.js';
import { makeKeysCommand } from './keys.js';
import { makeListCommand } from './list.js';
import { makeServeDirCommand } from './serve-dir.js';
import { makeAbsenceCommand, makeInfoCommand } from './query.js';
import { makeRecvCommand } from './recv.js';
import { report } from './report.js';
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
    .addHelpText(
      'after',
      `
Examples:
  ipmsg list --wait 2s
  ipmsg send 192.168.1.20 "build finished"
  make test 2>&1 | tail -20 | ipmsg send bob
  ipmsg recv --count 1 --timeout 60s --json

Exit status: 0 ok, 64 usage, 65 bad input, 68 unknown target, 69 unavailable,
75 no acknowledgement or timeout, 76 protocol error, 130 interrupted (see man ipmsg).`,
    );
  const single = only !== undefined && Object.hasOwn(SUBCOMMANDS, only) ? [SUBCOMMANDS[only as keyof typeof SUBCOMMANDS]] : undefined;
  for (const make of single ?? Object.values(SUBCOMMANDS)) program.addCommand(make(ctx));
  // Help, versions and commander's own errors go to the context's streams, and come back as a
  // CommanderError to run()'s single catch instead of exiting.
  const output = { writeOut: (s: string) => void ctx.stdout.write(s), writeErr: (s: string) => void ctx.stderr.write(s) };
  for (const command of [program, ...program.commands]) command.configureOutput(output).exitOverride();
  return program;
}

/** Runs the CLI with `argv` (user arguments only) and returns the exit status. */
export async function run(argv: readonly string[], ctx: Context): Promise<number> {
  const program = makeProgram(ctx, argv[0]);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return report(error, ctx.stderr, argv.includes('--debug'));
  }
}

/** Runs the CLI as this process: signals, EPIPE on stdout, and the exit status. */
export async function runProcess(argv: readonly string[], version: string): Promise<void> {
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C does not wait for BR_EXIT
    controller.abort(new IpmsgError('IPMSG_ERR_INTERRUPTED', 'interrupted'));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.exitCode = await run(argv, processContext(controller.signal, version));
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
}
