// test/messenger/messenger.test.ts
// The Messenger facade as a peer on a fake LAN (10.0.0.x/24, port 2425) driven by a fake clock:
// discovery, acknowledgement, retries, sealed messages, queries, and the bytes it puts on the wire.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { NOT_ABSENT_TEXT, type SendOptions } from '../../src/messenger/index.js';
import {
  IPMSG_ANSENTRY,
  IPMSG_ANSREADMSG,
  IPMSG_AUTORETOPT,
  IPMSG_BROADCASTOPT,
  IPMSG_BR_ENTRY,
  IPMSG_BR_EXIT,
  IPMSG_CAPUTF8OPT,
  IPMSG_GETABSENCEINFO,
  IPMSG_GETINFO,
  IPMSG_MULTICASTOPT,
  IPMSG_NOADDLISTOPT,
  IPMSG_READCHECKOPT,
  IPMSG_READMSG,
  IPMSG_RECVMSG,
  IPMSG_SECRETOPT,
  IPMSG_SENDABSENCEINFO,
  IPMSG_SENDCHECKOPT,
  IPMSG_SENDINFO,
  IPMSG_SENDMSG,
  IPMSG_UTF8OPT,
  hasOpt,
} from '../../src/protocol/command.js';
import type { Packet } from '../../src/protocol/packet.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { type DecodedDatagram, FakeLan, type FakeSocket, decode } from '../helpers/fake-lan.js';
import { type LanNode, PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const RAW = '10.0.0.9';
const A1 = '10.0.0.1';
const A2 = '10.0.0.2';
const A3 = '10.0.0.3';

async function lanOf(count: number): Promise<{ clock: FakeClock; lan: FakeLan; nodes: LanNode[] }> {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const nodes: LanNode[] = [];
  for (let i = 1; i <= count; i++) nodes.push(await openNode(lan, clock, `10.0.0.${i}`));
  return { clock, lan, nodes };
}

function node(nodes: LanNode[], index: number): LanNode {
  const n = nodes[index];
  assert.ok(n, `node ${index}`);
  return n;
}

/** Decoded datagrams sent from `address`, optionally of one kind. */
function sentFrom(lan: FakeLan, address: string, kind?: Packet['kind']): (DecodedDatagram & { packet: Packet })[] {
  return lan
    .packets((d) => d.from.address === address)
    .filter((d): d is DecodedDatagram & { packet: Packet } => d.packet !== undefined && (kind === undefined || d.packet.kind === kind));
}

function only<T>(items: readonly T[], what: string): T {
  assert.equal(items.length, 1, `exactly one ${what}, got ${items.length}`);
  return items[0] as T;
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

/** A raw peer: sends hand-written datagrams and records what it receives. */
function rawPeer(lan: FakeLan, address = RAW, port = PORT): { socket: FakeSocket; inbox: { packet: Packet; bytes: Uint8Array }[] } {
  const socket = lan.open(address, port);
  const inbox: { packet: Packet; bytes: Uint8Array }[] = [];
  socket.onMessage((bytes) => inbox.push({ packet: decode(bytes), bytes }));
  return { socket, inbox };
}

function send(socket: FakeSocket, datagram: string | Uint8Array, to: string, port = PORT): Promise<void> {
  return socket.send(typeof datagram === 'string' ? Buffer.from(datagram, 'utf8') : datagram, { address: to, port });
}

function sendOptions(options: Partial<SendOptions> = {}): SendOptions {
  return { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4, ...options };
}

describe('Messenger discovery', () => {
  it('BR_ENTRY is answered with ANSENTRY by the others, and discover returns them but not itself', async () => {
    const { clock, lan, nodes } = await lanOf(3);
    const [m1, m2, m3] = [node(nodes, 0), node(nodes, 1), node(nodes, 2)];
    const found = track(m1.messenger.discover({ wait: 1500 }));
    await clock.tick(1499);
    assert.equal(found.settled, false, 'waits the whole time without `count`');
    await clock.tick(1);
    assert.ok(found.fulfilled, String(found.error));
    const peers = [...(found.value ?? [])].sort((a, b) => a.address.localeCompare(b.address));
    assert.deepEqual(
      peers.map((p) => [p.address, p.port, p.user, p.host, p.nick, p.group, p.capabilities.utf8, p.absent]),
      [
        [A2, PORT, 'user2', 'pc2', 'Nick 2', 'lab', true, false],
        [A3, PORT, 'user3', 'pc3', 'Nick 3', 'lab', true, false],
      ],
    );
    for (const answerer of [A2, A3]) {
      const answers = sentFrom(lan, answerer, 'ANSENTRY');
      assert.ok(answers.length >= 1, `${answerer} answered`);
      for (const a of answers) assert.deepEqual(a.to, { address: A1, port: PORT });
    }
    assert.deepEqual(sentFrom(lan, A1, 'ANSENTRY'), [], 'its own broadcast is not answered');
    assert.equal(
      lan.sent.filter((d) => d.from.address === A1 && d.to.address === A1).length,
      0,
      'nothing sent to itself',
    );
    assert.equal(sentFrom(lan, A1, 'BR_ENTRY').filter((d) => d.to.address === '255.255.255.255').length, 1, 'one round only');
    // The others learnt m1 from its BR_ENTRY (names from the UTF-8 extension).
    const known = m2.messenger.peers.get({ address: A1, port: PORT });
    assert.equal(known?.user, 'user1');
    assert.equal(known?.nick, 'Nick 1');
    assert.ok(m3.messenger.peers.get({ address: A1, port: PORT }));
    assert.deepEqual([...m1.warnings, ...m2.warnings, ...m3.warnings], []);
  });

  it('BR_ENTRY goes to every broadcast target with CAPUTF8OPT, never UTF8OPT, and the \\nUN: lines', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m1 = node(nodes, 0);
    await m1.messenger.announce();
    await clock.tick(0);
    const entries = sentFrom(lan, A1, 'BR_ENTRY');
    assert.deepEqual(
      entries.map((d) => `${d.to.address}:${d.to.port}`),
      ['10.0.0.255:2425', '255.255.255.255:2425'],
    );
    for (const d of entries) {
      assert.equal(d.packet.command, IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT);
      assert.ok(!hasOpt(d.packet.command, IPMSG_UTF8OPT));
      const pn = d.packet.packetNo;
      assert.equal(
        text(d.bytes),
        `1:${pn}:user1:pc1:${IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT}:Nick 1\0lab\0\nUN:user1\nHN:pc1\nNN:Nick 1\nGN:lab`,
      );
    }
    assert.equal(entries[0]?.packet.packetNo, entries[1]?.packet.packetNo, 'one packet, several targets');
  });

  it('carries non-ASCII names in the extension, and the peer reads them back', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const m1 = await openNode(lan, clock, A1, { identity: { user: 'zhang', host: 'pc-一', nick: '张三', group: '研发部' } });
    const m2 = await openNode(lan, clock, A2);
    await m1.messenger.announce();
    await clock.tick(0);
    const entry = only(sentFrom(lan, A1, 'BR_ENTRY').filter((d) => d.to.address === '10.0.0.255'), 'BR_ENTRY');
    assert.ok(text(entry.bytes).endsWith('\nUN:zhang\nHN:pc-一\nNN:张三\nGN:研发部'));
    const peer = m2.messenger.peers.get({ address: A1, port: PORT });
    assert.deepEqual([peer?.user, peer?.host, peer?.nick, peer?.group], ['zhang', 'pc-一', '张三', '研发部']);
  });

  it('answers a CAPUTF8OPT BR_ENTRY with a UTF8OPT ANSENTRY, a legacy one without, to the source port', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    const raw = rawPeer(lan, RAW, 40000);
    await send(raw.socket, `1:100:eve:evepc:${IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT}:Eve\0\0`, A2);
    await clock.tick(0);
    await send(raw.socket, `1:101:eve:evepc:${IPMSG_BR_ENTRY}:Eve\0\0`, A2);
    await clock.tick(0);
    const answers = sentFrom(lan, A2, 'ANSENTRY');
    assert.equal(answers.length, 2);
    const [modern, legacy] = answers as [DecodedDatagram & { packet: Packet }, DecodedDatagram & { packet: Packet }];
    assert.deepEqual(modern.to, { address: RAW, port: 40000 }, 'to the source address and port');
    assert.equal(modern.packet.command, IPMSG_ANSENTRY | IPMSG_CAPUTF8OPT | IPMSG_UTF8OPT);
    assert.equal(legacy.packet.command, IPMSG_ANSENTRY | IPMSG_CAPUTF8OPT);
    assert.equal(text(modern.bytes), `1:${modern.packet.packetNo}:user2:pc2:${modern.packet.command}:Nick 2\0lab\0`);
    assert.equal(raw.inbox.length, 2);
    assert.equal(m2.messenger.peers.get({ address: RAW, port: 40000 })?.user, 'eve');
  });

  it('sends a second BR_ENTRY after a second when it waits longer than 2 s', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const start = clock.now();
    const found = track(node(nodes, 0).messenger.discover({ wait: 3000 }));
    await clock.tick(3000);
    assert.ok(found.fulfilled);
    const times = sentFrom(lan, A1, 'BR_ENTRY')
      .filter((d) => d.to.address === '255.255.255.255')
      .map((d) => (d.at ?? NaN) - start);
    assert.deepEqual(times, [0, 1000]);
    assert.equal(found.value?.length, 1, 'the same peer answering twice counts once');
  });

  it('returns early once `count` peers answered', async () => {
    const { clock, nodes } = await lanOf(3);
    const found = track(node(nodes, 0).messenger.discover({ wait: 10_000, count: 2 }));
    const spent = await clock.tickUntil(() => found.settled, 10_000);
    assert.ok(found.fulfilled, String(found.error));
    assert.equal(found.value?.length, 2);
    assert.ok(spent < 100, `returned after ${spent} ms of fake time`);
  });

  it('BR_EXIT removes the peer; close() says BR_EXIT only after announce()', async () => {
    const { clock, lan, nodes } = await lanOf(3);
    const [m1, m2, m3] = [node(nodes, 0), node(nodes, 1), node(nodes, 2)];
    const found = track(m1.messenger.discover({ wait: 500 }));
    await clock.tick(500);
    assert.equal(found.value?.length, 2);
    assert.equal(m1.messenger.peers.size, 2);

    const before = lan.sent.length;
    await m2.messenger.close();
    await clock.tick(0);
    assert.deepEqual(lan.sent.slice(before).filter((d) => d.from.address === A2), [], 'never announced: leaves silently');
    assert.ok(m1.messenger.peers.get({ address: A2, port: PORT }), 'so m1 still lists it');

    await m3.messenger.announce();
    await clock.tick(0);
    await m3.messenger.close();
    await clock.tick(0);
    const exits = sentFrom(lan, A3, 'BR_EXIT');
    assert.deepEqual(
      exits.map((d) => d.to.address),
      ['10.0.0.255', '255.255.255.255'],
    );
    for (const d of exits) assert.equal(d.packet.command, IPMSG_BR_EXIT | IPMSG_CAPUTF8OPT);
    assert.equal(m1.messenger.peers.get({ address: A3, port: PORT }), undefined, 'BR_EXIT removed it');
    assert.equal(m1.messenger.peers.size, 1);

    // Closed messengers no longer answer.
    const mark = lan.sent.length;
    await m1.messenger.announce();
    await clock.tick(0);
    assert.deepEqual(
      lan.sent.slice(mark).filter((d) => d.from.address !== A1),
      [],
      'neither closed peer answers the BR_ENTRY',
    );
    await m2.messenger.close(); // twice is fine
  });

  it('announceTo() tells one peer BR_ENTRY, and close() says BR_EXIT to that peer only', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m1 = node(nodes, 0);
    await m1.messenger.announceTo({ address: A2, port: PORT });
    await clock.tick(0);
    assert.deepEqual(sentFrom(lan, A1, 'BR_ENTRY').map((d) => d.to.address), [A2]);
    await m1.messenger.close();
    await clock.tick(0);
    assert.deepEqual(sentFrom(lan, A1, 'BR_EXIT').map((d) => d.to.address), [A2], 'no broadcast for a unicast entry');
  });

  it('a BR_EXIT from a peer that never answered is harmless', async () => {
    const { clock, lan, nodes } = await lanOf(1);
    const raw = rawPeer(lan);
    await send(raw.socket, `1:5:eve:evepc:${IPMSG_BR_EXIT}:\0`, '10.0.0.255');
    await clock.tick(0);
    assert.equal(node(nodes, 0).messenger.peers.size, 0);
    assert.deepEqual(node(nodes, 0).warnings, []);
  });
});

