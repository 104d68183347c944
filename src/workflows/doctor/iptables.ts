// src/workflows/doctor/iptables.ts
// Does an `iptables-save` (or `ip6tables-save`) dump drop what arrives for a UDP or TCP port? Pure: the filter table's
// INPUT chain is walked in order, following jumps to user chains, for a new packet from the LAN.

import { type Blocker, type Match, type PortQuery, portIn } from './firewall-rules.js';

interface Chain {
  policy: string;
  readonly rules: string[][];
}

/** Splits a rule line into words, keeping "quoted strings" (comments) whole. */
function words(line: string): string[] {
  return [...line.matchAll(/"((?:\\.|[^"\\])*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

function filterChains(dump: string): Map<string, Chain> {
  const chains = new Map<string, Chain>();
  let inFilter = false;
  for (const raw of dump.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) inFilter = line === '*filter';
    if (!inFilter) continue;
    const declared = /^:(\S+)\s+(\S+)/.exec(line);
    if (declared?.[1] !== undefined) chains.set(declared[1], { policy: declared[2] ?? '-', rules: [] });
    const rule = /^-A\s+(\S+)\s+(.*)$/.exec(line);
    if (rule?.[1] !== undefined) chains.get(rule[1])?.rules.push(words(rule[2] ?? ''));
  }
  return chains;
}

/** `2425`, `2000:3000`, `2425,2426,3000:3010` as port values. */
function ports(text: string): (number | [number, number])[] {
  return text.split(',').map((part) => {
    const [a, b] = part.split(':');
    return b === undefined ? Number(a) : [Number(a || 0), Number(b || 65535)];
  });
}

/** Options that never limit which packets match (match-module loads, counters, comments). */
const NEUTRAL = new Set(['-m', '--comment', '-c']);

/** How a rule's options match a new packet to the port, and its target. */
function judge(rule: readonly string[], query: PortQuery): { match: Match; target: string | undefined } {
  let match: Match = 'yes';
  let target: string | undefined;
  const worse = (m: Match): void => {
    if (m === 'no') match = 'no';
    else if (m === 'maybe' && match === 'yes') match = 'maybe';
  };
  for (let i = 0; i < rule.length; i++) {
    const negated = rule[i] === '!';
    if (negated) i++;
    const option = rule[i] ?? '';
    const value = rule[i + 1] ?? '';
    const result = (holds: boolean): Match => (holds !== negated ? 'yes' : 'no');
    if (!option.startsWith('-')) continue;
    i++;
    if (option === '-j' || option === '-g') {
      target = value;
      break; // what follows are the target's own options (--reject-with…)
    } else if (NEUTRAL.has(option)) continue;
    else if (option === '-p' || option === '--protocol') worse(result(value === query.protocol || value === 'all'));
    else if (option === '--dport' || option === '--destination-port' || option === '--dports' || option === '--destination-ports') worse(result(portIn(query.port, ports(value))));
    else if (option === '-i' || option === '--in-interface') worse(value === 'lo' ? result(false) : 'maybe');
    else if (option === '--state' || option === '--ctstate') worse(result(value.split(',').some((s) => s === 'NEW' || s === 'UNTRACKED')));
    else worse('maybe');
  }
  return { match, target };
}

const VERDICTS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN']);
const MAX_DEPTH = 16;

/**
 * What in the dump drops or rejects a new packet from the LAN to `query` before anything accepts
 * it; an `ip6tables-save` dump's drops are IPv6 only.
 */
export function iptablesBlockers(dump: string, query: PortQuery, source: 'iptables' | 'ip6tables' = 'iptables'): Blocker[] {
  const family = source === 'ip6tables' ? 'IPv6' : 'IPv4';
  const chains = filterChains(dump);
  const blockers: Blocker[] = [];
  /** 'accept' or 'drop' when the chain settled it for sure, 'return' to go on in the caller. */
  const walk = (name: string, depth: number): 'accept' | 'drop' | 'return' => {
    for (const rule of chains.get(name)?.rules ?? []) {
      const { match, target } = judge(rule, query);
      if (match === 'no' || target === undefined) continue;
      if (!VERDICTS.has(target)) {
        if (!chains.has(target) || depth >= MAX_DEPTH) continue; // LOG, MARK…: not a verdict
        const settled = walk(target, depth + 1);
        if (settled !== 'return' && match === 'yes') return settled;
        continue;
      }
      if (target === 'RETURN' && match === 'yes') return 'return';
      if (target === 'ACCEPT' && match === 'yes') return 'accept';
      if (target === 'DROP' || target === 'REJECT') {
        blockers.push({ source, where: `filter ${name}`, hook: 'input', family, rule: `-A ${name} ${rule.join(' ')}`, conditional: match === 'maybe' });
        if (match === 'yes') return 'drop';
      }
    }
    return 'return';
  };
  if (walk('INPUT', 0) === 'return' && chains.get('INPUT')?.policy === 'DROP') {
    blockers.push({ source, where: 'filter INPUT', hook: 'input', family, rule: 'policy DROP', conditional: false });
  }
  return blockers;
}
