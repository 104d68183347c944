// src/messenger/key-exchange.ts
// GETPUBKEY → ANSPUBKEY (§6.2) both ways: asking a peer for its key, answering peers that ask for
// ours, and learning (pinning) the key of a peer whose signature we must check.

import type { KeyObject } from 'node:crypto';
import { IpmsgError } from '../errors.js';
import { IPMSG_AUTORETOPT, hasOpt } from '../protocol/command.js';
import type { AnsPubKeyPacket, GetPubKeyPacket } from '../protocol/packet.js';
import type { RemoteAddress } from '../transport/datagram.js';
import type { RetryGroup } from '../transport/retry-group.js';
import { type Link, isNoAck } from './link.js';
import type { Schedule } from './options.js';
import { ansPubKeyPacket, getPubKeyPacket } from './packets.js';
import { peerKey } from './peers.js';
import type { KeyChange, PeerKey, Security } from './security.js';

/** How long a received message waits for its sender's key (for the signature). */
export const SENDER_KEY_WAIT = { tries: 3, interval: 300 };

/** A peer's key, and who it says it is. */
export type AnsweredKey = PeerKey & { readonly user: string; readonly host: string };

/** A key a peer gave us; `changed` when it is not the one pinned for it. */
export interface LearnedKey {
  readonly key: KeyObject;
  readonly changed: KeyChange | undefined;
}

export class KeyExchange {
  readonly #link: Link;
  /**
   * In-flight key requests by address and port: a burst of messages asks once. (By address alone,
   * a request still retrying towards a run that has exited would answer for the next run from that host.)
   */
  readonly #learning = new Map<string, Promise<LearnedKey | undefined>>();

  constructor(link: Link) {
    this.#link = link;
  }

  /**
   * GETPUBKEY → ANSPUBKEY: the peer's capability word and key, and who it says it is.
   * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE without keys, IPMSG_ERR_NO_ACK,
   *   IPMSG_ERR_KEY_MISMATCH (a key its user name contradicts)
   */
  publicKey(to: RemoteAddress, schedule: Schedule, autoReply = false): Promise<AnsweredKey> {
    const security = this.#link.options.security;
    if (!security) return Promise.reject(new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', 'Cannot ask for keys: no keys loaded'));
    return this.#ask(to, schedule, security.capa, autoReply, (p) => security.readAnswer(p.key, p));
  }

  /**
   * GETPUBKEY (with AUTORETOPT: not asked back) → ANSPUBKEY, asking with capability word `capa`:
   * the key as the peer shows it, neither checked against its user name nor pinned. Needs no keys
   * of ours: for looking only (the doctor).
   * @throws IpmsgError IPMSG_ERR_NO_ACK, IPMSG_ERR_DECODE (a key Node cannot use)
   */
  async showKey(to: RemoteAddress, schedule: Schedule, capa: number): Promise<AnsweredKey> {
    // Loaded here: node:crypto costs a keyless run start-up time.
    const { publicKeyFrom } = await import('../crypto/keys.js');
    return this.#ask(to, schedule, capa, true, (p) => ({ capa: p.key.capa, key: publicKeyFrom(p.key) }));
  }

  async #ask(to: RemoteAddress, schedule: Schedule, capa: number, autoReply: boolean, read: (answer: AnsPubKeyPacket) => PeerKey): Promise<AnsweredKey> {
    const link = this.#link;
    const packet = getPubKeyPacket(link.sender, link.next(), capa, autoReply);
    let refused: IpmsgError | undefined;
    try {
      const result = await link.exchanges.run({
        transmit: () => link.endpoint.send(packet, to),
        match: (p, from) => {
          if (p.kind !== 'ANSPUBKEY' || from.address !== to.address) return undefined;
          try {
            return { ...read(p), user: p.user, host: p.host };
          } catch (error) {
            refused ??= error instanceof IpmsgError ? error : new IpmsgError('IPMSG_ERR_DECODE', (error as Error).message);
            link.options.onWarning(`ignored an ANSPUBKEY from ${to.address}: ${(error as Error).message}`);
            return undefined;
          }
        },
        tries: schedule.tries,
        interval: schedule.interval,
        failure: `No public key (ANSPUBKEY) from ${to.address}`,
        hint: link.portHint(),
        ...(schedule.signal ? { signal: schedule.signal } : {}),
      });
      return result.value;
    } catch (error) {
      throw refused && isNoAck(error) ? refused : error;
    }
  }

