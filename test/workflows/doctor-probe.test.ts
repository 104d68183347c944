// test/workflows/doctor-probe.test.ts
// The doctor's BR_ENTRY probe and target checks on the fake LAN with the fake clock: who answered
// on which interface and after how long, and a target that answers everything, only entries
// (as iptux answers no GETINFO), or nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localCapa } from '../../src/crypto/capability.js';
import { fingerprint, withFingerprint } from '../../src/crypto/fingerprint.js';
import { answerFor } from '../../src/crypto/keys.js';
import { ansPubKeyPacket, entryPacket } from '../../src/messenger/packets.js';
import { IPMSG_AUTORETOPT, IPMSG_CAPUTF8OPT, IPMSG_ENCRYPTOPT, hasOpt } from '../../src/protocol/command.js';
import { KnownPeers } from '../../src/state/known-peers.js';
import { fixtureKey } from '../helpers/keys.js';
import { decodePacket, encodePacket } from '../../src/protocol/packet.js';
import { asPacketNo } from '../../src/protocol/packet-no.js';
import { Client } from '../../src/workflows/client.js';
import type { CheckResult } from '../../src/workflows/doctor/check.js';
import { PROBE_LIMITS, probeEntry } from '../../src/workflows/doctor/probe.js';
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

/**
 * A peer announcing encryption under `user`@bob-pc: answers BR_ENTRY, and GETPUBKEY with `shows`
 * (no answer without one). Records the GETPUBKEY requests it got.
 */
