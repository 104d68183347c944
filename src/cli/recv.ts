// src/cli/recv.ts
// ipmsg recv: announce, wait for messages, acknowledge them, send read notices for sealed ones,
// print each, leave.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { IpmsgError, isIpmsgError } from '../errors.js';
import type { ReceivedMessage } from '../messenger/index.js';
import { splitTargets } from '../messenger/target.js';
import { attachmentKind } from '../protocol/attachment.js';
import {
  IPMSG_AUTORETOPT,
  IPMSG_BROADCASTOPT,
  IPMSG_MULTICASTOPT,
  IPMSG_SECRETOPT,
  IPMSG_UTF8OPT,
  hasOpt,
} from '../protocol/command.js';
import type { SendMsgPacket } from '../protocol/packet.js';
import { sleep } from '../transport/clock.js';
import type { RemoteAddress } from '../transport/datagram.js';
import { CONFLICT_POLICIES, type ConflictPolicy } from '../transfer/save.js';
import type { Context } from './context.js';
import { DEFAULT_STALL_TIMEOUT, type Saved, preloadFetching, saveAttachment } from './files.js';
import { addCommonOptions, parseCount, parseDuration } from './options.js';
import { withSession } from './session.js';

/** How long recv lingers after the last message for read notices still being retried. */
const READ_NOTICE_GRACE = 2000;
/**
 * How long recv keeps acknowledging resends after its last message: a sender whose
 * acknowledgement was lost resends (every second by default), and must still hear that the
 * message arrived rather than report it lost.
 */
export const DEFAULT_LINGER = 2000;

export function messageJson(m: ReceivedMessage, saved?: readonly Saved[]): object {
  const p = m.packet;
  return {
    packetNo: p.packetNo,
    time: new Date(m.receivedAt).toISOString(),
    from: {
      address: m.from.address,
      port: m.from.port,
      user: p.user,
      host: p.host,
      ...(m.peer ? { nick: m.peer.nick, group: m.peer.group } : {}),
    },
    text: p.text,
    sealed: hasOpt(p.command, IPMSG_SECRETOPT),
    broadcast: hasOpt(p.command, IPMSG_BROADCASTOPT),
    multicast: hasOpt(p.command, IPMSG_MULTICASTOPT),
    autoReply: hasOpt(p.command, IPMSG_AUTORETOPT),
    encrypted: m.encrypted,
    signature: m.signature,
    charset: p.charset,
    attachments: (p.attachments ?? []).map((a) => ({
      fileId: a.fileId,
      name: a.name,
      size: a.size,
      mtime: a.mtime,
      kind: attachmentKind(a.attr),
      attr: a.attr,
    })),
    ...(saved ? { saved } : {}),
  };
}

function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** How a decrypted message's signature reads in the human output. */
const SIGNATURE_NOTES: Record<ReceivedMessage['signature'], string> = {
  verified: 'encrypted, signature verified',
  none: 'encrypted, not signed',
  'unknown-key': "encrypted, signature NOT checked: the sender's key is unknown",
  bad: 'encrypted, BAD SIGNATURE: not from the key we know, or altered',
};

