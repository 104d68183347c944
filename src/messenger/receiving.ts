// src/messenger/receiving.ts
// Messages that reach us: acknowledged once accepted, delivered once however often they are resent,
// decrypted and their signature checked when encrypted (§6.3), and read notices for sealed ones.
// A message we acknowledged is delivered, marked when its sender is not who its key says, unless it
// cannot be decrypted (then its sender is told).

import type { KeyObject } from 'node:crypto';
import type { SignatureStatus } from '../crypto/message.js';
import { type Charset, detectCharset } from '../encoding/charset.js';
import {
  IPMSG_ENCEXTMSGOPT,
  IPMSG_ENCRYPTOPT,
  IPMSG_READCHECKOPT,
  IPMSG_SECRETOPT,
  IPMSG_SENDCHECKOPT,
  IPMSG_UTF8OPT,
  hasOpt,
} from '../protocol/command.js';
import type { Packet, ReplyPacket, SendMsgPacket } from '../protocol/packet.js';
import { parseFingerprintName } from '../protocol/user-name.js';
import type { RemoteAddress } from '../transport/datagram.js';
import { DECRYPT_BUDGET, DecryptBudget } from './budget.js';
import { RecentPackets } from './duplicates.js';
import type { KeyExchange } from './key-exchange.js';
import type { Link } from './link.js';
import { autoReplyPacket, isBroadcastOrAutoReply, replyPacket } from './packets.js';
import { type Peer, describePeer } from './peers.js';
import type { KeyChange, Security } from './security.js';

/** What the sender of a message we cannot decrypt is told (in an automatic reply). */
export const DECRYPT_FAILED_REPLY = 'ipmsg could not decrypt your message; it was not delivered.';

interface Delivered {
  readonly packet: SendMsgPacket;
  readonly from: RemoteAddress;
  /** The sender's entry, when it announced itself while we listened. */
  readonly peer: Peer | undefined;
  readonly receivedAt: number;
}

/** A message whose signature was checked with the sender's key as far as one is known. */
export interface CheckedMessage extends Delivered {
  /** It came with ENCRYPTOPT and was decrypted; `packet.text` is the plain text. */
  readonly encrypted: boolean;
  /** 'none': not signed (every plain message) by a sender without a pinned key. */
  readonly signature: SignatureStatus;
}

/**
 * Not signed (plain, or encrypted without a signature), although a key is pinned for its sender's
 * `user@host`: anybody can send such a message in that name.
 */
export interface UnsignedMessage extends Delivered {
  readonly encrypted: boolean;
  readonly signature: 'missing';
  /** The fingerprint of the key pinned for the sender. */
  readonly keys: { readonly known: string };
}

/**
 * Encrypted, from a sender that shows another key than the one pinned for it (in its ANSPUBKEY or
 * in its user name's fingerprint). Acknowledged before that was known, so delivered, marked.
 */
export interface KeyChangedMessage extends Delivered {
  readonly encrypted: true;
  readonly signature: 'key-changed';
  /** The pinned key's fingerprint, and the one the sender shows now. */
  readonly keys: { readonly known: string; readonly seen: string };
}

export type ReceivedMessage = CheckedMessage | UnsignedMessage | KeyChangedMessage;

export interface MessageHandler {
  /** Whether to accept (acknowledge and deliver) a message from this sender. */
  accepts(packet: SendMsgPacket, from: RemoteAddress): boolean;
  deliver(message: ReceivedMessage): void;
  /** A message accepts() let in that is not delivered after all: it could not be decrypted (its sender is told so). */
  dropped?(packet: SendMsgPacket, from: RemoteAddress, reason: string): void;
}

/**
 * What the official drops (§6.6): entries and non-auto-reply messages without ENCRYPTOPT from a
 * user name that carries a key fingerprint (only a client with that key can have sent them).
 * Only a client that can decrypt may insist: without keys we are the one the sender fell back to
 * plain text for. A broadcast message cannot be encrypted (one datagram for everybody): it passes.
 */
