// test/messenger/resolve.test.ts
// Targets to addresses on the fake LAN: names by discovery (with the ambiguity grace on the fake
// clock), user@host, the injected host lookup, and the errors that list candidates.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { type HostLookup, resolveTargets } from '../../src/messenger/resolve.js';
import { parseTarget } from '../../src/messenger/target.js';
import { IPMSG_ANSENTRY, IPMSG_CAPUTF8OPT } from '../../src/protocol/command.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan } from '../helpers/fake-lan.js';
import { type LanNode, PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const A1 = '10.0.0.1';
const A2 = '10.0.0.2';
const A3 = '10.0.0.3';

interface World {
  clock: FakeClock;
  lan: FakeLan;
  me: LanNode;
  asked: string[];
  lookup: HostLookup;
}

/** m1 resolves; the others are peers with the given identities. */
async function world(
  peers: { address: string; user: string; host: string; nick: string }[],
  dns: Record<string, string> = {},
): Promise<World> {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const me = await openNode(lan, clock, A1, { identity: { user: 'me', host: 'mypc', nick: 'Me' } });
  for (const p of peers) await openNode(lan, clock, p.address, { identity: { user: p.user, host: p.host, nick: p.nick } });
  const asked: string[] = [];
  const lookup: HostLookup = (name) => {
    asked.push(name);
    return Promise.resolve(dns[name]);
  };
  return { clock, lan, me, asked, lookup };
}

const BOB2 = { address: A2, user: 'bob', host: 'pc2', nick: 'Bobby' };
const BOB3 = { address: A3, user: 'bob', host: 'pc3', nick: 'Robert' };
const CAROL = { address: A3, user: 'carol', host: 'lab-3', nick: 'Caz' };

function resolve(w: World, targets: string[], wait = 5000, signal?: AbortSignal) {
  return track(
    resolveTargets(
      w.me.messenger,
      targets.map((t) => parseTarget(t, PORT)),
      PORT,
      { wait, clock: w.clock, lookup: w.lookup, ...(signal ? { signal } : {}) },
    ),
  );
}

function brEntries(w: World): number {
  return w.lan.sent.filter((d) => d.from.address === A1 && d.to.address === '255.255.255.255').length;
}

describe('resolveTargets', () => {
  it('resolves a user, nick or host name to the peer’s address, case-insensitively', async () => {
    for (const name of ['carol', 'Caz', 'lab-3', 'CAROL', 'LAB-3']) {
      const w = await world([BOB2, CAROL]);
      const r = resolve(w, [name]);
      await w.clock.tickUntil(() => r.settled, 10_000);
      assert.ok(r.fulfilled, `${name}: ${String(r.error)}`);
      assert.deepEqual(r.value, [{ text: name, address: A3, port: PORT, label: 'carol@lab-3' }]);
      assert.deepEqual(w.asked, [], 'a single word found on the LAN needs no DNS');
    }
  });

  it('stops one grace second after every name matched, not at the end of the wait', async () => {
    const w = await world([BOB2, CAROL]);
    const r = resolve(w, ['carol', 'Bobby'], 10_000);
    const spent = await w.clock.tickUntil(() => r.settled, 20_000, 10);
    assert.ok(r.fulfilled, String(r.error));
    assert.ok(spent >= 1000 && spent <= 1010, `resolved after ${spent} ms of fake time`);
    assert.deepEqual(
      r.value?.map((d) => d.address),
      [A3, A2],
      'in the order given',
    );
    assert.equal(w.clock.pending, 0, 'no timer left behind');
  });

  it('100 names are found by one discovery round, one grace second after the last answered', async () => {
    const peers = Array.from({ length: 100 }, (_, i) => ({ address: `10.0.1.${i + 1}`, user: `user${i}`, host: `pc${i}`, nick: `Nick ${i}` }));
    const w = await world(peers);
    const r = resolve(w, peers.map((p) => p.user), 2000);
    const spent = await w.clock.tickUntil(() => r.settled, 20_000, 10);
    assert.ok(r.fulfilled, String(r.error));
    assert.ok(spent >= 1000 && spent <= 1010, `resolved after ${spent} ms of fake time`);
    assert.deepEqual(r.value?.map((d) => d.address), peers.map((p) => p.address));
    assert.equal(brEntries(w), 1);
    assert.deepEqual(w.asked, []);
  });

  it('waits for every name before the grace starts', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const me = await openNode(lan, clock, A1);
    await openNode(lan, clock, A2, { identity: { user: 'bob', host: 'pc2', nick: 'Bobby' } });
    // carol's machine answers only from the second BR_ENTRY on (her first answer is lost).
    await openNode(lan, clock, A3, { identity: { user: 'carol', host: 'lab-3', nick: 'Caz' } });
    const t0 = clock.now();
    lan.drop = (d) => d.from.address === A3 && (d.at ?? 0) < t0 + 1000;
    const r = track(resolveTargets(me.messenger, [parseTarget('bob', PORT), parseTarget('carol', PORT)], PORT, { wait: 10_000, clock, lookup: () => Promise.resolve(undefined) }));
    const spent = await clock.tickUntil(() => r.settled, 20_000, 10);
    assert.ok(r.fulfilled, String(r.error));
    assert.ok(spent >= 2000 && spent <= 2010, `carol answered at 1 s, grace to 2 s; took ${spent} ms`);
  });

  it('user@host picks one of two peers of the same user name', async () => {
    const w = await world([BOB2, BOB3]);
    const r = resolve(w, ['bob@pc3', 'BOB@PC2:2426']);
    await w.clock.tickUntil(() => r.settled, 10_000);
    assert.ok(r.fulfilled, String(r.error));
    assert.deepEqual(r.value, [
      { text: 'bob@pc3', address: A3, port: PORT, label: 'bob@pc3' },
      { text: 'BOB@PC2:2426', address: A2, port: 2426, label: 'bob@pc2' },
    ]);
  });

  it('two peers of the same name → IPMSG_ERR_AMBIGUOUS_TARGET listing both', async () => {
    const w = await world([BOB3, BOB2]);
    const r = resolve(w, ['bob']);
    await w.clock.tickUntil(() => r.settled, 10_000);
    assert.ok(isIpmsgError(r.error, 'IPMSG_ERR_AMBIGUOUS_TARGET'), String(r.error));
    const message = (r.error as Error).message;
    assert.match(message, /^"bob" matches 2 peers: /);
    assert.ok(message.includes('bob@pc2 (10.0.0.2:2425)'), message);
    assert.ok(message.includes('bob@pc3 (10.0.0.3:2425)'), message);
    assert.match(message, /user@host/);
  });

  it('a second peer of the same name answering within the grace still makes it ambiguous', async () => {
    const w = await world([BOB2]);
    const late = w.lan.open(A3, PORT);
    const r = resolve(w, ['bob'], 10_000);
    await w.clock.tick(500);
    assert.equal(r.settled, false);
    await late.send(Buffer.from(`1:9:bob:pc3:${IPMSG_ANSENTRY | IPMSG_CAPUTF8OPT}:Robert\0\0`), { address: A1, port: PORT });
    await w.clock.tickUntil(() => r.settled, 10_000);
    assert.ok(isIpmsgError(r.error, 'IPMSG_ERR_AMBIGUOUS_TARGET'), String(r.error));
  });

  it('one peer seen on two ports counts once', async () => {
    const w = await world([BOB2]);
    const other = w.lan.open(A2, 2426);
    const r = resolve(w, ['bob'], 10_000);
    await w.clock.tick(0);
    await other.send(Buffer.from(`1:9:bob:pc2:${IPMSG_ANSENTRY | IPMSG_CAPUTF8OPT}:Bobby\0\0`), { address: A1, port: PORT });
    await w.clock.tickUntil(() => r.settled, 10_000);
    assert.ok(r.fulfilled, String(r.error));
    assert.equal(r.value?.[0]?.address, A2);
  });

  it('an unknown name → IPMSG_ERR_UNKNOWN_TARGET after the whole wait, asking the lookup once', async () => {
    const w = await world([BOB2]);
    const r = resolve(w, ['nobody'], 3000);
    await w.clock.tick(2999);
    assert.equal(r.settled, false);
    await w.clock.tick(1);
    assert.ok(isIpmsgError(r.error, 'IPMSG_ERR_UNKNOWN_TARGET'), String(r.error));
    assert.match((r.error as Error).message, /^Unknown target "nobody": .* within 3s/);
    assert.deepEqual(w.asked, ['nobody']);
    assert.equal(brEntries(w), 2, 'a wait over 2 s sends BR_ENTRY twice');
  });

  it('a single word nobody on the LAN answers to may still be a host name', async () => {
    const w = await world([BOB2], { printer: '10.0.0.77' });
    const r = resolve(w, ['printer:9100'], 1000);
    await w.clock.tick(1000);
    assert.ok(r.fulfilled, String(r.error));
    assert.deepEqual(r.value, [{ text: 'printer:9100', address: '10.0.0.77', port: 9100 }]);
    assert.deepEqual(w.asked, ['printer']);
  });

  it('a dotted name uses the injected lookup first, without discovery, once however often it is named', async () => {
    const w = await world([BOB2], { 'printer.example.lan': '10.0.0.77' });
    const r = resolve(w, ['printer.example.lan', 'printer.example.lan:2426']);
    await w.clock.tick(0);
    assert.ok(r.fulfilled, String(r.error));
    assert.deepEqual(r.value, [
      { text: 'printer.example.lan', address: '10.0.0.77', port: PORT },
      { text: 'printer.example.lan:2426', address: '10.0.0.77', port: 2426 },
    ]);
    assert.deepEqual(w.asked, ['printer.example.lan']);
    assert.deepEqual(w.lan.sent, [], 'nothing was broadcast');
  });

  it('host names are looked up at once, not one after another', async () => {
    const w = await world([BOB2]);
    const names = Array.from({ length: 100 }, (_, i) => `host${i}.example.lan`);
    const started: string[] = [];
    const answers: (() => void)[] = [];
    const lookup = (name: string): Promise<string | undefined> => {
      started.push(name);
      return new Promise((resolve) => answers.push(() => resolve(`10.0.1.${names.indexOf(name) + 1}`)));
    };
    const r = track(resolveTargets(w.me.messenger, names.map((n) => parseTarget(n, PORT)), PORT, { wait: 1000, clock: w.clock, lookup }));
    await w.clock.tick(0);
    assert.equal(started.length, 32, 'a bounded number in flight');
    while (answers.length > 0) {
      for (const answer of answers.splice(0)) answer();
      await w.clock.tick(0);
    }
    assert.ok(r.fulfilled, String(r.error));
    assert.equal(started.length, 100);
    assert.deepEqual(r.value?.map((d) => d.address), names.map((_, i) => `10.0.1.${i + 1}`));
  });

  it('a dotted name the lookup does not know is looked for on the LAN, and not asked twice', async () => {
    const w = await world([{ address: A2, user: 'dan', host: 'pc2.office', nick: 'Dan' }]);
    const r = resolve(w, ['pc2.office']);
    await w.clock.tickUntil(() => r.settled, 10_000);
    assert.ok(r.fulfilled, String(r.error));
    assert.deepEqual(r.value, [{ text: 'pc2.office', address: A2, port: PORT, label: 'dan@pc2.office' }]);
    assert.deepEqual(w.asked, ['pc2.office']);
  });

  it('addresses need neither discovery nor lookup', async () => {
    const w = await world([BOB2]);
    const r = resolve(w, ['10.0.0.50', '10.0.0.51:2426']);
    await w.clock.tick(0);
    assert.deepEqual(r.value, [
      { text: '10.0.0.50', address: '10.0.0.50', port: PORT },
      { text: '10.0.0.51:2426', address: '10.0.0.51', port: 2426 },
    ]);
    assert.deepEqual(w.asked, []);
    assert.deepEqual(w.lan.sent, []);
  });

  it('rejects with the signal’s reason when interrupted during discovery', async () => {
    const w = await world([]);
    const controller = new AbortController();
    const reason = new Error('SIGINT');
    const r = resolve(w, ['bob'], 10_000, controller.signal);
    await w.clock.tick(300);
    controller.abort(reason);
    await w.clock.tick(0);
    assert.equal(r.error, reason);
  });
});
