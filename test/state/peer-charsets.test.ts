// test/state/peer-charsets.test.ts
// Peer charsets: kept across runs for a week, written once at flush over what the file holds then,
// bounded; a damaged file or entry counts as nothing remembered.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FilePeerCharsets, PEER_CHARSETS_FILE, PEER_CHARSET_TTL } from '../../src/state/peer-charsets.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-peer-charsets-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `case${++dirs}`, 'ipmsg');
const FEIQ = { kind: 'dialect', charset: 'gb18030' } as const;

describe('FilePeerCharsets', () => {
  test('what a peer announced holds for later runs until its week is over', () => {
    const dir = freshDir();
    let now = 1_000_000;
    const first = new FilePeerCharsets(dir, () => now);
    first.set('10.0.0.9:2425', FEIQ);
    assert.deepEqual(first.get('10.0.0.9:2425'), FEIQ, 'known at once in this run');
    assert.equal(new FilePeerCharsets(dir, () => now).get('10.0.0.9:2425'), undefined, 'nothing written before flush');
    first.flush();
    assert.deepEqual(new FilePeerCharsets(dir, () => now).get('10.0.0.9:2425'), FEIQ);
    assert.equal(new FilePeerCharsets(dir, () => now).get('10.0.0.8:2425'), undefined);
    now += PEER_CHARSET_TTL;
    assert.equal(new FilePeerCharsets(dir, () => now).get('10.0.0.9:2425'), undefined);
  });

  test('a flush merges into the file as it is then: peers another run saved meanwhile stay', () => {
    const dir = freshDir();
    const a = new FilePeerCharsets(dir, () => 10);
    const b = new FilePeerCharsets(dir, () => 10);
    assert.equal(a.get('10.0.0.1:2425'), undefined); // a has read the (missing) file
    b.set('10.0.0.2:2425', { kind: 'utf8' });
    b.flush();
    a.set('10.0.0.1:2425', { kind: 'legacy' });
    a.flush();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, PEER_CHARSETS_FILE), 'utf8')), {
      '10.0.0.2:2425': { kind: 'utf8', until: 10 + PEER_CHARSET_TTL },
      '10.0.0.1:2425': { kind: 'legacy', until: 10 + PEER_CHARSET_TTL },
    });
  });

  test('at most 1000 peers: the longest unheard go first', () => {
    const dir = freshDir();
    const store = new FilePeerCharsets(dir, () => 1);
    for (let i = 0; i < 1005; i++) store.set(`10.0.${i >> 8}.${i & 255}:2425`, { kind: 'utf8' });
    store.set('10.0.0.0:2425', FEIQ); // heard again: now the newest
    store.flush();
    const saved = Object.keys(JSON.parse(readFileSync(join(dir, PEER_CHARSETS_FILE), 'utf8')) as object);
    assert.equal(saved.length, 1000);
    assert.equal(saved.at(-1), '10.0.0.0:2425');
    assert.ok(!saved.includes('10.0.0.1:2425'));
    assert.ok(saved.includes('10.0.0.6:2425'));
  });

  test('a damaged file, or a damaged entry, counts as nothing remembered and is replaced on the next flush', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, PEER_CHARSETS_FILE), '{"10.0.0.9:24');
    const store = new FilePeerCharsets(dir, () => 5);
    assert.equal(store.get('10.0.0.9:2425'), undefined);
    writeFileSync(join(dir, PEER_CHARSETS_FILE), JSON.stringify({ 'a:1': { kind: 'dialect', charset: 'koi8-r', until: 99 }, 'b:1': { kind: 'utf8' }, 'c:1': { kind: 'utf8', until: 99 } }));
    const again = new FilePeerCharsets(dir, () => 5);
    assert.equal(again.get('a:1'), undefined, 'unknown charset');
    assert.equal(again.get('b:1'), undefined, 'no expiry');
    assert.deepEqual(again.get('c:1'), { kind: 'utf8' });
    again.set('d:1', { kind: 'legacy' });
    again.flush();
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(dir, PEER_CHARSETS_FILE), 'utf8')) as object), ['c:1', 'd:1']);
  });

  test('flush without anything set writes nothing', () => {
    const dir = freshDir();
    new FilePeerCharsets(dir, () => 5).flush();
    assert.throws(() => readFileSync(join(dir, PEER_CHARSETS_FILE)), { code: 'ENOENT' });
  });
});
