// test/state/plain-peers.test.ts
// Plain-peer marks: kept across runs for a day, then asked again; a damaged file is an empty one.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FilePlainPeers, PLAIN_PEERS_FILE, PLAIN_PEER_TTL } from '../../src/state/plain-peers.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-plain-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `case${++dirs}`, 'ipmsg');

describe('FilePlainPeers', () => {
  test('a mark holds for the next run until its day is over; delete drops it', () => {
    const dir = freshDir();
    let now = 1_000_000;
    const first = new FilePlainPeers(dir, () => now);
    first.add('10.0.0.2:2425');
    assert.equal(new FilePlainPeers(dir, () => now).has('10.0.0.2:2425'), false, 'written on flush');
    first.flush();
    assert.equal(new FilePlainPeers(dir, () => now).has('10.0.0.2:2425'), true);
    assert.equal(new FilePlainPeers(dir, () => now).has('10.0.0.3:2425'), false);
    now += PLAIN_PEER_TTL;
    assert.equal(new FilePlainPeers(dir, () => now).has('10.0.0.2:2425'), false);
    const peers = new FilePlainPeers(dir, () => now);
    peers.add('10.0.0.4:2425');
    peers.delete('10.0.0.4:2425');
    peers.flush();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, PLAIN_PEERS_FILE), 'utf8')), {}, 'expired and deleted marks are gone');
  });

  test('a thousand marks are one write, on flush', () => {
    const dir = freshDir();
    const peers = new FilePlainPeers(dir, () => 7);
    for (let i = 0; i < 1000; i++) peers.add(`10.1.${i >> 8}.${i & 0xff}:2425`);
    assert.equal(existsSync(join(dir, PLAIN_PEERS_FILE)), false);
    peers.flush();
    assert.equal(Object.keys(JSON.parse(readFileSync(join(dir, PLAIN_PEERS_FILE), 'utf8'))).length, 1000);
  });

  test('a damaged file counts as empty and is replaced on the next mark', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, PLAIN_PEERS_FILE), '{"10.0.0.2:24');
    const peers = new FilePlainPeers(dir, () => 5);
    assert.equal(peers.has('10.0.0.2:2425'), false);
    peers.add('10.0.0.2:2425');
    peers.flush();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, PLAIN_PEERS_FILE), 'utf8')), { '10.0.0.2:2425': 5 + PLAIN_PEER_TTL });
  });
});
