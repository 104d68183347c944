// src/transport/broadcast.ts
// Where entry packets go: the directed broadcast of every up IPv4 interface, plus 255.255.255.255
// (§3.1); with IPv6, ff15::979 and ff02::1 on every IPv6 interface (§8).

import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { IPMSG_LIMITED_BROADCAST } from '../protocol/command.js';
import { type Family, withoutScope } from './address.js';

/** The official's IPv6 multicast group (§8): joined while listening, sent BR_ENTRY. */
export const IPMSG_MULTICAST_GROUP = 'ff15::979';
export const ALL_NODES = 'ff02::1';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

export function ipv4ToInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

export function isIpv4(address: string): boolean {
  return ipv4ToInt(address) !== undefined;
}

function directedBroadcast(info: NetworkInterfaceInfo): string | undefined {
  const address = ipv4ToInt(info.address);
  const mask = ipv4ToInt(info.netmask);
  if (address === undefined || mask === undefined || mask === 0xffffffff) return undefined;
  return intToIpv4((address | ~mask) >>> 0);
}

export interface BroadcastOptions {
  /** When set, only this local address's interface is used, and not the limited broadcast. */
  readonly bind?: string;
  /** Extra addresses (other subnets, single hosts). */
  readonly extra?: readonly string[];
  readonly interfaces?: InterfaceTable;
  /** The families the socket speaks; IPv4 alone when absent. */
  readonly families?: readonly Family[];
}

/** The broadcast targets, duplicates removed, in a stable order. */
export function broadcastTargets(options: BroadcastOptions = {}): string[] {
  const table = options.interfaces ?? networkInterfaces();
  const bind = options.bind === '0.0.0.0' || options.bind === '::' ? undefined : options.bind; // every interface
  const families = options.families ?? ['IPv4'];
  const targets = new Set<string>();
  for (const [name, infos] of Object.entries(table)) {
    for (const info of infos ?? []) {
      if (!families.includes(info.family)) continue;
      if (bind !== undefined ? withoutScope(info.address) !== withoutScope(bind) : info.internal) continue;
      if (info.family === 'IPv6') {
        if (info.internal) continue;
        targets.add(`${IPMSG_MULTICAST_GROUP}%${name}`);
        targets.add(`${ALL_NODES}%${name}`);
        continue;
      }
      const target = directedBroadcast(info);
      if (target) targets.add(target);
    }
  }
  if (bind === undefined && families.includes('IPv4')) targets.add(IPMSG_LIMITED_BROADCAST);
  for (const extra of options.extra ?? []) targets.add(extra);
  return [...targets];
}

/** The names of the interfaces with a non-internal IPv6 address: where the multicast group is joined. */
export function ipv6Interfaces(interfaces: InterfaceTable = networkInterfaces(), bind?: string): string[] {
  return Object.entries(interfaces).flatMap(([name, infos]) =>
    (infos ?? []).some((i) => i.family === 'IPv6' && !i.internal && (bind === undefined || bind === '::' || withoutScope(i.address) === withoutScope(bind))) ? [name] : [],
  );
}

/** The addresses of this machine (IPv6 ones without their zone), to recognise our own broadcasts. */
export function localAddresses(interfaces: InterfaceTable = networkInterfaces()): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const infos of Object.values(interfaces)) for (const info of infos ?? []) out.add(withoutScope(info.address));
  return out;
}
