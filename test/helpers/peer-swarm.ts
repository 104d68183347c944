// test/helpers/peer-swarm.ts
// Many simulated IPMsg peers in this process: one socket listens for BR_ENTRY on the broadcast
// port, and on each one every peer answers ANSENTRY from its own socket, all at once; or peers that
// acknowledge messages (startAckSwarm).

import type { Socket } from 'node:dgram';
import { bindUdpSocket } from './udp-relay.js';

export interface Swarm {
  /** The port the BR_ENTRY listener is bound to. */
  readonly port: number;
  /** BR_ENTRY packets answered so far (each by every peer). */
  readonly entries: number;
  /** ANSENTRY datagrams sent. */
  readonly answers: number;
  close(): Promise<void>;
}

/** `peers` peers on `address` (each its own port), answering BR_ENTRY sent to `address:port`. */
export async function startSwarm(options: { address: string; port: number; peers: number }): Promise<Swarm> {
  const listener = await bindUdpSocket(options.address, options.port);
  const sockets: Socket[] = [];
  for (let i = 0; i < options.peers; i++) sockets.push(await bindUdpSocket(options.address, 0));
  const answers = sockets.map((_, i) => Buffer.from(`1:${i + 1}:peer${i}:simhost${i}:3:Peer ${i}\0swarm\0`, 'latin1'));
  const state = { entries: 0, answers: 0 };
  listener.on('message', (msg, from) => {
    const command = Number(msg.toString('latin1').split(':')[4]);
    if ((command & 0xff) !== 0x01) return; // BR_ENTRY
    state.entries++;
    sockets.forEach((s, i) => {
      state.answers++;
      s.send(answers[i] as Buffer, from.port, from.address);
    });
  });
  return {
    port: listener.address().port,
    get entries() {
      return state.entries;
    },
    get answers() {
      return state.answers;
    },
    async close() {
      await Promise.all([listener, ...sockets].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

export interface AckSwarm {
  /** `address:port` of every peer, in order. */
  readonly targets: readonly string[];
  /** SENDMSG datagrams each peer received. */
  readonly received: readonly number[];
  close(): Promise<void>;
}

/**
 * `peers` peers on `address`, each on a port of its own, that acknowledge SENDMSG with RECVMSG
 * from that port, unless `silent(i)`: those receive and never answer.
 */
export async function startAckSwarm(options: { address: string; peers: number; silent?: (i: number) => boolean }): Promise<AckSwarm> {
  const sockets: Socket[] = [];
  for (let i = 0; i < options.peers; i++) sockets.push(await bindUdpSocket(options.address, 0));
  const received = sockets.map(() => 0);
  sockets.forEach((s, i) => {
    s.on('message', (msg, from) => {
      const fields = msg.toString('latin1').split(':');
      if ((Number(fields[4]) & 0xff) !== 0x20) return; // SENDMSG
      received[i] = (received[i] ?? 0) + 1;
      if (options.silent?.(i)) return;
      s.send(Buffer.from(`1:${i + 1}:peer${i}:simhost${i}:33:${fields[1]}\0`, 'latin1'), from.port, from.address);
    });
  });
  return {
    targets: sockets.map((s) => `${options.address}:${s.address().port}`),
    received,
    async close() {
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
