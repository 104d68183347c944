// test/messenger/absence.test.ts
// Away mode on the fake LAN (§3.1, §3.3, §4.5): ABSENCEOPT in our entries, GETABSENCEINFO answered
// with the text, BR_ABSENCE when it changes, and one SENDMSG|AUTORETOPT per sender, never to an
// automatic reply or a broadcast.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTO_REPLY_BUDGET, REPLIED_LIMIT } from '../../src/messenger/absence.js';
import {
  IPMSG_ABSENCEOPT,
  IPMSG_AUTORETOPT,
  IPMSG_BROADCASTOPT,
  IPMSG_NOLOGOPT,
  IPMSG_SENDCHECKOPT,
  IPMSG_SENDMSG,
  hasOpt,
} from '../../src/protocol/command.js';
import type { Packet } from '../../src/protocol/packet.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan, type FakeSocket, decode } from '../helpers/fake-lan.js';
import { PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const AWAY = 'gone fishing until Monday';

async function setup(absence: string | null = AWAY) {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const asker = await openNode(lan, clock, '10.0.0.1');
  const away = await openNode(lan, clock, '10.0.0.2', absence === null ? {} : { overrides: { absence } });
  return { clock, lan, asker, away };
}

function peer(lan: FakeLan, address: string, port = 40000): { socket: FakeSocket; inbox: Packet[]; send(text: string): Promise<void> } {
  const socket = lan.open(address, port);
  const inbox: Packet[] = [];
  socket.onMessage((bytes) => inbox.push(decode(bytes)));
  return { socket, inbox, send: (text) => socket.send(Buffer.from(text, 'utf8'), { address: '10.0.0.2', port: PORT }) };
}

const autoReplies = (packets: readonly Packet[]): Packet[] => packets.filter((p) => p.kind === 'SENDMSG' && hasOpt(p.command, IPMSG_AUTORETOPT));

describe('absence: entries and GETABSENCEINFO', () => {
  it('BR_ENTRY and ANSENTRY carry ABSENCEOPT, and a peer sees us absent', async () => {
    const { clock, lan, asker, away } = await setup();
    await away.messenger.announce();
    const found = track(asker.messenger.discover({ wait: 500 }));
    await clock.tick(500);
    const entries = lan.packets((d) => d.from.address === '10.0.0.2').flatMap((d) => (d.packet && (d.packet.kind === 'BR_ENTRY' || d.packet.kind === 'ANSENTRY') ? [d.packet] : []));
    assert.deepEqual([...new Set(entries.map((p) => p.kind))].sort(), ['ANSENTRY', 'BR_ENTRY']);
    for (const p of entries) assert.ok(hasOpt(p.command, IPMSG_ABSENCEOPT), `${p.kind} ${p.command.toString(16)}`);
    assert.equal(found.value?.find((p) => p.address === '10.0.0.2')?.absent, true);
  });

  it('GETABSENCEINFO is answered with the text; back from away it is "Not Absence mode" and BR_ABSENCE says so', async () => {
    const { clock, lan, asker, away } = await setup();
    const first = track(asker.messenger.query(away.destination, 'GETABSENCEINFO', { timeout: 3000, retries: 2 }));
    await clock.tick(0);
    assert.equal(first.value, AWAY);
    await away.messenger.announce();
    await away.messenger.setAbsence(undefined);
    await clock.tick(0);
    const notify = lan.packets((d) => d.from.address === '10.0.0.2').filter((d) => d.packet?.kind === 'BR_ABSENCE');
    assert.equal(notify.length > 0, true, 'BR_ABSENCE broadcast');
    assert.equal(hasOpt(notify[0]?.packet?.command ?? 0, IPMSG_ABSENCEOPT), false);
    assert.equal(asker.messenger.peers.get({ address: '10.0.0.2', port: PORT })?.absent, false);
    const second = track(asker.messenger.query(away.destination, 'GETABSENCEINFO', { timeout: 3000, retries: 2 }));
    await clock.tick(0);
    assert.equal(second.value, 'Not Absence mode');
    assert.equal(away.messenger.absence, undefined);
  });

  it('a messenger that is not away sends no BR_ABSENCE when told it is still not away', async () => {
    const { clock, lan, away } = await setup(null);
    await away.messenger.announce();
    await away.messenger.setAbsence(undefined);
    await clock.tick(0);
    assert.equal(lan.packets().filter((d) => d.packet?.kind === 'BR_ABSENCE').length, 0);
  });
});

const MSG = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT;

describe('absence: the automatic reply', () => {
  it('each sender gets one logged SENDMSG|AUTORETOPT with the text, however many messages it sends', async () => {
    const { clock, lan, away } = await setup();
    const alice = peer(lan, '10.0.0.7');
    const bob = peer(lan, '10.0.0.8');
    await alice.send(`1:500:alice:apc:${MSG}:hello\0`);
    await alice.send(`1:501:alice:apc:${MSG}:are you there?\0`);
    await alice.send(`1:501:alice:apc:${MSG}:are you there?\0`);
    await bob.send(`1:600:bob:bpc:${MSG}:hi\0`);
    await clock.tick(0);
    assert.equal(away.inbox.length, 3, 'every message is still delivered');
    for (const [who, inbox] of [['alice', alice.inbox], ['bob', bob.inbox]] as const) {
      const replies = autoReplies(inbox);
      assert.equal(replies.length, 1, `${who}: one auto-reply`);
      const reply = replies[0] as Packet & { text: string };
      assert.equal(reply.text, AWAY);
      assert.equal(hasOpt(reply.command, IPMSG_NOLOGOPT), false, 'logged, as the official sends it');
      assert.equal(hasOpt(reply.command, IPMSG_SENDCHECKOPT), false);
    }
    assert.equal(alice.inbox.filter((p) => p.kind === 'RECVMSG').length, 3, 'each copy acknowledged');
  });

  it('made-up names from one address: auto-replies within the budget, and a sender refused is answered later', async () => {
    const { clock, lan, away } = await setup();
    const flood = peer(lan, '10.0.0.9');
    const names = AUTO_REPLY_BUDGET.perAddress.burst + 30;
    for (let i = 0; i < names; i++) await flood.send(`1:${700 + i}:n${i}:h:${MSG}:hi\0`);
    await clock.tick(0);
    assert.equal(away.inbox.length, names, 'every message is still delivered');
    assert.equal(autoReplies(flood.inbox).length, AUTO_REPLY_BUDGET.perAddress.burst, 'one burst');
    const other = peer(lan, '10.0.0.10');
    await other.send(`1:900:carol:cpc:${MSG}:hi\0`);
    await clock.tick(0);
    assert.equal(autoReplies(other.inbox).length, 1, 'another address has its own budget');
    await clock.tick(1000);
    await flood.send(`1:901:n${names - 1}:h:${MSG}:again\0`);
    await clock.tick(0);
    assert.equal(autoReplies(flood.inbox).length, AUTO_REPLY_BUDGET.perAddress.burst + 1, 'a name refused before is answered once the budget refills');
  });

  it(`remembers at most REPLIED_LIMIT senders: the oldest is answered again`, async () => {
    const { clock, lan, away } = await setup();
    const first = peer(lan, '10.0.1.1');
    await first.send(`1:1:first:fpc:${MSG}:hi\0`);
    // One message from each of REPLIED_LIMIT other senders, spread over addresses and time to stay within the budget.
    for (let i = 0; i < REPLIED_LIMIT; i++) {
      const p = peer(lan, `10.0.${2 + Math.floor(i / 200)}.${1 + (i % 200)}`);
      await p.send(`1:${10 + i}:s${i}:h:${MSG}:hi\0`);
      if (i % AUTO_REPLY_BUDGET.total.burst === 0) await clock.tick((AUTO_REPLY_BUDGET.total.burst / AUTO_REPLY_BUDGET.total.perSecond) * 1000);
    }
    await clock.tick(0);
    assert.ok(away.inbox.length > REPLIED_LIMIT);
    await first.send(`1:2:first:fpc:${MSG}:still away?\0`);
    await clock.tick(0);
    assert.equal(autoReplies(first.inbox).length, 2, 'forgotten, so answered again');
  });

  it('never answers an automatic reply or a broadcast (two absent clients would answer each other for ever)', async () => {
    const { clock, lan, away } = await setup();
    const carol = peer(lan, '10.0.0.9');
    await carol.send(`1:700:carol:cpc:${IPMSG_SENDMSG | IPMSG_AUTORETOPT}:I am away too\0`);
    await carol.send(`1:701:carol:cpc:${IPMSG_SENDMSG | IPMSG_BROADCASTOPT}:lunch?\0`);
    await clock.tick(0);
    assert.equal(away.inbox.length, 2);
    assert.equal(autoReplies(carol.inbox).length, 0);
    // Its first real message is still answered.
    await carol.send(`1:702:carol:cpc:${MSG}:ping\0`);
    await clock.tick(0);
    assert.equal(autoReplies(carol.inbox).length, 1);
  });

  it('a message that is not accepted (not acknowledged) gets no auto-reply; none at all when not away', async () => {
    const { clock, lan, away } = await setup();
    away.accepts = () => false;
    const dave = peer(lan, '10.0.0.10');
    await dave.send(`1:800:dave:dpc:${MSG}:hello\0`);
    await clock.tick(0);
    assert.deepEqual(dave.inbox, []);
    const present = await setup(null);
    const erin = peer(present.lan, '10.0.0.11');
    await erin.send(`1:900:erin:epc:${MSG}:hello\0`);
    await present.clock.tick(0);
    assert.deepEqual(erin.inbox.map((p) => p.kind), ['RECVMSG']);
  });

  it('a new absence text is sent again to a sender that already had the old one', async () => {
    const { clock, lan, away } = await setup();
    const frank = peer(lan, '10.0.0.12');
    await frank.send(`1:1000:frank:fpc:${MSG}:hi\0`);
    await clock.tick(0);
    await away.messenger.setAbsence('in a meeting');
    await frank.send(`1:1001:frank:fpc:${MSG}:hi again\0`);
    await clock.tick(0);
    assert.deepEqual(autoReplies(frank.inbox).map((p) => (p as Packet & { text: string }).text), [AWAY, 'in a meeting']);
  });
});
