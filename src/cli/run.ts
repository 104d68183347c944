// src/cli/run.ts
// ipmsg run: runs a command with its output passed through, and sends one message when it ends.
// The exit status is the command's, whatever happened to the message (unless --strict).

import { Command, Option } from 'commander';
import { IpmsgError } from '../errors.js';
import type { EncryptMode, SendOutcome } from '../messenger/index.js';
import { parseTarget, splitTargets } from '../messenger/target.js';
import { OutputTail } from '../workflows/output-tail.js';
import { type OutputSpool, openSpool } from '../workflows/output-spool.js';
import { WINDOWS } from '../workflows/kill-tree.js';
import { runCommand, windowsPlan } from '../workflows/run-command.js';
import { notifyRun } from '../workflows/run-notify.js';
import { type RunReport, commandLine, describeEnd, exitStatusOf, succeeded } from '../workflows/run-report.js';
import { TEXT_SERVE_TIMEOUT } from '../workflows/send-text.js';
import type { Context } from './context.js';
import { addCommonOptions, addResolveOptions, addRetryOptions, parseCount, parseDuration } from './options.js';
import { ExitStatus, outputClosed } from './report.js';
import { DEFAULT_RESOLVE_WAIT, DEFAULT_TIMEOUT, describeOutcome, outcomeRecord } from './send.js';
import { makeOutput } from './output.js';
import { type Session, openSettings, withSession } from './session.js';

export const DEFAULT_TAIL_LINES = 20;
const WHEN = ['always', 'failure', 'success'] as const;
/**
 * The signals a user or a CI runner ends a run with: the command gets them. Not on Windows: a
 * Ctrl-C or Ctrl-Break reaches the command from the console it shares with us, and forwarding
 * would end it at once (Windows has no signals). A second one ends ipmsg and the command's tree.
 */
const FORWARDED = WINDOWS ? [] : (['SIGINT', 'SIGTERM'] as const);

interface RunFlags {
  to?: string[];
  tail: number;
  on: (typeof WHEN)[number];
  attachLog?: boolean;
  serveTimeout?: number;
  strict?: boolean;
  timeout?: number;
  retries?: number;
  wait?: number;
  dns: boolean;
  encrypt: EncryptMode;
}

const EXAMPLES = `
Examples:
  ipmsg run --to bob -- make test
  ipmsg run --to 192.168.1.20,alice --on failure -- ./deploy.sh production
  IPMSG_TO=bob ipmsg run --tail 50 --attach-log -- npm run build
  ipmsg run --to bob --strict --json -- sh -c 'pytest -q' > run.ndjson

The command's output passes through unchanged; ipmsg's own lines go to stderr (with --json, its
records follow the command's output on stdout). The exit status is the command's (126/127 when it
cannot be started, 128+N when signal N ended it); with --strict, a message that not every target
acknowledged makes it the send failure's status instead (75 no acknowledgement, 68 unknown
target, …).`;

