// src/workflows/doctor/interfaces.ts
// Which interfaces ipmsg uses and where its broadcasts go (transport/broadcast.ts computes them),
// and which local interface a peer's address belongs to.

import { IPMSG_LIMITED_BROADCAST } from '../../protocol/command.js';
import { type Family, ipv6Hex } from '../../transport/address.js';
import { type InterfaceTable, broadcastTargets, ipv4ToInt } from '../../transport/broadcast.js';
import { type CheckResult, check } from './check.js';

export interface InterfaceUse {
  readonly name: string;
  readonly addresses: readonly string[];
  /** The broadcast targets (directed broadcast, IPv6 groups) sent on this interface. */
  readonly broadcasts: readonly string[];
}

/** The non-internal interfaces ipmsg broadcasts on (all, or the one `bind` names), with their targets. */
export function interfaceUses(table: InterfaceTable, families: readonly Family[], bind?: string): InterfaceUse[] {
  const uses: InterfaceUse[] = [];
  for (const [name, infos] of Object.entries(table)) {
    const mine = (infos ?? []).filter((i) => families.includes(i.family) && !i.internal);
    const broadcasts = broadcastTargets({ interfaces: { [name]: mine }, families, ...(bind !== undefined ? { bind } : {}) }).filter((t) => t !== IPMSG_LIMITED_BROADCAST);
    if (broadcasts.length > 0) uses.push({ name, addresses: mine.map((i) => i.cidr ?? i.address), broadcasts });
  }
  return uses;
}

export function checkInterfaces(uses: readonly InterfaceUse[], targets: readonly string[]): CheckResult {
  const details = { interfaces: uses, targets };
  if (uses.length === 0) {
    return check('interfaces', 'fail', 'no network interface to broadcast on (only loopback is up)', 'connect the machine to the LAN, or check --bind and -4/-6', details);
  }
  const text = uses.map((u) => `${u.name} ${u.addresses.join(' ')} → ${u.broadcasts.join(' ')}`).join('; ');
  return check('interfaces', 'ok', `broadcasting on ${text}`, uses.length > 1 ? 'several interfaces: --bind ADDR limits ipmsg to one if peers show up twice' : undefined, details);
}

/** Whether two IPv6 addresses share their first `bits` bits. */
function samePrefix6(a: string, b: string, bits: number): boolean {
  const x = ipv6Hex(a);
  const y = ipv6Hex(b);
  if (x === undefined || y === undefined) return false;
  const whole = Math.floor(bits / 4);
  const rest = bits % 4;
  if (x.slice(0, whole) !== y.slice(0, whole)) return false;
  const mask = (0xf << (4 - rest)) & 0xf;
  return rest === 0 || (Number.parseInt(x[whole] ?? '0', 16) & mask) === (Number.parseInt(y[whole] ?? '0', 16) & mask);
}

/** The local interface whose subnet holds `address` (IPv4, or IPv6 by its prefix), or the one named by an IPv6 zone. */
export function interfaceOf(address: string, table: InterfaceTable): string | undefined {
  const zone = address.indexOf('%');
  if (zone >= 0) return address.slice(zone + 1);
  const value = ipv4ToInt(address);
  for (const [name, infos] of Object.entries(table)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      const prefix = Number(info.cidr?.split('/')[1]);
      if (info.family === 'IPv6' && value === undefined && Number.isInteger(prefix) && samePrefix6(info.address, address, prefix)) return name;
      const local = ipv4ToInt(info.address);
      const mask = ipv4ToInt(info.netmask);
      if (value !== undefined && local !== undefined && mask !== undefined && ((value & mask) >>> 0) === ((local & mask) >>> 0)) return name;
    }
  }
  return undefined;
}
