// test/messenger/fleet.test.ts
// One message to a thousand peers on the fake LAN with the fake clock: who is retried and how
// often, each peer's outcome, acknowledgements told apart by port, the bound on datagrams handed
// to the socket at once, and the cap on targets.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import type { PlainPeers, SendOptions } from '../../src/messenger/index.js';
import { MAX_TARGETS } from '../../src/messenger/target.js';
import type { Destination } from '../../src/messenger/target.js';
import { IPMSG_MULTICASTOPT, IPMSG_READMSG, IPMSG_RECVMSG, hasOpt } from '../../src/protocol/command.js';
import type { DatagramSocket } from '../../src/transport/datagram.js';
import { SEND_WINDOW } from '../../src/transport/endpoint.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan, decode } from '../helpers/fake-lan.js';
import { fixtureSecurity } from '../helpers/keys.js';
import { PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const SENDER = '10.0.0.1';
const root = mkdtempSync(join(tmpdir(), 'ipmsg-fleet-'));
after(() => rmSync(root, { recursive: true, force: true }));

function sendOptions(options: Partial<SendOptions> = {}): SendOptions {
  return { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4, encrypt: 'never', ...options };
}

/** How a simulated peer answers: never, from its `n`th copy of the message on, or at once (1). */
type Answers = number | 'never';

/**
 * The sender, and `count` raw peers: the first ones on 10.1.x.y:2425, the last `samePort` on one
 * address (10.2.0.1), each on a port of its own. Every peer acknowledges as `answers(i)` says.
 */
async function fleet(count: number, answers: (i: number) => Answers, samePort = 0) {
  const clock = new FakeClock(0);
  const lan = new FakeLan(clock);
  const outstanding = { now: 0, most: 0 };
  // The socket completes each send a turn later, as a real one does: a burst queues at the endpoint.
  const bindSocket = async (options: Parameters<ReturnType<FakeLan['bindSocket']>>[0]) => {
    const bound = await lan.bindSocket(SENDER)(options);
    const inner = bound.socket;
    const socket: DatagramSocket = {
      port: inner.port,
      send: (bytes, to) => {
        outstanding.most = Math.max(outstanding.most, ++outstanding.now);
        return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          outstanding.now--;
          return inner.send(bytes, to);
        });
      },
      onMessage: (handler) => inner.onMessage(handler),
      onError: (handler) => inner.onError(handler),
      close: () => inner.close(),
    };
    return { socket };
  };
  const sender = await openNode(lan, clock, SENDER, { overrides: { bindSocket } });
  const destinations: Destination[] = [];
  const received: number[] = [];
  for (let i = 0; i < count; i++) {
    const shared = i >= count - samePort;
    const address = shared ? '10.2.0.1' : `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const port = shared ? 3000 + i : PORT;
    lan.addHost(address);
    const socket = lan.open(address, port);
    received.push(0);
    socket.onMessage((bytes, from) => {
      const packet = decode(bytes);
      if (packet.kind !== 'SENDMSG') return;
      received[i] = (received[i] ?? 0) + 1;
      const rule = answers(i);
      if (rule === 'never' || (received[i] ?? 0) < rule) return;
      void socket.send(Buffer.from(`1:${900 + i}:peer${i}:host${i}:${IPMSG_RECVMSG}:${packet.packetNo}`, 'latin1'), from);
    });
    destinations.push({ text: `${address}:${port}`, address, port });
  }
  return { clock, lan, sender, destinations, received, outstanding };
}

describe('a message to a fleet of peers', () => {
  it('1,000 peers: one schedule, silent ones tried 5 times and failed, late ones delivered on the 2nd try', async () => {
    const answers = (i: number): Answers => (i % 50 === 0 ? 'never' : i % 50 === 1 ? 2 : 1);
    const { clock, lan, sender, destinations, received, outstanding } = await fleet(1000, answers);
    const sending = track(sender.messenger.sendMessage(destinations, 'to everyone', sendOptions()));
    let timers = 0;
    await clock.tickUntil(() => {
      timers = Math.max(timers, clock.pending);
      return sending.settled;
    }, 6000, 100);
    assert.ok(sending.fulfilled, String(sending.error));
    assert.ok(timers <= 2, `the retries run on one timer (saw ${timers} pending)`);
    assert.ok(outstanding.most <= SEND_WINDOW, `at most ${SEND_WINDOW} datagrams in the socket at once (saw ${outstanding.most})`);
    assert.equal(outstanding.most, SEND_WINDOW, 'the window was filled: the burst really queued');
    const outcomes = sending.value ?? [];
    assert.equal(outcomes.length, 1000);
    const packetNos = new Set(outcomes.map((o) => o.packetNo));
    assert.equal(packetNos.size, 1, 'one packet number for the message');
    outcomes.forEach((o, i) => {
      assert.equal(o.destination, destinations[i], 'outcomes in the order of the destinations');
      const rule = answers(i);
      if (rule === 'never') {
        assert.equal(o.status, 'failed');
        assert.equal(o.attempts, 5);
        assert.ok(isIpmsgError(o.error) && o.error.code === 'IPMSG_ERR_NO_ACK');
        assert.match(o.error.message, new RegExp(`^No acknowledgement from ${destinations[i]?.text} after 5 tries in 5s`));
      } else {
        assert.equal(o.status, 'delivered', `peer ${i}: ${o.error?.message}`);
        assert.equal(o.attempts, rule);
      }
      assert.equal(received[i], rule === 'never' ? 5 : rule, `copies peer ${i} received`);
    });
    const copies = lan.packets((d) => d.from.address === SENDER).filter((d) => d.packet?.kind === 'SENDMSG');
    assert.equal(copies.length, 20 * 5 + 20 * 2 + 960);
    assert.ok(copies.every((d) => d.packet !== undefined && hasOpt(d.packet.command, IPMSG_MULTICASTOPT)));
    assert.equal(clock.pending, 0, 'no timer left behind');
    assert.deepEqual(sender.warnings, []);
  });

  it('peers on one address, each on its own port: an acknowledgement counts for its port only', async () => {
    // 20 peers on 10.2.0.1, every other one silent.
    const { clock, sender, destinations } = await fleet(20, (i) => (i % 2 === 0 ? 'never' : 1), 20);
    const sending = track(sender.messenger.sendMessage(destinations, 'hi', sendOptions({ timeout: 1000, retries: 1 })));
    await clock.tickUntil(() => sending.settled, 2000, 100);
    assert.deepEqual(
      (sending.value ?? []).map((o) => o.status),
      destinations.map((_, i) => (i % 2 === 0 ? 'failed' : 'delivered')),
    );
  });

  it('--wait-read: each read notice counts for the peer (and port) that sent it, with one listener on the signal', async () => {
    // 20 peers on 10.2.0.1; the even ones acknowledge and then send their read notice.
    const { clock, lan, sender, destinations } = await fleet(20, () => 1, 20);
    for (const [i, d] of destinations.entries()) {
      if (i % 2 === 1) continue;
      lan.socket(d.address, d.port)?.onMessage((bytes, from) => {
        const packet = decode(bytes);
        if (packet.kind === 'SENDMSG') void lan.socket(d.address, d.port)?.send(Buffer.from(`1:${700 + i}:peer${i}:host${i}:${IPMSG_READMSG}:${packet.packetNo}`, 'latin1'), from);
      });
    }
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const sending = track(sender.messenger.sendMessage(destinations, 'open me', sendOptions({ waitRead: true, readTimeout: 3000, signal: controller.signal })));
      await clock.tickUntil(() => sending.settled, 4000, 100);
      assert.ok(sending.fulfilled, String(sending.error));
      assert.deepEqual(
        (sending.value ?? []).map((o) => o.status),
        destinations.map((_, i) => (i % 2 === 0 ? 'read' : 'delivered')),
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings.map((w) => w.name), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses more than MAX_TARGETS destinations before anything is sent', async () => {
    const { lan, sender } = await fleet(1, () => 1);
    const many: Destination[] = Array.from({ length: MAX_TARGETS + 1 }, (_, i) => ({ text: `t${i}`, address: '10.1.0.1', port: 3000 + (i % 60000) }));
    await assert.rejects(sender.messenger.sendMessage(many, 'hi', sendOptions()), (e) => isIpmsgError(e) && e.code === 'IPMSG_ERR_USAGE' && /at most 10000/.test(e.message));
    assert.equal(lan.sent.length, 0);
  });
});

describe('an encrypted message (--encrypt auto) to a fleet', () => {
  it('10 peers with keys get it encrypted, 90 that send no key get it plain after the short probe, and are remembered', async () => {
    const clock = new FakeClock(0);
    const lan = new FakeLan(clock);
    const plain = new Set<string>();
    const plainPeers: PlainPeers = { has: (p) => plain.has(p), add: (p) => void plain.add(p), delete: (p) => void plain.delete(p) };
    const sender = await openNode(lan, clock, SENDER, { overrides: { security: await fixtureSecurity('alice-rsa2048', root), plainPeers } });
    const keyed = [];
    for (let i = 2; i <= 11; i++) keyed.push(await openNode(lan, clock, `10.0.0.${i}`, { overrides: { security: await fixtureSecurity('bob-rsa2048', root) } }));
    const raw: Destination[] = [];
    for (let i = 1; i <= 90; i++) {
      const address = `10.1.0.${i}`;
      lan.addHost(address);
      const socket = lan.open(address, PORT);
      socket.onMessage((bytes, from) => {
        const packet = decode(bytes);
        if (packet.kind === 'SENDMSG') void socket.send(Buffer.from(`1:${i}:raw${i}:host${i}:${IPMSG_RECVMSG}:${packet.packetNo}`, 'latin1'), from);
      });
      raw.push({ text: address, address, port: PORT });
    }
    const destinations = [...keyed.map((n) => n.destination), ...raw];
    const sending = track(sender.messenger.sendMessage(destinations, 'hello fleet', sendOptions({ encrypt: 'auto' })));
    await clock.tickUntil(() => sending.settled, 10_000, 50);
    assert.ok(sending.fulfilled, String(sending.error));
    const outcomes = sending.value ?? [];
    assert.deepEqual(
      outcomes.map((o) => [o.destination.text, o.status, o.encrypted]),
      destinations.map((d, i) => [d.text, 'delivered', i < 10]),
    );
    for (const node of keyed) assert.deepEqual(node.inbox.map((m) => [m.packet.text, m.encrypted]), [['hello fleet', true]]);
    assert.deepEqual([...plain].sort(), raw.map((d) => `${d.address}:${PORT}`).sort());
    const keyRequests = lan.packets((d) => d.from.address === SENDER && d.to.address.startsWith('10.1.')).filter((d) => d.packet?.kind === 'GETPUBKEY');
    assert.equal(keyRequests.length, 90 * 2, 'two GETPUBKEYs (the probe) to each peer without keys');
    assert.deepEqual(sender.warnings, []);
  });
});