export function messageText(m: ReceivedMessage, saved?: readonly Saved[]): string {
  const p = m.packet;
  const flags = [
    hasOpt(p.command, IPMSG_SECRETOPT) ? 'sealed' : '',
    hasOpt(p.command, IPMSG_BROADCASTOPT) ? 'broadcast' : '',
    hasOpt(p.command, IPMSG_MULTICASTOPT) ? 'multicast' : '',
    hasOpt(p.command, IPMSG_AUTORETOPT) ? 'auto-reply' : '',
    m.encrypted ? SIGNATURE_NOTES[m.signature] : '',
  ].filter(Boolean);
  const nick = m.peer && m.peer.nick !== p.user ? ` "${m.peer.nick}"` : '';
  const lines = [
    `[${localTime(m.receivedAt)}] ${p.user}@${p.host}${nick} ${m.from.address}:${m.from.port}${flags.length ? ` (${flags.join(', ')})` : ''}`,
    p.text,
  ];
  for (const a of p.attachments ?? []) {
    lines.push(`  attachment ${a.fileId}: ${a.name} (${attachmentKind(a.attr)}, ${a.size} bytes)`);
  }
  for (const s of saved ?? []) {
    lines.push(s.status === 'saved' ? `  saved ${s.path} (${s.bytes} bytes)` : `  not saved ${s.name}: ${s.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

/** --from: an address (ADDR or ADDR:PORT), user@host, or a user, host or nick name. */
export function makeSenderFilter(patterns: readonly string[]): (p: SendMsgPacket, from: RemoteAddress, nick?: string) => boolean {
  if (patterns.length === 0) return () => true;
  const wanted = patterns.map((p) => p.toLowerCase());
  return (packet, from, nick) => {
    const names = [
      from.address,
      `${from.address}:${from.port}`,
      packet.user.toLowerCase(),
      packet.host.toLowerCase(),
      `${packet.user}@${packet.host}`.toLowerCase(),
      ...(nick ? [nick.toLowerCase()] : []),
    ];
    return wanted.some((w) => names.includes(w));
  };
}

interface RecvFlags {
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
    .addOption(new Option('--max-size <bytes>', 'with --save: skip anything larger').argParser(parseCount))
    .addOption(new Option('--on-conflict <policy>', 'with --save: when a name exists').choices(CONFLICT_POLICIES).default('rename'))
    .addOption(new Option('--stall-timeout <duration>', `with --save: give up when nothing arrives for this long (default ${DEFAULT_STALL_TIMEOUT / 1000}s)`).argParser(parseDuration))
    .addOption(new Option('--no-encrypt-body', 'with --save, from a peer that takes encrypted requests: sign the requests, but let the data come unencrypted (faster)'));
  addCommonOptions(command);
  command.action(async (flags: RecvFlags, cmd: Command) => {
    if (flags.save !== undefined && !existsSync(flags.save)) throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `--save folder ${flags.save} does not exist`);
    if (flags.save !== undefined) await preloadFetching();
    await withSession(ctx, cmd, async (session) => {
      const { messenger, out } = session;
      const accept = makeSenderFilter(splitTargets(flags.from ?? []));
      const done = new AbortController();
      const notices: Promise<void>[] = [];
      let accepted = 0;
      let received = 0;
      let saving: Promise<void> = Promise.resolve();
      let failure: unknown;
      const finish = (message: ReceivedMessage, saved?: Saved[]): void => {
        received++;
        out.result(messageJson(message, saved), messageText(message, saved));
        if (flags.count > 0 && received >= flags.count) done.abort();
      };
      messenger.handler = {
        accepts: (packet, from) => {
          // Counted when accepted: an encrypted message is delivered a moment later, after its sender's key is checked.
          const ok = (flags.count === 0 || accepted < flags.count) && accept(packet, from, messenger.peers.get(from)?.nick);
          if (ok) accepted++;
          return ok;
        },
        dropped: (packet, from, reason) => {
          accepted--;
          out.notice(`dropped a message from ${packet.user}@${packet.host} (${from.address}): ${reason}`);
        },
        deliver: (message) => {
          if (hasOpt(message.packet.command, IPMSG_SECRETOPT)) notices.push(messenger.sendReadNotice(message));
          const offered = message.packet.attachments ?? [];
          if (flags.save === undefined || offered.length === 0) return finish(message);
          const dir = resolve(flags.save); // absolute: see WorkingFolder in transfer/file-client.ts
          // One offer at a time, in arrival order.
          saving = saving.then(async () => {
            const saved: Saved[] = [];
            for (const attachment of offered) {
              try {
                saved.push(
                  await saveAttachment(session, message.from, message.packet.packetNo, attachment, {
                    dir,
                    policy: flags.onConflict,
                    resume: false,
                    maxSize: flags.maxSize,
                    stallTimeout: flags.stallTimeout ?? DEFAULT_STALL_TIMEOUT,
                    utf8: hasOpt(message.packet.command, IPMSG_UTF8OPT),
                    offeredBy: message.packet.user,
                    encryptBody: flags.encryptBody,
                  }),
                );
              } catch (error) {
                failure ??= error;
                out.notice(`${attachment.name} from ${message.from.address}: ${(error as Error).message}`);
                saved.push({ fileId: attachment.fileId, name: attachment.name, kind: attachmentKind(attachment.attr), path: null, bytes: 0, status: 'skipped', reason: (error as Error).message });
              }
            }
            finish(message, saved);
          });
        },
      };
      // The announcement is a courtesy: with every broadcast refused (no broadcast route, a firewall)
      // peers that know our address can still send, so recv listens on (list and send by name cannot).
      if (flags.announce) {
        await messenger.announce().catch((error: unknown) => {
          if (!isIpmsgError(error, 'IPMSG_ERR_UNAVAILABLE')) throw error;
          out.notice(`${error.message}; listening anyway (only peers that know our address can send)`);
        });
      }
      out.verbose(`listening on UDP port ${messenger.port}`);
      const limit = flags.timeout ?? 2 ** 31 - 1;
      try {
        await sleep(ctx.clock, limit, AbortSignal.any([done.signal, ctx.signal]));
      } catch (error) {
        if (!done.signal.aborted) throw error;
      }
      await saving;
      if (failure !== undefined) throw failure;
      if (!done.signal.aborted) {
        done.abort();
        const wanted = flags.count > 0 ? ` of ${flags.count}` : '';
        throw new IpmsgError('IPMSG_ERR_TIMEOUT', `received ${received}${wanted} messages within ${limit / 1000}s`);
      }
      // Resends of the messages received are acknowledged by the messenger as long as it is open.
      const linger = flags.linger ?? DEFAULT_LINGER;
      const lingering = linger > 0 ? sleep(ctx.clock, linger, ctx.signal).catch(() => undefined) : undefined;
      if (notices.length > 0) {
        const grace = new AbortController();
        await Promise.race([
          Promise.all(notices).finally(() => grace.abort()),
          sleep(ctx.clock, READ_NOTICE_GRACE, grace.signal).catch(() => undefined),
        ]);
      }
      await lingering;
    });
  });
  return command;
}
