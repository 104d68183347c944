// test/messenger/charsets.test.ts
// Each peer gets text in the code page it reads (§7): UTF-8 where it announced CAPUTF8OPT, iptux's
// announced encoding, GB18030 for FeiQ, the legacy code page for other peers without CAPUTF8OPT,
// UTF-8 for a peer we know nothing of; remembered across runs; --encoding overrides it all.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PeerCharsets, SendOptions } from '../../src/messenger/index.js';
import {
  IPMSG_ABSENCEOPT,
  IPMSG_ANSENTRY,
  IPMSG_BR_ENTRY,
  IPMSG_CAPUTF8OPT,
  IPMSG_FILEATTACHOPT,
  IPMSG_MULTICASTOPT,
  IPMSG_NOADDLISTOPT,
  IPMSG_RECVMSG,
  IPMSG_SENDCHECKOPT,
  IPMSG_SENDMSG,
  IPMSG_UTF8OPT,
} from '../../src/protocol/command.js';
import { sendMsgPacket } from '../../src/messenger/packets.js';
import { type Packet, encodePacket } from '../../src/protocol/packet.js';
import type { PeerReads } from '../../src/protocol/peer-charset.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { type FakeLan, FakeLan as Lan, type FakeSocket, decode } from '../helpers/fake-lan.js';
import { fixtureSecurity } from '../helpers/keys.js';
import { type NodeOptions, PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';
import { messageToFeiq } from '../vectors/packets.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-charsets-'));
after(() => rmSync(root, { recursive: true, force: true }));

const US = '10.0.0.1';
const OTHER = '10.0.0.2';
const FEIQ = '10.0.0.9';
const OPTIONS: SendOptions = { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4 };
/** FeiQ's version field (§2.1) and its entry: GBK names, no CAPUTF8OPT. */
const FEIQ_VERSION = '1_lbt4_10#128#0024816275AB#0#0#0';

