// src/cli/recv.ts
// ipmsg recv: announce, wait for messages, acknowledge them, send read notices for sealed ones,
// print each, leave.

import { mkdirSync } from 'node:fs';
import { Command, Option } from 'commander';
import { IpmsgError, isIpmsgError } from '../errors.js';
import type { CheckedMessage, ReceivedMessage } from '../messenger/index.js';
import { splitTargets } from '../messenger/target.js';
import { attachmentKind } from '../protocol/attachment.js';
import {
  IPMSG_AUTORETOPT,
  IPMSG_BROADCASTOPT,
  IPMSG_MULTICASTOPT,
  IPMSG_SECRETOPT,
  hasOpt,
} from '../protocol/command.js';
import { parseFingerprintName } from '../protocol/user-name.js';
import { CONFLICT_POLICIES, type ConflictPolicy } from '../transfer/save.js';
import { DEFAULT_LINGER } from '../workflows/receive.js';
import { DEFAULT_STALL_TIMEOUT, type Saved, preloadFetching } from '../workflows/save-offer.js';
import type { Context } from './context.js';
import { savedText } from './files.js';
import { makeProgress } from './progress.js';
import { addCommonOptions, parseCount, parseDuration } from './options.js';
import { withSession } from './session.js';
import { formatEndpoint } from '../transport/address.js';

import { messageJson } from '../workflows/message-record.js';
import { type RecvExecFlags, addExecOptions, checkExecFlags, execReceiveOptions } from './recv-exec.js';

export { messageJson };

function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** How a decrypted message's signature reads in the human output. */
const SIGNATURE_NOTES: Record<CheckedMessage['signature'], string> = {
  verified: 'encrypted, signature verified',
  none: 'encrypted, not signed',
  'unknown-key': "encrypted, signature NOT checked: the sender's key is unknown",
  bad: 'encrypted, BAD SIGNATURE: not from the key we know, or altered',
};

/** The sender as keys are pinned: `user@host` without the fingerprint. */
function pinnedAs(p: { readonly user: string; readonly host: string }): string {
  return `${parseFingerprintName(p.user)?.base ?? p.user}@${p.host}`;
}

/** What the human output says of a message's signature after the sender; '' for a plain message from a sender without a pinned key. */
function signatureNote(m: ReceivedMessage): string {
  const encrypted = m.encrypted ? 'encrypted, ' : '';
  switch (m.signature) {
    case 'key-changed':
      return `encrypted, KEY CHANGED: ${pinnedAs(m.packet)} has key ${m.keys.known} pinned, this message comes with ${m.keys.seen}`;
    case 'missing':
      return `${encrypted}NOT SIGNED, although ${pinnedAs(m.packet)} has key ${m.keys.known} pinned: anybody can send this in its name`;
    default:
      return m.encrypted ? SIGNATURE_NOTES[m.signature] : '';
  }
}

/**
 * The stderr notice for a message that is not from the key pinned for its sender; undefined for
 * any other message.
 */
export function messageNotice(m: ReceivedMessage): string | undefined {
  const p = m.packet;
  const who = `${p.user}@${p.host} (${formatEndpoint(m.from.address, m.from.port)})`;
  switch (m.signature) {
    case 'key-changed':
      return `message ${p.packetNo} from ${who} is shown, but it does not come from the key pinned for ${pinnedAs(p)}: known ${m.keys.known}, now ${m.keys.seen}. Someone may be impersonating this peer, or it made a new key; if you trust the new key, run: ipmsg keys trust ${pinnedAs(p)}`;
    case 'missing':
      return `message ${p.packetNo} from ${who} is not signed, although ${pinnedAs(p)} has key ${m.keys.known} pinned: it may not come from that peer`;
    default:
      return undefined;
  }
}

export function messageText(m: ReceivedMessage, saved?: readonly Saved[]): string {
  const p = m.packet;
  const flags = [
    hasOpt(p.command, IPMSG_SECRETOPT) ? 'sealed' : '',
    hasOpt(p.command, IPMSG_BROADCASTOPT) ? 'broadcast' : '',
    hasOpt(p.command, IPMSG_MULTICASTOPT) ? 'multicast' : '',
    hasOpt(p.command, IPMSG_AUTORETOPT) ? 'auto-reply' : '',
    signatureNote(m),
  ].filter(Boolean);
  const nick = m.peer && m.peer.nick !== p.user ? ` "${m.peer.nick}"` : '';
  const lines = [
    `[${localTime(m.receivedAt)}] ${p.user}@${p.host}${nick} ${formatEndpoint(m.from.address, m.from.port)}${flags.length ? ` (${flags.join(', ')})` : ''}`,
    p.text,
  ];
  for (const a of p.attachments ?? []) {
    lines.push(`  attachment ${a.fileId}: ${a.name} (${attachmentKind(a.attr)}, ${a.size} bytes)`);
  }
  for (const s of saved ?? []) lines.push(savedText(s));
  return `${lines.join('\n')}\n`;
}