export function makeRunCommand(ctx: Context): Command {
  const command = new Command('run')
    .description('run a command with its output passed through; when it ends, send how it ended and the end of its output')
    .argument('<command...>', "the command and its arguments (write '--' before it)")
    .passThroughOptions()
    .addOption(
      new Option('--to <target>', 'where the message goes (repeatable, comma-separated)')
        .env('IPMSG_TO')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .addOption(new Option('--tail <n>', 'send the last n lines of output, as many as fit one datagram').argParser(parseCount).default(DEFAULT_TAIL_LINES))
    .addOption(new Option('--on <when>', 'send only when the command failed, or only when it succeeded').choices(WHEN).default('always'))
    .addOption(new Option('--attach-log', 'also offer the whole output as a file (<command>-output.log), served for a short time'))
    .addOption(new Option('--serve-timeout <duration>', `with --attach-log: stop serving the log after this long (default ${TEXT_SERVE_TIMEOUT / 60_000}m)`).argParser(parseDuration))
    .addOption(new Option('--strict', "exit with the send failure's status when not every target acknowledged the message (75 no acknowledgement, 68 unknown target, …)"))
    .addOption(
      new Option('--encrypt <mode>', 'auto: encrypt for peers that can; always: fail for peers that cannot; never')
        .choices(['auto', 'always', 'never'])
        .env('IPMSG_ENCRYPT')
        .default('auto'),
    );
  addRetryOptions(command, `total time to wait for the acknowledgement (default ${DEFAULT_TIMEOUT / 1000}s)`);
  addResolveOptions(command, `how long to look for a target given by name (default ${DEFAULT_RESOLVE_WAIT / 1000}s)`);
  addCommonOptions(command);
  command.addHelpText('after', EXAMPLES);
  const action = async (argv: string[], flags: RunFlags, cmd: Command): Promise<void> => {
    // Everything is checked before the command runs: a typo must not run it unannounced.
    const targets = splitTargets(flags.to ?? []);
    if (targets.length === 0) throw new IpmsgError('IPMSG_ERR_USAGE', 'No target: use --to or set IPMSG_TO');
    const opened = openSettings(ctx, cmd);
    // The output may hold any character: those the peer's code page lacks become '?'.
    const settings = { ...opened.settings, lossy: true };
    for (const target of settings.aliases.expand(targets)) parseTarget(target, settings.port);
    if (flags.encrypt === 'always' && !settings.crypto) throw new IpmsgError('IPMSG_ERR_USAGE', '--encrypt always needs keys: drop --no-crypto');
    if (flags.serveTimeout !== undefined && !flags.attachLog) throw new IpmsgError('IPMSG_ERR_USAGE', '--serve-timeout needs --attach-log');
    if (WINDOWS) {
      const plan = windowsPlan(argv);
      if (plan.kind === 'unsafe') throw new IpmsgError('IPMSG_ERR_USAGE', plan.reason);
    }

    const tail = new OutputTail();
    let spool: OutputSpool | undefined;
    try {
      spool = flags.attachLog ? openSpool(argv[0]) : undefined;
      const { result, stdoutBroken } = await runPassedThrough(argv, tail, spool, opened.out.notice);
      const status = exitStatusOf(result.end);
      // Our stdout was closed early (`| head`): nothing more goes there, and should the end record
      // meet the closed pipe, the process still exits with this run's status.
      const out = stdoutBroken ? makeOutput(ctx, { ...settings, json: false, quiet: true }) : opened.out;
      if (stdoutBroken) process.exitCode = status;
      if (result.end.kind === 'not-started') out.notice(result.end.reason);
      out.result(
        {
          event: 'command',
          command: argv,
          exit: status,
          signal: result.end.kind === 'signaled' ? result.end.signal : null,
          durationMs: result.durationMs,
          ...(result.end.kind === 'not-started' ? { error: result.end.reason } : {}),
        },
        undefined,
      );
      const ok = succeeded(result.end);
      const failure = status === 0 ? undefined : new ExitStatus(status, `the command ended: ${describeEnd(result.end)}`);
      if (flags.on === (ok ? 'failure' : 'success')) {
        out.verbose(`no message: the command ${ok ? 'succeeded' : 'failed'} (--on ${flags.on})`);
        if (failure) throw failure;
        return;
      }
      await spool?.close();
      const report: RunReport = { argv, end: result.end, durationMs: result.durationMs, host: settings.identity.host, tail: tail.lines(flags.tail) };
      // A Ctrl-C that went to the command does not stop its message (a second one ends ipmsg); one
      // that comes while the message is being sent does.
      const signal = ctx.signal.aborted ? new AbortController().signal : ctx.signal;
      const problem = await withSession(ctx, cmd, (session) => notify(session, targets, report, flags, spool?.path, signal), { settings, out }).then(
        (p) => p,
        (error: unknown) => {
          if (!(error instanceof IpmsgError)) throw error;
          out.notice(`the message was not sent: ${error.message}`);
          out.result({ event: 'notification', ok: false, code: error.code, error: error.message }, undefined);
          return error;
        },
      );
      if (problem && flags.strict) {
        if (stdoutBroken) process.exitCode = problem.exitStatus;
        throw problem;
      }
      if (failure) throw failure;
    } finally {
      spool?.remove();
    }
  };
  command.action(keepingStatus(ctx, action));
  return command;
}

/**
 * Once the command ran, the run's status is its own even when our records met a closed stdout
 * (which program.ts would otherwise turn into 141): ipmsg's results are lost, not the command's end.
 */
function keepingStatus<A extends unknown[]>(ctx: Context, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    let failure: unknown;
    try {
      await action(...args);
    } catch (error) {
      failure = error;
    }
    if (!outputClosed(ctx.signal) || (failure !== undefined && !(failure instanceof ExitStatus) && !(failure instanceof IpmsgError))) {
      if (failure !== undefined) throw failure;
      return;
    }
    if (failure === undefined) throw new ExitStatus(0, 'standard output was closed', true);
    const status = failure instanceof ExitStatus ? failure.status : (failure as IpmsgError).exitStatus;
    throw new ExitStatus(status, (failure as Error).message, true);
  };
}

