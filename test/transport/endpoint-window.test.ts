// test/transport/endpoint-window.test.ts
// A burst of datagrams leaves the endpoint at most a window at a time, in order, and a failed send
// fails only its own datagram.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatagramSocket, RemoteAddress } from '../../src/transport/datagram.js';
import { Endpoint, SEND_WINDOW } from '../../src/transport/endpoint.js';
import { flush } from '../helpers/fake-clock.js';

/** A socket whose sends complete only when the test says so. */
function manualSocket() {
  const pending: { bytes: Uint8Array; to: RemoteAddress; done: (error?: Error) => void }[] = [];
  const socket: DatagramSocket = {
    port: 2425,
    send: (bytes, to) => new Promise<void>((resolve, reject) => pending.push({ bytes, to, done: (error) => (error ? reject(error) : resolve()) })),
    onMessage: () => undefined,
    onError: () => undefined,
    close: () => Promise.resolve(),
  };
  return { socket, pending };
}

const options = { fallbackCharset: 'utf-8' as const, onPacket: () => undefined, onWarning: () => undefined };

describe('Endpoint send window', () => {
  it('hands a burst of 1,000 datagrams to the socket at most `sendWindow` at a time, in order', async () => {
    const { socket, pending } = manualSocket();
    const endpoint = new Endpoint(socket, { ...options, sendWindow: 8 });
    const sends = Array.from({ length: 1000 }, (_, i) => endpoint.sendBytes(Uint8Array.of(i & 0xff, i >> 8), { address: '10.0.0.2', port: 3000 + i }));
    const order: number[] = [];
    let most = 0;
    while (pending.length > 0) {
      most = Math.max(most, pending.length, endpoint.sending);
      for (const p of pending.splice(0)) {
        order.push(p.to.port - 3000);
        p.done();
      }
      await flush(2);
    }
    await Promise.all(sends);
    assert.equal(most, 8);
    assert.deepEqual(order, Array.from({ length: 1000 }, (_, i) => i));
    assert.equal(endpoint.sending, 0);
  });

  it('a failed send rejects its own promise and the queue goes on', async () => {
    const { socket, pending } = manualSocket();
    const endpoint = new Endpoint(socket, { ...options, sendWindow: 1 });
    const to = { address: '10.0.0.2', port: 2425 };
    const [a, b] = [endpoint.sendBytes(Uint8Array.of(1), to), endpoint.sendBytes(Uint8Array.of(2), to)];
    assert.equal(pending.length, 1, 'the second waits for the first');
    pending.shift()?.done(new Error('ENOBUFS'));
    await assert.rejects(a, /ENOBUFS/);
    await flush(2);
    assert.equal(pending.length, 1);
    pending.shift()?.done();
    await b;
  });

  it('the default window is SEND_WINDOW', () => {
    const { socket, pending } = manualSocket();
    const endpoint = new Endpoint(socket, options);
    for (let i = 0; i < SEND_WINDOW + 5; i++) void endpoint.sendBytes(Uint8Array.of(i), { address: '10.0.0.2', port: 2425 });
    assert.equal(pending.length, SEND_WINDOW);
  });
});
