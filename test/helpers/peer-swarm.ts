// test/helpers/peer-swarm.ts
// Many simulated IPMsg peers in this process: one socket listens for BR_ENTRY on the broadcast
// port, and on each one every peer answers ANSENTRY from its own socket, all at once.

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
