// src/workflows/exec-handler.ts
// `recv --exec` as a library piece: a handler for handleMessages() that runs a command for each
// message and, when asked, sends what it printed back to the sender (a chat-ops bot).

import type { EncryptMode, Messenger, ReceivedMessage } from '../messenger/index.js';
import { isBroadcastOrAutoReply } from '../messenger/packets.js';
import { describePeer } from '../messenger/peers.js';
import { IPMSG_AUTORETOPT, hasOpt } from '../protocol/command.js';
import { type Clock, systemClock } from '../transport/clock.js';
import { formatEndpoint } from '../transport/address.js';
import { type HandlerExit, type TextSink, handlerEnv, runHandler } from './exec.js';
import { messageJson } from './message-record.js';
import type { Saved } from './save-offer.js';

/** Retries of a reply: as `send` does by default. */
const REPLY_SEND = { timeout: 5000, retries: 4 } as const;

export interface ExecHandlerOptions {
  /** Run through the shell (sh -c / cmd /d /s /c); the message is on stdin and in IPMSG_* variables. */
  readonly command: string;
  /** Kill a handler after this long (ms): SIGTERM, then SIGKILL after KILL_GRACE. */
  readonly timeout?: number;
  /** Send the handler's stdout (trimmed, cut to one datagram) back to the sender; empty: no reply. */
  readonly reply?: boolean;
  readonly encrypt?: EncryptMode;
  /** Where handlers' stderr (and stdout, unless replied) go. */
  readonly output: TextSink;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  /** How each handler ended. */
  readonly onHandled: (message: ReceivedMessage, handled: Handled) => void;
}

export interface Handled extends Omit<HandlerExit, 'stdout'> {
  /** A reply went out and was acknowledged. */
  readonly replied: boolean;
  /** The reply was cut to fit one datagram. */
  readonly replyCut?: boolean;
  /** Why a reply could not be sent. */
  readonly replyError?: string;
  /** Why no reply was sent although one was asked for: a broadcast or an automatic reply is never answered (§3.3), so two bots cannot answer each other forever. */
  readonly replySkipped?: 'broadcast' | 'auto-reply';
}

/** The longest start of `text` that fits one datagram as a message; `cut` when something was left out. */
export function fitToDatagram(messenger: Messenger, text: string, encrypt?: EncryptMode): { text: string; cut: boolean } {
  if (messenger.messageFits(text, encrypt)) return { text, cut: false };
  const chars = [...text];
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (messenger.messageFits(chars.slice(0, mid).join(''), encrypt)) low = mid;
    else high = mid - 1;
  }
  return { text: chars.slice(0, low).join(''), cut: true };
}

export function execHandler(messenger: Messenger, options: ExecHandlerOptions) {
  const clock = options.clock ?? systemClock;
  return async (message: ReceivedMessage, saved: readonly Saved[] | undefined, signal: AbortSignal): Promise<void> => {
    const { stdout, ...exit } = await runHandler(options.command, {
      input: `${JSON.stringify(messageJson(message, saved))}\n`,
      env: handlerEnv(message),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      signal,
      capture: options.reply === true,
      output: options.output,
      clock,
      ...(options.env ? { baseEnv: options.env } : {}),
    });
    const text = (stdout ?? '').trimEnd();
    if (options.reply && text.trim() !== '' && exit.error === undefined && isBroadcastOrAutoReply(message.packet)) {
      return options.onHandled(message, { ...exit, replied: false, replySkipped: hasOpt(message.packet.command, IPMSG_AUTORETOPT) ? 'auto-reply' : 'broadcast' });
    }
    if (!options.reply || text.trim() === '' || exit.error !== undefined) return options.onHandled(message, { ...exit, replied: false });
    const fitted = fitToDatagram(messenger, text, options.encrypt);
    const to = { text: describePeer({ ...message.packet, ...message.from }), address: message.from.address, port: message.from.port };
    try {
      const [outcome] = await messenger.sendMessage([to], fitted.text, {
        ...REPLY_SEND,
        check: true,
        seal: false,
        waitRead: false,
        readTimeout: undefined,
        signal,
        ...(options.encrypt ? { encrypt: options.encrypt } : {}),
      });
      const replied = outcome?.status === 'delivered';
      const failed = replied ? {} : { replyError: outcome?.error?.message ?? `not acknowledged by ${formatEndpoint(to.address, to.port)}` };
      options.onHandled(message, { ...exit, replied, ...(fitted.cut ? { replyCut: true } : {}), ...failed });
    } catch (error) {
      options.onHandled(message, { ...exit, replied: false, replyError: (error as Error).message });
    }
  };
}
