// test/messenger/encrypt-auto.test.ts
// send --encrypt auto on a lossy LAN: a peer whose key did not come in time gets plain text and is
// remembered as plain-only; but when the plain message is acknowledged from a fingerprinted user
// name (only a client with keys carries one, §6.6), the peer is forgotten again, so the next message
// asks for its key instead of going plain for a day.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PlainPeers, SendOptions } from '../../src/messenger/index.js';
import type { Security } from '../../src/messenger/security.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan, decode } from '../helpers/fake-lan.js';
import { type FixtureName, fixtureSecurity } from '../helpers/keys.js';
import { openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-auto-'));
after(() => rmSync(root, { recursive: true, force: true }));

const security = (name: FixtureName): Promise<Security> => fixtureSecurity(name, root);

class SetPlainPeers implements PlainPeers {
  readonly peers = new Set<string>();
  has(peer: string): boolean {
    return this.peers.has(peer);
  }
  add(peer: string): void {
    this.peers.add(peer);
  }
  delete(peer: string): void {
    this.peers.delete(peer);
  }
}

const OPTIONS: SendOptions = { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4, encrypt: 'auto' };

/** A1 (with keys) sends to A2 while every GETPUBKEY from A1 is lost; A2 has keys or not. */
async function sendWithLostKeyRequests(receiverHasKeys: boolean) {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const plainPeers = new SetPlainPeers();
  const a1 = await openNode(lan, clock, '10.0.0.1', { overrides: { security: await security('alice-rsa2048'), plainPeers } });
  const a2 = await openNode(lan, clock, '10.0.0.2', receiverHasKeys ? { overrides: { security: await security('bob-rsa2048') } } : {});
  lan.drop = (d) => d.from.address === '10.0.0.1' && decode(d.bytes).kind === 'GETPUBKEY';
  const sending = track(a1.messenger.sendMessage([a2.destination], 'hello', OPTIONS));
  await clock.tickUntil(() => sending.settled, 10_000, 50);
  assert.ok(sending.fulfilled, String(sending.error));
  const [outcome] = sending.value ?? [];
  assert.equal(outcome?.status, 'delivered');
  assert.equal(outcome?.encrypted, false, 'no key came: plain text');
  assert.deepEqual(a2.inbox.map((m) => [m.packet.text, m.encrypted]), [['hello', false]]);
  return plainPeers;
}

describe('send --encrypt auto when the key request is lost', () => {
  it('a peer with keys (it acknowledges from a fingerprinted name) is not remembered as plain-only', async () => {
    const plainPeers = await sendWithLostKeyRequests(true);
    assert.deepEqual([...plainPeers.peers], []);
  });

  it('a peer without keys is remembered as plain-only', async () => {
    const plainPeers = await sendWithLostKeyRequests(false);
    assert.deepEqual([...plainPeers.peers], ['10.0.0.2:2425']);
  });
});