describe('Messenger receiving', () => {
  it('acknowledges SENDMSG|SENDCHECKOPT with RECVMSG carrying the decimal packet number; a resend is acknowledged again but delivered once', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    const raw = rawPeer(lan);
    const message = `1:777:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:hello\0`;
    await send(raw.socket, message, A2);
    await clock.tick(0);
    await send(raw.socket, message, A2);
    await clock.tick(0);
    // The official's late retries carry 64 padding NULs (§4.1): the same message.
    await send(raw.socket, Buffer.concat([Buffer.from(message, 'utf8'), Buffer.alloc(64)]), A2);
    await clock.tick(0);

    assert.equal(raw.inbox.length, 3, 'every copy is acknowledged');
    for (const { packet, bytes } of raw.inbox) {
      assert.equal(packet.kind, 'RECVMSG');
      assert.equal(packet.command, IPMSG_RECVMSG, 'RECVMSG without option bits');
      assert.equal(text(bytes), `1:${packet.packetNo}:user2:pc2:${IPMSG_RECVMSG}:777\0`);
    }
    assert.equal(m2.inbox.length, 1, 'delivered once');
    const [received] = m2.inbox;
    assert.equal(received?.packet.text, 'hello');
    assert.equal(received?.packet.packetNo, 777);
    assert.deepEqual(received?.from, { address: RAW, port: PORT });
    assert.equal(received?.receivedAt, clock.now());
  });

  it('delivers the same packet number from another sender as another message', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    const eve = rawPeer(lan, RAW);
    const mallory = rawPeer(lan, '10.0.0.8');
    await send(eve.socket, `1:777:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:from eve\0`, A2);
    await send(mallory.socket, `1:777:mal:malpc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:from mallory\0`, A2);
    await clock.tick(0);
    assert.deepEqual(m2.inbox.map((m) => m.packet.text).sort(), ['from eve', 'from mallory']);
  });

  it('the same packet number and user@host from another port of the same address (a second run of one user) is another message', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    const first = rawPeer(lan, RAW, 40001);
    const second = rawPeer(lan, RAW, 40002);
    await send(first.socket, `1:777:tx:tx-pc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:first run\0`, A2);
    await send(second.socket, `1:777:tx:tx-pc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:second run\0`, A2);
    await send(second.socket, `1:777:tx:tx-pc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:second run\0`, A2);
    await clock.tick(0);
    assert.deepEqual(m2.inbox.map((m) => m.packet.text), ['first run', 'second run'], 'each delivered once');
    assert.equal(first.inbox.length, 1);
    assert.equal(second.inbox.length, 2, 'the resend is acknowledged again');
  });

  it('delivers BROADCASTOPT and AUTORETOPT messages but never acknowledges them', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    const raw = rawPeer(lan);
    await send(raw.socket, `1:10:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_BROADCASTOPT}:to all\0`, '10.0.0.255');
    await send(raw.socket, `1:11:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_AUTORETOPT}:I am away\0`, A2);
    await send(raw.socket, `1:12:eve:evepc:${IPMSG_SENDMSG}:no check\0`, A2);
    await clock.tick(0);
    assert.deepEqual(
      m2.inbox.map((m) => m.packet.text),
      ['to all', 'I am away', 'no check'],
    );
    assert.deepEqual(sentFrom(lan, A2), [], 'no RECVMSG, no auto-reply');
    assert.deepEqual(
      raw.inbox.map((r) => r.packet.kind),
      ['SENDMSG'],
      'the raw peer only hears its own broadcast looping back',
    );
  });

  it('a handler that refuses the sender means no RECVMSG and no delivery', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    m2.accepts = (packet) => packet.user !== 'eve';
    const raw = rawPeer(lan);
    await send(raw.socket, `1:20:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:spam\0`, A2);
    await send(raw.socket, `1:21:bob:bobpc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:ham\0`, A2);
    await clock.tick(0);
    assert.deepEqual(m2.inbox.map((m) => m.packet.text), ['ham']);
    assert.deepEqual(
      raw.inbox.map((r) => (r.packet.kind === 'RECVMSG' ? r.packet.ref : undefined)),
      [21],
      'only the accepted one is acknowledged',
    );
    assert.equal(m2.warnings.length, 1);
    assert.match(m2.warnings[0] ?? '', /eve@evepc/);
  });

  it('without a handler a message becomes a notice (and is still acknowledged)', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const m2 = await openNode(lan, clock, A2, { noHandler: true });
    const raw = rawPeer(lan);
    await send(raw.socket, `1:30:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_SECRETOPT}:psst\0`, A2);
    await clock.tick(0);
    assert.equal(m2.inbox.length, 0);
    assert.equal(m2.notices.length, 1);
    assert.match(m2.notices[0] ?? '', /eve@evepc .*\(sealed\).*"psst"/);
    assert.equal(raw.inbox.length, 1);
  });

  it('a garbage datagram is a warning and nothing else', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    const raw = rawPeer(lan);
    const garbage = [
      Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]),
      Buffer.from('2:1:eve:evepc:32:wrong version\0'),
      Buffer.from('1:notanumber:eve:evepc:32:x\0'),
      Buffer.from('1:1:eve'),
      Buffer.alloc(0),
    ];
    for (const bytes of garbage) await send(raw.socket, bytes, A2);
    await clock.tick(0);
    assert.equal(m2.warnings.length, garbage.length, m2.warnings.join('\n'));
    for (const w of m2.warnings) assert.match(w, /^ignored a datagram of \d+ bytes from 10\.0\.0\.9:2425: /);
    assert.deepEqual(sentFrom(lan, A2), []);
    assert.deepEqual(lan.sent.filter((d) => d.from.address === A2), []);
    assert.equal(m2.inbox.length, 0);
    assert.equal(m2.messenger.peers.size, 0);
    assert.deepEqual(m2.notices, []);
  });
});

