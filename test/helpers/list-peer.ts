// test/helpers/list-peer.ts
// A peer that answers GETLIST with pages of a host list, as the official does (§3.4, §16), or as a
// hostile peer might: `page` decides what each answer holds.

import { COMMANDS } from '../../src/protocol/command.js';
import { type HostList, type HostListEntry, encodeHostList } from '../../src/protocol/host-list.js';
import { decodePacket, encodePacket } from '../../src/protocol/packet.js';
import { asPacketNo } from '../../src/protocol/packet-no.js';
import type { RemoteAddress } from '../../src/transport/datagram.js';

export interface ListSocket {
  send(bytes: Uint8Array, to: RemoteAddress): Promise<void>;
  onMessage(handler: (bytes: Uint8Array, from: RemoteAddress) => void): void;
}

/** Hosts named host0, host1, … at 10.1.<i/250>.<i%250+1>:2425. */
export function manyHosts(count: number, prefix = '10.1'): HostListEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    user: `user${i}`,
    host: `host${i}`,
    status: 0x01200000,
    address: `${prefix}.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    port: 2425,
    nick: `Nick ${i}`,
    group: '',
  }));
}

/** The official's paging: `size` hosts from `start`, next = the index after them or 0. */
export function pagesOf(hosts: readonly HostListEntry[], size: number): (start: number) => HostList {
  return (start) => {
    const page = hosts.slice(start, start + size);
    const next = start + size < hosts.length ? start + size : 0;
    return { next, hosts: page };
  };
}

/** Answers every GETLIST on `socket` with ANSLIST `page(start)` (or the raw text `page` returns); returns the starts asked. */
export function answerGetList(socket: ListSocket, page: (start: number) => HostList | string): number[] {
  const asked: number[] = [];
  let packetNo = 1;
  socket.onMessage((bytes, from) => {
    let packet;
    try {
      packet = decodePacket(bytes, { fallbackCharset: 'utf-8' });
    } catch {
      return;
    }
    if (packet.kind !== 'GETLIST') return;
    asked.push(packet.start);
    const answer = page(packet.start);
    const text = typeof answer === 'string' ? answer : encodeHostList(answer);
    const reply = encodePacket({ version: '1', packetNo: asPacketNo(packetNo++), user: 'lister', host: 'LISTHOST', command: COMMANDS.IPMSG_ANSLIST, charset: 'utf-8', kind: 'ANSLIST', text, list: undefined });
    void socket.send(reply, from);
  });
  return asked;
}