function keyedPeer(lan: FakeLan, address: string, user: string, shows: KeyObject | undefined): { requests: { autoReply: boolean; capa: number | undefined }[] } {
  lan.addHost(address);
  const socket = lan.open(address, PORT);
  const sender = { identity: { user, host: 'bob-pc', nick: 'bob', group: '' }, charset: 'utf-8' as const, status: IPMSG_CAPUTF8OPT | IPMSG_ENCRYPTOPT };
  const requests: { autoReply: boolean; capa: number | undefined }[] = [];
  socket.onMessage((bytes, from) => {
    const packet = decodePacket(bytes, { fallbackCharset: 'utf-8' });
    if (packet.kind === 'BR_ENTRY') void socket.send(encodePacket(entryPacket(sender, asPacketNo(8), 'ANSENTRY', true)), from);
    if (packet.kind !== 'GETPUBKEY') return;
    requests.push({ autoReply: hasOpt(packet.command, IPMSG_AUTORETOPT), capa: packet.capa });
    if (shows) void socket.send(encodePacket(ansPubKeyPacket(sender, asPacketNo(9), answerFor(shows, localCapa()))), from);
  });
  return { requests };
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

  test('a hostile LAN answering from more ports than listed: the first PROBE_LIMITS.listed are listed, the rest counted', async () => {
    const { doctor, lan, clock, run } = await setup();
    lan.addHost('10.0.0.9');
    const extra = PROBE_LIMITS.listed + 200;
    // One listener hears the broadcast; each answer comes from its own port.
    const answering = Array.from({ length: extra }, (_, i) => ({
      socket: lan.open('10.0.0.9', 3000 + i),
      sender: { identity: { user: `u${i}`, host: `h${i}`, nick: '', group: '' }, charset: 'utf-8' as const, status: IPMSG_CAPUTF8OPT },
    }));
    lan.open('10.0.0.9', PORT).onMessage((bytes, from) => {
      if (decodePacket(bytes, { fallbackCharset: 'utf-8' }).kind !== 'BR_ENTRY') return;
      answering.forEach(({ socket, sender }, i) => void socket.send(encodePacket(entryPacket(sender, asPacketNo(i + 1), 'ANSENTRY', true)), from));
    });
    const probe = await run(probeEntry(doctor.messenger, { wait: 500, clock, interfaces: lan.interfaces('10.0.0.1'), signal: new AbortController().signal }));
    assert.equal(probe.answers.length, PROBE_LIMITS.listed);
    assert.equal(probe.answers.length + probe.unlisted, extra + 2, 'every answering address and port counted once');
    const answers = probe.results[1];
    assert.equal((answers?.details as { peers: unknown[] }).peers.length, PROBE_LIMITS.listed);
    assert.match(answers?.summary ?? '', new RegExp(`\\(the first ${PROBE_LIMITS.listed} addresses; ${probe.unlisted} more answered\\)`));
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

  test("iptux's real ANSENTRY (no CAPUTF8OPT, encoding field utf-8): it reads UTF-8, only encryption is lacking", async () => {
    const { clock, lan, client, run } = await setup();
    const answerWith = (address: string, encoding: string): void => {
      lan.addHost(address);
      const socket = lan.open(address, PORT);
      socket.onMessage((bytes, from) => {
        if (decodePacket(bytes, { fallbackCharset: 'utf-8' }).kind !== 'BR_ENTRY') return;
        void socket.send(Buffer.from(`1_iptux 0.8.3:5:root:iptux-host:259:iptux-peer\0lab\0icon-tux.png\0${encoding}\0`, 'latin1'), from);
      });
    };
    answerWith('10.0.0.5', 'utf-8');
    answerWith('10.0.0.6', 'gbk');
    const utf8 = (await run(checkTarget(client, '10.0.0.5', targetOptions(clock)))).find((r) => r.id === 'target-capabilities');
    assert.equal(utf8?.summary, 'iptux 0.8.3 announces UTF-8 (its encoding field)');
    assert.equal(utf8?.advice, 'it lacks encryption (messages go in plain text)');
    assert.equal((utf8?.details as Record<string, unknown>)['charset'], 'utf-8');
    const gbk = (await run(checkTarget(client, '10.0.0.6', targetOptions(clock)))).find((r) => r.id === 'target-capabilities');
    assert.equal(gbk?.summary, 'iptux 0.8.3 announces no extension');
    assert.equal(gbk?.advice, 'it lacks UTF-8 (text goes in its legacy code page: --encoding) and encryption (messages go in plain text)');
  });

  test('a silent target: entry and GETINFO ✖; a name nobody has: ✖ target', async () => {
    const { clock, client, run } = await setup();
    const silent = await run(checkTarget(client, '10.0.0.3', targetOptions(clock)));
    assert.deepEqual(status(silent), { target: 'ok', 'target-entry': 'fail', 'target-info': 'fail', 'target-tcp': 'warn' });
    const unknown = await run(checkTarget(client, 'nobody', { ...targetOptions(clock), wait: 500 }));
    assert.deepEqual(status(unknown), { target: 'fail' });
  });

  describe("the target's key, asked with GETPUBKEY (the doctor has no keys and pins nothing)", () => {
    const A = fixtureKey('bob-rsa2048').publicKey;
    const B = fixtureKey('carol-rsa2048').publicKey;
    const fpA = fingerprint(A);
    const fpB = fingerprint(B);
    /** A keys folder where bob@bob-pc is pinned to key A. */
    async function pinnedDir(): Promise<string> {
      const dir = mkdtempSync(join(tmpdir(), 'ipmsg-doctor-key-'));
      await (await KnownPeers.open(dir)).remember({ user: withFingerprint('bob', fpA), host: 'bob-pc' }, A);
      return dir;
    }
    const keyResult = (results: readonly CheckResult[]) => results.find((r) => r.id === 'target-key');
    const withKeys = (clock: FakeClock, keyDir: string) => ({ ...targetOptions(clock), keyDir, keys: { capa: localCapa(), schedule: { tries: 2, interval: 500 } } });

    test('its name names the pinned key but it shows another: ✖, and known-peers.json is left alone', async (t) => {
      const dir = await pinnedDir();
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const before = readFileSync(join(dir, 'known-peers.json'), 'utf8');
      const { clock, lan, client, run } = await setup();
      const peer = keyedPeer(lan, '10.0.0.5', withFingerprint('bob', fpA), B);
      const result = keyResult(await run(checkTarget(client, '10.0.0.5', withKeys(clock, dir))));
      assert.equal(result?.status, 'fail');
      assert.equal(result?.summary, `bob@bob-pc answers GETPUBKEY with key ${fpB}, not the ${fpA} its user name names: encrypted sends refuse it (67)`);
      assert.deepEqual(result?.details, { peer: 'bob@bob-pc', key: fpB, announced: fpA, pinned: fpA });
      assert.deepEqual(peer.requests, [{ autoReply: true, capa: localCapa() }]);
      assert.equal(readFileSync(join(dir, 'known-peers.json'), 'utf8'), before);
    });

    test('the key it shows is the pinned one and the one its name names: ✔', async (t) => {
      const dir = await pinnedDir();
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const { clock, lan, client, run } = await setup();
      keyedPeer(lan, '10.0.0.5', withFingerprint('bob', fpA), A);
      const result = keyResult(await run(checkTarget(client, '10.0.0.5', withKeys(clock, dir))));
      assert.deepEqual([result?.status, result?.summary], ['ok', `key ${fpA} of bob@bob-pc is the pinned one (its user name agrees)`]);
    });

    test('a name without a fingerprint and another key than the pinned one: ✖ with the command that accepts it', async (t) => {
      const dir = await pinnedDir();
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const { clock, lan, client, run } = await setup();
      keyedPeer(lan, '10.0.0.5', 'bob', B);
      const result = keyResult(await run(checkTarget(client, '10.0.0.5', withKeys(clock, dir))));
      assert.equal(result?.status, 'fail');
      assert.equal(result?.summary, `bob@bob-pc shows key ${fpB}, but ${fpA} is pinned: encrypted sends refuse (67)`);
      assert.equal(result?.advice, 'if it made a new key and you trust it, run: ipmsg keys trust bob@bob-pc');
    });

    test('no answer to GETPUBKEY: ⚠; without keys (--no-crypto) the key is not asked for', async (t) => {
      const dir = await pinnedDir();
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const { clock, lan, client, run } = await setup();
      const peer = keyedPeer(lan, '10.0.0.5', withFingerprint('bob', fpA), undefined);
      const silent = keyResult(await run(checkTarget(client, '10.0.0.5', withKeys(clock, dir))));
      assert.equal(silent?.status, 'warn');
      assert.match(silent?.summary ?? '', /^bob@bob-pc announces encryption but did not answer GETPUBKEY within 1s$/);
      const asked = peer.requests.length;
      const plain = keyResult(await run(checkTarget(client, '10.0.0.5', { ...targetOptions(clock), keyDir: dir })));
      assert.equal(plain?.status, 'skip');
      assert.equal(peer.requests.length, asked);
    });
  });
});
