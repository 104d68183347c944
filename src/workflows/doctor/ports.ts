// src/workflows/doctor/ports.ts
// Can this machine take the IPMsg port? Binds UDP and TCP as ipmsg would, closes them at once, and
// names the process that holds a busy one (Linux: /proc).

import { createServer } from 'node:net';
import { bindUdp } from '../../transport/datagram.js';
import type { FamilyChoice } from '../../transport/address.js';
import { type CheckResult, check } from './check.js';
import { describeHolder, portHolders } from './proc-net.js';
import type { DoctorSystem } from './system.js';

export interface PortOptions {
  readonly port: number;
  readonly bind?: string;
  readonly family?: FamilyChoice;
  /** --strict-port: a busy port is an error instead of a fallback. */
  readonly strictPort?: boolean;
}

/** The errno of a failed bind (EADDRINUSE, EACCES…), or undefined when it worked. */
export type BindProbe = (protocol: 'udp' | 'tcp', options: PortOptions) => Promise<string | undefined>;

export const bindProbe: BindProbe = async (protocol, options) => {
  try {
    if (protocol === 'udp') {
      const bound = await bindUdp({ port: options.port, ...(options.bind ? { address: options.bind } : {}), fallback: false, ...(options.family ? { family: options.family } : {}) });
      await bound.socket.close();
      return undefined;
    }
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ port: options.port, ...(options.bind ? { host: options.bind } : {}), exclusive: true }, () => server.close(() => resolve()));
    });
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    return (cause as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
};

async function holderText(system: DoctorSystem, protocol: 'udp' | 'tcp', port: number): Promise<{ text: string; holders: object[] }> {
  const holders = system.platform === 'linux' ? await portHolders(system, protocol, port) : [];
  if (holders.length > 0) return { text: holders.map(describeHolder).join(', '), holders };
  return { text: system.platform === 'linux' ? 'another process (run as root to name it)' : 'another process', holders };
}

export async function checkPort(system: DoctorSystem, protocol: 'udp' | 'tcp', options: PortOptions, probe: BindProbe = bindProbe): Promise<CheckResult> {
  const id = `${protocol}-port`;
  const what = `${protocol.toUpperCase()} ${options.port}`;
  const error = await probe(protocol, options);
  if (error === undefined) return check(id, 'ok', `${what} is free: ipmsg can listen on it`, undefined, { port: options.port });
  if (error !== 'EADDRINUSE') {
    const reason = error === 'EACCES' ? 'permission denied (ports below 1024 need root)' : error === 'EADDRNOTAVAIL' ? `no interface has the address ${options.bind ?? ''}` : error;
    return check(id, 'fail', `cannot bind ${what}: ${reason}`, 'use another --port (and the same on every machine), or fix --bind', { port: options.port, error });
  }
  const { text, holders } = await holderText(system, protocol, options.port);
  const details = { port: options.port, error, holders };
  if (protocol === 'udp') {
    if (options.strictPort) return check(id, 'fail', `${text} holds ${what}, and --strict-port forbids a fallback`, 'stop it, or drop --strict-port to let ipmsg use a free port', details);
    return check(
      id,
      'warn',
      `${text} holds ${what}: ipmsg falls back to a free port`,
      `the official client answers that port, iptux only ${options.port}: stop it to be heard by every client`,
      details,
    );
  }
  return check(id, 'warn', `${text} holds ${what}: ipmsg cannot serve files on it`, 'messages still work; send --file fails (69) until it stops', details);
}
