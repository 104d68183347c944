// src/transport/datagram.ts
// The narrow UDP socket interface the endpoint uses, and its node:dgram adapter.

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { createRequire } from 'node:module';
import { IpmsgError } from '../errors.js';
import { type Family, type FamilyChoice, familyOf, formatEndpoint, unmapped } from './address.js';

export interface RemoteAddress {
  readonly address: string;
  readonly port: number;
}

export interface DatagramSocket {
  send(bytes: Uint8Array, to: RemoteAddress): Promise<void>;
  onMessage(handler: (bytes: Uint8Array, from: RemoteAddress) => void): void;
  onError(handler: (error: Error) => void): void;
  readonly port: number;
  close(): Promise<void>;
  /** Joins an IPv6 multicast group on the interface named by `scope` (`eth0`); absent on IPv4-only sockets. */
  joinGroup?(group: string, scope: string): void;
}

export interface BindOptions {
  readonly port: number;
  /** Local address; all interfaces when absent. */
  readonly address?: string;
  /** When the port is taken, bind a free one instead of failing. */
  readonly fallback: boolean;
  /** SO_RCVBUF wish; the kernel may grant less (net.core.rmem_max). */
  readonly receiveBufferSize?: number;
  /** `dual` (the default): IPv6 and IPv4 on one socket where the machine has IPv6, else IPv4. */
  readonly family?: FamilyChoice;
}

export interface BoundSocket {
  readonly socket: DatagramSocket;
  /** Set when the wanted port was taken and another one was bound. */
  readonly fellBackFrom?: number;
  /** The families the socket sends and receives; IPv4 alone when absent. */
  readonly families?: readonly Family[];
}

/**
 * node:dgram looks up every address it binds or sends to, and its default lookup loads node:dns
 * and starts a resolver on every run. Ours are literals (names are resolved before, in
 * messenger/resolve.ts): they are answered as they are, anything else goes to node:dns.
 */
export const literalLookup: NonNullable<SocketOptions['lookup']> = (hostname, options, callback) => {
  const family = familyOf(hostname);
  if (family) return callback(null, hostname, family === 'IPv4' ? 4 : 6);
  const { lookup } = createRequire(import.meta.url)('node:dns') as typeof import('node:dns');
  lookup(hostname, options, callback);
};

interface Plan {
  readonly type: 'udp4' | 'udp6';
  readonly address: string | undefined;
  readonly families: readonly Family[];
}

/** The socket type and families for a bind address and a family choice. */
function plan(address: string | undefined, family: FamilyChoice): Plan {
  const bound = address === undefined ? undefined : familyOf(address);
  if (bound === 'IPv4' || family === 'IPv4') return { type: 'udp4', address, families: ['IPv4'] };
  const any = address === undefined || address === '::';
  if (family === 'IPv6' || !any) return { type: 'udp6', address: address ?? '::', families: ['IPv6'] };
  return { type: 'udp6', address: '::', families: ['IPv6', 'IPv4'] };
}

function bindOnce(port: number, how: Plan): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: how.type, reuseAddr: false, ...(how.type === 'udp6' ? { ipv6Only: how.families.length === 1 } : {}), lookup: literalLookup });
    const onError = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    socket.bind({ port, ...(how.address ? { address: how.address } : {}), exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Binds as planned; a dual-stack bind on a machine without IPv6 becomes an IPv4 one. */
async function bindPlanned(port: number, how: Plan, dual: boolean): Promise<{ socket: Socket; how: Plan }> {
  try {
    return { socket: await bindOnce(port, how), how };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!dual || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EPROTONOSUPPORT')) throw error;
    const v4: Plan = { type: 'udp4', address: undefined, families: ['IPv4'] };
    return { socket: await bindOnce(port, v4), how: v4 };
  }
}

function bindError(error: unknown, port: number, address: string | undefined): IpmsgError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = formatEndpoint(address ?? '0.0.0.0', port);
  const reason =
    code === 'EADDRINUSE'
      ? 'the port is in use (another IP Messenger client?)'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EADDRNOTAVAIL'
          ? 'no interface has that address'
          : String((error as Error).message);
  return new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot bind UDP ${where}: ${reason}`, { cause: error });
}

/**
 * Binds a UDP socket for IPMsg: broadcast enabled, a large receive buffer (hundreds of ANSENTRY
 * replies can arrive at once).
 * @throws IpmsgError IPMSG_ERR_UNAVAILABLE
 */
export async function bindUdp(options: BindOptions): Promise<BoundSocket> {
  const wanted = plan(options.address, options.family ?? 'dual');
  const dual = wanted.families.length === 2;
  let bound: { socket: Socket; how: Plan };
  let fellBackFrom: number | undefined;
  try {
    bound = await bindPlanned(options.port, wanted, dual);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.fallback || options.port === 0) {
      throw bindError(error, options.port, options.address);
    }
    try {
      bound = await bindPlanned(0, wanted, dual);
      fellBackFrom = options.port;
    } catch (second) {
      throw bindError(second, 0, options.address);
    }
  }
  const { socket, how } = bound;
  socket.setBroadcast(true);
  if (options.receiveBufferSize) {
    try {
      socket.setRecvBufferSize(options.receiveBufferSize);
    } catch {
      // The kernel keeps its own limit; a smaller buffer only matters under bursts.
    }
  }
  return { socket: adaptSocket(socket, how), families: how.families, ...(fellBackFrom === undefined ? {} : { fellBackFrom }) };
}

function adaptSocket(socket: Socket, how: Plan): DatagramSocket {
  const port = socket.address().port;
  // A dual-stack socket reaches IPv4 peers at their IPv4-mapped address; they are shown unmapped.
  const outgoing = how.families.length === 2 ? (address: string) => (familyOf(address) === 'IPv4' ? `::ffff:${address}` : address) : (address: string) => address;
  let closed = false;
  return {
    port,
    send: (bytes, to) =>
      new Promise((resolve, reject) => {
        socket.send(bytes, to.port, outgoing(to.address), (error) => (error ? reject(error) : resolve()));
      }),
    onMessage(handler) {
      socket.on('message', (bytes, info) => handler(bytes, { address: unmapped(info.address), port: info.port }));
    },
    ...(how.type === 'udp6' ? { joinGroup: (group: string, scope: string) => socket.addMembership(group, `::%${scope}`) } : {}),
    onError(handler) {
      socket.on('error', handler);
    },
    close: () =>
      new Promise((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}
