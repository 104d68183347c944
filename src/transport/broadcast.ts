// src/transport/broadcast.ts
// Where entry packets go: the directed broadcast of every up IPv4 interface, plus 255.255.255.255 (§3.1).

import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { IPMSG_LIMITED_BROADCAST } from '../protocol/command.js';

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
}

/** The broadcast targets, duplicates removed, in a stable order. */
export function broadcastTargets(options: BroadcastOptions = {}): string[] {
  const table = options.interfaces ?? networkInterfaces();
  const bind = options.bind === '0.0.0.0' ? undefined : options.bind; // 0.0.0.0 = every interface
  const targets = new Set<string>();
  for (const infos of Object.values(table)) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4') continue;
      if (bind !== undefined ? info.address !== bind : info.internal) continue;
      const target = directedBroadcast(info);
      if (target) targets.add(target);
    }
  }
  if (bind === undefined) targets.add(IPMSG_LIMITED_BROADCAST);
  for (const extra of options.extra ?? []) targets.add(extra);
  return [...targets];
}

/** The IPv4 addresses of this machine, to recognise our own broadcasts. */
export function localAddresses(interfaces: InterfaceTable = networkInterfaces()): Set<string> {
  const out = new Set<string>(['127.0.0.1']);
  for (const infos of Object.values(interfaces)) for (const info of infos ?? []) if (info.family === 'IPv4') out.add(info.address);
  return out;
}
