// test/state/known-peers.test.ts
// Trust on first use: new → remembered → match; a changed key is a mismatch (and a clear error)
// until trusted; forget; a damaged file is reported and left alone.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fingerprint, withFingerprint } from '../../src/crypto/fingerprint.js';
import { keyChangedError, keyFingerprint, peerId } from '../../src/crypto/peer-id.js';
import { KNOWN_PEERS_FILE, KnownPeers } from '../../src/state/known-peers.js';
import { isIpmsgError } from '../../src/errors.js';
import { fixtureKey } from '../helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-known-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `run${++dirs}`);

const alice = fixtureKey('alice-rsa2048').publicKey;
const carol = fixtureKey('carol-rsa2048').publicKey;
const ALICE_FP = fingerprint(alice);
const CAROL_FP = fingerprint(carol);
const ALICE = { user: withFingerprint('alice', ALICE_FP), host: 'PC1' };
const clock = (iso: string) => () => new Date(iso);

describe('peerId', () => {
  test('user name without its fingerprint, @ host', () => {
    assert.equal(peerId(ALICE), 'alice@PC1');
    assert.equal(peerId({ user: 'bob', host: 'PC2' }), 'bob@PC2');
  });
});

describe('KnownPeers', () => {
  test('new → remember → match, kept across opens in a 0600 file', async () => {
    const dir = freshDir();
    const peers = await KnownPeers.open(dir, { now: clock('2024-03-01T10:00:00.000Z') });
    assert.deepEqual(peers.list(), []);
    assert.equal(peers.check(ALICE, alice), 'new');
    assert.equal(await peers.remember(ALICE, alice), 'new');
    assert.equal(peers.check(ALICE, alice), 'match');
    const path = join(dir, KNOWN_PEERS_FILE);
    assert.equal((statSync(path).mode & 0o777).toString(8), '600');

    const reopened = await KnownPeers.open(dir);
    assert.equal(reopened.check(ALICE, alice), 'match');
    const [entry] = reopened.list();
    assert.equal(entry?.id, 'alice@PC1');
    assert.equal(entry?.fingerprint, ALICE_FP);
    assert.equal(entry?.firstSeen, '2024-03-01T10:00:00.000Z');
    assert.ok(entry?.publicKey.equals(alice));
    const file = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(file.version, 1);
    assert.equal(file.peers['alice@PC1'].publicKey, alice.export({ type: 'spki', format: 'der' }).toString('base64'));
  });

  test('another key under the same person and machine: a mismatch with both fingerprints, not replaced', async () => {
    const dir = freshDir();
    const peers = await KnownPeers.open(dir);
    await peers.remember(ALICE, alice);
    const impostor = { user: withFingerprint('alice', CAROL_FP), host: 'PC1' };
    const expected = { mismatch: { known: ALICE_FP, seen: CAROL_FP } };
    assert.deepEqual(peers.check(impostor, carol), expected);
    assert.deepEqual(await peers.remember(impostor, carol), expected);
    assert.deepEqual((await KnownPeers.open(dir)).check(ALICE, alice), 'match');

    const error = keyChangedError(peerId(impostor), expected.mismatch);
    assert.ok(isIpmsgError(error, 'IPMSG_ERR_KEY_MISMATCH'));
    assert.equal(error.exitStatus, 67);
    assert.ok(error.message.includes(ALICE_FP) && error.message.includes(CAROL_FP), error.message);
    assert.ok(error.message.includes('ipmsg keys trust alice@PC1'), error.message);
  });

  test('trust replaces the key (and its date); forget drops it', async () => {
    const dir = freshDir();
    const peers = await KnownPeers.open(dir, { now: clock('2024-03-01T00:00:00.000Z') });
    await peers.remember(ALICE, alice);
    const later = await KnownPeers.open(dir, { now: clock('2024-04-01T00:00:00.000Z') });
    await later.trust('alice@PC1', carol);
    assert.equal(later.check(ALICE, carol), 'match');
    assert.deepEqual(later.check(ALICE, alice), { mismatch: { known: CAROL_FP, seen: ALICE_FP } });
    assert.equal((await KnownPeers.open(dir)).get('alice@PC1')?.firstSeen, '2024-04-01T00:00:00.000Z');
    assert.equal(await later.forget(ALICE), true);
    assert.equal(await later.forget('alice@PC1'), false);
    assert.equal(later.check(ALICE, alice), 'new');
    assert.deepEqual((await KnownPeers.open(dir)).list(), []);
  });

  test('a change keeps what another run added since this one opened the file', async () => {
    const dir = freshDir();
    const first = await KnownPeers.open(dir);
    const second = await KnownPeers.open(dir);
    await second.remember({ user: 'carol', host: 'PC3' }, carol);
    await first.remember(ALICE, alice);
    assert.deepEqual((await KnownPeers.open(dir)).list().map((p) => p.id), ['alice@PC1', 'carol@PC3']);
  });

  test('RSA-1024 keys get a sha256: fingerprint', async () => {
    const legacy = fixtureKey('bob-rsa1024').publicKey;
    assert.match(keyFingerprint(legacy), /^sha256:[0-9a-f]{16}$/);
    assert.equal(keyFingerprint(alice), ALICE_FP);
  });

  test('a damaged file is an error naming it, and stays as it was', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, KNOWN_PEERS_FILE);
    const damaged = ['{', 'null', '[]', '{"version":2,"peers":{}}', '{"version":1,"peers":{"a@b":{"fingerprint":"x"}}}', '{"version":1,"peers":{"a@b":{"fingerprint":"x","publicKey":"AAAA","firstSeen":"t"}}}'];
    for (const content of damaged) {
      writeFileSync(path, content);
      await assert.rejects(KnownPeers.open(dir), (e) => isIpmsgError(e, 'IPMSG_ERR_KEY_FILE') && e.message.includes(path), content);
      assert.equal(readFileSync(path, 'utf8'), content);
    }
  });
});
