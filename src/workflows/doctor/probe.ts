// src/workflows/doctor/probe.ts
// Who answers a BR_ENTRY: announce on every broadcast target, as `ipmsg list` does, and note each
// answer's local interface (by the subnet its address is in) and how long it took.

import { IpmsgError } from '../../errors.js';
import type { Messenger } from '../../messenger/index.js';
import { type Peer, describePeer, identityKey } from '../../messenger/peers.js';
import type { InterfaceTable } from '../../transport/broadcast.js';
import { type Clock, sleep } from '../../transport/clock.js';
import { type CheckResult, check } from './check.js';
import { interfaceOf } from './interfaces.js';

export interface Answer {
  readonly peer: Peer;
  /** The local interface the answer came in on, when its address is in one's subnet. */
  readonly iface: string | undefined;
  /** Milliseconds from our BR_ENTRY to its first answer. */
  readonly afterMs: number;
}

/**
 * Answering peers listed at most: a hostile LAN can answer from any number of ports and names. Of
 * the rest only how many is said, counted up to `othersCounted`.
 */
export const PROBE_LIMITS = { listed: 1000, othersCounted: 100_000 };

export interface ProbeOutcome {
  readonly results: CheckResult[];
  /** The first PROBE_LIMITS.listed answering peers. */
  readonly answers: Answer[];
  /** Other peers that answered, beyond those listed (at most PROBE_LIMITS.othersCounted). */
  readonly unlisted: number;
  /** When BR_ENTRY went out (clock ms). */
  readonly startedAt: number;
}

export interface ProbeOptions {
  readonly wait: number;
  readonly clock: Clock;
  readonly interfaces: InterfaceTable;
  readonly signal: AbortSignal;
}

/**
 * Per interface: how many peers answered (one heard over IPv4 and IPv6 counts once) and the
 * fastest, e.g. `eth0: 2 (first after 3 ms)`.
 */
export function answersByInterface(answers: readonly Answer[]): { iface: string; peers: number; firstMs: number }[] {
  const groups = new Map<string, { iface: string; identities: Set<string>; firstMs: number }>();
  for (const a of answers) {
    const iface = a.iface ?? 'another subnet';
    const group = groups.get(iface) ?? { iface, identities: new Set<string>(), firstMs: a.afterMs };
    group.identities.add(identityKey(a.peer));
    groups.set(iface, { ...group, firstMs: Math.min(group.firstMs, a.afterMs) });
  }
  return [...groups.values()].map((g) => ({ iface: g.iface, peers: g.identities.size, firstMs: g.firstMs }));
}

export async function probeEntry(messenger: Messenger, options: ProbeOptions): Promise<ProbeOutcome> {
  const first = new Map<string, Peer>();
  const others = new Set<string>();
  const stop = messenger.peers.watch((peer) => {
    const key = `${peer.address}:${peer.port}`;
    if (first.has(key) || peer.via !== undefined) return;
    if (first.size < PROBE_LIMITS.listed) first.set(key, peer);
    else if (others.size < PROBE_LIMITS.othersCounted) others.add(key);
  });
  const startedAt = options.clock.now();
  const results: CheckResult[] = [];
  try {
    let sent: { address: string; error?: Error }[];
    try {
      sent = await messenger.announce();
    } catch (error) {
      if (!(error instanceof IpmsgError) || error.code !== 'IPMSG_ERR_UNAVAILABLE') throw error;
      results.push(check('broadcast', 'fail', error.message, 'nobody hears us: check the interfaces and the limited-broadcast route above, and output rules of the firewall', { targets: messenger.broadcastTargets() }));
      return { results, answers: [], unlisted: 0, startedAt };
    }
    const failed = sent.filter((s) => s.error);
    const targets = sent.map((s) => ({ address: s.address, ...(s.error ? { error: s.error.message } : {}) }));
    results.push(
      failed.length === 0
        ? check('broadcast', 'ok', `BR_ENTRY sent to ${sent.map((s) => s.address).join(', ')}`, undefined, { targets })
        : check('broadcast', 'warn', `BR_ENTRY could not be sent to ${failed.map((s) => `${s.address} (${s.error?.message ?? ''})`).join(', ')}`, 'those targets reach nobody: check their route and the output rules of the firewall', { targets }),
    );
    await sleep(options.clock, options.wait, options.signal);
  } finally {
    stop();
  }
  const answers = [...first.values()].map((peer) => ({ peer, iface: interfaceOf(peer.address, options.interfaces), afterMs: Math.max(0, peer.seenAt - startedAt) }));
  const unlisted = others.size;
  others.clear();
  const details = {
    waitMs: options.wait,
    ...(unlisted > 0 ? { unlisted } : {}),
    peers: answers.map((a) => ({ address: a.peer.address, port: a.peer.port, user: a.peer.user, host: a.peer.host, client: a.peer.client ?? null, iface: a.iface ?? null, afterMs: a.afterMs })),
    interfaces: answersByInterface(answers),
  };
  if (answers.length === 0) {
    results.push(
      check(
        'answers',
        'warn',
        `nobody answered BR_ENTRY within ${options.wait / 1000}s`,
        "if other PCs run IP Messenger, allow UDP 2425 in their firewall (both PCs), or reach other subnets with --broadcast ADDR; sending by address may still work",
        details,
      ),
    );
  } else {
    const perIface = answersByInterface(answers).map((g) => `${g.iface}: ${g.peers} (first after ${g.firstMs} ms)`).join(', ');
    const shown = answers.slice(0, 5).map((a) => `${describePeer(a.peer)} on ${a.iface ?? 'another subnet'} after ${a.afterMs} ms`);
    const more = answers.length + unlisted > 5 ? `, and ${answers.length + unlisted - 5} more` : '';
    const peers = new Set(answers.map((a) => identityKey(a.peer))).size;
    const beyond = unlisted > 0 ? ` (the first ${answers.length} addresses; ${unlisted}${unlisted >= PROBE_LIMITS.othersCounted ? ' or more' : ''} more answered)` : '';
    results.push(check('answers', 'ok', `${peers} peer${peers === 1 ? '' : 's'}${beyond} answered BR_ENTRY — ${perIface}: ${shown.join(', ')}${more}`, undefined, details));
  }
  return { results, answers, unlisted, startedAt };
}
