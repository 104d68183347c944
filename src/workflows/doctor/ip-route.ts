// src/workflows/doctor/ip-route.ts
// Where the kernel sends a packet to one address, as `ip -j route get ADDR` says: the same lookup
// a send does, policy rules (`ip rule`) included. A refused lookup is an error exit with the
// errno's text; `ip -j rule show` then names the rule that most likely refused it. Pure but for
// routeTo(), which runs `ip` with a fixed argument list.

import { familyOf, withoutScope } from '../../transport/address.js';
import { ipv4ToInt } from '../../transport/broadcast.js';
import type { CommandResult, DoctorSystem } from './system.js';

/** How a lookup was refused: the rule or route action that answers with that errno. */
export type Refusal = 'unreachable' | 'prohibit' | 'blackhole' | 'no-route';

export type RouteAnswer =
  | { readonly kind: 'route'; readonly dev: string; readonly gateway?: string; readonly table?: string; readonly type?: string }
  | { readonly kind: 'refused'; readonly refusal: Refusal; readonly message: string };

/** The errno texts `ip route get` prints (RTNETLINK answers: …) for each refusing action. */
const REFUSALS: readonly (readonly [RegExp, Refusal])[] = [
  [/Permission denied/i, 'prohibit'],
  [/Invalid argument/i, 'blackhole'],
  [/No route to host/i, 'unreachable'],
  [/Network is unreachable/i, 'no-route'],
];

