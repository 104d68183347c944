// src/cli/program.ts
// The ipmsg program: subcommands, one catch, one exit status.

import { Command } from 'commander';
import type { Context } from './context.js';
import { makeListCommand } from './list.js';
import { makeAbsenceCommand, makeInfoCommand } from './query.js';
import { makeRecvCommand } from './recv.js';
import { report } from './report.js';
import { makeSendCommand } from './send.js';
import { VERSION } from './session.js';

const SUBCOMMANDS = {
  send: makeSendCommand,
  list: makeListCommand,
  recv: makeRecvCommand,
  info: makeInfoCommand,
  absence: makeAbsenceCommand,
} as const;

/**
 * The program with its subcommands. When `only` names one, only that one is built: the others'
 * option tables cost start-up time and are not needed to run it.
 */
export function makeProgram(ctx: Context, only?: string): Command {
  const program = new Command('ipmsg')
    .description('Scriptable IP Messenger (IPMsg, 飞鸽传书) client for the command line')
    .version(VERSION, '-V, --version')
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
  program.exitOverride();
  for (const sub of program.commands) sub.exitOverride();
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