class MapPeerCharsets implements PeerCharsets {
  readonly saved = new Map<string, PeerReads>();
  readonly #pending = new Map<string, PeerReads>();
  get(peer: string): PeerReads | undefined {
    return this.saved.get(peer);
  }
  set(peer: string, reads: PeerReads): void {
    this.#pending.set(peer, reads);
  }
  flush(): void {
    for (const [peer, reads] of this.#pending) this.saved.set(peer, reads);
    this.#pending.clear();
  }
}

interface RawPeer {
  readonly socket: FakeSocket;
  /** Every datagram it received, undecoded. */
  readonly received: Uint8Array[];
}

/** A peer speaking raw bytes that acknowledges every SENDMSG|SENDCHECKOPT. */
function rawPeer(lan: FakeLan, address: string, version: string): RawPeer {
  lan.addHost(address);
  const socket = lan.open(address, PORT);
  const received: Uint8Array[] = [];
  socket.onMessage((bytes, from) => {
    received.push(bytes);
    const packet = decode(bytes);
    if (packet.kind === 'SENDMSG' && (packet.command & IPMSG_SENDCHECKOPT) !== 0) {
      void socket.send(Buffer.from(`${version}:${Date.now()}:peer:peerpc:${IPMSG_RECVMSG}:${packet.packetNo}\0`), from);
    }
  });
  return { socket, received };
}

function entryBytes(version: string, command: number, nick: Buffer, rest: Buffer = Buffer.from('\0')): Buffer {
  return Buffer.concat([Buffer.from(`${version}:1:feiq:feiqpc:${command}:`), nick, Buffer.from('\0'), rest]);
}

async function lanWith(options: NodeOptions = {}) {
  const clock = new FakeClock();
  const lan = new Lan(clock);
  const us = await openNode(lan, clock, US, { identity: { nick: '小明' }, ...options });
  return { clock, lan, us };
}

/** The SENDMSG datagrams `peer` received. */
function messages(peer: RawPeer): { bytes: Uint8Array; packet: Packet }[] {
  return peer.received.map((bytes) => ({ bytes, packet: decode(bytes) })).filter((m) => m.packet.kind === 'SENDMSG');
}

/** Legacy code-page bytes, checked against Python's codecs (independent of iconv-lite). */
const GBK: Record<string, string> = { 中文: 'd6d0cec4', 飞秋用户: 'b7c9c7efd3c3bba7', 小明: 'd0a1c3f7', '报告.txt': 'b1a8b8e62e747874' };
const CP932: Record<string, string> = { 太郎: '91be9859', こんにちは: '82b182f182c982bf82cd' };

function gbk(text: string): Buffer {
  return Buffer.from(GBK[text] ?? assert.fail(text), 'hex');
}

/** FeiQ announces itself to us (BR_ENTRY, GBK nick, no CAPUTF8OPT). */
async function feiqEntry(feiq: RawPeer, clock: FakeClock): Promise<void> {
  await feiq.socket.send(entryBytes(FEIQ_VERSION, IPMSG_BR_ENTRY, gbk('飞秋用户'), Buffer.from('\0')), { address: US, port: PORT });
  await clock.tick(0);
}

describe('the charset each peer is sent', () => {
  it('a message for FeiQ in GB18030 is the vector: no UTF8OPT or CAPUTF8OPT', () => {
    const sender = { identity: { user: 'tester', host: 'testhost', nick: 't', group: '' }, charset: 'utf-8' as const, status: 0 };
    const flags = { check: true, seal: false, multicast: false, broadcast: false };
    const packet = sendMsgPacket(sender, messageToFeiq.packet.packetNo, '中文', flags, 'gb18030');
    assert.deepEqual(Buffer.from(encodePacket(packet)), Buffer.from(messageToFeiq.bytes));
  });

  it('FeiQ gets GB18030 without UTF8OPT and a UTF-8 peer UTF-8, under one packet number', async () => {
    const { clock, lan, us } = await lanWith();
    const other = await openNode(lan, clock, OTHER);
    const feiq = rawPeer(lan, FEIQ, FEIQ_VERSION);
    await feiqEntry(feiq, clock);
    await other.messenger.announceTo({ address: US, port: PORT });
    await clock.tick(0);
    const sending = track(us.messenger.sendMessage([{ text: FEIQ, address: FEIQ, port: PORT }, other.destination], '中文', OPTIONS));
    await clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.ok(sending.fulfilled, String(sending.error));
    assert.deepEqual(
      sending.value?.map((o) => [o.destination.address, o.status, o.charset, o.charsetReason]),
      [
        [FEIQ, 'delivered', 'gb18030', 'peer-dialect'],
        [OTHER, 'delivered', 'utf-8', 'peer-utf8'],
      ],
    );
    const [toFeiq] = messages(feiq);
    assert.ok(toFeiq);
    const packetNo = sending.value?.[0]?.packetNo;
    const flags = IPMSG_SENDMSG | IPMSG_NOADDLISTOPT | IPMSG_SENDCHECKOPT | IPMSG_MULTICASTOPT;
    assert.deepEqual(
      Buffer.from(toFeiq.bytes),
      Buffer.concat([Buffer.from(`1:${packetNo}:user1:pc1:${flags}:`), gbk('中文'), Buffer.from([0])]),
      'the text in GBK bytes, no UTF8OPT or CAPUTF8OPT',
    );
    assert.deepEqual(other.inbox.map((m) => [m.packet.text, m.packet.charset, m.packet.packetNo, (m.packet.command & IPMSG_UTF8OPT) !== 0]), [['中文', 'utf-8', packetNo, true]]);
  });

  it("FeiQ's entry is answered in GBK: the ANSENTRY nick in its code page, no UTF8OPT", async () => {
    const { clock, lan } = await lanWith();
    const feiq = rawPeer(lan, FEIQ, FEIQ_VERSION);
    await feiqEntry(feiq, clock);
    const answer = feiq.received.find((b) => decode(b).kind === 'ANSENTRY');
    assert.ok(answer, 'ANSENTRY');
    const packet = decode(answer);
    assert.equal(packet.command & IPMSG_UTF8OPT, 0);
    assert.ok(Buffer.from(answer).includes(Buffer.concat([Buffer.from(`:${packet.command}:`), gbk('小明'), Buffer.from([0])])), 'nick in GBK');
  });

  it('a BR_ENTRY told to FeiQ alone has its legacy names in GBK and the UTF-8 lines as always', async () => {
    const { clock, lan, us } = await lanWith();
    const feiq = rawPeer(lan, FEIQ, FEIQ_VERSION);
    await feiqEntry(feiq, clock);
    await us.messenger.announceTo({ address: FEIQ, port: PORT });
    await clock.tick(0);
    const entry = feiq.received.find((b) => decode(b).kind === 'BR_ENTRY');
    assert.ok(entry, 'BR_ENTRY');
    assert.equal(decode(entry).command & IPMSG_UTF8OPT, 0);
    const bytes = Buffer.from(entry);
    assert.ok(bytes.includes(Buffer.concat([Buffer.from(':'), gbk('小明'), Buffer.from([0])])), 'nick in GBK');
    assert.ok(bytes.includes(Buffer.from('\nNN:小明', 'utf8')), 'NN: line in UTF-8');
  });

  it('the names of offered files travel in the peer\'s code page too', async () => {
    const { clock, lan, us } = await lanWith();
    const feiq = rawPeer(lan, FEIQ, FEIQ_VERSION);
    await feiqEntry(feiq, clock);
    const attachments = [{ fileId: 0, name: '报告.txt', size: 5, mtime: 0x6b02c30c, attr: 1 }];
    const sending = track(us.messenger.sendMessage([{ text: FEIQ, address: FEIQ, port: PORT }], '文件', { ...OPTIONS, attachments }));
    await clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.equal(sending.value?.[0]?.status, 'delivered');
    const [offer] = messages(feiq);
    assert.ok(offer && (offer.packet.command & IPMSG_FILEATTACHOPT) !== 0);
    assert.ok(Buffer.from(offer.bytes).includes(Buffer.concat([Buffer.from('0:'), gbk('报告.txt'), Buffer.from(':5:')])), 'GBK file name');
    assert.equal(Buffer.from(offer.bytes).includes(Buffer.from('报告', 'utf8')), false);
  });

  it('a peer without CAPUTF8OPT and no dialect gets the legacy code page; text it cannot hold is refused unless lossy', async () => {
    const { clock, lan, us } = await lanWith({ overrides: { fallbackCharset: 'cp932' } });
    const old = rawPeer(lan, FEIQ, '1');
    await old.socket.send(entryBytes('1', IPMSG_BR_ENTRY, Buffer.from(CP932['太郎'] ?? '', 'hex')), { address: US, port: PORT });
    await clock.tick(0);
    const to = [{ text: FEIQ, address: FEIQ, port: PORT }];
    const sending = track(us.messenger.sendMessage(to, 'こんにちは', OPTIONS));
    await clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.deepEqual(sending.value?.map((o) => [o.charset, o.charsetReason]), [['cp932', 'peer-legacy']]);
    assert.ok(Buffer.from(messages(old)[0]?.bytes ?? []).includes(Buffer.from(CP932['こんにちは'] ?? '', 'hex')));
    await assert.rejects(us.messenger.sendMessage(to, '中文 😀', OPTIONS), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'IPMSG_ERR_ENCODING');
      assert.match(error.message, /in cp932, the code page 10\.0\.0\.9 reads;/);
      return true;
    });
    assert.equal(messages(old).length, 1, 'nothing sent');

    const lossy = await lanWith({ overrides: { fallbackCharset: 'cp932', lossy: true } });
    const oldAgain = rawPeer(lossy.lan, FEIQ, '1');
    await oldAgain.socket.send(entryBytes('1', IPMSG_BR_ENTRY, Buffer.from('taro')), { address: US, port: PORT });
    await lossy.clock.tick(0);
    const sent = track(lossy.us.messenger.sendMessage(to, '太郎 😀', OPTIONS));
    await lossy.clock.tickUntil(() => sent.settled, 10_000, 50);
    assert.equal(sent.value?.[0]?.status, 'delivered');
    assert.ok(Buffer.from(messages(oldAgain)[0]?.bytes ?? []).includes(Buffer.concat([Buffer.from(CP932['太郎'] ?? '', 'hex'), Buffer.from(' ?\0')])), "'?' for what CP932 lacks");
  });

