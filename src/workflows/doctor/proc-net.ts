// src/workflows/doctor/proc-net.ts
// Who holds a port on Linux: the sockets of /proc/net/{udp,tcp}{,6} bound to it, and the process
// whose /proc/<pid>/fd links to one of their inodes (`socket:[inode]`).

import type { DoctorSystem } from './system.js';

export interface ProcSocket {
  readonly localPort: number;
  /** The kernel's state code: 07 is an unconnected UDP socket, 0A a listening TCP one. */
  readonly state: string;
  readonly inode: string;
}

/** The sockets of one /proc/net/udp-style table (header line first; addresses as hex `ADDR:PORT`). */
export function parseProcNet(text: string): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    const inode = fields[9];
    if (local === undefined || state === undefined || inode === undefined) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isInteger(port) && /^\d+$/.test(inode)) out.push({ localPort: port, state: state.toUpperCase(), inode });
  }
  return out;
}

export interface PortHolder {
  readonly pid: number;
  /** The process name (/proc/<pid>/comm). */
  readonly name: string;
  /** Its command line, arguments joined by spaces. */
  readonly command: string;
}

const TCP_LISTEN = '0A';

/** The inodes of the sockets bound to `port` (listening ones only for TCP). */
export async function socketInodes(system: DoctorSystem, protocol: 'udp' | 'tcp', port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of [protocol, `${protocol}6`]) {
    const text = await system.readText(`/proc/net/${table}`);
    for (const socket of parseProcNet(text ?? '')) {
      if (socket.localPort === port && (protocol === 'udp' || socket.state === TCP_LISTEN) && socket.inode !== '0') inodes.add(socket.inode);
    }
  }
  return inodes;
}

/** The processes holding `port`; [] when none is visible (another user's, without root). */
export async function portHolders(system: DoctorSystem, protocol: 'udp' | 'tcp', port: number): Promise<PortHolder[]> {
  const inodes = await socketInodes(system, protocol, port);
  if (inodes.size === 0) return [];
  const holders: PortHolder[] = [];
  for (const entry of await system.list('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await system.list(`/proc/${entry}/fd`);
    for (const fd of fds) {
      const link = await system.readLink(`/proc/${entry}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(link ?? '')?.[1];
      if (inode === undefined || !inodes.has(inode)) continue;
      const name = (await system.readText(`/proc/${entry}/comm`))?.trim() ?? '?';
      const command = ((await system.readText(`/proc/${entry}/cmdline`)) ?? '').split('\0').filter(Boolean).join(' ');
      holders.push({ pid: Number(entry), name, command });
      break;
    }
  }
  return holders;
}

/** `iptux (pid 1234)`, or the command line when the name is only the interpreter's. */
export function describeHolder(holder: PortHolder): string {
  const shown = /^(node|python\d*(\.\d+)?|java|perl|ruby)$/.test(holder.name) && holder.command ? holder.command.slice(0, 80) : holder.name;
  return `${shown} (pid ${holder.pid})`;
}
