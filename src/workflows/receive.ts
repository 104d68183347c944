// src/workflows/receive.ts
// Receiving messages: accepting, acknowledging and delivering them, sending read notices for
// sealed ones, and (with `save`) fetching what they offer, each offer beside the others.

import { IpmsgError, isIpmsgError } from '../errors.js';
import type { MessageHandler, Messenger, ReceivedMessage } from '../messenger/index.js';
import { attachmentKind } from '../protocol/attachment.js';
import { IPMSG_FILEATTACHOPT, IPMSG_SECRETOPT, IPMSG_UTF8OPT, hasOpt } from '../protocol/command.js';
import type { SendMsgPacket } from '../protocol/packet.js';
import { parseFingerprintName } from '../protocol/user-name.js';
import { type Clock, sleep, systemClock } from '../transport/clock.js';
import type { RemoteAddress } from '../transport/datagram.js';
import { aborted, lifetime } from './lifetime.js';
import { type Saved, type SaveOptions, saveAttachment } from './save-offer.js';
import { formatEndpoint } from '../transport/address.js';

/** How long a run lingers after its last message for read notices still being retried. */
const READ_NOTICE_GRACE = 2000;
/** After the last message, resends are acknowledged for this long: a sender whose acknowledgement was lost must still learn that its message arrived. */
export const DEFAULT_LINGER = 2000;
/** Offers saved at once, in all and from one address: more are not acknowledged (their senders resend). */
export const SAVE_LIMITS = { total: 8, perAddress: 2 };

/** Why the offer of a message from a changed key is not fetched. */
export const KEY_CHANGED_REASON = "not fetched: the sender's key is not the one pinned for it";

/** Installed when a run ends: a message nobody will read is not acknowledged, so its sender learns it was not delivered. */
export const REFUSE_ALL: MessageHandler = { accepts: () => false, deliver: () => undefined };

/** Who a message may come from: an address (ADDR or ADDR:PORT), user@host, or a user, host or nick name. */
export type SenderFilter = (packet: SendMsgPacket, from: RemoteAddress, nick?: string) => boolean;

/**
 * A filter accepting senders that match any of `patterns` (case-insensitive); every sender when empty.
 * A user name with a key fingerprint (`alice-<…>`, §6.6) also answers to its base name.
 */
export function senderFilter(patterns: readonly string[]): SenderFilter {
  if (patterns.length === 0) return () => true;
  const wanted = patterns.map((p) => p.toLowerCase());
  return (packet, from, nick) => {
    const host = packet.host.toLowerCase();
    const base = parseFingerprintName(packet.user)?.base;
    const users = [packet.user, ...(base === undefined ? [] : [base])].map((u) => u.toLowerCase());
    const names = [
      from.address,
      `${from.address}:${from.port}`,
      formatEndpoint(from.address, from.port),
      host,
      ...users,
      ...users.map((u) => `${u}@${host}`),
      ...(nick ? [nick.toLowerCase()] : []),
    ];
    return wanted.some((w) => names.includes(w));
  };
}

/** What receive() does with the files a message offers. */
export type SaveOffers = Omit<SaveOptions, 'signal' | 'name' | 'resume' | 'utf8' | 'offeredBy'>;