describe('Messenger sending', () => {
  it('SENDMSG carries SENDCHECKOPT|NOADDLISTOPT|UTF8OPT|CAPUTF8OPT and is delivered on the first try', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    const sending = track(m1.messenger.sendMessage([m2.destination], 'héllo 你好', sendOptions()));
    await clock.tick(0);
    assert.ok(sending.fulfilled, String(sending.error));
    const msg = only(sentFrom(lan, A1, 'SENDMSG'), 'SENDMSG');
    const flags = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_NOADDLISTOPT | IPMSG_UTF8OPT | IPMSG_CAPUTF8OPT;
    assert.equal(msg.packet.command, flags);
    assert.deepEqual(msg.to, { address: A2, port: PORT });
    assert.equal(text(msg.bytes), `1:${msg.packet.packetNo}:user1:pc1:${flags}:héllo 你好\0`);
    assert.deepEqual(sending.value, [
      { destination: m2.destination, packetNo: msg.packet.packetNo, status: 'delivered', attempts: 1, encrypted: false, charset: 'utf-8', charsetReason: 'peer-unknown' },
    ]);
    assert.deepEqual(m2.inbox.map((m) => m.packet.text), ['héllo 你好']);
    const ack = only(sentFrom(lan, A2, 'RECVMSG'), 'RECVMSG');
    assert.equal(ack.packet.kind === 'RECVMSG' ? ack.packet.ref : undefined, msg.packet.packetNo);
  });

  it('a sealed message adds SECRETOPT|READCHECKOPT', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const sending = track(node(nodes, 0).messenger.sendMessage([node(nodes, 1).destination], 'secret', sendOptions({ seal: true })));
    await clock.tick(0);
    assert.equal(sending.value?.[0]?.status, 'delivered', 'without waitRead the ack is enough');
    const msg = only(sentFrom(lan, A1, 'SENDMSG'), 'SENDMSG');
    assert.equal(
      msg.packet.command,
      IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_SECRETOPT | IPMSG_READCHECKOPT | IPMSG_NOADDLISTOPT | IPMSG_UTF8OPT | IPMSG_CAPUTF8OPT,
    );
  });

  it('several destinations share one packet number and set MULTICASTOPT, one unicast copy each', async () => {
    const { clock, lan, nodes } = await lanOf(3);
    const [m1, m2, m3] = [node(nodes, 0), node(nodes, 1), node(nodes, 2)];
    const sending = track(m1.messenger.sendMessage([m2.destination, m3.destination], 'to both', sendOptions()));
    await clock.tick(0);
    const copies = sentFrom(lan, A1, 'SENDMSG');
    assert.deepEqual(copies.map((d) => d.to.address), [A2, A3]);
    const [first, second] = copies;
    assert.equal(first?.packet.packetNo, second?.packet.packetNo);
    for (const d of copies) {
      assert.ok(hasOpt(d.packet.command, IPMSG_MULTICASTOPT));
      assert.ok(!hasOpt(d.packet.command, IPMSG_BROADCASTOPT));
    }
    assert.deepEqual(sending.value?.map((o) => [o.destination.address, o.status, o.packetNo]), [
      [A2, 'delivered', first?.packet.packetNo],
      [A3, 'delivered', first?.packet.packetNo],
    ]);
    assert.equal(m1.counter.issued.length, 1, 'one number for both copies');
    assert.equal(m2.inbox.length + m3.inbox.length, 2);
  });

  it('a single destination has no MULTICASTOPT', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    void node(nodes, 0).messenger.sendMessage([node(nodes, 1).destination], 'x', sendOptions());
    await clock.tick(0);
    assert.ok(!hasOpt(only(sentFrom(lan, A1, 'SENDMSG'), 'SENDMSG').packet.command, IPMSG_MULTICASTOPT));
  });

  it('retries until acknowledged when the first datagrams are lost, and reports the attempts', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    let lost = 0;
    lan.drop = (d) => d.from.address === A1 && decode(d.bytes).kind === 'SENDMSG' && lost++ < 2;
    const start = clock.now();
    const sending = track(m1.messenger.sendMessage([m2.destination], 'again', sendOptions({ timeout: 5000, retries: 4 })));
    await clock.tickUntil(() => sending.settled, 10_000, 100);
    assert.ok(sending.fulfilled, String(sending.error));
    const [outcome] = sending.value ?? [];
    assert.equal(outcome?.status, 'delivered');
    assert.equal(outcome?.attempts, 3);
    assert.equal(outcome?.error, undefined);
    assert.deepEqual(
      sentFrom(lan, A1, 'SENDMSG').map((d) => (d.at ?? NaN) - start),
      [0, 1000, 2000],
      'one try per timeout/(retries+1)',
    );
    assert.equal(new Set(sentFrom(lan, A1, 'SENDMSG').map((d) => d.packet.packetNo)).size, 1, 'retries reuse the number');
    assert.equal(m2.inbox.length, 1);
  });

  it('a lost acknowledgement means a resend that is acknowledged again and delivered once', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    let lost = 0;
    lan.drop = (d) => d.from.address === A2 && decode(d.bytes).kind === 'RECVMSG' && lost++ < 1;
    const sending = track(m1.messenger.sendMessage([m2.destination], 'once', sendOptions()));
    await clock.tickUntil(() => sending.settled, 10_000, 100);
    assert.equal(sending.value?.[0]?.status, 'delivered');
    assert.equal(sending.value?.[0]?.attempts, 2);
    assert.equal(sentFrom(lan, A2, 'RECVMSG').length, 2);
    assert.equal(m2.inbox.length, 1);
  });

  it('with every acknowledgement lost it reports failed with IPMSG_ERR_NO_ACK after all tries', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    lan.drop = (d) => decode(d.bytes).kind === 'RECVMSG';
    const sending = track(m1.messenger.sendMessage([m2.destination], 'lost', sendOptions({ timeout: 3000, retries: 2 })));
    await clock.tick(2999);
    assert.equal(sending.settled, false);
    assert.equal(sentFrom(lan, A1, 'SENDMSG').length, 3);
    await clock.tick(1);
    assert.ok(sending.fulfilled, 'failures are outcomes, not rejections');
    const [outcome] = sending.value ?? [];
    assert.equal(outcome?.status, 'failed');
    assert.ok(isIpmsgError(outcome?.error, 'IPMSG_ERR_NO_ACK'), String(outcome?.error));
    assert.match(outcome?.error?.message ?? '', /^No acknowledgement from 10\.0\.0\.2 after 3 tries in 3s$/);
    assert.equal(outcome?.attempts, 3, 'it did transmit three times');
    assert.equal(sentFrom(lan, A1, 'SENDMSG').length, 3);
    assert.equal(m2.inbox.length, 1, 'the peer got it; only the acks were lost');
  });

  it('a RECVMSG from another address does not confirm the message', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    lan.drop = (d) => d.from.address === A2;
    const raw = rawPeer(lan);
    const sending = track(m1.messenger.sendMessage([m2.destination], 'x', sendOptions({ timeout: 2000, retries: 1 })));
    await clock.tick(0);
    const pn = only(sentFrom(lan, A1, 'SENDMSG'), 'SENDMSG').packet.packetNo;
    await send(raw.socket, `1:50:eve:evepc:${IPMSG_RECVMSG}:${pn}\0`, A1);
    await clock.tick(2000);
    assert.equal(sending.value?.[0]?.status, 'failed');
  });

  it('with check off it sends once without SENDCHECKOPT and reports sent', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    const sending = track(m1.messenger.sendMessage([m2.destination], 'fire and forget', sendOptions({ check: false })));
    await clock.tick(10_000);
    const msg = only(sentFrom(lan, A1, 'SENDMSG'), 'SENDMSG');
    assert.ok(!hasOpt(msg.packet.command, IPMSG_SENDCHECKOPT));
    assert.deepEqual(sending.value?.map((o) => [o.status, o.attempts]), [['sent', 1]]);
    assert.deepEqual(sentFrom(lan, A2, 'RECVMSG'), []);
    assert.equal(m2.inbox.length, 1);
  });

  it('a failing send reports failed with IPMSG_ERR_UNAVAILABLE', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    lan.sendError = (d) => (d.to.address === A2 ? new Error('ENETUNREACH') : undefined);
    const sending = track(node(nodes, 0).messenger.sendMessage([node(nodes, 1).destination], 'x', sendOptions()));
    await clock.tick(0);
    const [outcome] = sending.value ?? [];
    assert.equal(outcome?.status, 'failed');
    assert.ok(isIpmsgError(outcome?.error, 'IPMSG_ERR_UNAVAILABLE'));
    assert.match(outcome?.error?.message ?? '', /ENETUNREACH/);
  });

  it('close() ends pending sends', async () => {
    const { clock, nodes } = await lanOf(1);
    const m1 = node(nodes, 0);
    const sending = track(m1.messenger.sendMessage([{ text: '10.0.0.50', address: '10.0.0.50', port: PORT }], 'x', sendOptions()));
    await clock.tick(0);
    await m1.messenger.close();
    await clock.tick(0);
    assert.ok(sending.settled);
    assert.ok(isIpmsgError(sending.value?.[0]?.error, 'IPMSG_ERR_INTERRUPTED'), String(sending.value?.[0]?.error));
  });

  it('broadcastMessage sends one unconfirmed BROADCASTOPT SENDMSG to the broadcast targets', async () => {
    const { clock, lan, nodes } = await lanOf(3);
    await node(nodes, 0).messenger.broadcastMessage('hello all');
    await clock.tick(5000);
    const copies = sentFrom(lan, A1, 'SENDMSG');
    assert.deepEqual(copies.map((d) => d.to.address), ['10.0.0.255', '255.255.255.255']);
    for (const d of copies) {
      assert.ok(hasOpt(d.packet.command, IPMSG_BROADCASTOPT));
      assert.ok(!hasOpt(d.packet.command, IPMSG_SENDCHECKOPT));
    }
    assert.deepEqual(node(nodes, 1).inbox.map((m) => m.packet.text), ['hello all'], 'two copies, one delivery');
    assert.equal(node(nodes, 2).inbox.length, 1);
    assert.deepEqual(sentFrom(lan, A2, 'RECVMSG'), []);
  });

  it('rejects a message too long for one safe datagram before sending anything', async () => {
    const { lan, nodes } = await lanOf(2);
    await assert.rejects(
      node(nodes, 0).messenger.sendMessage([node(nodes, 1).destination], 'x'.repeat(9000), sendOptions()),
      (error) => isIpmsgError(error, 'IPMSG_ERR_TOO_LONG'),
    );
    assert.deepEqual(lan.sent, []);
  });
});

