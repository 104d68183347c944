// test/state/plain-peers.test.ts
// Plain-peer marks: kept across runs for a day, then asked again; a damaged file is an empty one.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    new FilePlainPeers(dir, () => now).add('10.0.0.2:2425');
    assert.equal(new FilePlainPeers(dir, () => now).has('10.0.0.2:2425'), true);
    assert.equal(new FilePlainPeers(dir, () => now).has('10.0.0.3:2425'), false);
    now += PLAIN_PEER_TTL;
    assert.equal(new FilePlainPeers(dir, () => now).has('10.0.0.2:2425'), false);
    const peers = new FilePlainPeers(dir, () => now);
    peers.add('10.0.0.4:2425');
    peers.delete('10.0.0.4:2425');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, PLAIN_PEERS_FILE), 'utf8')), {}, 'expired and deleted marks are gone');
  });

  test('a damaged file counts as empty and is replaced on the next mark', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, PLAIN_PEERS_FILE), '{"10.0.0.2:24');
    const peers = new FilePlainPeers(dir, () => 5);
    assert.equal(peers.has('10.0.0.2:2425'), false);
    peers.add('10.0.0.2:2425');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, PLAIN_PEERS_FILE), 'utf8')), { '10.0.0.2:2425': 5 + PLAIN_PEER_TTL });
  });
});
