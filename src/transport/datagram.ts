// src/transport/datagram.ts
// The narrow UDP socket interface the endpoint uses, and its node:dgram adapter.

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { createRequire } from 'node:module';
import { IpmsgError } from '../errors.js';

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
}

export interface BindOptions {
  readonly port: number;
  /** Local address; all interfaces when absent. */
  readonly address?: string;
  /** When the port is taken, bind a free one instead of failing. */
  readonly fallback: boolean;
  /** SO_RCVBUF wish; the kernel may grant less (net.core.rmem_max). */
  readonly receiveBufferSize?: number;
}

export interface BoundSocket {
  readonly socket: DatagramSocket;
  /** Set when the wanted port was taken and another one was bound. */
  readonly fellBackFrom?: number;
}

const IPV4_LITERAL = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * node:dgram looks up every address it binds or sends to, and its default lookup loads node:dns
 * and starts a resolver on every run. Ours are IPv4 literals (names are resolved before,
 * in messenger/resolve.ts): they are answered as they are, anything else goes to node:dns.
 */
export const literalLookup: NonNullable<SocketOptions['lookup']> = (hostname, options, callback) => {
  if (IPV4_LITERAL.test(hostname)) return callback(null, hostname, 4);
  const { lookup } = createRequire(import.meta.url)('node:dns') as typeof import('node:dns');
  lookup(hostname, options, callback);
};

function bindOnce(port: number, address: string | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: false, lookup: literalLookup });
    const onError = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    socket.bind({ port, ...(address ? { address } : {}), exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function bindError(error: unknown, port: number, address: string | undefined): IpmsgError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${address ?? '0.0.0.0'}:${port}`;
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
  let socket: Socket;
  let fellBackFrom: number | undefined;
  try {
    socket = await bindOnce(options.port, options.address);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.fallback || options.port === 0) {
      throw bindError(error, options.port, options.address);
    }
    try {
      socket = await bindOnce(0, options.address);
      fellBackFrom = options.port;
    } catch (second) {
      throw bindError(second, 0, options.address);
    }
  }
  socket.setBroadcast(true);
  if (options.receiveBufferSize) {
    try {
      socket.setRecvBufferSize(options.receiveBufferSize);
    } catch {
      // The kernel keeps its own limit; a smaller buffer only matters under bursts.
    }
  }
  return { socket: adaptSocket(socket), ...(fellBackFrom === undefined ? {} : { fellBackFrom }) };
}

function adaptSocket(socket: Socket): DatagramSocket {
  const port = socket.address().port;
  let closed = false;
  return {
    port,
    send: (bytes, to) =>
      new Promise((resolve, reject) => {
        socket.send(bytes, to.port, to.address, (error) => (error ? reject(error) : resolve()));
      }),
    onMessage(handler) {
      socket.on('message', (bytes, info) => handler(bytes, { address: info.address, port: info.port }));
    },
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
