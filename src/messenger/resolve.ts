// src/messenger/resolve.ts
// Turns targets into addresses: IPv4 directly, names by discovery on the LAN (ambiguity is an error
// that lists the candidates) or by the system resolver.

import { createRequire } from 'node:module';
import { IpmsgError } from '../errors.js';
import { type Clock, type Timer, sleep } from '../transport/clock.js';
import { type Family, compareAddresses, familyOf } from '../transport/address.js';
import type { DiscoverOptions } from './discovery.js';
import { type Peer, type PeerTable, describePeer } from './peers.js';
import type { Destination, TargetSpec } from './target.js';

export type HostLookup = (name: string) => Promise<string | undefined>;

/** What resolving names needs of a Messenger: its peer table and a discovery round. */
export interface PeerDirectory {
  readonly peers: Pick<PeerTable, 'match'>;
  /** The families its socket speaks: host names are looked up for those. */
  readonly families?: readonly Family[];
  discover(options: DiscoverOptions): Promise<unknown>;
}

/** Grace period after every name matched, so that a second peer of the same name can answer. */
export const AMBIGUITY_GRACE_MS = 1000;
/** A host lookup that has not answered by then counts as "not a host name". */
export const LOOKUP_TIMEOUT_MS = 3000;

/** The system resolver, for addresses of the families the socket speaks (both when undefined). */
export function systemLookupFor(families?: readonly Family[]): HostLookup {
  const family = families?.length === 1 ? (families[0] === 'IPv4' ? 4 : 6) : 0;
  return async (name) => {
    // Loaded only when a name is looked up: most runs never need node:dns.
    const { lookup } = createRequire(import.meta.url)('node:dns') as typeof import('node:dns');
    return new Promise<string | undefined>((resolve) => {
      lookup(name, { family }, (error, address) => resolve(error ? undefined : address));
    });
  };
}

/** `lookup(name)`, or undefined once LOOKUP_TIMEOUT_MS have passed on `clock`. */
async function lookupWithin(lookup: HostLookup, name: string, clock: Clock): Promise<string | undefined> {
  const answered = new AbortController();
  const timeout = sleep(clock, LOOKUP_TIMEOUT_MS, answered.signal).then(
    () => undefined,
    () => undefined,
  );
  try {
    return await Promise.race([lookup(name), timeout]);
  } finally {
    answered.abort();
  }
}

/** For --no-dns: names are found only on the LAN. */
export const noLookup: HostLookup = () => Promise.resolve(undefined);

/** Dotted names and localhost are DNS names first; single words are IPMsg names first. */
function looksLikeHostName(name: string): boolean {
  return name.includes('.') || name.toLowerCase() === 'localhost';
}

export interface ResolveOptions {
  /** Longest discovery wait. */
  readonly wait: number;
  /** Times the ambiguity grace and the host lookups: the clock the messenger runs on. */
  readonly clock: Clock;
  readonly lookup?: HostLookup;
  readonly signal?: AbortSignal;
}

/**
 * @throws IpmsgError IPMSG_ERR_UNKNOWN_TARGET, IPMSG_ERR_AMBIGUOUS_TARGET, IPMSG_ERR_USAGE
 */
export async function resolveTargets(
  messenger: PeerDirectory,
  specs: readonly TargetSpec[],
  defaultPort: number,
  options: ResolveOptions,
): Promise<Destination[]> {
  const lookup = options.lookup ?? systemLookupFor(messenger.families);
  const resolveHost: HostLookup = (name) => lookupWithin(lookup, name, options.clock);
  const byDns = new Map<string, string>();
  const hostNames = new Set(specs.flatMap((s) => (s.kind === 'name' && looksLikeHostName(s.name) ? [s.name] : [])));
  await eachAtMost([...hostNames], LOOKUPS_AT_ONCE, async (name) => {
    const address = await resolveHost(name);
    if (address !== undefined) byDns.set(name, address);
  });
  // Names still unmatched: each packet discovery brings is checked against these only.
  const unmatched = new Set(specs.flatMap((s) => (s.kind === 'name' && !byDns.has(s.name) ? [s.name] : [])));
  if (unmatched.size > 0) {
    let graceTimer: Timer | undefined;
    const grace = new AbortController();
    const signals = [grace.signal, ...(options.signal ? [options.signal] : [])];
    try {
      await messenger.discover({
        wait: options.wait,
        signal: AbortSignal.any(signals),
        until: () => {
          for (const name of unmatched) {
            if (messenger.peers.match(name).length === 0) break;
            unmatched.delete(name);
          }
          if (!graceTimer && unmatched.size === 0) {
            graceTimer = options.clock.after(AMBIGUITY_GRACE_MS, () => grace.abort());
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
  const found: (Destination | { readonly error: unknown })[] = new Array(specs.length);
  const discovered: number[] = [];
  specs.forEach((spec, i) => {
    if (spec.kind === 'address') found[i] = { text: spec.text, address: spec.address, port: spec.port };
    else if (byDns.has(spec.name)) found[i] = { text: spec.text, address: byDns.get(spec.name) as string, port: spec.port ?? defaultPort };
    else discovered.push(i);
  });
  // Names the LAN did not answer may still be host names: those lookups run side by side.
  await eachAtMost(discovered, LOOKUPS_AT_ONCE, async (i) => {
    const spec = specs[i] as Extract<TargetSpec, { kind: 'name' }>;
    found[i] = await fromDiscovery(messenger.peers.match(spec.name), spec, defaultPort, resolveHost, options.wait).catch((error: unknown) => ({ error }));
  });
  // The first target in the order given decides the error, however the lookups finished.
  const out = found.map((d) => {
    if ('error' in d) throw d.error;
    return d;
  });
  for (const destination of out) checkFamily(destination, messenger.families);
  return out;
}

/** Host lookups in flight at once: a list of a thousand names waits for the slowest few, not for their sum. */
const LOOKUPS_AT_ONCE = 32;

/** `fn` for every item, at most `limit` at a time. */
async function eachAtMost<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * @throws IpmsgError IPMSG_ERR_USAGE when the socket does not speak the address's family (-4, -6, --bind)
 */
function checkFamily(destination: Destination, families: readonly Family[] | undefined): void {
  const family = familyOf(destination.address);
  if (families === undefined || family === undefined || families.includes(family)) return;
  throw new IpmsgError(
    'IPMSG_ERR_USAGE',
    `${JSON.stringify(destination.text)} is an ${family} address, and this run speaks ${families.join(' and ')} only (-4, -6 or --bind)`,
  );
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
      .sort((a, b) => compareAddresses(a.address, b.address) || a.port - b.port)
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
