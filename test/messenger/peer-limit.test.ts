// test/messenger/peer-limit.test.ts
// The peer table is filled by whoever answers on the LAN: it keeps at most its limit, forgetting
// the peer heard from longest ago.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PEER_LIMIT, type Peer, PeerTable, peerFromEntry } from '../../src/messenger/peers.js';
import { decodePacket } from '../../src/protocol/packet.js';

function peer(port: number, now: number): Peer {
  const packet = decodePacket(Buffer.from(`1:${port}:u${port}:h:3:n\0g\0`, 'latin1'), { fallbackCharset: 'utf-8' });
  assert.equal(packet.kind, 'ANSENTRY');
  return peerFromEntry(packet, { address: '10.0.0.9', port }, now);
}

test('the table keeps at most its limit, forgetting the peer heard from longest ago', () => {
  const table = new PeerTable(3);
  for (const port of [1, 2, 3]) table.update(peer(port, port));
  table.update(peer(1, 4)); // heard again: now the newest
  table.update(peer(5, 5));
  assert.equal(table.size, 3);
  assert.deepEqual(table.all().map((p) => p.port).sort(), [1, 3, 5]);
});

test('by default, PEER_LIMIT peers', () => {
  const table = new PeerTable();
  for (let port = 1; port <= PEER_LIMIT + 10; port++) table.update(peer(port, port));
  assert.equal(table.size, PEER_LIMIT);
  assert.equal(table.get({ address: '10.0.0.9', port: 1 }), undefined);
  assert.notEqual(table.get({ address: '10.0.0.9', port: PEER_LIMIT + 10 }), undefined);
});