describe('Messenger sealed messages and read notices', () => {
  it('the receiver’s read notice is READMSG|READCHECKOPT, answered by ANSREADMSG with its own number; waitRead resolves read', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    const sending = track(m1.messenger.sendMessage([m2.destination], 'open me', sendOptions({ waitRead: true })));
    await clock.tick(5000);
    assert.equal(sending.settled, false, 'acknowledged but not yet read');
    const msg = only(sentFrom(lan, A1, 'SENDMSG'), 'SENDMSG');
    assert.ok(hasOpt(msg.packet.command, IPMSG_SECRETOPT | IPMSG_READCHECKOPT), 'waitRead seals');
    const received = m2.inbox[0];
    assert.ok(received);

    const notice = track(m2.messenger.sendReadNotice(received));
    await clock.tick(0);
    assert.ok(notice.fulfilled);
    const read = only(sentFrom(lan, A2, 'READMSG'), 'READMSG');
    assert.equal(read.packet.command, IPMSG_READMSG | IPMSG_READCHECKOPT);
    assert.deepEqual(read.to, { address: A1, port: PORT });
    assert.equal(read.packet.kind === 'READMSG' ? read.packet.ref : undefined, msg.packet.packetNo);
    assert.equal(text(read.bytes), `1:${read.packet.packetNo}:user2:pc2:${read.packet.command}:${msg.packet.packetNo}\0`);
    const answer = only(sentFrom(lan, A1, 'ANSREADMSG'), 'ANSREADMSG');
    assert.equal(answer.packet.command, IPMSG_ANSREADMSG);
    assert.equal(answer.packet.kind === 'ANSREADMSG' ? answer.packet.ref : undefined, read.packet.packetNo, 'body = the READMSG’s number');
    assert.deepEqual(answer.to, { address: A2, port: PORT });

    assert.ok(sending.fulfilled, String(sending.error));
    assert.deepEqual(sending.value?.map((o) => [o.status, o.attempts, o.error]), [['read', 1, undefined]]);
    assert.deepEqual(m2.warnings, []);
  });

  it('resends READMSG every 750 ms until ANSREADMSG arrives', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    void m1.messenger.sendMessage([m2.destination], 'open me', sendOptions({ seal: true }));
    await clock.tick(0);
    let lost = 0;
    lan.drop = (d) => decode(d.bytes).kind === 'ANSREADMSG' && lost++ < 2;
    const start = clock.now();
    const received = m2.inbox[0];
    assert.ok(received);
    const notice = track(m2.messenger.sendReadNotice(received));
    await clock.tickUntil(() => notice.settled, 20_000, 50);
    assert.deepEqual(sentFrom(lan, A2, 'READMSG').map((d) => (d.at ?? NaN) - start), [0, 750, 1500]);
    assert.equal(new Set(sentFrom(lan, A2, 'READMSG').map((d) => d.packet.packetNo)).size, 1, 'the same READMSG each time');
    assert.deepEqual(m2.warnings, []);
  });

  it('gives up after 13 READMSGs with only a warning', async () => {
    const { clock, lan, nodes } = await lanOf(1);
    const m1 = node(nodes, 0);
    const raw = rawPeer(lan);
    await send(raw.socket, `1:60:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_SECRETOPT | IPMSG_READCHECKOPT}:sealed\0`, A1);
    await clock.tick(0);
    const received = m1.inbox[0];
    assert.ok(received);
    const notice = track(m1.messenger.sendReadNotice(received));
    await clock.tick(13 * 750 - 1);
    assert.equal(notice.settled, false);
    await clock.tick(1);
    assert.ok(notice.fulfilled, 'never rejects');
    assert.equal(raw.inbox.filter((r) => r.packet.kind === 'READMSG').length, 13);
    assert.equal(m1.warnings.length, 1);
    assert.match(m1.warnings[0] ?? '', /^read notice to 10\.0\.0\.9: No ANSREADMSG from 10\.0\.0\.9 after 13 tries/);
  });

  it('a read notice for a message without READCHECKOPT is one plain READMSG; such a READMSG is not answered', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const m2 = node(nodes, 1);
    const raw = rawPeer(lan);
    await send(raw.socket, `1:70:eve:evepc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_SECRETOPT}:sealed\0`, A2);
    await clock.tick(0);
    const received = m2.inbox[0];
    assert.ok(received);
    await m2.messenger.sendReadNotice(received);
    await clock.tick(10_000);
    const reads = raw.inbox.filter((r) => r.packet.kind === 'READMSG');
    assert.equal(reads.length, 1);
    assert.equal(reads[0]?.packet.command, IPMSG_READMSG);
    assert.deepEqual(m2.warnings, []);

    await send(raw.socket, `1:71:eve:evepc:${IPMSG_READMSG}:123\0`, A2);
    await clock.tick(0);
    assert.deepEqual(sentFrom(lan, A2, 'ANSREADMSG'), []);
  });

  it('waitRead with a read timeout and no read notice: delivered, with IPMSG_ERR_TIMEOUT', async () => {
    const { clock, nodes } = await lanOf(2);
    const sending = track(
      node(nodes, 0).messenger.sendMessage([node(nodes, 1).destination], 'ignored', sendOptions({ waitRead: true, readTimeout: 8000 })),
    );
    await clock.tick(7999);
    assert.equal(sending.settled, false);
    await clock.tick(1);
    const [outcome] = sending.value ?? [];
    assert.equal(outcome?.status, 'delivered');
    assert.equal(outcome?.attempts, 1);
    assert.ok(isIpmsgError(outcome?.error, 'IPMSG_ERR_TIMEOUT'));
  });
});

