// test/messenger/clock.test.ts
// Every timer, deferral and timeout of the messenger runs on the injected Clock: work the fake clock
// holds back does not happen, and nothing in src/messenger reaches for the global timers.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SendOptions } from '../../src/messenger/index.js';
import { LOOKUP_TIMEOUT_MS, resolveTargets } from '../../src/messenger/resolve.js';
import { parseTarget } from '../../src/messenger/target.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';
import { FakeLan } from '../helpers/fake-lan.js';
import { fixtureSecurity } from '../helpers/keys.js';
import { PORT, openNode } from '../helpers/lan-node.js';
import { track } from '../helpers/track.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-clock-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A fake clock that keeps deferred work until the test releases it. */
class HoldingClock extends FakeClock {
  readonly held: (() => void)[] = [];
  override defer(fn: () => void): void {
    this.held.push(fn);
  }
}

const OPTIONS: SendOptions = { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: 5000, retries: 4, encrypt: 'always' };

describe('deferred work', () => {
  it('an encrypted message is acknowledged at once and decrypted only when the clock runs deferred work', async () => {
    const clock = new HoldingClock();
    const lan = new FakeLan(clock);
    const alice = await openNode(lan, clock, '10.0.0.1', { overrides: { security: await fixtureSecurity('alice-rsa2048', root) } });
    const bob = await openNode(lan, clock, '10.0.0.2', { overrides: { security: await fixtureSecurity('bob-rsa2048', root) } });
    const sending = track(alice.messenger.sendMessage([bob.destination], 'hello', OPTIONS));
    await clock.tickUntil(() => sending.settled, 10_000);
    assert.equal(sending.value?.[0]?.status, 'delivered', String(sending.error));
    assert.equal(sending.value?.[0]?.encrypted, true);
    assert.equal(bob.inbox.length, 0, 'decrypted before the clock ran deferred work');
    assert.equal(clock.held.length, 1);
    for (const fn of clock.held.splice(0)) fn();
    await clock.tickUntil(() => bob.inbox.length > 0, 10_000);
    assert.deepEqual(bob.inbox.map((m) => [m.packet.text, m.encrypted, m.signature]), [['hello', true, 'verified']]);
    await Promise.all([alice.messenger.close(), bob.messenger.close()]);
  });
});

describe('timeouts', () => {
  it('a host lookup that never answers gives up after LOOKUP_TIMEOUT_MS on the fake clock', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const me = await openNode(lan, clock, '10.0.0.1');
    const never = (): Promise<string | undefined> => new Promise(() => undefined);
    const resolving = track(resolveTargets(me.messenger, [parseTarget('host.example', PORT)], PORT, { wait: 1000, clock, lookup: never }));
    await flush();
    assert.equal(resolving.settled, false);
    const spent = await clock.tickUntil(() => resolving.settled, 3 * LOOKUP_TIMEOUT_MS);
    assert.ok(resolving.settled, 'still waiting for the lookup: its timeout is not on the clock');
    assert.match(String(resolving.error), /Unknown target "host\.example"/);
    // The timeout, then a discovery of `wait`.
    assert.ok(spent >= LOOKUP_TIMEOUT_MS + 1000 && spent <= LOOKUP_TIMEOUT_MS + 1010, `took ${spent} ms`);
    await me.messenger.close();
  });
});

test('src/messenger uses no global timer, deferral or clock', () => {
  const dir = fileURLToPath(new URL('../../../src/messenger/', import.meta.url));
  const raw = /\b(?:setTimeout|setInterval|setImmediate|queueMicrotask|nextTick|Date\.now|performance\.now|Math\.random)\b/;
  const found = readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')) // comments may name them
        .split('\n')
        .map((line) => line.replace(/\/\/.*$/, ''))
        .flatMap((line, i) => (raw.test(line) ? [`${name}:${i + 1}: ${line.trim()}`] : [])),
    );
  assert.deepEqual(found, []);
});
