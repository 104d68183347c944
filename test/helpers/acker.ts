// test/helpers/acker.ts
// A UDP peer on 127.0.0.1 that acknowledges every SENDMSG and remembers the offers' packet
// numbers, so that a test can fetch what `send --file` / `serve-dir` offered.

import { createSocket } from 'node:dgram';

/** A UDP peer that acknowledges every SENDMSG and remembers the offers' packet numbers. */
export async function startAcker(options: { release?: boolean } = {}): Promise<{ port: number; offers: number[]; close(): void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const offers: number[] = [];
  socket.on('message', (msg, from) => {
    const fields = msg.toString('latin1').split(':');
    const command = Number(fields[4]);
    if ((command & 0xff) !== 0x20) return;
    offers.push(Number(fields[1]));
    socket.send(Buffer.from(`1:1:acker:ackhost:33:${fields[1]}\0`), from.port, from.address);
    // RELEASEFILES (0x61 = 97): "I will not fetch these" (§5.5).
    if (options.release) socket.send(Buffer.from(`1:2:acker:ackhost:97:${fields[1]}\0`), from.port, from.address);
  });
  return { port: socket.address().port, offers, close: () => socket.close() };
}
