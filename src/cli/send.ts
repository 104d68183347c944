// src/cli/send.ts
// ipmsg send: one message to one or more peers, confirmed by RECVMSG with retries.

import { Command, Option } from 'commander';
import { IpmsgError } from '../errors.js';
import type { EncryptMode, SendOutcome } from '../messenger/index.js';
import { checkTargetCount, parseTarget, splitTargets } from '../messenger/target.js';
import { prepareOffer } from '../transfer/local-files.js';
import { DEFAULT_RESOLVE_WAIT as RESOLVE_WAIT, DEFAULT_SEND } from '../workflows/client.js';
import { ATTACHED_TEXT_NAME, TEXT_SERVE_TIMEOUT, checkFits, offerText } from '../workflows/send-text.js';
import { DEFAULT_SERVE_TIMEOUT, type ServeOptions, serveOffer } from '../workflows/serve-offer.js';
import { type Context, isInteractive } from './context.js';
import { serveOutput } from './files.js';
import { readMessage } from './input.js';
import { addCommonOptions, addResolveOptions, addRetryOptions, parseDuration, resolveFlags } from './options.js';
import { withSession } from './session.js';
import { startSpinner } from './spinner.js';
import { formatEndpoint } from '../transport/address.js';

export const DEFAULT_TIMEOUT = DEFAULT_SEND.timeout;
export const DEFAULT_RETRIES = DEFAULT_SEND.retries;
export const DEFAULT_RESOLVE_WAIT = RESOLVE_WAIT;

interface SendFlags {
  to?: string[];
  file?: string[];
  asFile?: boolean;
  serveTimeout?: number;
  all?: boolean;
  check: boolean;
  seal?: boolean;
  waitRead?: boolean;
  readTimeout?: number;
  timeout?: number;
  retries?: number;
  wait?: number;
  dns: boolean;
  encrypt: EncryptMode;
}

export function describeOutcome(o: SendOutcome): string {
  const who = o.destination.label ? `${o.destination.label} ` : '';
  const where = `${who}${formatEndpoint(o.destination.address, o.destination.port)}`;
  switch (o.status) {
    case 'read':
      return `${o.encrypted ? 'encrypted, ' : ''}read by ${where}`;
    case 'delivered':
      return `delivered${o.encrypted ? ' encrypted' : ''} to ${where}${o.attempts > 1 ? ` (after ${o.attempts} tries)` : ''}`;
    case 'sent':
      return `sent to ${where} (unconfirmed)`;
    case 'failed':
      return `not delivered to ${where}${o.error ? ` (${o.error.code === 'IPMSG_ERR_NO_ACK' ? `no acknowledgement after ${o.attempts} ${o.attempts === 1 ? 'try' : 'tries'}` : o.error.message})` : ''}`;
  }
}

/** The --json record of one target's outcome (send, and run's notification). */
export function outcomeRecord(o: SendOutcome): object {
  return {
    target: o.destination.text,
    address: o.destination.address,
    port: o.destination.port,
    packetNo: o.packetNo,
    status: o.status,
    encrypted: o.encrypted,
    charset: o.charset,
    charsetReason: o.charsetReason,
    attempts: o.attempts,
    ...(o.error ? { error: o.error.message, code: o.error.code } : {}),
  };
}

/** Failed targets a summary names; the rest are counted ("… and 990 more"). */
const SUMMARY_NAMES = 10;

/** The error line of a send to several targets: how many got it, and which did not (a bounded list) and why the first did not. */
function fleetSummary(total: number, failed: readonly SendOutcome[], check: boolean): string {
  const names = failed.slice(0, SUMMARY_NAMES).map((o) => o.destination.text);
  const more = failed.length > SUMMARY_NAMES ? ` and ${failed.length - SUMMARY_NAMES} more` : '';
  const reason = failed[0]?.error ? ` (${failed[0].error.message})` : '';
  return `${check ? 'delivered to' : 'sent to'} ${total - failed.length} of ${total}; not delivered: ${names.join(', ')}${more}${reason}`;
}

