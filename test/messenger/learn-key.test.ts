// test/messenger/learn-key.test.ts
// A receiver learns a sender's key from the run that sent the message. Runs of one user on one
// host differ by port: a key request still retrying towards a run that has exited must not answer
// for the next run from that host (it did, when requests were keyed by address alone).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SendOptions } from '../../src/messenger/index.js';
import type { Security } from '../../src/messenger/security.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan, decode } from '../helpers/fake-lan.js';
import { type FixtureName, fixtureSecurity } from '../helpers/keys.js';
import { openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-learn-key-'));
after(() => rmSync(root, { recursive: true, force: true }));

const security = (name: FixtureName): Promise<Security> => fixtureSecurity(name, root);

const OPTIONS: SendOptions = { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4, encrypt: 'always' };

describe('learning a sender key', () => {
  it('asks the run that sent the message, not an earlier run on the same host that no longer answers', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const bob = await openNode(lan, clock, '10.0.0.2', { overrides: { security: await security('bob-rsa2048') } });
    // A first run of alice (port 2426) asks bob for his key; bob asks for hers in turn, but that run has gone.
    const first = await openNode(lan, clock, '10.0.0.1', { overrides: { security: await security('alice-rsa2048'), port: 2426 } });
    lan.drop = (d) => d.to.port === 2426 && d.from.address === '10.0.0.2' && decode(d.bytes).kind === 'GETPUBKEY';
    const asked = track(first.messenger.publicKey(bob.destination, { tries: 1, interval: 200 }));
    await clock.tickUntil(() => asked.settled, 1_000, 10);
    assert.ok(asked.fulfilled, String(asked.error));
    await first.messenger.close();
    // The next run (port 2427) sends a message while bob's request to the first run is still retrying.
    const second = await openNode(lan, clock, '10.0.0.1', { overrides: { security: await security('alice-rsa2048'), port: 2427 } });
    const sending = track(second.messenger.sendMessage([bob.destination], 'second run', OPTIONS));
    await clock.tickUntil(() => sending.settled && bob.inbox.length > 0, 10_000, 10);
    assert.ok(sending.fulfilled, String(sending.error));
    assert.deepEqual(bob.inbox.map((m) => [m.packet.text, m.from.port, m.signature]), [['second run', 2427, 'verified']]);
  });
});
