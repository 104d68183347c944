// src/messenger/absence.ts
// Away mode, as the official client does it (§3.1, §3.3, §4.5): ABSENCEOPT in our entries, the
// absence text as the answer to GETABSENCEINFO, and as an automatic reply (SENDMSG|AUTORETOPT)
// to a sender's message, here once per sender while the text stays the same. Never to a
// broadcast or an automatic reply: two absent clients would answer each other for ever.

import { parseFingerprintName } from '../protocol/user-name.js';
import type { SendMsgPacket } from '../protocol/packet.js';
import type { RemoteAddress } from '../transport/datagram.js';
import { type BudgetLimits, RateBudget } from './budget.js';
import type { Link } from './link.js';
import { autoReplyPacket, isBroadcastOrAutoReply } from './packets.js';

/** The official's answer to GETABSENCEINFO when not absent (its resource string, §4.5). */
export const NOT_ABSENT_TEXT = 'Not Absence mode';
/** Senders remembered as answered; beyond, the oldest are forgotten (a peer can make up names). */
export const REPLIED_LIMIT = 1024;
/**
 * Auto-replies sent, per sender address and in all: each answers a message with our text, so a
 * flood of made-up names from spoofed addresses would otherwise make us send text to whoever the
 * datagrams name (several times the bytes that asked). A sender over budget is not remembered:
 * its next message is answered.
 */
export const AUTO_REPLY_BUDGET: BudgetLimits = {
  perAddress: { perSecond: 1, burst: 20 },
  total: { perSecond: 10, burst: 100 },
  addresses: 1024,
};

export class Absence {
  readonly #link: Link;
  #text: string | undefined;
  readonly #replied = new Set<string>();
  readonly #budget: RateBudget;

  constructor(link: Link, text: string | undefined, budget: BudgetLimits = AUTO_REPLY_BUDGET) {
    this.#link = link;
    this.#budget = new RateBudget(link.options.clock, budget);
    this.#text = text;
    link.setAbsent(text !== undefined);
  }

  get text(): string | undefined {
    return this.#text;
  }

  /** Sets or clears the text; whether the absence state changed (then the caller says BR_ABSENCE). */
  set(text: string | undefined): boolean {
    const changed = text !== this.#text;
    this.#text = text;
    this.#link.setAbsent(text !== undefined);
    if (changed) this.#replied.clear();
    return changed;
  }

  /** What GETABSENCEINFO is answered with. */
  answer(): string {
    return this.#text ?? NOT_ABSENT_TEXT;
  }

  /** A new message was accepted: the automatic reply, once per sender (user@host, without a key fingerprint), within AUTO_REPLY_BUDGET. */
  onAccepted(packet: SendMsgPacket, from: RemoteAddress): void {
    const text = this.#text;
    if (text === undefined || isBroadcastOrAutoReply(packet)) return;
    const who = `${(parseFingerprintName(packet.user)?.base ?? packet.user).toLowerCase()}@${packet.host.toLowerCase()}`;
    if (this.#replied.has(who) || !this.#budget.take(from.address)) return;
    if (this.#replied.size >= REPLIED_LIMIT) this.#replied.delete(this.#replied.values().next().value as string);
    this.#replied.add(who);
    const link = this.#link;
    link.reply(autoReplyPacket(link.sender, link.next(), text, true, link.charsets.choose(from).charset), from);
  }
}
