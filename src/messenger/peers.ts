// src/messenger/peers.ts
// What we know of the other hosts, learnt from their entry packets.

import { parseFingerprintName } from '../protocol/user-name.js';
import {
  IPMSG_ABSENCEOPT,
  IPMSG_CAPFILEENCOPT,
  IPMSG_CAPUTF8OPT,
  IPMSG_ENCEXTMSGOPT,
  IPMSG_ENCRYPTOPT,
  IPMSG_FILEATTACHOPT,
  hasOpt,
} from '../protocol/command.js';
import { describeClient } from '../protocol/entry.js';
import type { EntryPacket } from '../protocol/packet.js';
import { compareAddresses, formatEndpoint, isLinkLocalIpv6 } from '../transport/address.js';
import type { RemoteAddress } from '../transport/datagram.js';

export interface Peer {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly host: string;
  readonly nick: string;
  readonly group: string;
  readonly absent: boolean;
  readonly capabilities: {
    readonly utf8: boolean;
    readonly fileAttach: boolean;
    readonly encrypt: boolean;
    /** Reads attachment lists inside the ciphertext (ENCEXTMSGOPT, §6.4). */
    readonly encryptExt: boolean;
    /** Takes encrypted, signed file requests and encrypts file streams (CAPFILEENCOPT, §5.6). */
    readonly fileEncrypt: boolean;
  };
  /** e.g. "IP Messenger Win64 4.99r3", "iptux 0.8.3"; undefined when the peer does not say. */
  readonly client: string | undefined;
  /** The version field exactly as sent. */
  readonly version: string;
  /** When we last heard from it (clock ms). */
  readonly seenAt: number;
  /** Learned from this peer's host list (`address` or `address:port`), not heard ourselves. */
  readonly via?: string;
}

export function peerKey(from: RemoteAddress): string {
  return `${from.address}:${from.port}`;
}

export function describePeer(peer: Pick<Peer, 'user' | 'host' | 'address' | 'port'>): string {
  return `${peer.user}@${peer.host} (${formatEndpoint(peer.address, peer.port)})`;
}

/** Which of a peer's addresses to use: IPv4, then IPv6 that is not link-local, then link-local. */
function preference(peer: Peer): number {
  return peer.address.includes(':') ? (isLinkLocalIpv6(peer.address) ? 2 : 1) : 0;
}

/** The same peer heard over several addresses (both families): user, host and port agree. */
export function identityKey(peer: Pick<Peer, 'user' | 'host' | 'port'>): string {
  return `${peer.user.toLowerCase()}@${peer.host.toLowerCase()}:${peer.port}`;
}

/** One peer per identity, its preferred address first, with every address it answered from. */
export interface PeerAddresses {
  readonly peer: Peer;
  readonly addresses: readonly string[];
}

/** Groups the entries of one peer heard over several addresses (IPv4 and IPv6, §8). */
export function groupPeers(peers: readonly Peer[]): PeerAddresses[] {
  const groups = new Map<string, Peer[]>();
  for (const peer of peers) {
    const key = identityKey(peer);
    const group = groups.get(key);
    if (group) group.push(peer);
    else groups.set(key, [peer]);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => preference(a) - preference(b) || compareAddresses(a.address, b.address));
    const peer = sorted[0] as Peer;
    return { peer, addresses: sorted.map((p) => p.address) };
  });
}

/**
 * A peer from its entry packet. The UTF-8 extension lines override the legacy names when the packet
 * has CAPUTF8OPT (§2.2 step 9); iptux sets ABSENCEOPT on every entry, so it means nothing there (§15).
 */
export function peerFromEntry(packet: EntryPacket, from: RemoteAddress, now: number): Peer {
  const { entry, command } = packet;
  const ext = hasOpt(command, IPMSG_CAPUTF8OPT) ? entry.ext : undefined;
  const client = describeClient(packet.version, entry.ext?.VS);
  const isIptux = entry.iptux !== undefined || packet.version.includes('iptux');
  return {
    address: from.address,
    port: from.port,
    user: ext?.UN || packet.user,
    host: ext?.HN || packet.host,
    nick: ext?.NN || entry.nick,
    group: ext?.GN || entry.group,
    absent: hasOpt(command, IPMSG_ABSENCEOPT) && !isIptux,
    capabilities: {
      utf8: hasOpt(command, IPMSG_CAPUTF8OPT),
      fileAttach: hasOpt(command, IPMSG_FILEATTACHOPT),
      encrypt: hasOpt(command, IPMSG_ENCRYPTOPT),
      encryptExt: hasOpt(command, IPMSG_ENCEXTMSGOPT),
      fileEncrypt: hasOpt(command, IPMSG_CAPFILEENCOPT),
    },
    client,
    version: packet.version,
    seenAt: now,
  };
}

/**
 * Peers kept at most (as many as one message may go to): a hostile LAN can answer from any number
 * of ports and names; beyond, the one heard from longest ago is forgotten.
 */
export const PEER_LIMIT = 10_000;

export class PeerTable {
  readonly #peers = new Map<string, Peer>();
  readonly #listeners = new Set<(peer: Peer) => void>();
  readonly #limit: number;

  constructor(limit = PEER_LIMIT) {
    this.#limit = Math.max(1, limit);
  }

  update(peer: Peer): void {
    const key = peerKey(peer);
    // Kept in the order last heard from: the first is the one to forget.
    this.#peers.delete(key);
    this.#peers.set(key, peer);
    if (this.#peers.size > this.#limit) this.#peers.delete(this.#peers.keys().next().value as string);
    for (const listener of this.#listeners) listener(peer);
  }

  remove(from: RemoteAddress): void {
    this.#peers.delete(peerKey(from));
  }

  get(from: RemoteAddress): Peer | undefined {
    return this.#peers.get(peerKey(from));
  }

  all(): Peer[] {
    return [...this.#peers.values()];
  }

  get size(): number {
    return this.#peers.size;
  }

  /** Calls `listener` for every entry seen from now on; returns the function that stops it. */
  watch(listener: (peer: Peer) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Peers a name designates: `user@host`, or a user, nick or host name (case-insensitive, as the
   * official compares names). One peer seen on several addresses counts once.
   */
  match(name: string): Peer[] {
    const wanted = name.toLowerCase();
    const at = wanted.indexOf('@');
    const hits = this.all().filter((p) => {
      // A user name with a key fingerprint (`alice-<…>`, §6.6) also answers to its base name.
      const base = parseFingerprintName(p.user)?.base;
      const users = base === undefined ? [p.user] : [p.user, base];
      if (at > 0) return users.some((u) => u.toLowerCase() === wanted.slice(0, at)) && p.host.toLowerCase() === wanted.slice(at + 1);
      return [...users, p.nick, p.host].some((n) => n.toLowerCase() === wanted);
    });
    const byIdentity = new Map<string, Peer>();
    for (const peer of hits) {
      const id = `${peer.user.toLowerCase()}@${peer.host.toLowerCase()}`;
      const known = byIdentity.get(id);
      if (!known || preference(peer) < preference(known)) byIdentity.set(id, peer);
    }
    return [...byIdentity.values()];
  }
}