describe('Messenger GETINFO / GETABSENCEINFO', () => {
  it('answers GETINFO with SENDINFO carrying our client version, and query resolves it', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    const asking = track(m1.messenger.query(m2.destination, 'GETINFO', { timeout: 3000, retries: 2 }));
    await clock.tick(0);
    assert.equal(asking.value, 'test client 10.0.0.2 Ver1.0');
    const request = only(sentFrom(lan, A1, 'GETINFO'), 'GETINFO');
    assert.equal(request.packet.command, IPMSG_GETINFO);
    assert.equal(text(request.bytes), `1:${request.packet.packetNo}:user1:pc1:${IPMSG_GETINFO}:\0`);
    const answer = only(sentFrom(lan, A2, 'SENDINFO'), 'SENDINFO');
    assert.equal(answer.packet.command, IPMSG_SENDINFO | IPMSG_UTF8OPT);
    assert.deepEqual(answer.to, { address: A1, port: PORT });
  });

  it('answers GETABSENCEINFO with "Not Absence mode"', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    const asking = track(m1.messenger.query(m2.destination, 'GETABSENCEINFO', { timeout: 3000, retries: 2 }));
    await clock.tick(0);
    assert.equal(asking.value, 'Not Absence mode');
    assert.equal(NOT_ABSENT_TEXT, 'Not Absence mode');
    assert.equal(only(sentFrom(lan, A1, 'GETABSENCEINFO'), 'GETABSENCEINFO').packet.command, IPMSG_GETABSENCEINFO);
    assert.equal(only(sentFrom(lan, A2, 'SENDABSENCEINFO'), 'SENDABSENCEINFO').packet.command, IPMSG_SENDABSENCEINFO | IPMSG_UTF8OPT);
  });

  it('a query is retried when the answer is lost', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    let lost = 0;
    lan.drop = (d) => decode(d.bytes).kind === 'SENDINFO' && lost++ < 1;
    const asking = track(node(nodes, 0).messenger.query(node(nodes, 1).destination, 'GETINFO', { timeout: 3000, retries: 2 }));
    await clock.tick(999);
    assert.equal(asking.settled, false);
    await clock.tick(1);
    assert.equal(asking.value, 'test client 10.0.0.2 Ver1.0');
    assert.equal(sentFrom(lan, A1, 'GETINFO').length, 2);
  });

  it('a query nobody answers rejects with IPMSG_ERR_NO_ACK', async () => {
    const { clock, nodes } = await lanOf(1);
    const asking = track(
      node(nodes, 0).messenger.query({ text: 'ghost', address: '10.0.0.50', port: PORT }, 'GETINFO', { timeout: 2000, retries: 1 }),
    );
    await clock.tick(2000);
    assert.ok(isIpmsgError(asking.error, 'IPMSG_ERR_NO_ACK'), String(asking.error));
    assert.match((asking.error as Error).message, /^No SENDINFO answer from ghost after 2 tries/);
  });
});

