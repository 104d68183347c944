// src/workflows/doctor/nft.ts
// Does an nftables ruleset (`nft -j list ruleset`) drop what arrives for a UDP or TCP port? Pure:
// every base chain a packet from the LAN passes before it reaches ipmsg — ingress (netdev, on its
// interface), prerouting (filter type: raw or filter priority) and input — is walked in order,
// following jumps, as the kernel would for a new packet (not on `lo`, not part of a connection we
// opened: broadcast answers are new). An accept ends only its own chain; a drop anywhere is final.

import { type Blocker, type Match, type PortQuery, portIn } from './firewall-rules.js';

type Json = Record<string, unknown>;

interface NftChain {
  readonly family: string;
  readonly table: string;
  readonly name: string;
  readonly hook?: string;
  readonly type?: string;
  /** The interfaces an ingress chain is attached to, when nft printed them. */
  readonly devices?: readonly string[];
  readonly policy?: string;
  readonly rules: Json[][];
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function chainsOf(ruleset: unknown): Map<string, NftChain> {
  const chains = new Map<string, NftChain>();
  const items = isObject(ruleset) && Array.isArray(ruleset['nftables']) ? (ruleset['nftables'] as unknown[]) : [];
  const key = (family: unknown, table: unknown, name: unknown): string => `${String(family)} ${String(table)} ${String(name)}`;
  for (const item of items) {
    if (!isObject(item)) continue;
    const chain = item['chain'];
    if (isObject(chain)) {
      chains.set(key(chain['family'], chain['table'], chain['name']), {
        family: String(chain['family']),
        table: String(chain['table']),
        name: String(chain['name']),
        ...(typeof chain['hook'] === 'string' ? { hook: chain['hook'] } : {}),
        ...(typeof chain['type'] === 'string' ? { type: chain['type'] } : {}),
        ...(typeof chain['dev'] === 'string' ? { devices: [chain['dev']] } : Array.isArray(chain['dev']) ? { devices: chain['dev'].map(String) } : {}),
        ...(typeof chain['policy'] === 'string' ? { policy: chain['policy'] } : {}),
        rules: [],
      });
    }
    const rule = item['rule'];
    if (isObject(rule) && Array.isArray(rule['expr'])) {
      chains.get(key(rule['family'], rule['table'], rule['chain']))?.rules.push((rule['expr'] as unknown[]).filter(isObject));
    }
  }
  return chains;
}

/** The port values a match's right side names: a number, a set, a range, or a set of those. */
function values(right: unknown): (number | [number, number])[] | undefined {
  if (typeof right === 'number') return [right];
  if (Array.isArray(right)) return right.flatMap((r) => values(r) ?? []);
  if (isObject(right)) {
    if (Array.isArray(right['set'])) return (right['set'] as unknown[]).flatMap((r) => values(r) ?? []);
    const range = right['range'];
    if (Array.isArray(range) && typeof range[0] === 'number' && typeof range[1] === 'number') return [[range[0], range[1]]];
  }
  return undefined;
}

const NEW_PACKET_STATES = new Set(['new', 'untracked']);

/** Whether one match expression holds for a new packet to the port (see Match). */
function matchOne(match: Json, query: PortQuery): Match {
  const left = match['left'];
  const right = match['right'];
  const negated = match['op'] === '!=';
  const result = (holds: boolean): Match => (holds !== negated ? 'yes' : 'no');
  if (!isObject(left)) return 'maybe';
  const payload = left['payload'];
  if (isObject(payload)) {
    const protocol = payload['protocol'];
    const field = payload['field'];
    // nft adds the protocol test a udp/tcp field implies, negated or not
    if ((protocol === 'udp' || protocol === 'tcp') && protocol !== query.protocol) return 'no';
    if ((protocol === 'udp' || protocol === 'tcp' || protocol === 'th') && field === 'dport') {
      const list = values(right);
      return list === undefined ? 'maybe' : result(portIn(query.port, list));
    }
    if (protocol === 'ip' && field === 'protocol') return protocolMatch(right, query, negated);
    return 'maybe';
  }
  const meta = left['meta'];
  if (isObject(meta)) {
    if (meta['key'] === 'l4proto') return protocolMatch(right, query, negated);
    if (meta['key'] === 'iifname' || meta['key'] === 'iif') return right === 'lo' ? result(false) : 'maybe';
    return 'maybe';
  }
  const ct = left['ct'];
  if (isObject(ct) && ct['key'] === 'state') {
    const states = (Array.isArray(right) ? right : isObject(right) && Array.isArray(right['set']) ? right['set'] : [right]).map(String);
    return result(states.some((s) => NEW_PACKET_STATES.has(s)));
  }
  return 'maybe';
}

function protocolMatch(right: unknown, query: PortQuery, negated: boolean): Match {
  const names = (Array.isArray(right) ? right : isObject(right) && Array.isArray(right['set']) ? right['set'] : [right]).map(String);
  return names.includes(query.protocol) !== negated ? 'yes' : 'no';
}

/** The rule as nft would print it, near enough to find it in `nft list ruleset`. */
export function nftRuleText(expr: readonly Json[]): string {
  const side = (value: unknown): string => {
    if (Array.isArray(value)) return `{ ${value.map(side).join(', ')} }`;
    if (!isObject(value)) return String(value);
    if (Array.isArray(value['set'])) return `{ ${(value['set'] as unknown[]).map(side).join(', ')} }`;
    if (Array.isArray(value['range'])) return (value['range'] as unknown[]).map(side).join('-');
    const prefix = value['prefix'];
    if (isObject(prefix)) return `${String(prefix['addr'])}/${String(prefix['len'])}`;
    const [kind, inner] = Object.entries(value)[0] ?? ['?', {}];
    if (kind === 'payload' && isObject(inner)) return `${String(inner['protocol'])} ${String(inner['field'])}`;
    if (kind === 'meta' && isObject(inner)) return String(inner['key']);
    if (isObject(inner) && inner['key'] !== undefined) return `${kind} ${String(inner['key'])}`;
    return kind;
  };
  return expr
    .map((statement) => {
      const [kind, body] = Object.entries(statement)[0] ?? ['?', null];
      if (kind === 'match' && isObject(body)) return `${side(body['left'])} ${body['op'] === '==' || body['op'] === 'in' ? '' : `${String(body['op'])} `}${side(body['right'])}`;
      if ((kind === 'jump' || kind === 'goto') && isObject(body)) return `${kind} ${String(body['target'])}`;
      return kind;
    })
    .join(' ');
}

const MAX_DEPTH = 16;

/**
 * The devices of the ingress chains in `nft list chains` (text): nft 1.0's JSON leaves them out.
 * Keys are `family table chain`.
 */
export function chainDevices(text: string): Map<string, string[]> {
  const devices = new Map<string, string[]>();
  let table: string | undefined;
  let chain: string | undefined;
  for (const line of text.split('\n')) {
    const t = /^\s*table\s+(\S+)\s+(\S+)\s*\{/.exec(line);
    if (t) table = `${t[1]} ${t[2]}`;
    const c = /^\s*chain\s+(\S+)\s*\{/.exec(line);
    if (c) chain = c[1];
    const d = /\bhook\s+ingress\s+(?:device\s+"?([^";\s]+)"?|devices\s*=\s*\{([^}]*)\})/.exec(line);
    if (d && table !== undefined && chain !== undefined) {
      const names = d[1] !== undefined ? [d[1]] : (d[2] ?? '').split(',').map((n) => n.trim().replace(/^"|"$/g, '')).filter(Boolean);
      devices.set(`${table} ${chain}`, names);
    }
  }
  return devices;
}

export interface NftContext {
  /** The interfaces ipmsg listens on: an ingress chain elsewhere never sees its packets. */
  readonly interfaces?: readonly string[];
  /** Ingress chains' devices from `nft list chains` (chainDevices), where the JSON lacks them. */
  readonly devices?: ReadonlyMap<string, readonly string[]>;
}

/** The hook a packet from the LAN passes on its way to a socket, for a base chain; undefined for others. */
function hookOf(chain: NftChain): Blocker['hook'] | undefined {
  const ip = ['ip', 'ip6', 'inet'].includes(chain.family);
  if (chain.hook === 'input' && ip) return 'input';
  // A nat prerouting chain only rewrites addresses; filter-type ones (raw, mangle, filter priority) may drop.
  if (chain.hook === 'prerouting' && ip && (chain.type === undefined || chain.type === 'filter')) return 'prerouting';
  if (chain.hook === 'ingress' && (chain.family === 'netdev' || chain.family === 'inet')) return 'ingress';
  return undefined;
}

/**
 * What in the ruleset drops or rejects a new packet from the LAN to `query` before anything accepts
 * it: rules (unconditional or only under conditions we cannot judge), and drop policies. An ip or
 * ip6 table's drop is of that family only; an ingress chain on an interface ipmsg does not use is
 * skipped, and one whose interface is not known is conditional.
 */
export function nftBlockers(ruleset: unknown, query: PortQuery, context: NftContext = {}): Blocker[] {
  const chains = chainsOf(ruleset);
  const blockers: Blocker[] = [];
  /** Returns true when the chain settled the packet's fate (accepted or dropped for sure). */
  const walk = (base: Omit<Blocker, 'where' | 'rule'>, chain: NftChain, depth: number): boolean => {
    for (const expr of chain.rules) {
      let match: Match = 'yes';
      let verdict: string | undefined;
      let target: string | undefined;
      for (const statement of expr) {
        if (isObject(statement['match'])) {
          const one = matchOne(statement['match'], query);
          if (one === 'no') match = 'no';
          else if (one === 'maybe' && match === 'yes') match = 'maybe';
        } else if ('accept' in statement || 'drop' in statement || 'reject' in statement) {
          verdict = 'accept' in statement ? 'accept' : 'drop' in statement ? 'drop' : 'reject';
        } else if (isObject(statement['jump']) || isObject(statement['goto'])) {
          target = String(((statement['jump'] ?? statement['goto']) as Json)['target']);
        }
      }
      if (match === 'no') continue;
      if (target !== undefined && depth < MAX_DEPTH) {
        const next = chains.get(`${chain.family} ${chain.table} ${target}`);
        if (next && walk(base, next, depth + 1) && match === 'yes') return true;
        continue;
      }
      if (verdict === 'accept' && match === 'yes') return true;
      if (verdict === 'drop' || verdict === 'reject') {
        blockers.push({ ...base, where: `${chain.family} ${chain.table} ${chain.name}`, rule: nftRuleText(expr), conditional: base.conditional || match === 'maybe' });
        if (match === 'yes') return true;
      }
    }
    return false;
  };
  for (const chain of chains.values()) {
    const hook = hookOf(chain);
    if (hook === undefined) continue;
    const devices = hook === 'ingress' ? (chain.devices ?? context.devices?.get(`${chain.family} ${chain.table} ${chain.name}`)) : undefined;
    if (devices && context.interfaces && !devices.some((d) => context.interfaces?.includes(d))) continue;
    const family: Blocker['family'] = chain.family === 'ip' ? 'IPv4' : chain.family === 'ip6' ? 'IPv6' : undefined;
    const base = { source: 'nftables' as const, hook, ...(devices ? { devices } : {}), ...(family ? { family } : {}), conditional: hook === 'ingress' && devices === undefined };
    if (!walk(base, chain, 0) && chain.policy === 'drop') {
      blockers.push({ ...base, where: `${chain.family} ${chain.table} ${chain.name}`, rule: 'policy drop' });
    }
  }
  return blockers;
}