/** Route types a successful answer may still carry that send nothing. */
const DEAD_TYPES = new Set<string>(['unreachable', 'prohibit', 'blackhole', 'throw']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads `ip -j route get` output; undefined when it is neither a route nor a known refusal. */
export function parseRouteGet(result: CommandResult): RouteAnswer | undefined {
  if (result.code !== 0) {
    const message = result.stderr.trim().split('\n')[0]?.replace(/^RTNETLINK answers:\s*/, '') ?? '';
    const refusal = REFUSALS.find(([pattern]) => pattern.test(message))?.[1];
    return refusal && { kind: 'refused', refusal, message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    return undefined;
  }
  const route = Array.isArray(parsed) ? parsed[0] : undefined;
  if (!isObject(route)) return undefined;
  const type = typeof route['type'] === 'string' ? route['type'] : undefined;
  if (type !== undefined && DEAD_TYPES.has(type)) return { kind: 'refused', refusal: type === 'throw' ? 'no-route' : (type as Refusal), message: `a ${type} route` };
  if (typeof route['dev'] !== 'string') return undefined;
  return {
    kind: 'route',
    dev: route['dev'],
    ...(typeof route['gateway'] === 'string' ? { gateway: route['gateway'] } : {}),
    ...(typeof route['table'] === 'string' ? { table: route['table'] } : {}),
    ...(type !== undefined ? { type } : {}),
  };
}

export interface IpRule {
  readonly priority: number;
  /** The rule as `ip rule` prints it, near enough to find it: `32765: to 255.255.255.255 prohibit`. */
  readonly text: string;
  readonly action: string;
  /** The destination prefix, or undefined for all. */
  readonly dst: string | undefined;
  readonly dstlen: number | undefined;
  /** Selectors the doctor cannot judge for its own packets (a source, a mark, an incoming interface…). */
  readonly conditional: boolean;
}

/** Selectors that never limit which of our own packets a rule matches. */
const NEUTRAL_RULE_KEYS = new Set(['priority', 'src', 'dst', 'dstlen', 'action', 'table', 'flags', 'protocol', 'l3mdev']);

/** Reads `ip -j rule show`. */
export function parseRules(text: string): IpRule[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(isObject).map((rule) => {
    const dst = typeof rule['dst'] === 'string' && rule['dst'] !== 'all' ? rule['dst'] : undefined;
    const dstlen = typeof rule['dstlen'] === 'number' ? rule['dstlen'] : undefined;
    const action = typeof rule['action'] === 'string' ? rule['action'] : `lookup ${String(rule['table'] ?? '?')}`;
    const selectors = Object.entries(rule)
      .filter(([key]) => key !== 'priority' && key !== 'action' && key !== 'table' && key !== 'dstlen' && key !== 'flags')
      .map(([key, value]) => (key === 'src' ? `from ${String(value)}` : key === 'dst' ? `to ${String(value)}${dstlen !== undefined ? `/${dstlen}` : ''}` : `${key} ${String(value)}`));
    const srcAll = rule['src'] === undefined || rule['src'] === 'all';
    const iifLo = rule['iif'] === undefined || rule['iif'] === 'lo';
    const conditional = !srcAll || !iifLo || Object.keys(rule).some((key) => !NEUTRAL_RULE_KEYS.has(key) && key !== 'iif');
    return { priority: Number(rule['priority'] ?? 0), text: `${String(rule['priority'] ?? 0)}: ${[...selectors, action].join(' ')}`, action, dst, dstlen, conditional };
  });
}

/** Whether an IPv4 rule's destination prefix holds the address (IPv6 rules: only when written whole). */
function covers(rule: IpRule, address: string): boolean {
  if (rule.dst === undefined) return true;
  const value = ipv4ToInt(address);
  const network = ipv4ToInt(rule.dst);
  if (value === undefined || network === undefined) return rule.dst === address && rule.dstlen === undefined;
  const bits = rule.dstlen ?? 32;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((value & mask) >>> 0) === ((network & mask) >>> 0);
}

/** The rule action behind each refusal: an `unreachable` rule answers ENETUNREACH (an unreachable route, EHOSTUNREACH). */
const RULE_ACTIONS: Record<Refusal, string | undefined> = { prohibit: 'prohibit', blackhole: 'blackhole', 'no-route': 'unreachable', unreachable: undefined };

/** The first rule, in priority order, that refuses packets to `address` the way the lookup was refused. */
export function refusingRule(rules: readonly IpRule[], address: string, refusal: Refusal): IpRule | undefined {
  const action = RULE_ACTIONS[refusal];
  if (action === undefined) return undefined;
  return [...rules].sort((a, b) => a.priority - b.priority).find((r) => r.action === action && !r.conditional && covers(r, address));
}

/** `ip -j route get` arguments for an address (an IPv6 zone becomes `oif`); undefined for what is no address. */
export function routeGetArgs(address: string): string[] | undefined {
  const bare = withoutScope(address);
  const zone = address.length > bare.length ? address.slice(bare.length + 1) : undefined;
  if (familyOf(bare) === undefined || (zone !== undefined && !/^\w[\w.-]{0,14}$/.test(zone))) return undefined;
  return ['-j', 'route', 'get', bare, ...(zone !== undefined ? ['oif', zone] : [])];
}

export interface RouteReading {
  readonly answer: RouteAnswer;
  /** For a refusal: the policy rule that refuses it, when one does. */
  readonly rule?: IpRule;
}

/** Asks `ip` where a packet to `address` goes; undefined when `ip` is absent or answers nothing we can read. */
export async function routeTo(system: DoctorSystem, address: string, signal: AbortSignal): Promise<RouteReading | undefined> {
  const args = routeGetArgs(address);
  if (args === undefined) return undefined;
  const result = await system.run('ip', args, signal);
  const answer = result && parseRouteGet(result);
  if (!answer) return undefined;
  if (answer.kind === 'route') return { answer };
  const rules = await system.run('ip', ['-j', ...(familyOf(withoutScope(address)) === 'IPv6' ? ['-6'] : []), 'rule', 'show'], signal);
  const rule = rules?.code === 0 ? refusingRule(parseRules(rules.stdout), withoutScope(address), answer.refusal) : undefined;
  return { answer, ...(rule ? { rule } : {}) };
}

/**
 * For a route: `eth0`, `eth0 via 10.0.0.1 (table 100)`. For a refusal, what to write after the
 * address: `is prohibited by ip rule 32765: from all to 255.255.255.255 prohibit (ip route get:
 * Permission denied)`, `has no route (no default route; ip route get: Network is unreachable)`.
 */
export function describeRoute(reading: RouteReading, hint?: string): string {
  const a = reading.answer;
  if (a.kind === 'route') return `${a.dev}${a.gateway ? ` via ${a.gateway}` : ''}${a.table && a.table !== 'local' && a.table !== 'main' ? ` (table ${a.table})` : ''}`;
  const answer = `${hint ? `${hint}; ` : ''}ip route get: ${a.message}`;
  if (reading.rule) return `is ${a.refusal === 'no-route' ? 'unreachable' : REFUSED[a.refusal]} by ip rule ${reading.rule.text} (${answer})`;
  return a.refusal === 'no-route' ? `has no route (${answer})` : `is ${REFUSED[a.refusal]} (${answer})`;
}

const REFUSED: Record<Refusal, string> = { prohibit: 'prohibited', blackhole: 'blackholed', unreachable: 'unreachable', 'no-route': 'unreachable' };
