// src/messenger/host-list.ts
// Asking one peer for its host list (GETLIST → ANSLIST, paged, §3.4): the hosts it knows become
// peers of ours, marked with the address they were learned from, so names find them too.

import { IpmsgError } from '../errors.js';
import {
  IPMSG_ABSENCEOPT,
  COMMANDS,
  IPMSG_BR_EXIT,
  IPMSG_CAPFILEENCOPT,
  IPMSG_CAPUTF8OPT,
  IPMSG_ENCEXTMSGOPT,
  IPMSG_ENCRYPTOPT,
  IPMSG_FILEATTACHOPT,
  IPMSG_UTF8OPT,
  getMode,
  hasOpt,
  makeCommand,
} from '../protocol/command.js';
import { type HostListEntry, MAX_LIST_HOSTS, MAX_LIST_PAGES, nextListStart } from '../protocol/host-list.js';
import type { AnsListPacket, GetListPacket } from '../protocol/packet.js';
import { isIpv4 } from '../transport/broadcast.js';
import type { RemoteAddress } from '../transport/datagram.js';
import type { Link } from './link.js';
import { type RetryOptions, schedule } from './options.js';
import { type Peer, peerKey } from './peers.js';
import type { Destination } from './target.js';

export interface HostListResult {
  /** The hosts it listed (not us, not the ones it says have left), each once. */
  readonly peers: Peer[];
  /** Why the list may be incomplete (a page that never came, a malformed page, a bound reached). */
  readonly incomplete?: string;
}

/** A host of the list as a peer: what its status bits say, nothing of its client. */
export function peerFromListEntry(entry: HostListEntry, via: string, now: number): Peer {
  const s = entry.status;
  return {
    address: entry.address,
    port: entry.port,
    user: entry.user,
    host: entry.host,
    nick: entry.nick,
    group: entry.group,
    absent: hasOpt(s, IPMSG_ABSENCEOPT),
    capabilities: {
      utf8: hasOpt(s, IPMSG_CAPUTF8OPT),
      fileAttach: hasOpt(s, IPMSG_FILEATTACHOPT),
      encrypt: hasOpt(s, IPMSG_ENCRYPTOPT),
      encryptExt: hasOpt(s, IPMSG_ENCEXTMSGOPT),
      fileEncrypt: hasOpt(s, IPMSG_CAPFILEENCOPT),
    },
    client: undefined,
    version: '',
    seenAt: now,
    via,
  };
}

/** An IPv4 or IPv6 literal (node:net is not loaded for this: a plain send never needs it). */
function isAddress(text: string): boolean {
  return isIpv4(text) || (/^[0-9a-f:.]+(%[\w.-]+)?$/i.test(text) && text.includes(':') && text.length <= 64);
}

/** Status 0 or a BR_EXIT mode means "this host has left" (the official deletes it, §3.4). */
function isListed(entry: HostListEntry): boolean {
  return entry.status !== 0 && getMode(entry.status) !== IPMSG_BR_EXIT && isAddress(entry.address) && entry.port !== 0 && entry.user.length > 0;
}

export class HostListing {
  readonly #link: Link;
  readonly #isSelf: (at: RemoteAddress) => boolean;

  constructor(link: Link, isSelf: (at: RemoteAddress) => boolean) {
    this.#link = link;
    this.#isSelf = isSelf;
  }

  /**
   * GETLIST to `destination`, page after page while it says there is more (at most MAX_LIST_PAGES
   * pages and MAX_LIST_HOSTS hosts). The hosts go into the peer table unless we heard them ourselves.
   * @throws IpmsgError IPMSG_ERR_NO_ACK when the first page never comes (iptux has no host list)
   */
  async fetch(destination: Destination, options: RetryOptions): Promise<HostListResult> {
    const link = this.#link;
    const to = { address: destination.address, port: destination.port };
    const via = destination.port === link.options.port ? destination.address : `${destination.address}:${destination.port}`;
    const found = new Map<string, Peer>();
    let start = 0;
    for (let page = 0; ; page++) {
      if (page === MAX_LIST_PAGES) return { peers: [...found.values()], incomplete: `${destination.text} kept paging: stopped after ${MAX_LIST_PAGES} pages` };
      let answer: AnsListPacket;
      try {
        answer = await this.#page(destination, to, start, options);
      } catch (error) {
        if (page === 0 || !(error instanceof IpmsgError) || error.code !== 'IPMSG_ERR_NO_ACK') throw error;
        return { peers: [...found.values()], incomplete: error.message };
      }
      const list = answer.list;
      if (list === undefined) return { peers: [...found.values()], incomplete: `${destination.text} sent a malformed host list` };
      const now = link.options.clock.now();
      for (const entry of list.hosts) {
        if (!isListed(entry) || this.#isSelf(entry)) continue;
        if (found.size === MAX_LIST_HOSTS) return { peers: [...found.values()], incomplete: `${destination.text} listed more than ${MAX_LIST_HOSTS} hosts` };
        const peer = peerFromListEntry(entry, via, now);
        found.set(peerKey(peer), peer);
        const known = link.peers.get(peer);
        if (known === undefined || known.via !== undefined) link.peers.update(peer);
      }
      const next = nextListStart(start, list);
      if (next === undefined) return { peers: [...found.values()] };
      start = next;
    }
  }

  async #page(destination: Destination, to: RemoteAddress, start: number, options: RetryOptions): Promise<AnsListPacket> {
    const link = this.#link;
    const charset = link.charsets.choose(to).charset;
    const packet: GetListPacket = {
      version: '1',
      packetNo: link.next(),
      user: link.sender.identity.user,
      host: link.sender.identity.host,
      // CAPUTF8OPT: a peer that can answers in UTF-8 (§3.4).
      command: makeCommand(COMMANDS.IPMSG_GETLIST, IPMSG_CAPUTF8OPT | (charset === 'utf-8' ? IPMSG_UTF8OPT : 0)),
      charset,
      kind: 'GETLIST',
      start,
    };
    const result = await link.exchanges.run({
      transmit: () => link.endpoint.send(packet, to, { lossy: true }),
      // A late answer to the page before repeats the start we now ask for as its next: not ours.
      match: (p, from) => (p.kind === 'ANSLIST' && from.address === to.address && !(start > 0 && p.list?.next === start) ? p : undefined),
      ...schedule(options),
      failure: `No ANSLIST answer from ${destination.text}`,
      hint: link.portHint(),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return result.value;
  }
}
