// src/messenger/charsets.ts
// The charset each peer is sent (§7): learnt from its entries in this run, or remembered from an
// earlier one through the injected PeerCharsets store.

import { type Charset, isAscii } from '../encoding/charset.js';
import { IPMSG_UTF8OPT, hasOpt } from '../protocol/command.js';
import type { EntryPacket, SendMsgPacket } from '../protocol/packet.js';
import { type CharsetChoice, type PeerReads, chooseCharset, dialectCharset, peerReads } from '../protocol/peer-charset.js';
import type { RemoteAddress } from '../transport/datagram.js';
import type { MessengerOptions } from './options.js';
import { peerKey } from './peers.js';

export class Charsets {
  readonly #forced: Charset | undefined;
  readonly #legacy: Charset;
  readonly #memory: MessengerOptions['peerCharsets'];
  /** What entries said in this run: they win over the memory. */
  readonly #heard = new Map<string, PeerReads>();

  constructor(options: Pick<MessengerOptions, 'charset' | 'fallbackCharset' | 'peerCharsets'>) {
    this.#forced = options.charset;
    this.#legacy = options.fallbackCharset;
    this.#memory = options.peerCharsets;
  }

  /** Notes what an entry packet from `from` says the peer reads (and remembers it for later runs). */
  learn(packet: EntryPacket, from: RemoteAddress): void {
    const reads = peerReads(packet.command, packet.version, packet.entry);
    const key = peerKey(from);
    this.#heard.set(key, reads);
    this.#memory?.set(key, reads);
  }

  /**
   * What a message says of a peer whose entry we have not heard in this run: UTF8OPT means it
   * reads UTF-8; unflagged text that is not UTF-8 means a legacy-only client (the official sends
   * UTF-8 to us, since we announce CAPUTF8OPT). Unflagged UTF-8 or ASCII says nothing.
   * iptux is the exception, entry or not: it writes to an address in the code page it took from
   * the last message it got from there, and reads that address's next message in that code page
   * first (§15; UTF-8 Chinese after a GBK message turns into GB18030 mojibake), until an entry
   * from there resets it. So its non-ASCII text tells what it reads us in now.
   */
  learnFromMessage(packet: SendMsgPacket, from: RemoteAddress): void {
    const key = peerKey(from);
    if (packet.version.includes('iptux')) {
      if (isAscii(packet.text) && (packet.attachments ?? []).every((a) => isAscii(a.name))) return;
      const reads: PeerReads = { kind: 'iptux', charset: packet.charset };
      this.#heard.set(key, reads);
      this.#memory?.set(key, reads);
      return;
    }
    if (this.#heard.has(key)) return;
    let reads: PeerReads;
    if (hasOpt(packet.command, IPMSG_UTF8OPT)) reads = { kind: 'utf8' };
    else if (packet.charset !== 'utf-8') {
      const dialect = dialectCharset(packet.version);
      reads = dialect ? { kind: 'dialect', charset: dialect } : { kind: 'legacy' };
    } else return;
    this.#heard.set(key, reads);
    this.#memory?.set(key, reads);
  }

  /** The charset to send `to` in, and why. */
  choose(to: RemoteAddress): CharsetChoice {
    if (this.#forced !== undefined) return chooseCharset(this.#forced, undefined, this.#legacy);
    const key = peerKey(to);
    return chooseCharset(undefined, this.#heard.get(key) ?? this.#memory?.get(key), this.#legacy);
  }

  /** Writes what was learnt to the store (at close). */
  flush(): void {
    this.#memory?.flush();
  }
}