  it('iptux gets the encoding its entry announced', async () => {
    const { clock, lan, us } = await lanWith();
    const iptux = rawPeer(lan, FEIQ, '1_iptux 0.8.3');
    const entry = Buffer.from(`1_iptux 0.8.3:4:root:iptux-host:${IPMSG_ANSENTRY | IPMSG_ABSENCEOPT}:iptux-peer\0lab\0icon-tux.png\0gbk\0`);
    await iptux.socket.send(entry, { address: US, port: PORT });
    await clock.tick(0);
    const sending = track(us.messenger.sendMessage([{ text: FEIQ, address: FEIQ, port: PORT }], '中文', OPTIONS));
    await clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.deepEqual(sending.value?.map((o) => [o.charset, o.charsetReason]), [['gbk', 'peer-iptux']]);
  });

  it('an unknown peer gets UTF-8; --encoding forces one code page for everybody', async () => {
    const { clock, lan, us } = await lanWith();
    const stranger = rawPeer(lan, FEIQ, '1');
    const first = track(us.messenger.sendMessage([{ text: FEIQ, address: FEIQ, port: PORT }], '中文', OPTIONS));
    await clock.tickUntil(() => first.settled, 10_000, 50);
    assert.deepEqual(first.value?.map((o) => [o.charset, o.charsetReason]), [['utf-8', 'peer-unknown']]);
    assert.equal((messages(stranger)[0]?.packet.command ?? 0) & (IPMSG_UTF8OPT | IPMSG_CAPUTF8OPT), IPMSG_UTF8OPT | IPMSG_CAPUTF8OPT);

    const forced = await lanWith({ overrides: { charset: 'utf-8' } });
    const feiq = rawPeer(forced.lan, FEIQ, FEIQ_VERSION);
    await feiqEntry(feiq, forced.clock);
    const second = track(forced.us.messenger.sendMessage([{ text: FEIQ, address: FEIQ, port: PORT }], '中文', OPTIONS));
    await forced.clock.tickUntil(() => second.settled, 10_000, 50);
    assert.deepEqual(second.value?.map((o) => [o.charset, o.charsetReason]), [['utf-8', 'forced']]);
  });