  /** Key requests to many peers (one message to a fleet), one retry group per schedule; close() when done. */
  requests(): KeyRequests {
    return new KeyRequests(this.#link);
  }

  /** Answers GETPUBKEY with ANSPUBKEY; a signing requester whose key we lack is asked for it in turn (as the official does). */
  onGetPubKey(packet: GetPubKeyPacket, from: RemoteAddress): void {
    const link = this.#link;
    const security = link.options.security;
    if (!security) return;
    const key = security.answer(packet.capa, packet.user);
    if (key === undefined) return;
    if (!hasOpt(packet.command, IPMSG_AUTORETOPT) && !security.knownKey(packet)) void this.learnKey(from, packet, true);
    link.reply(ansPubKeyPacket(link.sender, link.next(), key), from);
  }

  /**
   * Asks a peer for its key and pins it (trust on first use). Resolves undefined when it does not
   * answer; a changed key is a warning and resolves the key it showed, flagged as changed.
   */
  learnKey(from: RemoteAddress, peer: { user: string; host: string }, autoReply: boolean): Promise<LearnedKey | undefined> {
    const at = `${from.address}:${from.port}`;
    const running = this.#learning.get(at);
    if (running) return running;
    const security = this.#link.options.security as Security;
    const learning = (async (): Promise<LearnedKey | undefined> => {
      try {
        const answer = await this.publicKey(from, SENDER_KEY_WAIT, autoReply);
        if (answer.user !== peer.user || answer.host !== peer.host) return undefined;
        return { key: answer.key, changed: await security.remember(answer, answer.key) };
      } catch (error) {
        if (!isNoAck(error)) this.#link.options.onWarning(`public key of ${from.address}: ${(error as Error).message}`);
        return undefined;
      } finally {
        this.#learning.delete(at);
      }
    })();
    this.#learning.set(at, learning);
    return learning;
  }
}

/** One schedule's requests: the peers asked, and the answers refused (a key its user name contradicts). */
interface Asking {
  readonly group: RetryGroup<AnsweredKey>;
  readonly asked: Set<string>;
  readonly refused: Map<string, IpmsgError>;
}

/**
 * GETPUBKEY → ANSPUBKEY to many peers at once, as KeyExchange.publicKey asks one: the requests of
 * one schedule share a retry group (one timer), and each ANSPUBKEY is read once, not once per
 * pending request.
 */
export class KeyRequests {
  readonly #link: Link;
  readonly #bySchedule = new Map<string, Asking>();

  constructor(link: Link) {
    this.#link = link;
  }

  /**
   * The peer's capability word and key, and who it says it is.
   * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE without keys, IPMSG_ERR_NO_ACK, IPMSG_ERR_KEY_MISMATCH
   */
  async publicKey(to: RemoteAddress, schedule: Schedule): Promise<AnsweredKey> {
    const link = this.#link;
    const security = link.options.security;
    if (!security) throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', 'Cannot ask for keys: no keys loaded');
    const asking = this.#asking(schedule);
    asking.asked.add(to.address);
    const packet = getPubKeyPacket(link.sender, link.next(), security.capa, false);
    try {
      const result = await asking.group.add([peerKey(to), to.address], { transmit: () => link.endpoint.send(packet, to), failure: `No public key (ANSPUBKEY) from ${to.address}` });
      return result.value;
    } catch (error) {
      const refused = asking.refused.get(to.address);
      throw refused && isNoAck(error) ? refused : error;
    }
  }

  close(): void {
    for (const { group } of this.#bySchedule.values()) group.close();
    this.#bySchedule.clear();
  }

  #asking(schedule: Schedule): Asking {
    const id = `${schedule.tries}/${schedule.interval}`;
    const existing = this.#bySchedule.get(id);
    if (existing) return existing;
    const link = this.#link;
    const security = link.options.security as Security;
    const asked = new Set<string>();
    const refused = new Map<string, IpmsgError>();
    const group = link.exchanges.group<AnsweredKey>({
      identify: (p, from) => {
        if (p.kind !== 'ANSPUBKEY' || !asked.has(from.address)) return undefined;
        try {
          return { keys: [peerKey(from), from.address], value: { ...security.readAnswer(p.key, p), user: p.user, host: p.host } };
        } catch (error) {
          if (!refused.has(from.address)) refused.set(from.address, error as IpmsgError);
          link.options.onWarning(`ignored an ANSPUBKEY from ${from.address}: ${(error as Error).message}`);
          return undefined;
        }
      },
      tries: schedule.tries,
      interval: schedule.interval,
      hint: link.portHint(),
      ...(schedule.signal ? { signal: schedule.signal } : {}),
    });
    const asking = { group, asked, refused };
    this.#bySchedule.set(id, asking);
    return asking;
  }
}
