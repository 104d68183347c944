// test/stress/fuzz.test.ts
// Hostile datagrams against a running `recv` (with keys) on 127.0.0.1: the named hard cases one by
// one, then a million random, mutated, encrypted-looking and key-exchange packets, then a flood of
// encrypted-looking messages (each could cost an RSA decryption). recv must never crash or stall,
// its memory must stay bounded (VmRSS from /proc/PID/status), and a genuine encrypted message must
// still get through afterwards.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { type Socket, createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { type TestContext, after, before, describe, test } from 'node:test';
import { binPath, freePort, makeSandbox, runCli } from '../helpers/cli.js';
import { DECRYPT_BUDGET } from '../../src/messenger/budget.js';
import { MAX_UDP_PAYLOAD, Rng, encryptedMessage, hostileKeyExchange, mutated, namedCases, random, structured } from '../helpers/fuzz-datagrams.js';
import { ALL_VECTOR_BYTES } from '../vectors/packets.js';
import { record, rssKiB, sleep } from './support.js';

const sandbox = makeSandbox();
after(() => sandbox.cleanup());
// Our keys are made once, with a notice; make them before recv starts so its stderr is only about the input.
before(async () => assert.equal((await runCli(['keys'], sandbox.env)).code, 0));

/** Datagrams recv must have taken off its socket (sent minus what the kernel dropped). */
const FUZZ_TARGET = Number(process.env['IPMSG_FUZZ_DATAGRAMS'] ?? 1_000_000);
const SEED = Number(process.env['IPMSG_FUZZ_SEED'] ?? 0x5eed) >>> 0;
/** Datagrams between two probes: well within the socket's receive buffer. */
const BATCH = 1000;
/** Encrypted-looking messages in the flood test. */
const FLOOD = 20_000;
/** recv is a Node process of ~50 MB; a leak of even 100 bytes a datagram would pass this. */
const RSS_LIMIT_KIB = 200 * 1024;

interface Receiver {
  readonly port: number;
  readonly child: ChildProcess;
  /** Lines of stderr by kind (the first words after "ipmsg: "). */
  readonly warnings: Map<string, number>;
  /** Stderr lines that are not warnings about the input, kept whole. */
  readonly unexpected: string[];
  /** Messages printed on stdout. */
  messages: number;
  /** Genuine messages printed, with whether they came encrypted. */
  readonly texts: string[];
  readonly encrypted: Map<string, boolean>;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Kinds of stderr line that report hostile input; anything else is unexpected. */
// Notices about what a message claims are input reports too: an unsigned message from a name whose key is pinned, an offered time that cannot be read.
const WARNING = /^ipmsg: (?:(ignored an? \S+|dropped a message|read notice to|listening on UDP port|cannot answer|public key of)|message \d+ from .* (is not signed), although .* pinned|.* its time ".*" (cannot be read))/;

function startRecv(port: number): Receiver {
  const child = spawn(process.execPath, [binPath, 'recv', '--bind', '127.0.0.1', '--port', String(port), '--count', '0', '--json', '-v'], {
    env: sandbox.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const receiver: Receiver = {
    port,
    child,
    warnings: new Map(),
    unexpected: [],
    messages: 0,
    texts: [],
    encrypted: new Map(),
    done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  };
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void): void => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    });
  };
  lines(child.stderr as NodeJS.ReadableStream, (line) => {
    const kind = WARNING.exec(line)?.slice(1).find((group) => group !== undefined);
    if (kind !== undefined) receiver.warnings.set(kind, (receiver.warnings.get(kind) ?? 0) + 1);
    else if (receiver.unexpected.length < 50) receiver.unexpected.push(line);
  });
  lines(child.stdout as NodeJS.ReadableStream, (line) => {
    const { text, encrypted, event } = JSON.parse(line) as { text?: unknown; encrypted?: unknown; event?: unknown };
    if (event === 'end') return; // the record every --json run ends with
    receiver.messages++;
    if (typeof text === 'string' && text.startsWith('genuine')) {
      receiver.texts.push(text);
      receiver.encrypted.set(text, encrypted === true);
    }
  });
  return receiver;
}

async function bindSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

/**
 * GETINFO from its own socket, answered by SENDINFO: once the answer is back, every datagram sent
 * before the probe has been read by recv (one socket queue, first in first out).
 */
class Prober {
  #waiting: (() => void) | undefined;
  #packetNo = 1;

  constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (msg) => {
      const command = Number(msg.toString('latin1').split(':')[4]);
      if ((command & 0xff) === 0x41) this.#waiting?.(); // SENDINFO
    });
  }

  /** True when recv answered within `ms`. */
  probe(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        resolve(false);
      }, ms);
      this.#waiting = () => {
        clearTimeout(timer);
        this.#waiting = undefined;
        resolve(true);
      };
      this.socket.send(`1:${this.#packetNo++}:prober:probehost:64:\0`, this.port, '127.0.0.1');
    });
  }

  /** Probes until answered; false when recv stays silent for `totalMs`. */
  async alive(totalMs: number): Promise<boolean> {
    const deadline = Date.now() + totalMs;
    while (Date.now() < deadline) if (await this.probe(1000)) return true;
    return false;
  }
}

/** Kernel drops on recv's socket (/proc/net/udp, last column), for local port `port` on 127.0.0.1. */
function kernelDrops(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return Number(cols[cols.length - 1]);
  }
  return 0;
}

function sendAll(socket: Socket, datagrams: readonly Buffer[], port: number): Promise<void> {
  let left = datagrams.length;
  return new Promise((resolve) => {
    if (left === 0) resolve();
    for (const d of datagrams) {
      socket.send(d, port, '127.0.0.1', () => {
        if (--left === 0) resolve();
      });
    }
  });
}

/** A genuine message, encrypted (--encrypt always: the key exchange must get through too), from `from`. */
async function genuineMessage(receiver: Receiver, text: string, from = '127.0.0.1'): Promise<void> {
  const send = await runCli(['send', '--bind', from, '--port', String(await freePort()), '--encrypt', 'always', `127.0.0.1:${receiver.port}`, text], sandbox.env);
  assert.equal(send.code, 0, `a genuine message was not acknowledged: ${send.stderr}`);
  for (let i = 0; i < 100 && !receiver.texts.includes(text); i++) await sleep(20);
  assert.ok(receiver.texts.includes(text), `the genuine message was not printed: ${receiver.texts.join(', ')}`);
  assert.equal(receiver.encrypted.get(text), true, 'the genuine message came encrypted');
}

/** CPU time (user + system) a process has used, in ms (/proc/PID/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function stop(receiver: Receiver): Promise<void> {
  if (receiver.child.exitCode === null && receiver.child.signalCode === null) receiver.child.kill('SIGINT');
  const done = await receiver.done;
  assert.equal(done.code, 130, `recv did not end as interrupted: ${done.code ?? done.signal} ${receiver.unexpected.join('\n')}`);
}

/** A running recv, a socket to send it hostile datagrams from and a prober on another; all stopped after the test. */
async function hostileSetup(t: TestContext): Promise<{ receiver: Receiver; fuzz: Socket; prober: Prober }> {
  const receiver = startRecv(await freePort());
  t.after(() => receiver.child.kill('SIGKILL'));
  const fuzz = await bindSocket();
  const probeSocket = await bindSocket();
  t.after(() => {
    fuzz.close();
    probeSocket.close();
  });
  const prober = new Prober(probeSocket, receiver.port);
  assert.ok(await prober.alive(15_000), 'recv did not start');
  return { receiver, fuzz, prober };
}

