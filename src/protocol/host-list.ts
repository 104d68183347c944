// src/protocol/host-list.ts
// The ANSLIST body (§3.4): "%5d\a%5d\a" then user\ahost\astatus\aaddress\aport\anick\agroup\a per host.

import { HOSTLIST_DUMMY, HOSTLIST_SEPARATOR } from './command.js';

export interface HostListEntry {
  readonly user: string;
  readonly host: string;
  /** The host's option bits (GET_OPT(cmd) & IPMSG_ALLSTAT); 0 means "delete this host". */
  readonly status: number;
  readonly address: string;
  readonly port: number;
  readonly nick: string;
  readonly group: string;
}

export interface HostList {
  /** Start index of the next page; 0 when the list is complete (official meaning). */
  readonly next: number;
  readonly hosts: readonly HostListEntry[];
}

// The official writes htons(port) as a decimal number: byte-swapped on x86, 2425 (0x0979) → 30985 (0x7909).
// (PROTOCOL.md §3.4 and §14 say 31001, which is 0x7919: a slip.)
export function swapPort(port: number): number {
  return ((port & 0xff) << 8) | ((port >> 8) & 0xff);
}

const FIELDS_PER_HOST = 7;

export function encodeHostList(list: HostList): string {
  const sep = HOSTLIST_SEPARATOR;
  let out = `${String(list.next).padStart(5)}${sep}${String(list.hosts.length).padStart(5)}${sep}`;
  for (const h of list.hosts) {
    const fields = [h.user, h.host, String(h.status >>> 0), h.address, String(swapPort(h.port)), h.nick, h.group];
    for (const field of fields) out += (field.length === 0 ? HOSTLIST_DUMMY : field) + sep;
  }
  return out;
}

/** Parses an ANSLIST body; undefined when it is malformed. Empty fields between separators are skipped like the official tokenizer does. */
export function decodeHostList(body: string, maxHosts = 1000): HostList | undefined {
  const tokens = body.split(HOSTLIST_SEPARATOR).filter((t) => t.length > 0);
  const next = Number(tokens[0]?.trim());
  const count = Number(tokens[1]?.trim());
  if (!Number.isInteger(next) || !Number.isInteger(count) || next < 0 || count < 0 || count > maxHosts) return undefined;
  if (tokens.length < 2 + count * FIELDS_PER_HOST) return undefined;
  const hosts: HostListEntry[] = [];
  const field = (t: string | undefined): string => (t === undefined || t === HOSTLIST_DUMMY ? '' : t);
  for (let i = 0; i < count; i++) {
    const at = 2 + i * FIELDS_PER_HOST;
    const status = Number(tokens[at + 2]);
    const port = Number(tokens[at + 4]);
    if (!Number.isInteger(status) || !Number.isInteger(port) || port < 0 || port > 0xffff) return undefined;
    hosts.push({
      user: field(tokens[at]),
      host: field(tokens[at + 1]),
      status: status >>> 0,
      address: field(tokens[at + 3]),
      port: swapPort(port),
      nick: field(tokens[at + 5]),
      group: field(tokens[at + 6]),
    });
  }
  return { next, hosts };
}
