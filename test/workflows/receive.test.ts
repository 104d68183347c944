// test/workflows/receive.test.ts
// receive() and messages() on the fake LAN and the fake clock: the timeout ends a run without
// sleeping, --count stops acknowledging, and the iterator acknowledges only while it is waited on.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import type { ReceivedMessage, SendOptions } from '../../src/messenger/index.js';
import { messages } from '../../src/workflows/messages.js';
import { receive, senderFilter } from '../../src/workflows/receive.js';
import type { SendMsgPacket } from '../../src/protocol/packet.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan } from '../helpers/fake-lan.js';
import { fixtureSecurity } from '../helpers/keys.js';
import { type LanNode, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const send: SendOptions = { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4 };

async function three(): Promise<{ clock: FakeClock; a: LanNode; b: LanNode; c: LanNode }> {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const [a, b, c] = [await openNode(lan, clock, '10.0.0.1'), await openNode(lan, clock, '10.0.0.2'), await openNode(lan, clock, '10.0.0.3')];
  return { clock, a, b, c };
}

describe('senderFilter', () => {
  const from = { address: '10.0.0.7', port: 2425 };
  const packet = (user: string, host: string): SendMsgPacket => ({ user, host }) as SendMsgPacket;

  it('a user name with a key fingerprint answers to its base name, alone or as user@host (any case)', () => {
    const fingerprinted = packet('alice-<0123456789abcdef>', 'alice-pc');
    for (const pattern of ['alice', 'Alice@ALICE-PC', 'alice-<0123456789abcdef>', 'alice-<0123456789abcdef>@alice-pc', 'alice-pc', '10.0.0.7', '10.0.0.7:2425']) {
      assert.equal(senderFilter([pattern])(fingerprinted, from), true, pattern);
    }
    for (const pattern of ['alice@other-pc', 'alic', 'bob', '<0123456789abcdef>']) {
      assert.equal(senderFilter([pattern])(fingerprinted, from), false, pattern);
    }
  });

  it('a name without a fingerprint matches only itself', () => {
    assert.equal(senderFilter(['alice'])(packet('alice-x', 'pc'), from), false);
    assert.equal(senderFilter(['alice-x@pc'])(packet('alice-x', 'pc'), from), true);
    assert.equal(senderFilter(['Nick'])(packet('u', 'pc'), from, 'nick'), true);
  });
});

describe('receive()', () => {
  it('the timeout ends the run with IPMSG_ERR_TIMEOUT, counting what arrived, on the fake clock', async () => {
    const { clock, a, b } = await three();
    const got: ReceivedMessage[] = [];
    const start = clock.now();
    const run = track(receive(b.messenger, { count: 2, timeout: 60_000, clock, onMessage: (m) => got.push(m) }));
    const sent = track(a.messenger.sendMessage([b.destination], 'one', send));
    await clock.tickUntil(() => sent.settled, 5000);
    assert.equal(sent.value?.[0]?.status, 'delivered');
    assert.equal(got.length, 1);
    await clock.tick(start + 59_999 - clock.now());
    assert.equal(run.settled, false, 'still running before its deadline');
    await clock.tick(1);
    assert.ok(run.rejected);
    assert.ok(isIpmsgError(run.error, 'IPMSG_ERR_TIMEOUT'), String(run.error));
    assert.match((run.error as Error).message, /received 1 of 2 messages within 60s/);
  });

  it('after --count messages, later ones are not acknowledged (their senders learn it)', async () => {
    const { clock, a, b, c } = await three();
    const got: string[] = [];
    const run = track(receive(b.messenger, { count: 1, linger: 10_000, clock, onMessage: (m) => got.push(m.packet.text) }));
    const first = track(a.messenger.sendMessage([b.destination], 'first', send));
    await clock.tickUntil(() => first.settled, 5000);
    const second = track(c.messenger.sendMessage([b.destination], 'second', { ...send, timeout: 2000, retries: 1 }));
    await clock.tickUntil(() => second.settled, 5000);
    assert.equal(first.value?.[0]?.status, 'delivered');
    assert.equal(second.value?.[0]?.status, 'failed');
    assert.deepEqual(got, ['first']);
    await clock.tickUntil(() => run.settled, 20_000);
    assert.deepEqual(run.value, { received: 1 });
  });

  it('a signal ends the run with its reason', async () => {
    const { clock, b } = await three();
    const stop = new AbortController();
    const run = track(receive(b.messenger, { count: 0, signal: stop.signal, clock, onMessage: () => undefined }));
    await clock.tick(1000);
    assert.equal(run.settled, false);
    stop.abort(new Error('stopped by the test'));
    await clock.tick(0);
    assert.equal((run.error as Error).message, 'stopped by the test');
  });
});

describe('messages()', () => {
  it('acknowledges a message only while a next() is waiting; break leaves the rest unacknowledged', async () => {
    const { clock, a, b } = await three();
    const iterator = messages(b.messenger);
    const unasked = track(a.messenger.sendMessage([b.destination], 'too early', { ...send, timeout: 2000, retries: 1 }));
    await clock.tickUntil(() => unasked.settled, 5000);
    assert.equal(unasked.value?.[0]?.status, 'failed', 'nobody was waiting: not acknowledged');
    const next = track(iterator.next());
    const asked = track(a.messenger.sendMessage([b.destination], 'now', send));
    await clock.tickUntil(() => asked.settled && next.settled, 5000);
    assert.equal(asked.value?.[0]?.status, 'delivered');
    assert.equal(next.value?.value?.packet.text, 'now');
    await iterator.return?.();
    const after = track(a.messenger.sendMessage([b.destination], 'after the loop', { ...send, timeout: 2000, retries: 1 }));
    await clock.tickUntil(() => after.settled, 5000);
    assert.equal(after.value?.[0]?.status, 'failed');
  });

  it('a message acknowledged and still being decrypted when the signal fires is returned all the same', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const root = mkdtempSync(join(tmpdir(), 'ipmsg-messages-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const a = await openNode(lan, clock, '10.0.0.1', { overrides: { security: await fixtureSecurity('alice-rsa2048', root) } });
    const b = await openNode(lan, clock, '10.0.0.2', { overrides: { security: await fixtureSecurity('bob-rsa2048', root) } });
    const stop = new AbortController();
    const iterator = messages(b.messenger, { signal: stop.signal });
    const next = track(iterator.next());
    // Acknowledged at once; delivered once b has asked a for its key, to check the signature.
    const sent = track(a.messenger.sendMessage([b.destination], 'in flight', { ...send, encrypt: 'always' }));
    await clock.tickUntil(() => sent.settled, 5000);
    assert.equal(sent.value?.[0]?.status, 'delivered');
    assert.equal(next.settled, false, 'still being decrypted');
    stop.abort(new Error('enough'));
    await clock.tickUntil(() => next.settled, 5000);
    assert.equal(next.value?.value?.packet.text, 'in flight');
    await assert.rejects(iterator.next(), /enough/);
  });

  it('a signal ends the loop with its reason', async () => {
    const { clock, b } = await three();
    const stop = new AbortController();
    const next = track(messages(b.messenger, { signal: stop.signal }).next());
    await clock.tick(10);
    stop.abort(new Error('enough'));
    await clock.tick(0);
    assert.equal((next.error as Error).message, 'enough');
  });
});