export function dropsUnencrypted(packet: Packet, haveKeys: boolean): boolean {
  if (!haveKeys) return false;
  const checked = packet.kind === 'BR_ENTRY' || packet.kind === 'ANSENTRY' || packet.kind === 'BR_ABSENCE' || (packet.kind === 'SENDMSG' && !isBroadcastOrAutoReply(packet));
  return checked && !hasOpt(packet.command, IPMSG_ENCRYPTOPT) && parseFingerprintName(packet.user) !== undefined;
}

export class Receiving {
  readonly #link: Link;
  readonly #keys: KeyExchange;
  readonly #recent = new RecentPackets();
  readonly #decryptBudget: DecryptBudget;
  handler: MessageHandler | undefined;
  /** Told of each new message once it is acknowledged (the absence reply). */
  onAccepted: ((packet: SendMsgPacket, from: RemoteAddress) => void) | undefined;

  constructor(link: Link, keys: KeyExchange) {
    this.#link = link;
    this.#keys = keys;
    this.#decryptBudget = new DecryptBudget(link.options.clock);
  }

  onMessage(packet: SendMsgPacket, from: RemoteAddress, now: number): void {
    const link = this.#link;
    const options = link.options;
    const handler = this.handler;
    const resent = this.#recent.has(packet.packetNo, packet, from);
    // A new encrypted message costs an RSA decryption: beyond the budget it is not acknowledged (the sender tries again).
    if (!resent && hasOpt(packet.command, IPMSG_ENCRYPTOPT) && options.security && !this.#decryptBudget.take(from.address)) {
      options.onWarning(
        `ignored an encrypted message from ${packet.user}@${packet.host} (${from.address}:${from.port}): more than ${DECRYPT_BUDGET.perAddress.perSecond} a second from it or ${DECRYPT_BUDGET.total.perSecond} in all to decrypt`,
      );
      return;
    }
    // A resent message was accepted the first time: it is acknowledged again whatever the handler says now.
    if (!resent && handler && !handler.accepts(packet, from)) {
      options.onWarning(`ignored a message from ${packet.user}@${packet.host} (${from.address}:${from.port})`);
      return;
    }
    if (hasOpt(packet.command, IPMSG_SENDCHECKOPT) && !isBroadcastOrAutoReply(packet)) {
      link.reply(replyPacket(link.sender, link.next(), 'RECVMSG', packet.packetNo), from);
    }
    if (this.#recent.check(packet.packetNo, packet, from)) return;
    this.onAccepted?.(packet, from);
    if (hasOpt(packet.command, IPMSG_ENCRYPTOPT) && options.security) {
      // Decrypted once the acknowledgement has left: the RSA decryption would hold it back.
      options.clock.defer(() => void this.#onEncrypted(packet, from, now, handler));
      return;
    }
    const message = this.#checked({ packet, from, peer: link.peers.get(from), receivedAt: now }, false, 'none');
    if (handler) return handler.deliver(message);
    this.#unreceived(message);
  }

  /** A message acknowledged with no handler to take it (it was not refused): shown as a notice, with its mark. */
  #unreceived(message: ReceivedMessage): void {
    const p = message.packet;
    const notes = [hasOpt(p.command, IPMSG_SECRETOPT) ? 'sealed' : '', message.encrypted ? 'encrypted' : ''];
    if (message.signature === 'key-changed') notes.push(`not from the key pinned for it: known ${message.keys.known}, now ${message.keys.seen}`);
    if (message.signature === 'missing') notes.push(`not signed, although its user@host has key ${message.keys.known} pinned`);
    const shown = notes.filter(Boolean);
    this.#link.options.onNotice(
      `message from ${describePeer({ ...p, ...message.from })}${shown.length ? ` (${shown.join('; ')})` : ''} arrived while not receiving (use 'ipmsg recv'): ${JSON.stringify(p.text)}`,
    );
  }