interface RecvFlags extends RecvExecFlags {
  count: number;
  save?: string;
  maxSize?: number;
  onConflict: ConflictPolicy;
  stallTimeout?: number;
  encryptBody: boolean;
  timeout?: number;
  linger?: number;
  from?: string[];
  announce: boolean;
  declineFiles?: boolean;
}

export function makeRecvCommand(ctx: Context): Command {
  const command = new Command('recv')
    .description('wait for messages, acknowledge and print them')
    .addOption(new Option('-c, --count <n>', 'exit after this many messages; 0 = never').default(1).argParser(parseCount))
    .addOption(new Option('-t, --timeout <duration>', 'give up after this long (default: wait)').env('IPMSG_TIMEOUT').argParser(parseDuration))
    .addOption(
      new Option('--linger <duration>', `after the last message, keep acknowledging resends for this long (default ${DEFAULT_LINGER / 1000}s)`)
        .env('IPMSG_LINGER')
        .argParser(parseDuration),
    )
    .addOption(
      new Option('--from <target>', 'accept messages only from this sender (repeatable, comma-separated)').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .addOption(new Option('--no-announce', 'do not broadcast BR_ENTRY (peers must know our address)'))
    .addOption(new Option('--save <dir>', 'fetch the files and folders a message offers into this folder'))
    .addOption(
      new Option(
        '--decline-files',
        'without --save: release every offer at once (RELEASEFILES), so its sender stops serving and exits 77; by default offers stay open for get-file until the sender gives up',
      ).conflicts('save'),
    )
    .addOption(new Option('--max-size <bytes>', 'with --save: skip anything larger').argParser(parseCount))
    .addOption(new Option('--on-conflict <policy>', 'with --save: when a name exists').choices(CONFLICT_POLICIES).default('rename'))
    .addOption(new Option('--stall-timeout <duration>', `with --save: give up when nothing arrives for this long (default ${DEFAULT_STALL_TIMEOUT / 1000}s)`).argParser(parseDuration))
    .addOption(new Option('--no-encrypt-body', 'with --save, from a peer that takes encrypted requests: sign the requests, but let the data come unencrypted (faster)'));
  addExecOptions(command);
  addCommonOptions(command);
  command.action(async (flags: RecvFlags, cmd: Command) => {
    checkExecFlags(flags);
    if (flags.save !== undefined) {
      // Made with its parents, as curl --create-dirs and wget -P do; before listening, so that a folder that cannot be made fails at once.
      try {
        mkdirSync(flags.save, { recursive: true });
      } catch (error) {
        throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create the --save folder ${flags.save}: ${(error as Error).message}`);
      }
    }
    if (flags.save !== undefined) await preloadFetching();
    await withSession(ctx, cmd, async ({ client, messenger, settings, out }) => {
      // The announcement is a courtesy: with every broadcast refused (no broadcast route, a firewall)
      // peers that know our address can still send, so recv listens on (list and send by name cannot).
      messenger.joinMulticastGroup();
      // Before the announcement, so that our BR_ENTRY already says ABSENCEOPT.
      if (flags.absence !== undefined) await messenger.setAbsence(flags.absence);
      if (flags.announce) {
        await messenger.announce().catch((error: unknown) => {
          if (!isIpmsgError(error, 'IPMSG_ERR_UNAVAILABLE')) throw error;
          out.notice(`${error.message}; listening anyway (only peers that know our address can send)`);
        });
      }
      out.verbose(`listening on UDP port ${messenger.port}`);
      const progress = makeProgress(ctx, settings);
      try {
        const options = {
          count: flags.count,
          from: splitTargets(flags.from ?? []),
          signal: ctx.signal,
          ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
          linger: flags.linger ?? DEFAULT_LINGER,
          declineFiles: flags.declineFiles === true,
          ...(flags.save !== undefined
            ? {
                save: {
                  dir: flags.save,
                  policy: flags.onConflict,
                  ...(flags.maxSize !== undefined ? { maxSize: flags.maxSize } : {}),
                  stallTimeout: flags.stallTimeout ?? DEFAULT_STALL_TIMEOUT,
                  encryptBody: flags.encryptBody,
                  progress,
                },
              }
            : {}),
          onMessage: (message: ReceivedMessage, saved: readonly Saved[] | undefined) => {
            const notice = messageNotice(message);
            if (notice !== undefined) out.notice(notice);
            out.result(messageJson(message, saved), messageText(message, saved));
          },
          onNotice: out.notice,
        };
        if (flags.exec === undefined) await client.receive(options);
        else await client.handle({ ...options, ...execReceiveOptions(ctx, messenger, out, { ...flags, exec: flags.exec }, settings.quiet || settings.json) });
      } finally {
        progress.stop();
      }
    });
  });
  return command;
}
