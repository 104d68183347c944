// test/messenger/budget.test.ts
// The decryption budget: token buckets per sender address and in all, on the fake clock; and a
// Messenger with keys on the fake LAN flooded with encrypted messages: beyond the budget they are
// neither decrypted nor acknowledged (the sender tries again), other senders still get through, and
// resends of delivered messages are acknowledged whatever the budget.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { combinationOf } from '../../src/crypto/capability.js';
import { KnownPeers } from '../../src/state/known-peers.js';
import { encryptMessage } from '../../src/crypto/message.js';
import { DECRYPT_BUDGET, DecryptBudget } from '../../src/messenger/budget.js';
import { Security } from '../../src/messenger/security.js';
import {
  IPMSG_AES_256,
  IPMSG_ENCODE_BASE64,
  IPMSG_ENCRYPTOPT,
  IPMSG_PACKETNO_IV,
  IPMSG_RSA_2048,
  IPMSG_SENDCHECKOPT,
  IPMSG_SENDMSG,
} from '../../src/protocol/command.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan, decode } from '../helpers/fake-lan.js';
import { fixtureKey } from '../helpers/keys.js';
import { openNode } from '../helpers/lan-node.js';

const PER_ADDRESS = DECRYPT_BUDGET.perAddress;
const TOTAL = DECRYPT_BUDGET.total;

describe('DecryptBudget', () => {
  it('gives an address its burst at once, then its rate per second', () => {
    const clock = new FakeClock();
    const budget = new DecryptBudget(clock);
    let granted = 0;
    for (let i = 0; i < PER_ADDRESS.burst + 50; i++) if (budget.take('10.0.0.9')) granted++;
    assert.equal(granted, PER_ADDRESS.burst);
    clock.advance(1000);
    granted = 0;
    for (let i = 0; i < PER_ADDRESS.burst; i++) if (budget.take('10.0.0.9')) granted++;
    assert.equal(granted, PER_ADDRESS.perSecond);
  });

  it('one address spending its budget leaves the others theirs, within the total', () => {
    const clock = new FakeClock();
    const budget = new DecryptBudget(clock);
    for (let i = 0; i < 1000; i++) budget.take('10.0.0.9');
    assert.equal(budget.take('10.0.0.8'), true, 'another address still gets through');
    let granted = 1;
    for (let a = 1; a <= 50; a++) for (let i = 0; i < PER_ADDRESS.burst; i++) if (budget.take(`10.0.1.${a}`)) granted++;
    assert.equal(granted + PER_ADDRESS.burst, TOTAL.burst, 'no more than the total burst in one instant');
  });

  it('forgets the least recently seen address beyond its table, and the total still bounds', () => {
    const clock = new FakeClock();
    const budget = new DecryptBudget(clock, { ...DECRYPT_BUDGET, addresses: 2, total: { perSecond: 1000, burst: 1000 } });
    for (let i = 0; i < PER_ADDRESS.burst; i++) budget.take('a');
    assert.equal(budget.take('a'), false);
    budget.take('b');
    budget.take('c'); // 'a' is forgotten: it starts again with a full bucket
    assert.equal(budget.take('a'), true);
  });
});

describe('Messenger with keys flooded with encrypted messages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipmsg-budget-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bob = fixtureKey('bob-rsa2048');
  const alice = fixtureKey('alice-rsa2048');
  // Unsigned (no SIGN bit): nothing waits for the sender's key.
  const combination = combinationOf(IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_PACKETNO_IV | IPMSG_ENCODE_BASE64);
  assert.ok(combination);
  const COMMAND = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_ENCRYPTOPT;

  function encrypted(packetNo: number, text: string): Buffer {
    const body = encryptMessage({ parts: { text }, packetNo: String(packetNo), combination: combination!, peerPublicKey: bob.publicKey, ownPrivateKey: alice.privateKey });
    return Buffer.from(`1:${packetNo}:eve:evepc:${COMMAND}:${body}\0`, 'utf8');
  }

  it(`delivers and acknowledges ${PER_ADDRESS.burst} at once from one address, ignores the rest until its budget refills; another address gets through`, async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const security = new Security({ keys: { rsa2048: { privateKey: bob.privateKey, publicKey: bob.publicKey, bits: 2048 }, rsa1024: undefined }, legacy: false, known: await KnownPeers.open(dir) });
    const m2 = await openNode(lan, clock, '10.0.0.2', { overrides: { security } });
    const eve = lan.open('10.0.0.9', 2425);
    const acks: number[] = [];
    eve.onMessage((bytes) => {
      const packet = decode(bytes);
      if (packet.kind === 'RECVMSG' && packet.ref !== undefined) acks.push(packet.ref);
    });
    const flood = Array.from({ length: PER_ADDRESS.burst + 30 }, (_, i) => encrypted(5000 + i, `flood ${i}`));
    for (const datagram of flood) await eve.send(datagram, { address: '10.0.0.2', port: 2425 });
    await clock.tick(0);
    assert.equal(m2.inbox.length, PER_ADDRESS.burst);
    assert.ok(m2.inbox.every((m) => m.encrypted));
    assert.equal(acks.length, PER_ADDRESS.burst, 'only what was decrypted is acknowledged');
    assert.equal(m2.warnings.filter((w) => w.startsWith('ignored an encrypted message from eve@evepc (10.0.0.9:2425)')).length, 30);

    // Resends of delivered messages are acknowledged (not decrypted again) though the budget is spent.
    await eve.send(flood[0] as Buffer, { address: '10.0.0.2', port: 2425 });
    await clock.tick(0);
    assert.equal(acks.length, PER_ADDRESS.burst + 1);
    assert.equal(m2.inbox.length, PER_ADDRESS.burst, 'delivered once');

    // Another sender is not held up by eve's flood.
    const carol = lan.open('10.0.0.8', 2425);
    await carol.send(encrypted(9000, 'from carol'), { address: '10.0.0.2', port: 2425 });
    await clock.tick(0);
    assert.equal(m2.inbox.at(-1)?.packet.text, 'from carol');

    // A second later eve's resends of the ignored ones get through, as many as its rate allows.
    await clock.tick(1000);
    for (const datagram of flood.slice(PER_ADDRESS.burst)) await eve.send(datagram, { address: '10.0.0.2', port: 2425 });
    await clock.tick(0);
    assert.equal(m2.inbox.length, PER_ADDRESS.burst + 1 + 30);
    assert.deepEqual(new Set(m2.inbox.map((m) => m.packet.text)).size, m2.inbox.length);
    await m2.messenger.close();
  });
});
