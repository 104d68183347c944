// test/stress/loss.test.ts
// Delivery on a lossy, duplicating, reordering LAN: three namespaces on a private bridge
// (10.249.0.0/24). Node 0 runs the senders, node 1 a user-space relay (duplicates, delays), node 2
// the receiver. Packets are dropped at random with nftables (`numgen random mod 100 < N drop`) as
// they arrive: at the receiver, and at the node its answers go to (the senders' or the relay's).
// Every message must be printed exactly once, and no sender may report success for a message the
// receiver did not print.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { binPath, makeSandbox } from '../helpers/cli.js';
import { type Lan, createLan, nftUnavailableReason } from '../helpers/netns.js';
import type { RelayStats } from '../helpers/udp-relay.js';
import { jsonLines, pool, record, skipUnless, startIn } from './support.js';

const skip = skipUnless(nftUnavailableReason());
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

const SENDERS = 0;
const RELAY = 1;
const RECEIVER = 2;
const RECEIVER_ADDRESS = '10.249.0.3';
const RELAY_ADDRESS = '10.249.0.2';
const relayScript = fileURLToPath(new URL('../helpers/udp-relay.js', import.meta.url));

/**
 * The retry arithmetic. With a loss of `loss` in each direction, one try (the SENDMSG and its
 * RECVMSG) gets through with probability p = (1 - loss)². A message fails only when all its tries
 * fail: (1 - p)^tries. For `messages` messages to fail at most once in `1 / budget` runs:
 *   messages · (1 - p)^tries ≤ budget  ⇒  tries ≥ ln(budget / messages) / ln(1 - p).
 * At 30 % loss: p = 0.49, 1 - p = 0.51; for 100 messages and a budget of 1e-4:
 *   tries ≥ ln(1e-6) / ln(0.51) = 13.82 / 0.673 = 20.5 → 21 tries, --retries 20.
 */
export function triesNeeded(loss: number, messages: number, budget: number): number {
  const p = (1 - loss) ** 2;
  return Math.ceil(Math.log(budget / messages) / Math.log(1 - p));
}

const MESSAGES = 100;
const LOSS = 0.3;
const BUDGET = 1e-4;
/** Time between tries: a try's round trip on the bridge takes well under a millisecond. */
const INTERVAL = 250;
/** Senders at a time. */
const CONCURRENCY = 4;

interface SendResult {
  readonly text: string;
  readonly code: number | null;
  readonly status: string | undefined;
  readonly attempts: number | undefined;
  readonly packetNo: number | undefined;
  /** send --json says whether it went encrypted. */
  readonly encrypted: boolean | undefined;
  readonly stderr: string;
}

interface Printed {
  readonly text: string;
  readonly encrypted: boolean;
}

function printedOf(stdout: string): Printed[] {
  return jsonLines(stdout).map((m) => ({ text: String(m['text']), encrypted: m['encrypted'] === true }));
}

