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

  test('an IPv6 literal, scoped or not, is answered at once too', () => {
    let answered: unknown;
    literalLookup('fe80::1%eth0', { family: 6 }, (error, address, family) => (answered = { error, address, family }));
    assert.deepEqual(answered, { error: null, address: 'fe80::1%eth0', family: 6 });
  });
});

describe('bindUdp families', () => {
  test('a dual-stack socket hears IPv4 (shown unmapped) and IPv6 loopback, and answers both', async () => {
    const bound = await bindUdp({ port: 0, fallback: false });
    const v4 = (await bindUdp({ port: 0, address: '127.0.0.1', fallback: false })).socket;
    const v6 = (await bindUdp({ port: 0, address: '::1', fallback: false })).socket;
    const dual = bound.socket;
    try {
      assert.deepEqual(bound.families, ['IPv6', 'IPv4']);
      const froms: string[] = [];
      const heard = new Promise<void>((resolve) =>
        dual.onMessage((bytes, from) => {
          froms.push(from.address);
          void dual.send(bytes, from);
          if (froms.length === 2) resolve();
        }),
      );
      const echo4 = new Promise<string>((resolve) => v4.onMessage((bytes, from) => resolve(`${Buffer.from(bytes).toString()} ${from.address}`)));
      const echo6 = new Promise<string>((resolve) => v6.onMessage((bytes, from) => resolve(`${Buffer.from(bytes).toString()} ${from.address}`)));
      await v4.send(Buffer.from('four'), { address: '127.0.0.1', port: dual.port });
      await v6.send(Buffer.from('six'), { address: '::1', port: dual.port });
      await heard;
      assert.deepEqual(froms.sort(), ['127.0.0.1', '::1']);
      assert.equal(await echo4, 'four 127.0.0.1');
      assert.equal(await echo6, 'six ::1');
    } finally {
      await Promise.all([dual.close(), v4.close(), v6.close()]);
    }
  });

  test('-4 and -6 restrict the socket, and so does the bind address', async () => {
    const only4 = await bindUdp({ port: 0, fallback: false, family: 'IPv4' });
    const only6 = await bindUdp({ port: 0, fallback: false, family: 'IPv6' });
    const at6 = await bindUdp({ port: 0, address: '::1', fallback: false });
    try {
      assert.deepEqual(only4.families, ['IPv4']);
      assert.deepEqual(only6.families, ['IPv6']);
      assert.deepEqual(at6.families, ['IPv6']);
      assert.equal(only4.socket.joinGroup, undefined);
      await assert.rejects(only6.socket.send(Buffer.from('x'), { address: '127.0.0.1', port: only4.socket.port }));
    } finally {
      await Promise.all([only4.socket.close(), only6.socket.close(), at6.socket.close()]);
    }
  });
});