  it("without its entry, a peer's messages tell: GBK unflagged from FeiQ, UTF8OPT from another, GBK from iptux", async () => {
    const { clock, lan, us } = await lanWith();
    const feiq = rawPeer(lan, FEIQ, FEIQ_VERSION);
    const other = rawPeer(lan, OTHER, '1');
    await feiq.socket.send(Buffer.concat([Buffer.from(`${FEIQ_VERSION}:5:feiq:FEIQ-PC:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:`), gbk('中文'), Buffer.from([0])]), { address: US, port: PORT });
    await other.socket.send(Buffer.from(`1:5:bob:BOB-PC:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_UTF8OPT}:hi\0`), { address: US, port: PORT });
    // iptux writes in the code page it reads us in (the one of the last message it got from us, §15).
    const iptux = rawPeer(lan, '10.0.0.3', '1_iptux 0.8.3');
    await iptux.socket.send(Buffer.concat([Buffer.from(`1_iptux 0.8.3:5:root:iptux:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:`), gbk('中文'), Buffer.from([0])]), { address: US, port: PORT });
    await clock.tick(0);
    assert.deepEqual(us.inbox.map((m) => m.packet.text), ['中文', 'hi', '中文']);
    const to = [FEIQ, OTHER, '10.0.0.3'].map((address) => ({ text: address, address, port: PORT }));
    const sending = track(us.messenger.sendMessage(to, '中文', { ...OPTIONS, check: false }));
    await clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.deepEqual(sending.value?.map((o) => [o.charset, o.charsetReason]), [
      ['gb18030', 'peer-dialect'],
      ['utf-8', 'peer-utf8'],
      ['gb18030', 'peer-iptux'],
    ]);
  });