describe('delivery on a lossy LAN', { skip }, () => {
  let lan: Lan;
  before(async () => {
    lan = await createLan(3);
  });
  after(async () => {
    await lan?.destroy();
  });

  const identity = (user: string): string[] => ['--user', user, '--host', `${user}-pc`];

  /**
   * `percent` loss each way between the receiver and `peer` (the senders' node or the relay's).
   * Packets are dropped where they arrive, as on a wire: a drop in the output hook would fail the
   * sendto() with EPERM instead of losing the datagram.
   */
  async function setLoss(percent: number, peer: number): Promise<void> {
    await lan.setLoss(RECEIVER, percent, { direction: 'in' });
    await lan.setLoss(peer, percent, { direction: 'in', from: RECEIVER_ADDRESS });
  }
  async function noLoss(): Promise<void> {
    for (const node of [SENDERS, RELAY, RECEIVER]) await lan.setLoss(node, 0);
  }

  async function startRecv(args: readonly string[]) {
    const recv = startIn(lan, RECEIVER, ['recv', ...identity('rx'), '--json', '-v', ...args], sandbox.env);
    await recv.waitFor('listening on UDP port 2425', 20_000);
    return recv;
  }

  async function sendAll(tag: string, count: number, target: string, retryArgs: readonly string[], concurrency = CONCURRENCY): Promise<SendResult[]> {
    const texts = Array.from({ length: count }, (_, i) => `${tag} message ${i} ${Math.random().toString(36).slice(2, 8)}`);
    return pool(texts, concurrency, async (text) => {
      const r = await lan.run(SENDERS, process.execPath, [binPath, 'send', ...identity('tx'), '--json', '--no-dns', ...retryArgs, target, text], {
        env: sandbox.env,
        timeoutMs: 120_000,
      });
      const [json] = jsonLines(r.stdout);
      return {
        text,
        code: r.code,
        status: json?.['status'] as string | undefined,
        attempts: json?.['attempts'] as number | undefined,
        packetNo: json?.['packetNo'] as number | undefined,
        encrypted: json?.['encrypted'] as boolean | undefined,
        stderr: r.stderr,
      };
    });
  }

  /**
   * Every printed text counted; nothing printed twice; no success reported for a text not printed;
   * what a sender says went encrypted arrived encrypted, and the other way round. Failures exit 75
   * (no acknowledgement), or with `--encrypt always` 79 (no key came: nothing was sent, so nothing
   * may be printed).
   */
  function checkInvariants(printedMessages: readonly Printed[], results: readonly SendResult[]): Map<string, number> {
    const printed = printedMessages.map((m) => m.text);
    const counts = new Map<string, number>();
    for (const text of printed) counts.set(text, (counts.get(text) ?? 0) + 1);
    const encryptedOnArrival = new Map(printedMessages.map((m) => [m.text, m.encrypted]));
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'a message was printed more than once');
    const sent = new Set(results.map((r) => r.text));
    assert.deepEqual(printed.filter((t) => !sent.has(t)), [], 'printed a message nobody sent');
    for (const r of results) {
      if (counts.has(r.text)) assert.equal(encryptedOnArrival.get(r.text), r.encrypted, `${JSON.stringify(r.text)}: the sender says encrypted ${r.encrypted}`);
      if (r.code === 0) {
        assert.equal(r.status, 'delivered', r.stderr);
        assert.ok(counts.has(r.text), `the sender of ${JSON.stringify(r.text)} reported success, but the receiver did not print it`);
      } else if (r.code === 79) {
        assert.match(r.stderr, /did not send its public key/);
        assert.ok(!counts.has(r.text), `${JSON.stringify(r.text)} was printed though its sender said nothing was sent (79)`);
      } else {
        assert.equal(r.code, 75, `a sender failed otherwise than with 75: ${r.stderr}`);
        assert.equal(r.status, 'failed', r.stderr);
        assert.match(r.stderr, /No acknowledgement from/);
      }
    }
    return counts;
  }

  /** Tries of the message itself (a key exchange before it is not counted), and how many went encrypted. */
  function attemptsFigures(results: readonly SendResult[]): { max: number; mean: number; histogram: Record<string, number>; encrypted: number; plain: number } {
    const attempts = results.map((r) => r.attempts ?? 0);
    const histogram: Record<string, number> = {};
    for (const a of attempts) histogram[a] = (histogram[a] ?? 0) + 1;
    const encrypted = results.filter((r) => r.encrypted === true).length;
    return {
      max: Math.max(...attempts),
      mean: Number((attempts.reduce((s, a) => s + a, 0) / attempts.length).toFixed(2)),
      histogram,
      encrypted,
      plain: results.filter((r) => r.encrypted === false).length,
    };
  }

  async function startRelay(copies: number, delay: string, seed: number): Promise<{ child: ChildProcess; stop(): Promise<RelayStats> }> {
    const child = lan.spawn(RELAY, process.execPath, [relayScript, '--listen', `${RELAY_ADDRESS}:2425`, '--to', `${RECEIVER_ADDRESS}:2425`, '--copies', String(copies), '--delay', delay, '--seed', String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    for (let i = 0; i < 200 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 25));
    assert.match(out, /listening/, `the relay did not start: ${err}`);
    let stopped: Promise<RelayStats> | undefined;
    return {
      child,
      stop() {
        stopped ??= (async () => {
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
          await closed;
          return JSON.parse(out.trim().split('\n').pop() ?? '{}') as RelayStats;
        })();
        return stopped;
      },
    };
  }

  const tries = triesNeeded(LOSS, MESSAGES, BUDGET);
  /**
   * recv exits after its 100th message; senders whose acknowledgement was lost just before then
   * still resend, and `--linger` keeps acknowledging those resends. The last CONCURRENCY senders
   * fail only if every try within the linger is lost: CONCURRENCY · (1 - p)^(linger / INTERVAL) ≤
   * BUDGET ⇒ linger ≥ INTERVAL · ln(BUDGET / CONCURRENCY) / ln(0.51) = 250 ms · 15.7 ≈ 4 s.
   */
  const linger = `${Math.ceil((INTERVAL * Math.log(BUDGET / CONCURRENCY)) / Math.log(1 - (1 - LOSS) ** 2) / 1000)}s`;
  const retryArgs = ['--retries', String(tries - 1), '--timeout', `${tries * INTERVAL}ms`];

  /**
   * MESSAGES sends through `target` to one recv --count MESSAGES with 30% loss on the receiver's
   * link: every message printed exactly once, every sender exits 0.
   */
  async function deliverAll(tag: string, target: string, args: readonly string[], concurrency: number): Promise<SendResult[]> {
    await setLoss(30, target.startsWith(RELAY_ADDRESS) ? RELAY : SENDERS);
    try {
      const recv = await startRecv(['--count', String(MESSAGES), '--linger', linger, '--timeout', '10m']);
      const results = await sendAll(tag, MESSAGES, target, args, concurrency);
      const done = await recv.done;
      const printed = printedOf(done.stdout);
      checkInvariants(printed, results);
      assert.deepEqual(results.filter((r) => r.code !== 0).map((r) => r.stderr), [], 'every sender exits 0');
      assert.equal(printed.length, MESSAGES);
      assert.equal(done.code, 0, done.stderr);
      return results;
    } finally {
      await noLoss();
    }
  }

  test(`30% loss each way: ${MESSAGES} sends to one recv --count ${MESSAGES}, ${tries} tries each (the arithmetic in triesNeeded)`, async () => {
    assert.equal(tries, 21);
    const results = await deliverAll('loss30', `${RECEIVER_ADDRESS}:2425`, retryArgs, CONCURRENCY);
    const attempts = attemptsFigures(results);
    // With p = 0.49 per try, some message needs more than one try (all 100 at once: 0.49^100).
    assert.ok(attempts.max > 1, 'the loss rule dropped nothing');
    record(import.meta.url, { loss30: { messages: MESSAGES, triesAllowed: tries, retriesAllowed: tries - 1, linger, attempts } });
  });

  /**
   * With --encrypt always a message needs two exchanges, each retried: GETPUBKEY → ANSPUBKEY, then
   * SENDMSG → RECVMSG, each with the same schedule. A message fails when either exchange loses all
   * its tries: about 2 · (1 - p)^tries, so twice the messages in the same arithmetic:
   *   tries ≥ ln(1e-4 / 200) / ln(0.51) = 14.51 / 0.673 = 21.6 → 22 tries, --retries 21.
   */
  const keyTries = triesNeeded(LOSS, 2 * MESSAGES, BUDGET);
  test(`--encrypt always, 30% loss each way: ${MESSAGES} sends, each delivered once, encrypted, exit 0 (${keyTries} tries for the key exchange and again for the message)`, async () => {
    assert.equal(keyTries, 22);
    const args = ['--encrypt', 'always', '--retries', String(keyTries - 1), '--timeout', `${keyTries * INTERVAL}ms`];
    const results = await deliverAll('always30', `${RECEIVER_ADDRESS}:2425`, args, CONCURRENCY);
    assert.deepEqual(results.filter((r) => r.encrypted !== true).map((r) => r.text), [], 'every message went encrypted');
    const attempts = attemptsFigures(results);
    assert.ok(attempts.max > 1, 'the loss rule dropped nothing');
    record(import.meta.url, { loss30Encrypted: { messages: MESSAGES, triesAllowed: keyTries, retriesAllowed: keyTries - 1, linger, attempts } });
  });

  test(`every datagram duplicated (and 30% loss behind the relay): each of ${MESSAGES} messages printed once`, async () => {
    const relay = await startRelay(2, '0-30', 2);
    try {
      const results = await deliverAll('dup', `${RELAY_ADDRESS}:2425`, retryArgs, CONCURRENCY);
      const stats = await relay.stop();
      assert.equal(stats.duplicated, stats.received, 'every datagram went twice');
      record(import.meta.url, { duplicated: { messages: MESSAGES, relay: stats, attempts: attemptsFigures(results) } });
    } finally {
      await relay.stop();
    }
  });

  test(`datagrams reordered (random delays of 0-600 ms, beyond the ${INTERVAL} ms between tries; 30% loss): each message printed once`, async () => {
    const relay = await startRelay(1, '0-600', 3);
    try {
      // A try's answer can now take 1.2 s: the last 5 tries may answer too late, so 5 more.
      const late = Math.ceil((2 * 600) / INTERVAL);
      const args = ['--retries', String(tries - 1 + late), '--timeout', `${(tries + late) * INTERVAL}ms`];
      const results = await deliverAll('reorder', `${RELAY_ADDRESS}:2425`, args, 10);
      const stats = await relay.stop();
      assert.ok(stats.reordered > 0, 'nothing was reordered');
      record(import.meta.url, { reordered: { messages: MESSAGES, relay: stats, attempts: attemptsFigures(results) } });
    } finally {
      await relay.stop();
    }
  });

  /**
   * 60% loss each way, 30 senders of 5 tries (the default count). One try gets through with
   * p = 0.4² = 0.16; all 5 fail with 0.84^5 = 0.42, so some senders fail (none would: 0.58^30 ≈ 1e-7).
   * With --encrypt always the key exchange must get through first, so more fail, some with 79.
   */
  async function lossy60(tag: string, extra: readonly string[]): Promise<void> {
    await setLoss(60, SENDERS);
    try {
      const recv = await startRecv(['--count', '0']);
      const results = await sendAll(tag, 30, `${RECEIVER_ADDRESS}:2425`, [...extra, '--retries', '4', '--timeout', `${5 * INTERVAL}ms`]);
      // Resends still in flight when the last sender gave up have had time to arrive.
      await new Promise((r) => setTimeout(r, 500));
      recv.child.kill('SIGINT');
      const done = await recv.done;
      const printedMessages = printedOf(done.stdout);
      const printed = printedMessages.map((m) => m.text);
      checkInvariants(printedMessages, results);
      const failed = results.filter((r) => r.code !== 0);
      assert.ok(failed.length > 0, 'at 60% loss some sender should have failed');
      record(import.meta.url, {
        [tag]: {
          senders: results.length,
          succeeded: results.length - failed.length,
          failedWith75: failed.filter((r) => r.code === 75).length,
          failedWith79: failed.filter((r) => r.code === 79).length,
          printed: printed.length,
          printedEncrypted: printedMessages.filter((m) => m.encrypted).length,
          printedButSenderFailed: failed.filter((r) => printed.includes(r.text)).length,
        },
      });
    } finally {
      await noLoss();
    }
  }

  test('60% loss each way: senders that get no acknowledgement exit 75, and none reports success for a message not printed', async () => {
    await lossy60('loss60', []);
  });

  test('60% loss each way, --encrypt always: failures exit 75 or 79 (no key: nothing sent, nothing printed), no false success, all printed encrypted', async () => {
    await lossy60('loss60Encrypted', ['--encrypt', 'always']);
  });

  test('50 concurrent senders to one recv --count 50: all received once', async () => {
    const recv = await startRecv(['--count', '50', '--timeout', '60s']);
    const results = await sendAll('crowd', 50, `${RECEIVER_ADDRESS}:2425`, [], 50);
    const done = await recv.done;
    const printedMessages = printedOf(done.stdout);
    const printed = printedMessages.map((m) => m.text);
    const numbers = results.map((r) => r.packetNo);
    assert.equal(new Set(numbers).size, numbers.length, `senders shared a packet number: ${numbers.join(' ')}`);
    checkInvariants(printedMessages, results);
    assert.deepEqual(results.filter((r) => r.code !== 0).map((r) => r.stderr), []);
    assert.equal(printed.length, 50);
    assert.equal(done.code, 0, done.stderr);
    record(import.meta.url, { concurrentSenders: { senders: 50, received: printed.length, attempts: attemptsFigures(results) } });
  });
});
