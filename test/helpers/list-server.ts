// test/helpers/list-server.ts
// Run inside a test's namespace: `node list-server.js '<hosts as JSON>'` answers GETLIST on UDP
// 2425 with those hosts, one per page, as a peer that keeps a host list (the official) would.
// It prints "listening" once bound and stops on SIGTERM/SIGINT.

import dgram from 'node:dgram';
import type { HostListEntry } from '../../src/protocol/host-list.js';
import { answerGetList, pagesOf } from './list-peer.js';

const hosts = JSON.parse(process.argv[2] ?? '[]') as HostListEntry[];
const socket = dgram.createSocket('udp4');
answerGetList(
  {
    send: (bytes, to) => new Promise<void>((resolve, reject) => socket.send(bytes, to.port, to.address, (error) => (error ? reject(error) : resolve()))),
    onMessage: (handler) => socket.on('message', (bytes, from) => handler(bytes, { address: from.address, port: from.port })),
  },
  pagesOf(hosts, 1),
);
socket.bind(2425, () => process.stdout.write('listening\n'));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => socket.close());
