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
  readonly stderr: string;
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
        stderr: r.stderr,
      };
    });
  }

  /** Every printed text counted; nothing printed twice; no success reported for a text not printed. */
  function checkInvariants(printed: readonly string[], results: readonly SendResult[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const text of printed) counts.set(text, (counts.get(text) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'a message was printed more than once');
    const sent = new Set(results.map((r) => r.text));
    assert.deepEqual(printed.filter((t) => !sent.has(t)), [], 'printed a message nobody sent');
    for (const r of results) {
      if (r.code === 0) {
        assert.equal(r.status, 'delivered', r.stderr);
        assert.ok(counts.has(r.text), `the sender of ${JSON.stringify(r.text)} reported success, but the receiver did not print it`);
      } else {
        assert.equal(r.code, 75, `a sender failed otherwise than with 75: ${r.stderr}`);
        assert.equal(r.status, 'failed', r.stderr);
        assert.match(r.stderr, /No acknowledgement from/);
      }
    }
    return counts;
  }

  function attemptsFigures(results: readonly SendResult[]): { max: number; mean: number; histogram: Record<string, number> } {
    const attempts = results.map((r) => r.attempts ?? 0);
    const histogram: Record<string, number> = {};
    for (const a of attempts) histogram[a] = (histogram[a] ?? 0) + 1;
    return { max: Math.max(...attempts), mean: Number((attempts.reduce((s, a) => s + a, 0) / attempts.length).toFixed(2)), histogram };
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
      const printed = jsonLines(done.stdout).map((m) => String(m['text']));
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

  test('60% loss each way: senders that get no acknowledgement exit 75, and none reports success for a message not printed', async () => {
    // One try gets through with p = 0.4² = 0.16; 5 tries (the default count) all fail with
    // 0.84^5 = 0.42, so of 30 senders some fail (none would: 0.58^30 ≈ 1e-7).
    await setLoss(60, SENDERS);
    try {
      const recv = await startRecv(['--count', '0']);
      const results = await sendAll('loss60', 30, `${RECEIVER_ADDRESS}:2425`, ['--retries', '4', '--timeout', `${5 * INTERVAL}ms`]);
      // Resends still in flight when the last sender gave up have had time to arrive.
      await new Promise((r) => setTimeout(r, 500));
      recv.child.kill('SIGINT');
      const done = await recv.done;
      const printed = jsonLines(done.stdout).map((m) => String(m['text']));
      checkInvariants(printed, results);
      const failed = results.filter((r) => r.code === 75);
      assert.ok(failed.length > 0, 'at 60% loss some sender should have failed');
      const deliveredButFailed = failed.filter((r) => printed.includes(r.text)).length;
      record(import.meta.url, {
        loss60: {
          senders: results.length,
          succeeded: results.length - failed.length,
          failedWith75: failed.length,
          printed: printed.length,
          printedButSenderFailed: deliveredButFailed,
        },
      });
    } finally {
      await noLoss();
    }
  });

  test('50 concurrent senders to one recv --count 50: all received once', async () => {
    const recv = await startRecv(['--count', '50', '--timeout', '60s']);
    const results = await sendAll('crowd', 50, `${RECEIVER_ADDRESS}:2425`, [], 50);
    const done = await recv.done;
    const printed = jsonLines(done.stdout).map((m) => String(m['text']));
    const numbers = results.map((r) => r.packetNo);
    assert.equal(new Set(numbers).size, numbers.length, `senders shared a packet number: ${numbers.join(' ')}`);
    checkInvariants(printed, results);
    assert.deepEqual(results.filter((r) => r.code !== 0).map((r) => r.stderr), []);
    assert.equal(printed.length, 50);
    assert.equal(done.code, 0, done.stderr);
    record(import.meta.url, { concurrentSenders: { senders: 50, received: printed.length, attempts: attemptsFigures(results) } });
  });
});