  /** Marks an unsigned message from a sender with a pinned key ('missing'). */
  #checked(delivered: Delivered, encrypted: boolean, signature: SignatureStatus): ReceivedMessage {
    const known = signature === 'none' ? this.#link.options.security?.pinnedFingerprint(delivered.packet) : undefined;
    return known === undefined ? { ...delivered, encrypted, signature } : { ...delivered, encrypted, signature: 'missing', keys: { known } };
  }

  /**
   * Decrypts an ENCRYPTOPT message and checks its signature with the sender's key: the known one,
   * or, for a new sender, the one it gives us now (pinned). An undecryptable message is dropped (its
   * sender told); one from a sender whose key changed is delivered marked, never as if genuine.
   */
  async #onEncrypted(packet: SendMsgPacket, from: RemoteAddress, now: number, handler: MessageHandler | undefined): Promise<void> {
    const link = this.#link;
    const options = link.options;
    const security = options.security as Security;
    const who = `${packet.user}@${packet.host} (${from.address})`;
    const drop = (reason: string): void => {
      if (handler?.dropped) handler.dropped(packet, from, reason);
      else options.onNotice(`dropped a message from ${who}: ${reason}`);
    };
    const extended = hasOpt(packet.command, IPMSG_ENCEXTMSGOPT);
    // The body is base64, so the packet's charset says nothing: tell it from the plaintext, as for a plain packet.
    let textCharset = packet.charset;
    const charset = (plaintext: Uint8Array): Charset =>
      (textCharset = detectCharset([plaintext], hasOpt(packet.command, IPMSG_UTF8OPT), options.fallbackCharset));
    const open = (key: KeyObject | undefined) => security.decrypt(packet.text, packet.packetNoText ?? String(packet.packetNo), key, extended, charset);
    let known = security.knownKey(packet);
    let opened;
    let changed: KeyChange | undefined;
    try {
      opened = open(known);
      if (opened.signature === 'unknown-key' || opened.signature === 'bad') {
        // A new sender: ask for its key. A known one whose signature fails: did its key change?
        const learned = await this.#keys.learnKey(from, packet, true);
        changed = learned?.changed;
        if (learned && !changed && opened.signature === 'unknown-key') {
          known = learned.key;
          opened = open(known);
        }
      }
    } catch (error) {
      // The acknowledgement has gone already: tell the sender, whose client would otherwise show it
      // as delivered (the official does the same, recvdlg.cpp).
      link.reply(autoReplyPacket(link.sender, link.next(), DECRYPT_FAILED_REPLY), from);
      return drop((error as Error).message);
    }
    changed ??= security.namedChange(packet);
    const plain: SendMsgPacket = {
      ...packet,
      charset: textCharset,
      text: opened.text,
      ...(extended && opened.attachments ? { attachments: opened.attachments } : {}),
    };
    const delivered: Delivered = { packet: plain, from, peer: link.peers.get(from), receivedAt: now };
    const message: ReceivedMessage = changed
      ? { ...delivered, encrypted: true, signature: 'key-changed', keys: { known: changed.known, seen: changed.seen } }
      : this.#checked(delivered, true, opened.signature);
    if (handler) return handler.deliver(message);
    this.#unreceived(message);
  }

  /**
   * The read notice for a sealed message: READMSG, repeated every 750 ms up to 12 more times until
   * ANSREADMSG when the sender asked for it (READCHECKOPT, §4.2). Failures are only warnings.
   */
  async sendReadNotice(message: ReceivedMessage): Promise<void> {
    const link = this.#link;
    const readCheck = hasOpt(message.packet.command, IPMSG_READCHECKOPT);
    const packetNo = link.next();
    const packet = replyPacket(link.sender, packetNo, 'READMSG', message.packet.packetNo, readCheck);
    try {
      if (!readCheck) return await link.endpoint.send(packet, message.from);
      await link.exchanges.run({
        transmit: () => link.endpoint.send(packet, message.from),
        match: (p, from) => (p.kind === 'ANSREADMSG' && p.ref === packetNo && from.address === message.from.address ? true : undefined),
        interval: 750,
        tries: 13,
        failure: `No ANSREADMSG from ${message.from.address}`,
      });
    } catch (error) {
      link.options.onWarning(`read notice to ${message.from.address}: ${(error as Error).message}`);
    }
  }

  /** READMSG for a message we sent: ANSREADMSG when the reader asked for it. */
  onReadNotice(packet: ReplyPacket, from: RemoteAddress): void {
    const link = this.#link;
    if (hasOpt(packet.command, IPMSG_READCHECKOPT)) link.reply(replyPacket(link.sender, link.next(), 'ANSREADMSG', packet.packetNo), from);
    link.exchanges.offer(packet, from);
  }
}
