// test/workflows/doctor-probe.test.ts
// The doctor's BR_ENTRY probe and target checks on the fake LAN with the fake clock: who answered
// on which interface and after how long, and a target that answers everything, only entries
// (as iptux answers no GETINFO), or nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { entryPacket } from '../../src/messenger/packets.js';
import { IPMSG_CAPUTF8OPT } from '../../src/protocol/command.js';
import { decodePacket, encodePacket } from '../../src/protocol/packet.js';
import { asPacketNo } from '../../src/protocol/packet-no.js';
import { Client } from '../../src/workflows/client.js';
import type { CheckResult } from '../../src/workflows/doctor/check.js';
import { probeEntry } from '../../src/workflows/doctor/probe.js';
import { checkTarget } from '../../src/workflows/doctor/target.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan } from '../helpers/fake-lan.js';
import { PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

/** An iptux-like raw peer: answers BR_ENTRY (to the broadcast or to it alone) `delay` ms later with ANSENTRY, and nothing else. */
function entryOnlyPeer(lan: FakeLan, clock: FakeClock, address: string, delay: number): void {
  const socket = lan.open(address, PORT);
  const sender = { identity: { user: 'ipt', host: 'iptux-pc', nick: 'ipt', group: '' }, charset: 'utf-8' as const, status: IPMSG_CAPUTF8OPT };
  socket.onMessage((bytes, from) => {
    if (decodePacket(bytes, { fallbackCharset: 'utf-8' }).kind !== 'BR_ENTRY') return;
    clock.after(delay, () => void socket.send(encodePacket(entryPacket(sender, asPacketNo(7), 'ANSENTRY', true)), from));
  });
}

async function setup() {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const doctor = await openNode(lan, clock, '10.0.0.1', { identity: { user: 'doc' } });
  await openNode(lan, clock, '10.0.0.2');
  entryOnlyPeer(lan, clock, '10.0.0.4', 30);
  const client = new Client(doctor.messenger, { port: PORT, clock, charset: undefined, fallbackCharset: 'gb18030', via: [], onNotice: () => undefined });
  const run = async <T>(promise: Promise<T>): Promise<T> => {
    const tracked = track(promise);
    await clock.tickUntil(() => tracked.settled, 60_000);
    return tracked.promise;
  };
  return { clock, lan, doctor, client, run };
}

const status = (results: readonly CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.status]));

describe('doctor probe and target on the fake LAN', () => {
  test('BR_ENTRY: each answer with its interface and its time after our entry', async () => {
    const { doctor, lan, clock, run } = await setup();
    const signal = new AbortController().signal;
    const probe = await run(probeEntry(doctor.messenger, { wait: 500, clock, interfaces: lan.interfaces('10.0.0.1'), signal }));
    assert.deepEqual(status(probe.results), { broadcast: 'ok', answers: 'ok' });
    const delayed = probe.answers.find((a) => a.peer.address === '10.0.0.4');
    assert.deepEqual([delayed?.iface, delayed?.afterMs], ['eth0', 30]);
    assert.deepEqual(probe.answers.map((a) => a.peer.address).sort(), ['10.0.0.2', '10.0.0.4']);
    assert.match(probe.results[1]?.summary ?? '', /^2 peers answered BR_ENTRY — eth0: 2 \(first after \d+ ms\): /);
  });

  test('nobody answers within the wait: ⚠ with advice', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const alone = await openNode(lan, clock, '10.0.0.1');
    const tracked = track(probeEntry(alone.messenger, { wait: 500, clock, interfaces: lan.interfaces('10.0.0.1'), signal: new AbortController().signal }));
    await clock.tickUntil(() => tracked.settled, 5000);
    const probe = await tracked.promise;
    assert.equal(probe.results[1]?.status, 'warn');
    assert.equal(probe.results[1]?.summary, 'nobody answered BR_ENTRY within 0.5s');
  });

  const targetOptions = (clock: FakeClock) => ({
    timeout: 1000,
    retries: 1,
    connectTimeout: 1000,
    dns: false,
    clock,
    signal: new AbortController().signal,
    keyDir: '/nonexistent/ipmsg-doctor-test',
    answered: [],
    tcp: async () => 'refused' as const,
  });

  test('a target that answers everything: ✔ entry and GETINFO; TCP refused is ⚠; no keys: capabilities ⚠, key skipped', async () => {
    const { clock, client, run } = await setup();
    const results = await run(checkTarget(client, '10.0.0.2', targetOptions(clock)));
    assert.deepEqual(status(results), { target: 'ok', 'target-entry': 'ok', 'target-info': 'ok', 'target-tcp': 'warn', 'target-capabilities': 'warn', 'target-key': 'skip' });
    assert.match(results[2]?.summary ?? '', /^10\.0\.0\.2:2425 answered GETINFO after \d+ ms: test client 10\.0\.0\.2 Ver1\.0$/);
  });

  test('a target that answers entries only (iptux): GETINFO ⚠, its entry time measured on its own BR_ENTRY', async () => {
    const { clock, client, run } = await setup();
    const results = await run(checkTarget(client, '10.0.0.4', targetOptions(clock)));
    assert.equal(status(results)['target-entry'], 'ok');
    assert.equal(results.find((r) => r.id === 'target-entry')?.summary, '10.0.0.4:2425 answered BR_ENTRY after 30 ms');
    assert.equal(status(results)['target-info'], 'warn');
    assert.match(results.find((r) => r.id === 'target-info')?.summary ?? '', /iptux never does/);
  });

  test('a silent target: entry and GETINFO ✖; a name nobody has: ✖ target', async () => {
    const { clock, client, run } = await setup();
    const silent = await run(checkTarget(client, '10.0.0.3', targetOptions(clock)));
    assert.deepEqual(status(silent), { target: 'ok', 'target-entry': 'fail', 'target-info': 'fail', 'target-tcp': 'warn' });
    const unknown = await run(checkTarget(client, 'nobody', { ...targetOptions(clock), wait: 500 }));
    assert.deepEqual(status(unknown), { target: 'fail' });
  });
});
