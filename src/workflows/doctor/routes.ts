// src/workflows/doctor/routes.ts
// Do the broadcasts have a route? 255.255.255.255 goes where a route lookup sends it (usually the
// default route); each interface's directed broadcast should leave on that interface.

import { IPMSG_LIMITED_BROADCAST } from '../../protocol/command.js';
import { type CheckResult, check } from './check.js';
import { familyOf } from '../../transport/address.js';
import type { InterfaceUse } from './interfaces.js';
import { describeRoute, routeTo } from './ip-route.js';
import type { DoctorSystem } from './system.js';

export interface RouteEntry {
  readonly iface: string;
  /** Hex, in the kernel's byte order, as /proc/net/route shows it. */
  readonly destination: string;
  readonly mask: string;
  readonly flags: number;
}

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

export function parseProcRoute(text: string): RouteEntry[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && /^[0-9A-F]{8}$/i.test(f[1] ?? '') && /^[0-9A-F]{8}$/i.test(f[7] ?? ''))
    .map((f) => ({ iface: f[0] ?? '', destination: (f[1] ?? '').toUpperCase(), mask: (f[7] ?? '').toUpperCase(), flags: Number.parseInt(f[3] ?? '0', 16) }));
}

const bits = (hex: string): number => [...Number.parseInt(hex, 16).toString(2)].filter((b) => b === '1').length;

/**
 * The interface the limited broadcast leaves by: the most specific up route whose network holds
 * 255.255.255.255 (all ones is the same in either byte order, so destination must equal mask).
 * Undefined when there is none, or the best one is a reject route.
 */
export function limitedBroadcastRoute(routes: readonly RouteEntry[]): RouteEntry | undefined {
  const best = routes
    .filter((r) => (r.flags & RTF_UP) !== 0 && r.destination === r.mask)
    .sort((a, b) => bits(b.mask) - bits(a.mask))[0];
  return best && (best.flags & RTF_REJECT) === 0 ? best : undefined;
}

/** From /proc/net/route, where `ip` is absent: the main table only. */
async function procRoute(system: DoctorSystem, id: string): Promise<CheckResult> {
  const text = await system.readText('/proc/net/route');
  if (text === undefined) return check(id, 'skip', 'cannot read /proc/net/route (and ip is not installed)');
  const route = limitedBroadcastRoute(parseProcRoute(text));
  if (!route) return noRoute(id, `${IPMSG_LIMITED_BROADCAST} has no route (no default route): the limited broadcast cannot be sent`, { source: '/proc/net/route' });
  return check(id, 'ok', `${IPMSG_LIMITED_BROADCAST} goes out on ${route.iface}`, undefined, { iface: route.iface, source: '/proc/net/route' });
}

const noRoute = (id: string, summary: string, details: Readonly<Record<string, unknown>>): CheckResult =>
  check(
    id,
    'fail',
    summary,
    "peers that only listen for the limited broadcast miss us; add a default route (or `ip route add 255.255.255.255 dev IFACE`), or rely on the interfaces' directed broadcasts and --broadcast",
    details,
  );

/**
 * Linux sends 255.255.255.255 where a route lookup sends it — policy rules, then the main table's
 * default route — and refuses it (ENETUNREACH, EACCES…) when the lookup fails. `ip route get`
 * makes that very lookup; without `ip`, /proc/net/route shows the main table.
 */
export async function checkLimitedBroadcast(system: DoctorSystem, uses: boolean, signal: AbortSignal): Promise<CheckResult> {
  const id = 'limited-broadcast';
  if (!uses) return check(id, 'skip', `${IPMSG_LIMITED_BROADCAST} is not used (--bind or IPv6 only)`);
  if (system.platform !== 'linux') return check(id, 'skip', `the route of ${IPMSG_LIMITED_BROADCAST} can only be read on Linux`);
  const reading = await routeTo(system, IPMSG_LIMITED_BROADCAST, signal);
  if (!reading) return procRoute(system, id);
  const details = { source: 'ip route get', ...reading.answer, ...(reading.rule ? { rule: reading.rule.text } : {}) };
  if (reading.answer.kind === 'refused') {
    const hint = reading.rule || reading.answer.refusal !== 'no-route' ? undefined : 'no default route';
    return noRoute(id, `${IPMSG_LIMITED_BROADCAST} ${describeRoute(reading, hint)}: the limited broadcast cannot be sent`, details);
  }
  return check(id, 'ok', `${IPMSG_LIMITED_BROADCAST} goes out on ${describeRoute(reading)}`, undefined, details);
}

/**
 * The interfaces' directed broadcasts (and IPv4 --broadcast addresses): each must have a route,
 * and an interface's own must leave on it. Only with `ip`: the local table, which holds them,
 * is not in /proc/net/route.
 */
export async function checkDirectedBroadcasts(system: DoctorSystem, uses: readonly InterfaceUse[], targets: readonly string[], signal: AbortSignal): Promise<CheckResult | undefined> {
  const id = 'directed-broadcast';
  if (system.platform !== 'linux') return undefined;
  const own = new Map(uses.flatMap((u) => u.broadcasts.map((b) => [b, u.name] as const)));
  const addresses = targets.filter((t) => t !== IPMSG_LIMITED_BROADCAST && familyOf(t) === 'IPv4');
  if (addresses.length === 0) return undefined;
  const found: { address: string; iface: string | null; route: string; problem: string | undefined }[] = [];
  for (const address of addresses) {
    const reading = await routeTo(system, address, signal);
    if (!reading) return check(id, 'skip', 'cannot ask the routes of the directed broadcasts (ip is not installed)');
    const expected = own.get(address);
    const route = describeRoute(reading);
    const problem =
      reading.answer.kind === 'refused'
        ? `${address} ${route}`
        : expected !== undefined && reading.answer.dev !== expected
          ? `${address} (of ${expected}) goes out on ${route}`
          : undefined;
    found.push({ address, iface: expected ?? null, route, problem });
  }
  const bad = found.filter((f) => f.problem !== undefined);
  const details = { routes: found.map((f) => ({ address: f.address, iface: f.iface, route: f.route, ok: f.problem === undefined })) };
  if (bad.length === 0) return check(id, 'ok', `directed broadcasts go out where they belong: ${found.map((f) => `${f.address} on ${f.route}`).join(', ')}`, undefined, details);
  return check(
    id,
    'warn',
    bad.map((f) => f.problem).join('; '),
    'peers on those subnets do not hear our broadcasts: fix the route or the policy rule (ip rule), or use --bind ADDR',
    details,
  );
}
