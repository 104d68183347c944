// src/protocol/host-list.ts
// The host list (§3.4, §16): the GETLIST body (a start index) and the ANSLIST body, "%5d\a%5d\a"
// then user\ahost\astatus\aaddress\aport\anick\agroup\a per host, and when to ask for the next page.

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

export interface HostListLimits {
  /** Most hosts in one ANSLIST (the official fills ~32 KiB: a few hundred). */
  readonly maxHosts: number;
  /** Longest field (name or address) in characters. */
  readonly maxField: number;
}

export const DEFAULT_HOST_LIST_LIMITS: HostListLimits = { maxHosts: 1000, maxField: 255 };

/** Bounds on one paged conversation: a peer cannot keep us asking, or make us hold, more than this. */
export const MAX_LIST_PAGES = 64;
export const MAX_LIST_HOSTS = 10_000;

// The official writes htons(port) as a decimal number: byte-swapped on x86, 2425 (0x0979) → 30985 (0x7909).
// (PROTOCOL.md §3.4 and §14 say 31001, which is 0x7919: a slip.)
export function swapPort(port: number): number {
  return ((port & 0xff) << 8) | ((port >> 8) & 0xff);
}

/** C's atol: leading blanks, a sign, digits up to the first other character; 0 without digits. */
export function atol(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  return m?.[1] === undefined ? 0 : Number(m[1].slice(0, 20));
}

/** The GETLIST body: the decimal start index; an empty or unreadable body means 0 (the official's atoi). */
export function decodeGetList(body: string): number {
  const start = atol(body);
  return Number.isSafeInteger(start) && start > 0 ? start : 0;
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

/** "%5d" or libipmsg's "%-5d": a whole non-negative number, blanks around it. */
function count(token: string | undefined): number | undefined {
  const t = token?.trim() ?? '';
  return /^\d{1,9}$/.test(t) ? Number(t) : undefined;
}

/**
 * Parses an ANSLIST body; undefined when it is malformed or over the limits. Empty fields between
 * separators are skipped like the official tokenizer does; the status is read with atol, so the
 * official's `<n>-<n>` (§16) is its first number.
 */
export function decodeHostList(body: string, limits: HostListLimits | number = DEFAULT_HOST_LIST_LIMITS): HostList | undefined {
  const { maxHosts, maxField } = typeof limits === 'number' ? { ...DEFAULT_HOST_LIST_LIMITS, maxHosts: limits } : limits;
  // Only as many tokens as the counts can use: 32 KiB of separators costs no more than the list it claims.
  const head = body.split(HOSTLIST_SEPARATOR, 3).filter((t) => t.length > 0);
  const next = count(head[0]);
  const hostCount = count(head[1]);
  if (next === undefined || hostCount === undefined || hostCount > maxHosts) return undefined;
  const tokens: string[] = [];
  const wanted = 2 + hostCount * FIELDS_PER_HOST;
  for (const t of body.split(HOSTLIST_SEPARATOR)) {
    if (t.length === 0) continue;
    if (tokens.length === wanted) break;
    tokens.push(t);
  }
  if (tokens.length < wanted) return undefined;
  const hosts: HostListEntry[] = [];
  const field = (t: string | undefined): string => (t === undefined || t === HOSTLIST_DUMMY ? '' : t);
  for (let i = 0; i < hostCount; i++) {
    const at = 2 + i * FIELDS_PER_HOST;
    const entry = tokens.slice(at, at + FIELDS_PER_HOST);
    if (entry.some((t) => t.length > maxField)) return undefined;
    const port = Number(tokens[at + 4]);
    if (!/^\d{1,5}$/.test(tokens[at + 4] ?? '') || port > 0xffff) return undefined;
    hosts.push({
      user: field(tokens[at]),
      host: field(tokens[at + 1]),
      status: atol(tokens[at + 2] ?? '') >>> 0,
      address: field(tokens[at + 3]),
      port: swapPort(port),
      nick: field(tokens[at + 5]),
      group: field(tokens[at + 6]),
    });
  }
  return { next, hosts };
}

/**
 * Where the GETLIST after the page asked at `asked` starts, or undefined when the list is complete.
 * Only a next index beyond the one asked continues: libipmsg writes the page's own start there
 * (§3.4), and a peer that repeats or goes back would keep us asking for ever.
 */
export function nextListStart(asked: number, page: HostList): number | undefined {
  if (page.next === 0 || page.hosts.length === 0 || page.next <= asked) return undefined;
  return page.next;
}