describe('Messenger packet numbers', () => {
  it('every packet it sends takes its number from the injected PacketNumberSource', async () => {
    const { clock, lan, nodes } = await lanOf(2);
    const [m1, m2] = [node(nodes, 0), node(nodes, 1)];
    await m1.messenger.announce();
    await clock.tick(0);
    await m1.messenger.sendMessage([m2.destination], 'one', sendOptions());
    await m1.messenger.query(m2.destination, 'GETINFO', { timeout: 1000, retries: 0 });
    const pending = m2.messenger.query(m1.destination, 'GETABSENCEINFO', { timeout: 1000, retries: 0 });
    await clock.tick(0);
    await pending;
    await m1.messenger.close();
    await clock.tick(0);

    const numbers = sentFrom(lan, A1).map((d) => d.packet.packetNo);
    assert.ok(numbers.length >= 5);
    // Broadcast copies share a number; otherwise every packet has its own, in the order issued.
    assert.deepEqual([...new Set(numbers)], m1.counter.issued);
    assert.ok(m1.counter.issued.every((n, i) => n === 1_000_000 + i));
    const m2Numbers = sentFrom(lan, A2).map((d) => d.packet.packetNo);
    assert.deepEqual([...new Set(m2Numbers)], m2.counter.issued);
  });
});

describe('Messenger ports', () => {
  it('falls back to a free port with a notice when 2425 is taken and fallback is on', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    lan.addHost(A1);
    lan.open(A1, PORT);
    const m1 = await openNode(lan, clock, A1, { overrides: { portFallback: true } });
    assert.notEqual(m1.messenger.port, PORT);
    assert.equal(m1.notices.length, 1);
    assert.match(m1.notices[0] ?? '', /UDP port 2425 is in use/);
    await assert.rejects(openNode(lan, clock, A1), (error) => isIpmsgError(error, 'IPMSG_ERR_UNAVAILABLE'));
  });
});
