// test/transport/datagram.test.ts
// The UDP adapter's address lookup: IPv4 literals are answered as they are (no node:dns), other
// names still resolve; and a socket bound with it sends and receives over loopback.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindUdp, literalLookup } from '../../src/transport/datagram.js';

function lookup(hostname: string): Promise<{ address: string; family: number }> {
  return new Promise((resolve, reject) => {
    literalLookup(hostname, { family: 4 }, (error, address, family) => (error ? reject(error) : resolve({ address, family })));
  });
}

describe('literalLookup', () => {
  test('an IPv4 literal is answered at once, as it is', () => {
    let answered: unknown;
    literalLookup('10.249.0.7', { family: 4 }, (error, address, family) => (answered = { error, address, family }));
    assert.deepEqual(answered, { error: null, address: '10.249.0.7', family: 4 });
  });

  test('a name goes to node:dns', async () => {
    assert.deepEqual(await lookup('localhost'), { address: '127.0.0.1', family: 4 });
  });

  test('a socket bound with it exchanges a datagram over loopback', async () => {
    const a = (await bindUdp({ port: 0, address: '127.0.0.1', fallback: false })).socket;
    const b = (await bindUdp({ port: 0, address: '127.0.0.1', fallback: false })).socket;
    try {
      const got = new Promise<string>((resolve) => b.onMessage((bytes) => resolve(Buffer.from(bytes).toString())));
      await a.send(Buffer.from('ping'), { address: '127.0.0.1', port: b.port });
      assert.equal(await got, 'ping');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