export interface ReceiveOptions {
  /** Stop after this many messages (an offer counts once it is saved or given up); 0 or undefined: until the signal. */
  readonly count?: number;
  /** Accept only messages from these senders (see senderFilter); others are not acknowledged. */
  readonly from?: readonly string[];
  /** Ends the run: the promise rejects with the signal's reason, transfers in progress keep their `.part`. */
  readonly signal?: AbortSignal;
  /** The whole run, transfers included, in ms: IPMSG_ERR_TIMEOUT when fewer than `count` messages were decided by then. */
  readonly timeout?: number;
  /** Fetch what messages offer into `save.dir`. */
  readonly save?: SaveOffers;
  /** Without `save`: tell the sender of each offer that it will not be fetched (RELEASEFILES, §5.5), so it stops serving it. */
  readonly declineFiles?: boolean;
  /** After the last message, keep acknowledging resends for this long (ms). */
  readonly linger?: number;
  /**
   * Asked last, before a message is acknowledged: whether there is room for it (false: not
   * acknowledged, its sender resends). A message let in reaches `onMessage` or `onDropped`.
   */
  readonly admit?: (packet: SendMsgPacket, from: RemoteAddress) => boolean;
  readonly clock?: Clock;
  /**
   * Each message, once decided: with `saved` when `save` was given and it offered something. Every
   * message acknowledged comes here, marked by its `signature` when its sender is not the key
   * pinned for it ('key-changed': its offer is not fetched) or does not sign ('missing').
   */
  readonly onMessage: (message: ReceivedMessage, saved: readonly Saved[] | undefined) => void;
  /** A message that was acknowledged and cannot be delivered: it could not be decrypted (its sender is told so). */
  readonly onDropped?: (packet: SendMsgPacket, from: RemoteAddress, reason: string) => void;
  /** Something the user should know (an item not saved, a resume ignored). */
  readonly onNotice?: (message: string) => void;
}

export interface ReceiveResult {
  readonly received: number;
}

/**
 * Receives messages until `count` were delivered, the timeout passes or the signal fires.
 * @throws IpmsgError IPMSG_ERR_TIMEOUT (fewer than `count` in time), the first error of a transfer
 *   (IPMSG_ERR_TRANSFER, IPMSG_ERR_PROTOCOL, IPMSG_ERR_CANT_CREATE, …), or the signal's reason
 */
