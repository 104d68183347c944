// src/messenger/discovery.ts
// Who is on the LAN: BR_ENTRY to everybody or to one peer, collecting the answers, BR_EXIT to
// whoever we told, and asking one peer about itself (GETINFO, GETABSENCEINFO).

import { IPMSG_MULTICAST_GROUP, ipv6Interfaces } from '../transport/broadcast.js';
import type { RemoteAddress } from '../transport/datagram.js';
import { sleep } from '../transport/clock.js';
import type { BroadcastResult, Link } from './link.js';
import { type RetryOptions, schedule } from './options.js';
import { entryPacket, queryPacket } from './packets.js';
import { type Peer, identityKey } from './peers.js';
import type { Destination } from './target.js';

export interface DiscoverOptions {
  readonly wait: number;
  readonly count?: number;
  readonly until?: (found: ReadonlyMap<string, Peer>) => boolean;
  readonly signal?: AbortSignal;
  readonly onPeer?: (peer: Peer) => void;
}

/** A discovery longer than this sends a second BR_ENTRY, for lost datagrams. */
const REANNOUNCE_AFTER = 2000;
const REANNOUNCE_AT = 1000;

export class Discovery {
  readonly #link: Link;
  #announced = false;
  /** Peers told BR_ENTRY one by one (announceTo): they alone get BR_EXIT, unless we broadcast. */
  readonly #toldPeers: RemoteAddress[] = [];

  constructor(link: Link) {
    this.#link = link;
  }

  /** BR_ENTRY to one peer: iptux serves files only to peers it has heard an entry from (§15). */
  async announceTo(to: RemoteAddress): Promise<void> {
    this.#toldPeers.push(to);
    const link = this.#link;
    await link.endpoint.send(entryPacket(link.sender, link.next(), 'BR_ENTRY', false, link.charsets.choose(to).charset), to, { lossy: true });
  }

  /** Joins ff15::979 (§8) on every IPv6 interface, while the socket lives; refusals are only warnings. */
  joinGroup(): void {
    const link = this.#link;
    const socket = link.endpoint.socket;
    if (!socket.joinGroup || !link.families.includes('IPv6')) return;
    for (const name of ipv6Interfaces(link.options.interfaces, link.options.bind)) {
      try {
        socket.joinGroup(IPMSG_MULTICAST_GROUP, name);
      } catch (error) {
        link.options.onWarning(`cannot join ${IPMSG_MULTICAST_GROUP} on ${name}: ${(error as Error).message}`);
      }
    }
  }

  /** BR_ENTRY to the LAN; goodbye() will say BR_EXIT. How each broadcast target went. */
  async announce(): Promise<BroadcastResult[]> {
    this.#announced = true;
    const results = await this.#link.broadcast(entryPacket(this.#link.sender, this.#link.next(), 'BR_ENTRY'));
    for (const { address, error } of results) if (error) this.#link.options.onWarning(`broadcast to ${address}: ${error.message}`);
    return results;
  }

  /** BR_ABSENCE to the LAN after our absence changed, when we announced ourselves (receivers do not answer it). */
  async notifyAbsence(): Promise<void> {
    if (!this.#announced) return;
    const results = await this.#link.broadcast(entryPacket(this.#link.sender, this.#link.next(), 'BR_ABSENCE')).catch((error: unknown) => [{ address: 'LAN', error: error as Error }]);
    for (const { address, error } of results) if (error) this.#link.options.onWarning(`broadcast to ${address}: ${error.message}`);
  }

  /**
   * Announces itself and collects the peers that answer within `wait` ms; returns early once `count`
   * peers answered or `until` says so.
   */
  async discover(options: DiscoverOptions): Promise<Peer[]> {
    const clock = this.#link.options.clock;
    const found = new Map<string, Peer>();
    /** A peer heard over IPv4 and IPv6 counts once. */
    const identities = new Set<string>();
    const enough = new AbortController();
    const stopWatching = this.#link.peers.watch((peer) => {
      const key = `${peer.address}:${peer.port}`;
      const isNew = !found.has(key);
      found.set(key, peer);
      identities.add(identityKey(peer));
      if (isNew) options.onPeer?.(peer);
      if ((options.count !== undefined && identities.size >= options.count) || options.until?.(found)) enough.abort();
    });
    const signal = AbortSignal.any([enough.signal, ...(options.signal ? [options.signal] : [])]);
    try {
      await this.announce();
      const started = clock.now();
      if (options.wait > REANNOUNCE_AFTER) {
        await sleep(clock, REANNOUNCE_AT, signal);
        await this.announce();
      }
      const left = options.wait - (clock.now() - started);
      await sleep(clock, Math.max(0, left), signal);
    } catch (error) {
      if (options.signal?.aborted || !enough.signal.aborted) throw error;
    } finally {
      stopWatching();
    }
    return [...found.values()];
  }

  /**
   * GETINFO → SENDINFO or GETABSENCEINFO → SENDABSENCEINFO, retried like a message.
   * @throws IpmsgError IPMSG_ERR_NO_ACK
   */
  async query(destination: Destination, kind: 'GETINFO' | 'GETABSENCEINFO', options: RetryOptions): Promise<string> {
    const link = this.#link;
    const to = { address: destination.address, port: destination.port };
    const packet = queryPacket(link.sender, link.next(), kind);
    const answer = kind === 'GETINFO' ? 'SENDINFO' : 'SENDABSENCEINFO';
    const result = await link.exchanges.run({
      transmit: () => link.endpoint.send(packet, to),
      match: (p, from) => (p.kind === answer && from.address === to.address ? p.text : undefined),
      ...schedule(options),
      failure: `No ${answer} answer from ${destination.text}`,
      hint: link.portHint(),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return result.value;
  }

  /** BR_EXIT to whoever we announced ourselves to; never fails. */
  async goodbye(): Promise<void> {
    const link = this.#link;
    // No packet number is taken when there is nobody to say BR_EXIT to.
    if (this.#announced) await link.broadcast(entryPacket(link.sender, link.next(), 'BR_EXIT')).catch(() => undefined);
    else if (this.#toldPeers.length > 0) {
      const packetNo = link.next();
      await Promise.all(
        this.#toldPeers.map((to) => link.endpoint.send(entryPacket(link.sender, packetNo, 'BR_EXIT', false, link.charsets.choose(to).charset), to, { lossy: true }).catch(() => undefined)),
      );
    }
  }
}
