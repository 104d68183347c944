// src/messenger/resolve.ts
// Turns targets into addresses: IPv4 directly, names by discovery on the LAN (ambiguity is an error
// that lists the candidates) or by the system resolver.

import { createRequire } from 'node:module';
import { IpmsgError } from '../errors.js';
import type { Timer } from '../transport/clock.js';
import { ipv4ToInt } from '../transport/broadcast.js';
import type { Messenger } from './index.js';
import { type Peer, describePeer } from './peers.js';
import type { Destination, TargetSpec } from './target.js';

export type HostLookup = (name: string) => Promise<string | undefined>;

/** Grace period after every name matched, so that a second peer of the same name can answer. */
const AMBIGUITY_GRACE_MS = 1000;
const LOOKUP_TIMEOUT_MS = 3000;

export const systemLookup: HostLookup = async (name) => {
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), LOOKUP_TIMEOUT_MS).unref());
  // Loaded only when a name is looked up: node:dns costs a millisecond or two at start-up.
  const { lookup } = createRequire(import.meta.url)('node:dns') as typeof import('node:dns');
  const answer = new Promise<string | undefined>((resolve) => {
    lookup(name, { family: 4 }, (error, address) => resolve(error ? undefined : address));
  });
  return Promise.race([answer, timeout]);
};

/** For --no-dns: names are found only on the LAN. */
export const noLookup: HostLookup = () => Promise.resolve(undefined);

/** Dotted names and localhost are DNS names first; single words are IPMsg names first. */
function looksLikeHostName(name: string): boolean {
  return name.includes('.') || name.toLowerCase() === 'localhost';
}

export interface ResolveOptions {
  /** Longest discovery wait. */
  readonly wait: number;
  readonly lookup?: HostLookup;
  readonly signal?: AbortSignal;
}

/**
 * @throws IpmsgError IPMSG_ERR_UNKNOWN_TARGET, IPMSG_ERR_AMBIGUOUS_TARGET
 */
export async function resolveTargets(
  messenger: Messenger,
  specs: readonly TargetSpec[],
  defaultPort: number,
  options: ResolveOptions,
): Promise<Destination[]> {
  const resolveHost = options.lookup ?? systemLookup;
  const byDns = new Map<string, string>();
  for (const spec of specs) {
    if (spec.kind !== 'name' || !looksLikeHostName(spec.name)) continue;
    const address = await resolveHost(spec.name);
    if (address !== undefined) byDns.set(spec.name, address);
  }
  const names = specs.flatMap((s) => (s.kind === 'name' && !byDns.has(s.name) ? [s.name] : []));
  if (names.length > 0) {
    let graceTimer: Timer | undefined;
    const grace = new AbortController();
    const signals = [grace.signal, ...(options.signal ? [options.signal] : [])];
    try {
      await messenger.discover({
        wait: options.wait,
        signal: AbortSignal.any(signals),
        until: () => {
          if (!graceTimer && names.every((n) => messenger.peers.match(n).length > 0)) {
            graceTimer = messenger.clock.after(AMBIGUITY_GRACE_MS, () => grace.abort());
          }
          return false;
        },
      });
    } catch (error) {
      if (!grace.signal.aborted || options.signal?.aborted) throw error;
    } finally {
      graceTimer?.cancel();
    }
  }
  const out: Destination[] = [];
  for (const spec of specs) {
    if (spec.kind === 'address') {
      out.push({ text: spec.text, address: spec.address, port: spec.port });
      continue;
    }
    const dns = byDns.get(spec.name);
    if (dns !== undefined) {
      out.push({ text: spec.text, address: dns, port: spec.port ?? defaultPort });
      continue;
    }
    out.push(await fromDiscovery(messenger.peers.match(spec.name), spec, defaultPort, resolveHost, options.wait));
  }
  return out;
}

async function fromDiscovery(
  matches: Peer[],
  spec: Extract<TargetSpec, { kind: 'name' }>,
  defaultPort: number,
  resolveHost: HostLookup,
  wait: number,
): Promise<Destination> {
  const [only, ...others] = matches;
  if (only && others.length === 0) {
    return { text: spec.text, address: only.address, port: spec.port ?? only.port, label: `${only.user}@${only.host}` };
  }
  if (only) {
    const list = [...matches]
      .sort((a, b) => (ipv4ToInt(a.address) ?? 0) - (ipv4ToInt(b.address) ?? 0) || a.port - b.port)
      .map(describePeer)
      .join(', ');
    throw new IpmsgError(
      'IPMSG_ERR_AMBIGUOUS_TARGET',
      `${JSON.stringify(spec.name)} matches ${matches.length} peers: ${list}; name one by address or user@host`,
    );
  }
  if (!looksLikeHostName(spec.name)) {
    const address = await resolveHost(spec.name);
    if (address !== undefined) return { text: spec.text, address, port: spec.port ?? defaultPort };
  }
  throw new IpmsgError(
    'IPMSG_ERR_UNKNOWN_TARGET',
    `Unknown target ${JSON.stringify(spec.name)}: no peer of that user, nick or host name answered within ${wait / 1000}s, and it is not a host name; try 'ipmsg list' or an IP address`,
  );
}
