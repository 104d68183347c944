// src/workflows/doctor/firewall.ts
// Firewall rules that drop the IPMsg port, where this machine lets us read them: nftables
// (`nft -j list ruleset`), iptables (`iptables-save`) and, when the run uses IPv6, ip6tables
// (`ip6tables-save`). Read only; absent or refused tools are a skip, never a failure.

import type { Family } from '../../transport/address.js';
import { type CheckResult, check } from './check.js';
import type { Blocker, PortQuery } from './firewall-rules.js';
import { iptablesBlockers } from './iptables.js';
import { chainDevices, nftBlockers } from './nft.js';
import type { DoctorSystem } from './system.js';

interface Readings {
  /** The tools whose rules were read. */
  readonly read: string[];
  readonly blockers: (query: PortQuery) => Blocker[];
}

/** What the firewall is asked about: the families the run uses and the interfaces it listens on. */
export interface FirewallScope {
  readonly families: readonly Family[];
  readonly interfaces: readonly string[];
}

/** A dump of the filter table, or undefined when the tool is absent, refused or has none. */
async function save(system: DoctorSystem, command: 'iptables-save' | 'ip6tables-save', signal: AbortSignal): Promise<string | undefined> {
  const result = await system.run(command, [], signal);
  return result?.code === 0 && result.stdout.includes('*filter') ? result.stdout : undefined;
}

async function readRules(system: DoctorSystem, scope: FirewallScope, signal: AbortSignal): Promise<Readings> {
  const read: string[] = [];
  let ruleset: unknown;
  let devices: Map<string, string[]> | undefined;
  const nft = await system.run('nft', ['-j', 'list', 'ruleset'], signal);
  if (nft?.code === 0) {
    try {
      ruleset = JSON.parse(nft.stdout);
      read.push('nftables');
    } catch {
      // an nft without JSON support: its rules stay unread
    }
  }
  if (ruleset !== undefined && nft?.stdout.includes('"ingress"')) {
    // nft 1.0's JSON does not say which interface an ingress chain is on; its text does.
    const chains = await system.run('nft', ['list', 'chains'], signal);
    if (chains?.code === 0) devices = chainDevices(chains.stdout);
  }
  const dump = await save(system, 'iptables-save', signal);
  if (dump !== undefined) read.push('iptables');
  // IPv6 rules matter only to a run that uses IPv6.
  const dump6 = scope.families.includes('IPv6') ? await save(system, 'ip6tables-save', signal) : undefined;
  if (dump6 !== undefined) read.push('ip6tables');
  const context = { interfaces: scope.interfaces, ...(devices ? { devices } : {}) };
  return {
    read,
    blockers: (query) =>
      [
        ...(ruleset !== undefined ? nftBlockers(ruleset, query, context) : []),
        ...(dump !== undefined ? iptablesBlockers(dump, query) : []),
        ...(dump6 !== undefined ? iptablesBlockers(dump6, query, 'ip6tables') : []),
      ].filter((b) => b.family === undefined || scope.families.includes(b.family)),
  };
}

const ruleText = (b: Blocker): string => {
  const notes = [
    b.hook !== 'input' ? `${b.hook} hook${b.devices ? ` on ${b.devices.join(', ')}` : ''}` : '',
    b.family === 'IPv6' ? 'IPv6 only' : b.family === 'IPv4' ? 'IPv4 only' : '',
    b.conditional ? 'for some packets' : '',
  ].filter(Boolean);
  return `${b.source} ${b.where}: ${b.rule}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
};

/** A drop every peer meets: unconditional, and of IPv4 (most peers) or of the only family used. */
const stopsEveryone = (b: Blocker, families: readonly Family[]): boolean => !b.conditional && (b.family !== 'IPv6' || !families.includes('IPv4'));

function allowCommand(b: Blocker | undefined, protocol: 'udp' | 'tcp', port: number): string {
  if (b?.source === 'iptables' || b?.source === 'ip6tables') return `${b.source} -I INPUT -p ${protocol} --dport ${port} -j ACCEPT`;
  return `nft insert rule ${b?.where ?? 'inet filter input'} ${protocol} dport ${port} accept`;
}

export async function checkFirewall(system: DoctorSystem, port: number, scope: FirewallScope, signal: AbortSignal): Promise<CheckResult[]> {
  if (system.platform !== 'linux') return [check('firewall', 'skip', `firewall rules can only be read on Linux (${system.platform}): allow UDP and TCP ${port} in its firewall`)];
  const readings = await readRules(system, scope, signal);
  if (readings.read.length === 0) {
    return [check('firewall', 'skip', 'cannot read the firewall rules (nft/iptables-save absent or not permitted: run as root)', `make sure UDP and TCP ${port} are allowed in`)];
  }
  const source = readings.read.join(' and ');
  return (['udp', 'tcp'] as const).map((protocol) => {
    const id = `firewall-${protocol}`;
    const what = `${protocol.toUpperCase()} ${port}`;
    const blockers = readings.blockers({ protocol, port });
    const details = { read: readings.read, blockers };
    if (blockers.length === 0) return check(id, 'ok', `no ${source} rule drops ${what} coming in`, undefined, details);
    const sure = blockers.some((b) => stopsEveryone(b, scope.families));
    const effect = protocol === 'udp' ? 'answers and messages from other PCs never reach ipmsg' : 'peers cannot fetch files ipmsg offers';
    const fix = `allow it, e.g. ${allowCommand(blockers[0], protocol, port)}`;
    const status = sure ? (protocol === 'udp' ? 'fail' : 'warn') : 'warn';
    return check(id, status, `${what} is dropped coming in${sure ? '' : ' for some packets'}: ${blockers.map(ruleText).join('; ')}`, `${sure ? effect : `check whether it applies to your LAN`}; ${fix}`, details);
  });
}
