// src/workflows/doctor/firewall.ts
// Firewall rules that drop the IPMsg port, where this machine lets us read them: nftables
// (`nft -j list ruleset`) and iptables (`iptables-save`). Read only; absent or refused tools are
// a skip, never a failure.

import { type CheckResult, check } from './check.js';
import type { Blocker, PortQuery } from './firewall-rules.js';
import { iptablesBlockers } from './iptables.js';
import { nftBlockers } from './nft.js';
import type { DoctorSystem } from './system.js';

interface Readings {
  /** The tools whose rules were read. */
  readonly read: string[];
  readonly blockers: (query: PortQuery) => Blocker[];
}

async function readRules(system: DoctorSystem, signal: AbortSignal): Promise<Readings> {
  const read: string[] = [];
  let ruleset: unknown;
  const nft = await system.run('nft', ['-j', 'list', 'ruleset'], signal);
  if (nft?.code === 0) {
    try {
      ruleset = JSON.parse(nft.stdout);
      read.push('nftables');
    } catch {
      // an nft without JSON support: its rules stay unread
    }
  }
  const iptables = await system.run('iptables-save', [], signal);
  const dump = iptables?.code === 0 && iptables.stdout.includes('*filter') ? iptables.stdout : undefined;
  if (dump !== undefined) read.push('iptables');
  return {
    read,
    blockers: (query) => [...(ruleset !== undefined ? nftBlockers(ruleset, query) : []), ...(dump !== undefined ? iptablesBlockers(dump, query) : [])],
  };
}

const ruleText = (b: Blocker): string => `${b.source} ${b.where}: ${b.rule}${b.conditional ? ' (for some packets)' : ''}`;

export async function checkFirewall(system: DoctorSystem, port: number, signal: AbortSignal): Promise<CheckResult[]> {
  if (system.platform !== 'linux') return [check('firewall', 'skip', `firewall rules can only be read on Linux (${system.platform}): allow UDP and TCP ${port} in its firewall`)];
  const readings = await readRules(system, signal);
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
    const sure = blockers.some((b) => !b.conditional);
    const effect = protocol === 'udp' ? 'answers and messages from other PCs never reach ipmsg' : 'peers cannot fetch files ipmsg offers';
    const fix =
      blockers[0]?.source === 'iptables'
        ? `allow it, e.g. iptables -I INPUT -p ${protocol} --dport ${port} -j ACCEPT`
        : `allow it, e.g. nft insert rule ${blockers[0]?.where ?? 'inet filter input'} ${protocol} dport ${port} accept`;
    const status = sure ? (protocol === 'udp' ? 'fail' : 'warn') : 'warn';
    return check(id, status, `${what} is dropped coming in${sure ? '' : ' for some packets'}: ${blockers.map(ruleText).join('; ')}`, `${sure ? effect : `check whether it applies to your LAN`}; ${fix}`, details);
  });
}
