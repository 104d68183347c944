// src/cli/recv-exec.ts
// recv's message handler and away-mode flags (--exec, --jobs, --exec-timeout, --reply, --absence)
// and how a handler's end is reported.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { IpmsgError } from '../errors.js';
import type { Messenger, ReceivedMessage } from '../messenger/index.js';
import { formatEndpoint } from '../transport/address.js';
import { type Handled, execHandler } from '../workflows/exec-handler.js';
import type { HandleOptions } from '../workflows/handle.js';
import type { Context } from './context.js';
import { parseDuration } from './options.js';
import type { Output } from './output.js';

export interface RecvExecFlags {
  exec?: string;
  jobs?: number;
  execTimeout?: number;
  reply?: boolean;
  absence?: string;
}

function parseJobs(text: string): number {
  if (!/^\s*\d{1,4}\s*$/.test(text) || Number(text) < 1) throw new InvalidArgumentError(`expected a whole number from 1, got ${JSON.stringify(text)}`);
  return Number(text);
}

const EXAMPLES = `
Examples:
  ipmsg recv --timeout 60s --json | jq -r .text
  ipmsg recv --count 0 --exec 'notify-send "$IPMSG_FROM_USER" "$IPMSG_TEXT"'
  ipmsg recv --count 0 --exec 'jq -r .text >> inbox.txt'
  ipmsg recv --count 0 --reply --exec './bot.sh' --exec-timeout 30s --jobs 4
  ipmsg recv --count 0 --absence 'Out until Monday; mail me instead'`;

export function addExecOptions(command: Command): void {
  command
    .addOption(new Option('--exec <command>', "run this shell command for each message: the message's JSON on stdin, IPMSG_* variables (man ipmsg)"))
    .addOption(new Option('--jobs <n>', 'with --exec: handlers running at once (default 1); more messages wait, and when too many wait new ones are not acknowledged').argParser(parseJobs))
    .addOption(new Option('--exec-timeout <duration>', 'with --exec: stop a handler after this long (SIGTERM, then SIGKILL)').argParser(parseDuration))
    .addOption(new Option('--reply', "with --exec: send the handler's output (stdout) back to the sender; empty output: no reply"))
    .addOption(new Option('--absence <text>', 'away: say so in our entry, answer absence queries with TEXT and auto-reply it once to each sender'))
    .addHelpText('after', EXAMPLES);
}

/** @throws IpmsgError IPMSG_ERR_USAGE for an --exec option without --exec */
export function checkExecFlags(flags: RecvExecFlags): void {
  if (flags.exec !== undefined && flags.exec.trim() === '') throw new IpmsgError('IPMSG_ERR_USAGE', '--exec needs a command');
  const stray = [flags.jobs !== undefined ? '--jobs' : '', flags.execTimeout !== undefined ? '--exec-timeout' : '', flags.reply ? '--reply' : ''].filter(Boolean);
  if (flags.exec === undefined && stray.length > 0) throw new IpmsgError('IPMSG_ERR_USAGE', `${stray.join(', ')} only with --exec`);
}

const who = (m: ReceivedMessage): string => `${m.packet.user}@${m.packet.host} (${formatEndpoint(m.from.address, m.from.port)})`;

/** How a handler ended, in words. */
function endText(h: Handled): string {
  if (h.error !== undefined) return `could not start: ${h.error}`;
  const how = h.timedOut ? 'timed out, killed' : h.stopped ? 'stopped' : h.signal !== null ? `killed by ${h.signal}` : `exited ${h.exit}`;
  return `${how} after ${(h.durationMs / 1000).toFixed(1)}s`;
}

function replyText(h: Handled): string {
  if (h.replyError !== undefined) return `; reply not delivered: ${h.replyError}`;
  if (h.replySkipped !== undefined) return `; not replied to (${h.replySkipped === 'broadcast' ? 'a broadcast' : 'an automatic reply'})`;
  return h.replied ? `; replied${h.replyCut ? ' (cut to fit one datagram)' : ''}` : '';
}

/** What recv passes to client.handle() with --exec: the handler, and the reports of each end. */
export function execReceiveOptions(
  ctx: Context,
  messenger: Messenger,
  out: Output,
  flags: RecvExecFlags & { exec: string },
  quiet: boolean,
): Pick<HandleOptions, 'jobs' | 'handle' | 'onUnhandled' | 'onError'> {
  const handle = execHandler(messenger, {
    command: flags.exec,
    ...(flags.execTimeout !== undefined ? { timeout: flags.execTimeout } : {}),
    reply: flags.reply === true,
    output: ctx.stderr,
    clock: ctx.clock,
    env: ctx.env,
    onHandled: (m, h) => {
      out.result(
        {
          event: 'handled',
          packetNo: m.packet.packetNo,
          exit: h.exit,
          signal: h.signal,
          durationMs: h.durationMs,
          timedOut: h.timedOut,
          stopped: h.stopped,
          replied: h.replied,
          ...(h.replyCut ? { replyCut: true } : {}),
          ...(h.replyError !== undefined ? { replyError: h.replyError } : {}),
          ...(h.replySkipped !== undefined ? { replySkipped: h.replySkipped } : {}),
          ...(h.error !== undefined ? { error: h.error } : {}),
        },
        undefined,
      );
      const failed = h.error !== undefined || h.exit !== 0 || h.replyError !== undefined;
      const line = `handler for message ${m.packet.packetNo} from ${who(m)} ${endText(h)}${replyText(h)}`;
      if (failed || !quiet) out.notice(line);
    },
  });
  // When each handler began, and the run's signal it got: a handler that throws still gets a full record.
  const begun = new Map<ReceivedMessage, { at: number; signal: AbortSignal }>();
  return {
    jobs: flags.jobs ?? 1,
    handle: async (m, saved, signal) => {
      begun.set(m, { at: ctx.clock.now(), signal });
      await handle(m, saved, signal);
      // When it throws, onError reads and removes it.
      begun.delete(m);
    },
    onUnhandled: (m, reason) => {
      out.result({ event: 'unhandled', packetNo: m.packet.packetNo, from: { address: m.from.address, port: m.from.port, user: m.packet.user, host: m.packet.host }, reason }, undefined);
      out.notice(`message ${m.packet.packetNo} from ${who(m)} was acknowledged but not handled: the run ${reason === 'timeout' ? 'timed out' : 'was stopped'} before its turn`);
    },
    // Every message taken ends in one record: a handler that threw too.
    onError: (m, error) => {
      const start = begun.get(m);
      begun.delete(m);
      out.result(
        {
          event: 'handled',
          packetNo: m.packet.packetNo,
          exit: null,
          signal: null,
          durationMs: start ? ctx.clock.now() - start.at : 0,
          timedOut: false,
          stopped: start?.signal.aborted ?? false,
          replied: false,
          error: (error as Error).message,
        },
        undefined,
      );
      out.notice(`handler for message ${m.packet.packetNo}: ${(error as Error).message}`);
    },
  };
}
