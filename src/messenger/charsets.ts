// src/messenger/charsets.ts
// The charset each peer is sent (§7): learnt from its entries in this run, or remembered from an
// earlier one through the injected PeerCharsets store.

import type { Charset } from '../encoding/charset.js';
import type { EntryPacket } from '../protocol/packet.js';
import { type CharsetChoice, type PeerReads, chooseCharset, peerReads } from '../protocol/peer-charset.js';
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
