// test/messenger/sender-marks.test.ts
// A message we acknowledged is delivered, never dropped for who sent it: from a sender whose key is
// not the one pinned for it (its ANSPUBKEY, or its user name's fingerprint) it comes marked
// 'key-changed' with both fingerprints; a message not signed by a sender with a pinned key (plain,
// from any address) comes marked 'missing'. Through receive(), a changed key's offer is not fetched.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fingerprint } from '../../src/crypto/fingerprint.js';
import type { ReceivedMessage, SendOptions } from '../../src/messenger/index.js';
import type { Security } from '../../src/messenger/security.js';
import type { Attachment } from '../../src/protocol/attachment.js';
import { KEY_CHANGED_REASON, receive } from '../../src/workflows/receive.js';
import type { Saved } from '../../src/workflows/save-offer.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan, decode } from '../helpers/fake-lan.js';
import { type FixtureName, fixtureKey, fixtureSecurity } from '../helpers/keys.js';
import { type LanNode, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-marks-'));
after(() => rmSync(root, { recursive: true, force: true }));

const security = (name: FixtureName): Promise<Security> => fixtureSecurity(name, root);
const fp = (name: FixtureName): string => fingerprint(fixtureKey(name).publicKey);

const SEND: SendOptions = { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4 };
/** Alice's node is user1@pc1 (lan-node's default for 10.0.0.1). */
const ALICE = { user: 'user1', host: 'pc1' };

interface Lan {
  clock: FakeClock;
  lan: FakeLan;
  alice: LanNode;
  bob: LanNode;
  bobSecurity: Security;
}

/** Alice (keys: alice) at 10.0.0.1, bob (keys: bob) at 10.0.0.2, who has `pinned` pinned for alice's user@host. */
async function lan(pinned: FixtureName | undefined, aliceKeys = true): Promise<Lan> {
  const clock = new FakeClock();
  const fake = new FakeLan(clock);
  const bobSecurity = await security('bob-rsa2048');
  if (pinned) await bobSecurity.known.trust(ALICE, fixtureKey(pinned).publicKey);
  const alice = await openNode(fake, clock, '10.0.0.1', aliceKeys ? { overrides: { security: await security('alice-rsa2048') } } : {});
  const bob = await openNode(fake, clock, '10.0.0.2', { overrides: { security: bobSecurity } });
  return { clock, lan: fake, alice, bob, bobSecurity };
}

async function sent(l: Lan, from: LanNode, text: string, options: Partial<SendOptions>): Promise<void> {
  const sending = track(from.messenger.sendMessage([l.bob.destination], text, { ...SEND, ...options }));
  await l.clock.tickUntil(() => sending.settled && l.bob.inbox.length > 0, 10_000, 10);
  assert.ok(sending.fulfilled, String(sending.error));
  assert.equal(sending.value?.[0]?.status, 'delivered');
}

const marks = (inbox: readonly ReceivedMessage[]): unknown[] =>
  inbox.map((m) => [m.packet.text, m.encrypted, m.signature, 'keys' in m ? m.keys : undefined]);

describe('a message from a changed key is acknowledged and delivered, marked', () => {
  it('its ANSPUBKEY shows another key than the pinned one: key-changed, both fingerprints, the pinned key kept', async () => {
    const l = await lan('carol-rsa2048');
    await sent(l, l.alice, 'sealed, from a new key', { encrypt: 'always', seal: true });
    assert.deepEqual(marks(l.bob.inbox), [['sealed, from a new key', true, 'key-changed', { known: fp('carol-rsa2048'), seen: fp('alice-rsa2048') }]]);
    assert.equal(l.bobSecurity.pinnedFingerprint(ALICE), fp('carol-rsa2048'), 'the new key is not pinned');
    assert.deepEqual(l.bob.warnings.filter((w) => w.startsWith('dropped')), []);
  });

  it('no ANSPUBKEY comes, and its user name names another key than the pinned one: key-changed', async () => {
    const l = await lan('carol-rsa2048');
    l.lan.drop = (d) => d.from.address === '10.0.0.2' && decode(d.bytes).kind === 'GETPUBKEY';
    // Alice learns bob's key; bob's requests for hers are lost.
    await sent(l, l.alice, 'named another key', { encrypt: 'always' });
    assert.deepEqual(marks(l.bob.inbox), [['named another key', true, 'key-changed', { known: fp('carol-rsa2048'), seen: fp('alice-rsa2048') }]]);
  });

  it('through receive() with save: shown and counted, its offer not fetched', async () => {
    const l = await lan('carol-rsa2048');
    const got: [ReceivedMessage, readonly Saved[] | undefined][] = [];
    const run = track(receive(l.bob.messenger, { count: 1, linger: 0, clock: l.clock, save: { dir: join(root, 'never-used') }, onMessage: (m, saved) => got.push([m, saved]) }));
    const attachments: Attachment[] = [{ fileId: 1, name: 'a.txt', size: 3, mtime: 0, attr: 1 }];
    const sending = track(l.alice.messenger.sendMessage([l.bob.destination], 'take this', { ...SEND, encrypt: 'always', attachments }));
    await l.clock.tickUntil(() => sending.settled && run.settled, 10_000, 10);
    assert.equal(sending.value?.[0]?.status, 'delivered');
    assert.deepEqual(run.value, { received: 1 });
    assert.equal(got[0]?.[0].signature, 'key-changed');
    assert.deepEqual(got[0]?.[1]?.map((s) => [s.name, s.status, s.reason]), [['a.txt', 'skipped', KEY_CHANGED_REASON]]);
  });
});

describe('a message acknowledged while nobody receives (no handler) is shown as a notice', () => {
  it('encrypted: its text and its mark, as for a plain one', async () => {
    const clock = new FakeClock();
    const fake = new FakeLan(clock);
    const bobSecurity = await security('bob-rsa2048');
    await bobSecurity.known.trust(ALICE, fixtureKey('carol-rsa2048').publicKey);
    const alice = await openNode(fake, clock, '10.0.0.1', { overrides: { security: await security('alice-rsa2048') } });
    const bob = await openNode(fake, clock, '10.0.0.2', { noHandler: true, overrides: { security: bobSecurity } });
    const sending = track(alice.messenger.sendMessage([bob.destination], 'read me', { ...SEND, encrypt: 'always' }));
    await clock.tickUntil(() => sending.settled && bob.notices.length > 0, 10_000, 10);
    assert.equal(sending.value?.[0]?.status, 'delivered');
    assert.deepEqual(bob.notices, [
      `message from user1-<${fp('alice-rsa2048')}>@pc1 (10.0.0.1:2425) (encrypted; not from the key pinned for it: known ${fp('carol-rsa2048')}, now ${fp('alice-rsa2048')}) arrived while not receiving (use 'ipmsg recv'): "read me"`,
    ]);
  });
});

describe('a message not signed by a sender with a pinned key is marked', () => {
  it('plain text claiming a pinned user@host, from its address or another: signature missing, the pinned fingerprint', async () => {
    const l = await lan('alice-rsa2048', false);
    await sent(l, l.alice, 'plain from the address', { encrypt: 'never' });
    const other = await openNode(l.lan, l.clock, '10.0.0.9', { identity: ALICE });
    await sent(l, other, 'plain from elsewhere', { encrypt: 'never' });
    await l.clock.tickUntil(() => l.bob.inbox.length >= 2, 10_000, 10);
    const missing = { known: fp('alice-rsa2048') };
    assert.deepEqual(marks(l.bob.inbox), [['plain from the address', false, 'missing', missing], ['plain from elsewhere', false, 'missing', missing]]);
  });

  it('plain text from a sender with no pinned key, and a verified message: unmarked', async () => {
    const l = await lan(undefined);
    await sent(l, l.alice, 'plain, unknown sender', { encrypt: 'never' });
    await sent(l, l.alice, 'encrypted', { encrypt: 'always' });
    await l.clock.tickUntil(() => l.bob.inbox.length >= 2, 10_000, 10);
    assert.deepEqual(marks(l.bob.inbox), [['plain, unknown sender', false, 'none', undefined], ['encrypted', true, 'verified', undefined]]);
  });
});
