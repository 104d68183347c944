// src/messenger/target.ts
// What a user may name as a target: an IPv4 address, ADDR:PORT, an IPv6 address (bare, scoped as
// fe80::1%eth0, or [ADDR]:PORT), a host name, or a user/nick/host name seen on the LAN (optionally
// user@host), each optionally with :PORT.

import { IpmsgError } from '../errors.js';
import { familyOf, unmapped } from '../transport/address.js';

export type TargetSpec =
  | { readonly kind: 'address'; readonly text: string; readonly address: string; readonly port: number }
  | { readonly kind: 'name'; readonly text: string; readonly name: string; readonly port: number | undefined };

/** A resolved target: where to send, and how the user named it. */
export interface Destination {
  readonly text: string;
  readonly address: string;
  readonly port: number;
  /** user@host when the peer is known. */
  readonly label?: string;
}

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function ipv6Target(trimmed: string, text: string, defaultPort: number): TargetSpec {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(trimmed);
  const literal = bracketed ? (bracketed[1] ?? '') : trimmed;
  let port = defaultPort;
  if (bracketed?.[2] !== undefined) {
    const parsed = parsePort(bracketed[2]);
    if (parsed === undefined) throw new IpmsgError('IPMSG_ERR_USAGE', `Invalid port in target ${JSON.stringify(text)}`);
    port = parsed;
  }
  if (familyOf(literal) !== 'IPv6') throw new IpmsgError('IPMSG_ERR_USAGE', `Invalid IPv6 address in target ${JSON.stringify(text)}`);
  return { kind: 'address', text: trimmed, address: unmapped(literal), port };
}

/**
 * @throws IpmsgError IPMSG_ERR_USAGE for an empty target, a bad port or a malformed IPv6 literal
 */
export function parseTarget(text: string, defaultPort: number): TargetSpec {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new IpmsgError('IPMSG_ERR_USAGE', 'Empty target');
  // Names hold no ':' and no '[': two colons or a bracket can only be an IPv6 literal.
  if (trimmed.startsWith('[') || trimmed.indexOf(':') !== trimmed.lastIndexOf(':')) return ipv6Target(trimmed, text, defaultPort);
  const colon = trimmed.lastIndexOf(':');
  let base = trimmed;
  let port: number | undefined;
  if (colon >= 0) {
    port = parsePort(trimmed.slice(colon + 1));
    if (port === undefined) throw new IpmsgError('IPMSG_ERR_USAGE', `Invalid port in target ${JSON.stringify(text)}`);
    base = trimmed.slice(0, colon);
    // ':2425' would be the name '', which matches every peer with an empty nickname
    if (base.length === 0) throw new IpmsgError('IPMSG_ERR_USAGE', `Empty target name in ${JSON.stringify(text)}`);
  }
  if (familyOf(base) === 'IPv4') return { kind: 'address', text: trimmed, address: base, port: port ?? defaultPort };
  return { kind: 'name', text: trimmed, name: base, port };
}

/** Most targets one message goes to: each is a pending exchange and a line of output. */
export const MAX_TARGETS = 10_000;

/** @throws IpmsgError IPMSG_ERR_USAGE beyond MAX_TARGETS */
export function checkTargetCount(count: number): void {
  if (count > MAX_TARGETS) throw new IpmsgError('IPMSG_ERR_USAGE', `Too many targets: ${count} (one send takes at most ${MAX_TARGETS})`);
}

/** Splits comma-separated target lists (`--to a,b --to c`). */
export function splitTargets(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}