describe('hostile datagrams against a running recv', () => {
  test('the named hard cases (64 KiB, 10,000-character names, invalid UTF-8 and GBK in every field, packet number 2^64): a warning at most', async (t) => {
    const { receiver, fuzz, prober } = await hostileSetup(t);
    const cases = namedCases();
    assert.ok(cases.some((c) => c.bytes.length === MAX_UDP_PAYLOAD));
    for (const c of cases) {
      await sendAll(fuzz, [c.bytes], receiver.port);
      assert.ok(await prober.alive(5000), `recv stopped answering after: ${c.name}`);
    }
    assert.deepEqual(receiver.unexpected, [], 'stderr lines that are not warnings about the input');
    assert.equal(receiver.child.exitCode, null, 'recv exited');
    await genuineMessage(receiver, 'genuine after the hard cases');
    await stop(receiver);
    record(import.meta.url, { namedCases: { cases: cases.length, printed: receiver.messages - 1, warnings: Object.fromEntries(receiver.warnings) } });
  });

  test(`${FUZZ_TARGET.toLocaleString('en')} random and mutated datagrams: no crash, no stall, bounded memory, and a genuine message afterwards`, async (t) => {
    const { receiver, fuzz, prober } = await hostileSetup(t);
    let replies = 0;
    fuzz.on('message', () => replies++);
    const pid = receiver.child.pid ?? 0;
    const rssAtStart = rssKiB(pid) ?? 0;
    const rng = new Rng(SEED);
    const seeds = ALL_VECTOR_BYTES;
    const mix = { mutated: 0, structured: 0, random: 0, encrypted: 0, keyExchange: 0 };
    let sent = 0;
    let peakRss = rssAtStart;
    const samples: number[] = [];
    const started = Date.now();
    const drops0 = kernelDrops(receiver.port);
    let processed = 0;
    while (processed < FUZZ_TARGET) {
      const batch: Buffer[] = [];
      for (let i = 0; i < BATCH; i++) {
        const kind = rng.below(20);
        if (kind < 10) {
          mix.mutated++;
          batch.push(mutated(rng, seeds));
        } else if (kind < 17) {
          mix.structured++;
          batch.push(structured(rng));
        } else if (kind < 18) {
          mix.random++;
          batch.push(random(rng));
        } else if (kind < 19) {
          mix.encrypted++;
          batch.push(encryptedMessage(rng));
        } else {
          mix.keyExchange++;
          batch.push(hostileKeyExchange(rng));
        }
      }
      await sendAll(fuzz, batch, receiver.port);
      sent += batch.length;
      assert.ok(await prober.alive(10_000), `recv stalled after ${sent} datagrams`);
      processed = sent - (kernelDrops(receiver.port) - drops0);
      if ((sent / BATCH) % 50 === 0) {
        const rss = rssKiB(pid);
        assert.ok(rss !== undefined, `recv is gone after ${sent} datagrams`);
        samples.push(rss);
        peakRss = Math.max(peakRss, rss);
        assert.ok(rss < RSS_LIMIT_KIB, `recv uses ${rss} KiB after ${sent} datagrams (limit ${RSS_LIMIT_KIB})`);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    assert.equal(receiver.child.exitCode, null, 'recv exited');
    assert.deepEqual(receiver.unexpected, [], 'stderr lines that are not warnings about the input');
    await genuineMessage(receiver, 'genuine after the fuzz');
    await stop(receiver);
    record(import.meta.url, {
      fuzz: {
        seed: SEED,
        sent,
        processedByRecv: processed,
        droppedByKernel: sent - processed,
        mix,
        seconds: Number(seconds.toFixed(1)),
        datagramsPerSecond: Math.round(sent / seconds),
        messagesPrinted: receiver.messages,
        repliesFromRecv: replies,
        warnings: Object.fromEntries(receiver.warnings),
        rssKiB: { start: rssAtStart, peak: peakRss, last: samples.at(-1), limit: RSS_LIMIT_KIB },
      },
    });
  });
  test(`a flood of ${FLOOD.toLocaleString('en')} encrypted-looking messages from one address: recv keeps answering, decrypts no more than its budget, and another sender's encrypted message gets through meanwhile`, async (t) => {
    const { receiver, fuzz, prober } = await hostileSetup(t);
    const pid = receiver.child.pid ?? 0;
    const rng = new Rng(SEED ^ 0xf100d);
    const cpuAtStart = cpuMs(pid);
    const drops0 = kernelDrops(receiver.port);
    const started = Date.now();
    let sent = 0;
    let duringFlood: Promise<void> | undefined;
    while (sent < FLOOD) {
      await sendAll(fuzz, Array.from({ length: BATCH }, () => encryptedMessage(rng)), receiver.port);
      sent += BATCH;
      // Halfway, a genuine encrypted message from another address (127.0.0.2), while the flood goes on.
      if (sent === FLOOD / 2) duringFlood = genuineMessage(receiver, 'genuine during the flood', '127.0.0.2');
      assert.ok(await prober.alive(5000), `recv stopped answering after ${sent} encrypted datagrams`);
    }
    const seconds = (Date.now() - started) / 1000;
    const cpu = cpuMs(pid) - cpuAtStart;
    await duringFlood;
    const processed = sent - (kernelDrops(receiver.port) - drops0);
    // Every decryption tried fails (none is for our key) and says "dropped a message"; the rest were refused unread.
    const tried = receiver.warnings.get('dropped a message') ?? 0;
    const refused = receiver.warnings.get('ignored an encrypted') ?? 0;
    const { burst, perSecond } = DECRYPT_BUDGET.perAddress;
    assert.ok(refused > 0, 'the flood stayed within the budget: it proves nothing');
    assert.ok(tried <= burst + perSecond * Math.ceil(seconds), `${tried} decryptions tried in ${seconds} s (budget ${burst} + ${perSecond}/s)`);
    assert.deepEqual(receiver.unexpected, [], 'stderr lines that are not warnings about the input');
    await genuineMessage(receiver, 'genuine after the flood');
    await stop(receiver);
    record(import.meta.url, {
      encryptedFlood: {
        sent,
        processedByRecv: processed,
        decryptionsTried: tried,
        refusedByBudget: refused,
        seconds: Number(seconds.toFixed(1)),
        recvCpuMs: cpu,
        recvCpuUsPerDatagram: Math.round((cpu * 1000) / Math.max(1, processed)),
      },
    });
  });
});