  it("iptux's non-ASCII messages override its entry (it reads us in the code page it writes); ASCII ones tell nothing", async () => {
    const { clock, lan, us } = await lanWith();
    const iptux = rawPeer(lan, FEIQ, '1_iptux 0.8.3');
    const say = async (packetNo: number, text: Buffer): Promise<void> => {
      await iptux.socket.send(Buffer.concat([Buffer.from(`1_iptux 0.8.3:${packetNo}:root:iptux:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT}:`), text, Buffer.from([0])]), { address: US, port: PORT });
      await clock.tick(0);
    };
    const charsetNow = async (): Promise<[string, string] | undefined> => {
      const sending = track(us.messenger.sendMessage([{ text: FEIQ, address: FEIQ, port: PORT }], '中文', { ...OPTIONS, check: false }));
      await clock.tickUntil(() => sending.settled, 10_000, 50);
      const [o] = sending.value ?? [];
      return o && [o.charset, o.charsetReason];
    };
    await iptux.socket.send(Buffer.from(`1_iptux 0.8.3:4:root:iptux-host:${IPMSG_ANSENTRY | IPMSG_ABSENCEOPT}:iptux-peer\0lab\0icon-tux.png\0utf-8\0`), { address: US, port: PORT });
    await clock.tick(0);
    assert.deepEqual(await charsetNow(), ['utf-8', 'peer-iptux']);
    await say(5, gbk('中文'));
    assert.deepEqual(await charsetNow(), ['gb18030', 'peer-iptux']);
    await say(6, Buffer.from('plain ascii'));
    assert.deepEqual(await charsetNow(), ['gb18030', 'peer-iptux']);
    await say(7, Buffer.from('中文'));
    assert.deepEqual(await charsetNow(), ['utf-8', 'peer-iptux']);
  });

  it('what a peer announced is remembered for the next run: no entry needed then', async () => {
    const memory = new MapPeerCharsets();
    const first = await lanWith({ overrides: { peerCharsets: memory } });
    const feiq = rawPeer(first.lan, FEIQ, FEIQ_VERSION);
    await feiqEntry(feiq, first.clock);
    assert.equal(memory.saved.size, 0, 'saved when the messenger closes');
    await first.us.messenger.close();
    assert.deepEqual(memory.saved.get(`${FEIQ}:${PORT}`), { kind: 'dialect', charset: 'gb18030' });

    const next = await lanWith({ overrides: { peerCharsets: memory } });
    const feiqAgain = rawPeer(next.lan, FEIQ, FEIQ_VERSION);
    const sending = track(next.us.messenger.sendMessage([{ text: FEIQ, address: FEIQ, port: PORT }], '中文', OPTIONS));
    await next.clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.deepEqual(sending.value?.map((o) => [o.charset, o.charsetReason]), [['gb18030', 'peer-dialect']]);
    assert.ok(Buffer.from(messages(feiqAgain)[0]?.bytes ?? []).includes(gbk('中文')));
  });

  it('an encrypted message carries its plaintext in the peer\'s code page', async () => {
    const memory = new MapPeerCharsets();
    memory.saved.set(`${OTHER}:${PORT}`, { kind: 'legacy' });
    const { clock, lan, us } = await lanWith({ overrides: { security: await fixtureSecurity('alice-rsa2048', root), peerCharsets: memory } });
    const other = await openNode(lan, clock, OTHER, { overrides: { security: await fixtureSecurity('bob-rsa2048', root) } });
    const sending = track(us.messenger.sendMessage([other.destination], '中文', { ...OPTIONS, encrypt: 'always' }));
    await clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.ok(sending.fulfilled, String(sending.error));
    assert.deepEqual(sending.value?.map((o) => [o.encrypted, o.charset, o.charsetReason]), [[true, 'gb18030', 'peer-legacy']]);
    await clock.tickUntil(() => other.inbox.length > 0, 1000, 10);
    const [message] = other.inbox;
    assert.ok(message?.encrypted, other.warnings.join('; '));
    assert.equal(message.packet.command & IPMSG_UTF8OPT, 0);
    assert.deepEqual([message.packet.text, message.packet.charset], ['中文', 'gb18030'], 'decrypted, then read as GB18030');
  });
});