export function makeSendCommand(ctx: Context): Command {
  const command = new Command('send')
    .description('send a message; exit 0 only when every target acknowledged it')
    .argument('[target]', 'IPv4 address, ADDR:PORT, host name, or a user/nick/host name on the LAN (comma-separated for several)')
    .argument('[message...]', "the message (read from standard input when absent or '-')")
    .addOption(new Option('--to <target>', 'a target (repeatable, comma-separated); then every argument is message text').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--all', 'broadcast to everybody on the LAN (unconfirmed)').conflicts(['to', 'seal', 'waitRead']))
    .addOption(new Option('--no-check', 'do not ask for an acknowledgement'))
    .addOption(new Option('--seal', 'send a sealed message (the recipient must open it)'))
    .addOption(new Option('--wait-read', 'seal the message and wait until the recipient opens it'))
    .addOption(new Option('--read-timeout <duration>', 'with --wait-read: give up after this long (default: wait)').argParser(parseDuration))
    .addOption(
      new Option('-f, --file <path>', 'offer a file or folder with the message (repeatable); serve it until fetched').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .addOption(
      new Option('--encrypt <mode>', 'auto: encrypt for peers that can; always: fail for peers that cannot; never')
        .choices(['auto', 'always', 'never'])
        .env('IPMSG_ENCRYPT')
        .default('auto'),
    )
    .addOption(new Option('--as-file', `send the text as an attached ${ATTACHED_TEXT_NAME} (for text that does not fit one datagram)`))
    .addOption(
      new Option(
        '--serve-timeout <duration>',
        `with --file: stop serving after this long (default ${DEFAULT_SERVE_TIMEOUT / 60_000}m; ${TEXT_SERVE_TIMEOUT / 60_000}m for --as-file text alone)`,
      ).argParser(parseDuration),
    );
  addRetryOptions(command, `total time to wait for the acknowledgement (default ${DEFAULT_TIMEOUT / 1000}s)`);
  addResolveOptions(command, `how long to look for a target given by name (default ${DEFAULT_RESOLVE_WAIT / 1000}s)`);
  addCommonOptions(command);
  command.action(async (target: string | undefined, words: string[], flags: SendFlags, cmd: Command) => {
    const named = flags.to ? splitTargets(flags.to) : [];
    const messageWords = flags.to || flags.all ? [...(target === undefined ? [] : [target]), ...words] : words;
    const targets = flags.to || flags.all ? named : splitTargets(target === undefined ? [] : [target]);
    if (!flags.all && targets.length === 0) throw new IpmsgError('IPMSG_ERR_USAGE', 'No target: name one, use --to, or --all');
    checkTargetCount(targets.length);
    if ((flags.file || flags.asFile) && flags.all) throw new IpmsgError('IPMSG_ERR_USAGE', '--file and --as-file cannot be broadcast with --all');
    const offered = flags.file ? prepareOffer(flags.file) : undefined;
    // With files the message may be empty (iptux sends offers with an empty text); '-' reads stdin.
    const message = offered && messageWords.length === 0 ? '' : await readMessage(ctx, messageWords);
    await withSession(ctx, cmd, async (session) => {
      const { messenger, settings, out } = session;
      if (flags.all) {
        const results = await messenger.broadcastMessage(message);
        const failed = results.flatMap(({ address, error }) => (error ? [{ address, error: error.message }] : []));
        for (const f of failed) out.notice(`broadcast to ${f.address} failed: ${f.error}`);
        const sent = results.filter((r) => !r.error).map((r) => r.address);
        out.result({ target: 'all', broadcast: sent, failed, status: 'sent' }, `broadcast sent to ${sent.join(', ')} (unconfirmed)`);
        return;
      }
      const encrypt = settings.crypto ? flags.encrypt : ('never' as const);
      // Refused before any name is looked for: the run ends at once.
      if (!flags.asFile && !offered) checkFits(messenger, message, encrypt);
      // Only a terminal shows the spinner: elsewhere the targets are parsed once, by resolve.
      const needsDiscovery = isInteractive(ctx) && session.client.expandTargets(targets).some((t) => parseTarget(t, settings.port).kind === 'name');
      const spinner = needsDiscovery ? await startSpinner(ctx, 'looking for the targets on the LAN…') : undefined;
      const destinations = await session.client.resolve(targets, resolveFlags(flags, ctx.signal)).finally(() => spinner?.stop());
      const sendOptions = {
        check: flags.check,
        seal: flags.seal === true,
        waitRead: flags.waitRead === true,
        readTimeout: flags.readTimeout,
        timeout: flags.timeout ?? DEFAULT_TIMEOUT,
        retries: flags.retries ?? DEFAULT_RETRIES,
        signal: ctx.signal,
        encrypt,
      };
      if (flags.encrypt === 'always' && !settings.crypto) throw new IpmsgError('IPMSG_ERR_USAGE', '--encrypt always needs keys: drop --no-crypto');
      if (flags.asFile || offered) {
        const shown = serveOutput(session);
        const serve: ServeOptions = {
          send: sendOptions,
          signal: ctx.signal,
          clock: ctx.clock,
          charset: settings.charset,
          fallbackCharset: settings.fallbackCharset,
          ...(settings.bind ? { localAddress: settings.bind } : {}),
          ...(flags.serveTimeout !== undefined ? { serveTimeout: flags.serveTimeout } : {}),
          progress: shown.progress,
          onEvent: shown.onEvent,
          onWarning: out.verbose,
        };
        try {
          if (flags.asFile) await offerText(messenger, destinations, message, offered ?? [], serve);
          else await serveOffer(messenger, destinations, message, offered ?? [], serve);
        } finally {
          shown.stop();
        }
        return;
      }
      const waiting = flags.waitRead ? await startSpinner(ctx, 'waiting for the recipient to open the message…') : undefined;
      const outcomes = await messenger.sendMessage(destinations, message, sendOptions).finally(() => waiting?.stop());
      out.results(
        outcomes.map((o) => [
          outcomeRecord(o),
          // One target: its failure is the run's error line; several: each has its line (none with --json).
          settings.json || (o.error && o.status === 'failed' && outcomes.length === 1) ? undefined : describeOutcome(o),
        ]),
      );
      const failed = outcomes.filter((o) => o.error);
      const [first] = failed;
      if (!first?.error) return;
      if (outcomes.length === 1) throw first.error;
      throw new IpmsgError(first.error.code, fleetSummary(outcomes.length, failed, flags.check));
    });
  });
  command.addHelpText('after', `\nExamples:\n  ipmsg send 192.168.1.20 "build 1234 passed"\n  ipmsg send --to alice,bob --to 10.0.0.9 "standup in 5 minutes"\n  make test 2>&1 | tail -20 | ipmsg send bob\n  ipmsg send bob --file report.pdf --serve-timeout 10m "the report"\n  ipmsg send --wait-read --read-timeout 10m alice "tell me when you read this"\n  ipmsg send --json bob "done" | tail -1          # the end record: ok, exit status, error`);
  return command;
}