export async function receive(messenger: Messenger, options: ReceiveOptions): Promise<ReceiveResult> {
  const clock = options.clock ?? systemClock;
  const count = options.count ?? 0;
  const run = lifetime(clock, { signal: options.signal, timeout: options.timeout });
  const accept = senderFilter(options.from ?? []);
  const notice = options.onNotice ?? (() => undefined);
  const notices: Promise<void>[] = [];
  const saving = new Set<Promise<void>>();
  const savingFrom = new Map<string, number>();
  let accepted = 0;
  let received = 0;
  let failure: unknown;

  const finish = (message: ReceivedMessage, saved?: Saved[]): void => {
    // An offer cut short by the end of the run is still shown (it was acknowledged), but it was not decided: not counted.
    const cut = saved !== undefined && run.signal.aborted && !run.finished;
    if (!cut) received++;
    options.onMessage(message, saved);
    if (count > 0 && received >= count) run.finish();
  };
  const saveOffer = async (message: ReceivedMessage, save: SaveOffers): Promise<void> => {
    const saved: Saved[] = [];
    for (const attachment of message.packet.attachments ?? []) {
      if (run.signal.aborted) {
        saved.push(notSaved(attachment, 'the run ended before it was fetched'));
        continue;
      }
      try {
        saved.push(
          await saveAttachment(messenger, message.from, message.packet.packetNo, attachment, {
            ...save,
            utf8: hasOpt(message.packet.command, IPMSG_UTF8OPT),
            offeredBy: message.packet.user,
            signal: run.signal,
            clock,
            onNotice: notice,
          }),
        );
      } catch (error) {
        const reason = run.signal.aborted ? `the run ended during the transfer (${run.timedOut ? 'timeout' : 'stopped'}); the .part stays` : (error as Error).message;
        const line = `${attachment.name} from ${message.from.address}: ${reason}`;
        // The first failure becomes the run's error (its exit status), shown once then; later ones are notices.
        if (!run.signal.aborted && failure === undefined) failure = isIpmsgError(error) ? new IpmsgError(error.code, line, { cause: error }) : error;
        else notice(line);
        saved.push(notSaved(attachment, reason));
      }
    }
    finish(message, saved);
  };
  const savesOf = (from: RemoteAddress): number => savingFrom.get(from.address) ?? 0;
  const handler: MessageHandler = {
    accepts: (packet, from) => {
      if (run.signal.aborted) return false;
      if (count > 0 && accepted >= count) return false;
      if (!accept(packet, from, messenger.peers.get(from)?.nick)) return false;
      // An offer we cannot start saving now is not acknowledged: its sender resends it.
      if (options.save && hasOpt(packet.command, IPMSG_FILEATTACHOPT) && (saving.size >= SAVE_LIMITS.total || savesOf(from) >= SAVE_LIMITS.perAddress)) return false;
      if (options.admit && !options.admit(packet, from)) return false;
      accepted++;
      return true;
    },
    dropped: (packet, from, reason) => {
      accepted--;
      if (options.onDropped) options.onDropped(packet, from, reason);
      else notice(`dropped a message from ${packet.user}@${packet.host} (${from.address}): ${reason}`);
    },
    deliver: (message) => {
      if (hasOpt(message.packet.command, IPMSG_SECRETOPT)) notices.push(messenger.sendReadNotice(message));
      for (const a of message.packet.attachments ?? []) {
        if (a.unreadMtime !== undefined) notice(`${a.name} from ${message.from.address}: its time ${JSON.stringify(a.unreadMtime.slice(0, 32))} cannot be read; it is not used`);
      }
      const save = options.save;
      const attachments = message.packet.attachments ?? [];
      if (!save && attachments.length > 0 && options.declineFiles) messenger.releaseFiles(message);
      if (!save || attachments.length === 0) return finish(message);
      // Shown, marked, but nothing is fetched from a sender that is not the key pinned for it.
      if (message.signature === 'key-changed') return finish(message, attachments.map((a) => notSaved(a, KEY_CHANGED_REASON)));
      const address = message.from.address;
      savingFrom.set(address, savesOf(message.from) + 1);
      const task: Promise<void> = saveOffer(message, save).finally(() => {
        saving.delete(task);
        const left = savesOf(message.from) - 1;
        if (left > 0) savingFrom.set(address, left);
        else savingFrom.delete(address);
      });
      saving.add(task);
    },
  };
  messenger.handler = handler;
  try {
    await aborted(run.signal);
    // Transfers share the run's signal: on a timeout or an interruption they end now, keeping their .part.
    await Promise.all([...saving]);
    if (options.signal?.aborted) {
      if (failure !== undefined) notice((failure as Error).message); // not the run's error: said here
      throw options.signal.reason;
    }
    if (failure !== undefined) throw failure;
    if (run.timedOut) {
      const wanted = count > 0 ? ` of ${count}` : '';
      throw new IpmsgError('IPMSG_ERR_TIMEOUT', `received ${received}${wanted} messages within ${(options.timeout ?? 0) / 1000}s`);
    }
    await linger(clock, options, notices);
    return { received };
  } finally {
    run.dispose();
    messenger.handler = REFUSE_ALL;
  }
}

function notSaved(attachment: { fileId: number; name: string; attr: number }, reason: string): Saved {
  return { fileId: attachment.fileId, name: attachment.name, kind: attachmentKind(attachment.attr), path: null, bytes: 0, status: 'skipped', reason };
}

/** Resends of the messages received are acknowledged while the messenger stays open; read notices get a grace period. */
async function linger(clock: Clock, options: ReceiveOptions, notices: readonly Promise<void>[]): Promise<void> {
  const time = options.linger ?? DEFAULT_LINGER;
  const lingering = time > 0 ? sleep(clock, time, options.signal).catch(() => undefined) : undefined;
  if (notices.length > 0) {
    const grace = new AbortController();
    await Promise.race([Promise.all(notices).finally(() => grace.abort()), sleep(clock, READ_NOTICE_GRACE, grace.signal).catch(() => undefined)]);
  }
  await lingering;
}
