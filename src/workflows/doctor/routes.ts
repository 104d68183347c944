// src/workflows/doctor/routes.ts
// Does 255.255.255.255 have a route? Linux sends a limited broadcast where its main routing table
// sends that address — usually the default route — and refuses it (ENETUNREACH) without one.

import { IPMSG_LIMITED_BROADCAST } from '../../protocol/command.js';
import { type CheckResult, check } from './check.js';
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

export async function checkLimitedBroadcast(system: DoctorSystem, uses: boolean): Promise<CheckResult> {
  const id = 'limited-broadcast';
  if (!uses) return check(id, 'skip', `${IPMSG_LIMITED_BROADCAST} is not used (--bind or IPv6 only)`);
  if (system.platform !== 'linux') return check(id, 'skip', `the route of ${IPMSG_LIMITED_BROADCAST} can only be read on Linux`);
  const text = await system.readText('/proc/net/route');
  if (text === undefined) return check(id, 'skip', 'cannot read /proc/net/route');
  const route = limitedBroadcastRoute(parseProcRoute(text));
  if (!route) {
    return check(
      id,
      'fail',
      `${IPMSG_LIMITED_BROADCAST} has no route (no default route): the limited broadcast cannot be sent`,
      "peers that only listen for the limited broadcast miss us; add a default route (or `ip route add 255.255.255.255 dev IFACE`), or rely on the interfaces' directed broadcasts and --broadcast",
    );
  }
  return check(id, 'ok', `${IPMSG_LIMITED_BROADCAST} goes out on ${route.iface}`, undefined, { iface: route.iface });
}