/** Runs the command with our stdio, forwarding SIGINT and SIGTERM to it (not on Windows) until it ends. */
async function runPassedThrough(argv: readonly string[], tail: OutputTail, spool: OutputSpool | undefined, notice: (message: string) => void) {
  let spoolFailed = false;
  let stdoutBroken = false;
  const broke = (): void => {
    stdoutBroken = true;
  };
  process.stdout.once('error', broke);
  const running = runCommand(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    onOutput: async (chunk) => {
      tail.push(chunk);
      if (!spool || spoolFailed) return;
      await spool.write(chunk).catch((error: Error) => {
        spoolFailed = true;
        notice(`cannot keep the whole output for --attach-log: ${error.message}`);
      });
    },
  });
  const forwarders = FORWARDED.map((name) => [name, () => running.kill(name)] as const);
  for (const [name, forward] of forwarders) process.on(name, forward);
  // A second Ctrl-C exits at once (program.ts): on Windows the command's tree is ended first.
  const endTree = (): void => running.killNow();
  if (WINDOWS) process.once('exit', endTree);
  try {
    const result = await running.done;
    return { result, stdoutBroken };
  } finally {
    for (const [name, forward] of forwarders) process.off(name, forward);
    process.off('exit', endTree);
    process.stdout.off('error', broke);
  }
}

/** Sends the report; returns the problem when not every target acknowledged it. */
async function notify(session: Session, targets: readonly string[], report: RunReport, flags: RunFlags, log: string | undefined, signal: AbortSignal): Promise<IpmsgError | undefined> {
  const { out, settings } = session;
  const result = await notifyRun(session.client, targets, report, {
    wait: flags.wait,
    dns: flags.dns,
    timeout: flags.timeout,
    retries: flags.retries,
    encrypt: settings.crypto ? flags.encrypt : 'never',
    signal,
    ...(log !== undefined ? { log } : {}),
    ...(flags.serveTimeout !== undefined ? { serveTimeout: flags.serveTimeout } : {}),
    onEvent: (event) => {
      if (event.kind === 'fetched') out.verbose(`${event.address} fetched the log (${event.bytes} bytes)`);
    },
    onWarning: out.verbose,
  });
  for (const o of result.outcomes) {
    out.result(outcomeRecord(o), undefined);
    if (o.status === 'failed') out.notice(`the message about ${commandLine(report.argv)} was ${describeOutcome(o)}`);
    else if (!settings.json && !settings.quiet) out.notice(`message ${describeOutcome(o)}`);
  }
  if (result.logProblem && result.outcomes.some((o) => o.status !== 'failed')) out.notice(`the log: ${result.logProblem.message}`);
  const failed = result.outcomes.filter((o): o is SendOutcome & { error: IpmsgError } => o.error !== undefined);
  const [first] = failed;
  if (!first) return undefined;
  return failed.length === 1 ? first.error : new IpmsgError(first.error.code, `${failed.length} of ${result.outcomes.length} targets did not acknowledge the message`);
}
