// test/stress/file-server.test.ts
// The TCP file server of a real `serve-dir` process on 127.0.0.1 against hostile clients —
// garbage, oversize requests, ids never offered, a non-recipient address, silent connections and
// 200 idle ones at once — while the genuine recipient still downloads; a recipient that opens 250
// requests and never reads them, which must not grow the server's memory past a bound; and a
// download whose server process is killed mid-transfer, finished with `get-file --resume`.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { linkSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startAcker } from '../helpers/acker.js';
import { freePort, runCli, startCli } from '../helpers/cli.js';
import { jsonLines, record, sleep, stressWorkspace } from './support.js';

const { sandbox, root } = stressWorkspace('ipmsg-fs-stress-');

/** The documented time after which a connection without a valid request is closed. */
const REQUEST_TIMEOUT_MS = 10_000;
const IDLE_CONNECTIONS = 200;
const GETFILEDATA = 0x60;

interface Probe {
  readonly socket: Socket;
  /** Resolves when the server closed the connection: bytes received and ms since connecting. */
  readonly closed: Promise<{ bytes: number; ms: number }>;
}

/** Connects (optionally from `localAddress`), writes `request` when given, and waits for the close. */
function probe(port: number, request?: Buffer | string, localAddress?: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let bytes = 0;
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    const closed = new Promise<{ bytes: number; ms: number }>((done) => socket.on('close', () => done({ bytes, ms: Date.now() - started })));
    socket.on('data', (d: Buffer) => (bytes += d.length));
    socket.on('error', () => undefined); // a reset is a close too
    socket.once('connect', () => {
      if (request !== undefined) socket.write(request);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

const hex = (n: number): string => n.toString(16);

describe('the file server of serve-dir against hostile clients', () => {
  test(`garbage, oversize, unknown ids, a non-recipient, silent and ${IDLE_CONNECTIONS} idle connections: served nothing, closed in time; the recipient's download succeeds`, async (t) => {
    const content = randomBytes(3_000_000);
    mkdirSync(join(root, 'shared'));
    writeFileSync(join(root, 'shared', 'offered.bin'), content);
    const acker = await startAcker();
    t.after(() => acker.close());
    const serverPort = await freePort();
    // Two downloads: one while the idle connections are open, one after they were closed.
    const send = startCli(['serve-dir', '--bind', '127.0.0.1', '--port', String(serverPort), join(root, 'shared'), '--each', '--to', `127.0.0.1:${acker.port}`, '--max-downloads', '2', '--timeout', '2m', '--json', '-v'], sandbox.env);
    t.after(() => send.child.kill('SIGKILL'));
    await send.waitFor('"status":"delivered"');
    const offer = acker.offers[0] ?? 0;
    const valid = `1:1:mallory:evil:${GETFILEDATA}:${hex(offer)}:0:0:\0`;

    // Silent and idle connections first: their 10 s run while everything else happens.
    const silent = await probe(serverPort);
    const idle = await Promise.all(Array.from({ length: IDLE_CONNECTIONS }, () => probe(serverPort)));
    const slowloris = await probe(serverPort, '1:2:slow:loris:96:');
    const drip = setInterval(() => slowloris.socket.write('x'), 500);
    t.after(() => clearInterval(drip));

    const hostile: [string, Buffer | string, string?][] = [
      ['random bytes with a NUL', Buffer.concat([randomBytes(500), Buffer.from([0])])],
      ['an HTTP request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n\0'],
      ['a request of 2,000 bytes without NUL', `1:3:mallory:evil:${GETFILEDATA}:`.padEnd(2000, 'a')],
      ['1 MiB of garbage', randomBytes(1 << 20)],
      ['a request of 100 KiB ending in NUL', `${'9'.repeat(100 * 1024)}\0`],
      ['an offer never made', `1:4:mallory:evil:${GETFILEDATA}:${hex(offer + 1)}:0:0:\0`],
      ['a file id never offered', `1:5:mallory:evil:${GETFILEDATA}:${hex(offer)}:7:0:\0`],
      ['a folder request for a file', `1:6:mallory:evil:${0x62}:${hex(offer)}:0:\0`],
      ['an offset of 2^64', `1:7:mallory:evil:${GETFILEDATA}:${hex(offer)}:0:10000000000000000:\0`],
      ['a path instead of an id', `1:8:mallory:evil:${GETFILEDATA}:${hex(offer)}:../../etc/passwd:0:\0`],
      ['a valid request from a non-recipient address', valid, '127.0.0.2'],
    ];
    for (const [name, request, from] of hostile) {
      const p = await probe(serverPort, request, from);
      const { bytes } = await p.closed;
      assert.equal(bytes, 0, `${name}: the server sent ${bytes} bytes`);
    }

    // The genuine recipient (127.0.0.1, where the offer went) still gets the file, with 200 idle
    // connections open.
    const openIdle = idle.filter((p) => !p.socket.destroyed).length;
    const download = async (name: string): Promise<void> => {
      const got = join(root, name);
      const r = await runCli(['get-file', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${serverPort}`, String(offer), '0', '-o', got, '--size', String(content.length)], sandbox.env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(readFileSync(got).equals(content), `${name} differs`);
    };
    await download('while-idle.bin');
    assert.equal(openIdle, IDLE_CONNECTIONS, 'idle connections were closed before the download');

    const closes = await Promise.all([silent.closed, slowloris.closed, ...idle.map((p) => p.closed)]);
    clearInterval(drip);
    await download('after-idle.bin');
    for (const c of closes) {
      assert.equal(c.bytes, 0);
      // The documented 10 s, with a generous margin for a loaded machine.
      assert.ok(c.ms >= REQUEST_TIMEOUT_MS - 500 && c.ms <= REQUEST_TIMEOUT_MS + 5000, `a silent connection was closed after ${c.ms} ms`);
    }
    const sent = await send.done;
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(jsonLines(sent.stdout).filter((e) => e['event'] === 'fetched').map((e) => e['by']), ['127.0.0.1', '127.0.0.1']);
    const ms = closes.map((c) => c.ms);
    record(import.meta.url, {
      fileServer: {
        hostileRequests: hostile.length,
        idleConnections: IDLE_CONNECTIONS,
        silentClosedAfterMs: closes[0]?.ms,
        slowlorisClosedAfterMs: closes[1]?.ms,
        idleClosedAfterMs: { min: Math.min(...ms), max: Math.max(...ms) },
      },
    });
  });
});

/** The peak resident memory of a process (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m?.[1], `no VmHWM for ${pid}`);
  return Number(m[1]) / 1024;
}

/** A UDP peer at `address` that acknowledges every SENDMSG (a second recipient beside startAcker's). */
async function ackerAt(address: string): Promise<{ port: number; close(): void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  socket.on('message', (msg, from) => {
    const fields = msg.toString('latin1').split(':');
    if ((Number(fields[4]) & 0xff) === 0x20) socket.send(Buffer.from(`1:1:acker2:ackhost:33:${fields[1]}\0`), from.port, from.address);
  });
  return { port: socket.address().port, close: () => socket.close() };
}

/**
 * Connects and sends `request`, then never reads: `answered` settles when the first bytes are
 * waiting (served) or the server closed the connection (refused).
 */
async function hold(port: number, request: string): Promise<{ socket: Socket; answered: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  const answered = new Promise<void>((resolve) => {
    socket.once('readable', () => resolve());
    socket.once('close', () => resolve());
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(request);
  return { socket, answered };
}

const HELD_REQUESTS = 250;
const RSS_LIMIT_MIB = 150;

describe('a recipient that opens many requests and never reads them', () => {
  test(`${HELD_REQUESTS} held requests keep serve-dir under ${RSS_LIMIT_MIB} MB peak RSS; another recipient is served meanwhile`, async (t) => {
    // One sparse 16 MiB file under many names (short ones: the offer of 251 must fit in one
    // datagram): each request has far more to send than the kernel buffers of its connection take.
    const folder = join(root, 'many');
    mkdirSync(folder);
    const first = join(folder, '0');
    writeFileSync(first, '');
    truncateSync(first, 16 * 1024 * 1024);
    for (let i = 1; i <= HELD_REQUESTS; i++) linkSync(first, join(folder, String(i)));
    const acker = await startAcker();
    t.after(() => acker.close());
    const other = await ackerAt('127.0.0.2');
    t.after(() => other.close());
    const serverPort = await freePort();
    const serve = startCli(['serve-dir', '--bind', '127.0.0.1', '--port', String(serverPort), folder, '--each', '--to', `127.0.0.1:${acker.port}`, '--to', `127.0.0.2:${other.port}`, '--timeout', '2m', '--json', '-v'], sandbox.env);
    t.after(() => serve.child.kill('SIGKILL'));
    await serve.waitFor('"address":"127.0.0.2","port"');
    await serve.waitFor('"address":"127.0.0.1","port"');
    assert.equal(jsonLines(serve.stdout()).filter((e) => e['status'] === 'delivered').length, 2, serve.stdout());
    const offer = acker.offers[0] ?? 0;

    // Each held request asks for its own file and reads nothing past the socket's own buffer.
    const held = await Promise.all(Array.from({ length: HELD_REQUESTS }, (_, i) => hold(serverPort, `1:${i + 100}:mallory:hoarder:${GETFILEDATA}:${hex(offer)}:${hex(i + 1)}:0:\0`)));
    t.after(() => {
      for (const h of held) h.socket.destroy();
    });
    await Promise.all(held.map((p) => p.answered));

    // The other recipient gets its file while the requests are held.
    const got = join(root, 'other.bin');
    const r = await runCli(['get-file', '--bind', '127.0.0.2', '--port', String(await freePort()), `127.0.0.1:${serverPort}`, String(offer), '0', '-o', got, '--size', String(16 * 1024 * 1024)], sandbox.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(got).size, 16 * 1024 * 1024);

    const peak = peakRssMiB(serve.child.pid ?? 0);
    const refused = held.filter((h) => h.socket.destroyed).length;
    assert.ok(refused < HELD_REQUESTS, 'every request was refused');
    record(import.meta.url, { heldRequests: { requests: HELD_REQUESTS, refused, serverPeakRssMiB: Math.round(peak) } });
    assert.ok(peak < RSS_LIMIT_MIB, `serve-dir peaked at ${peak.toFixed(0)} MiB with ${HELD_REQUESTS} held requests`);
  });
});

describe('a transfer cut by killing the server process', () => {
  test('get-file --resume finishes it from a new server, byte-identical', async (t) => {
    const content = randomBytes(64 * 1024 * 1024);
    const path = join(root, 'big.bin');
    writeFileSync(path, content);
    const acker = await startAcker();
    t.after(() => acker.close());
    const out = join(root, 'resumed.bin');
    const part = `${out}.part`;

    const serve = async () => {
      const port = await freePort();
      const before = acker.offers.length;
      const run = startCli(['send', '--bind', '127.0.0.1', '--port', String(port), `127.0.0.1:${acker.port}`, '--file', path, '--serve-timeout', '2m', '--json'], sandbox.env);
      t.after(() => run.child.kill('SIGKILL'));
      await run.waitFor('"status":"delivered"');
      return { port, run, offer: String(acker.offers[before]) };
    };
    const getFile = async (port: number, offer: string, extra: readonly string[]) =>
      startCli(['get-file', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, offer, '0', '-o', out, '--size', String(content.length), '--json', ...extra], sandbox.env);

    // First attempt: once a few MiB are in the .part, the client is paused (so the server is
    // mid-transfer, blocked on a full socket), and the server process is killed.
    const first = await serve();
    const get = await getFile(first.port, first.offer, []);
    const size = (): number => {
      try {
        return statSync(part).size;
      } catch {
        return 0;
      }
    };
    for (let i = 0; i < 500 && size() < 4 * 1024 * 1024; i++) await sleep(2);
    get.child.kill('SIGSTOP');
    first.run.child.kill('SIGKILL');
    await first.run.done;
    get.child.kill('SIGCONT');
    const broken = await get.done;
    assert.equal(broken.code, 75, `the cut transfer should fail with 75: ${broken.stderr}`);
    assert.match(broken.stderr, /broke off|broke \(|stalled/);
    const cutAt = size();
    assert.ok(cutAt > 0 && cutAt < content.length, `the .part holds ${cutAt} bytes`);

    // A new server (a new offer of the same file); --resume asks for what is missing.
    const second = await serve();
    const resumed = await (await getFile(second.port, second.offer, ['--resume'])).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.doesNotMatch(resumed.stderr, /ignored the resume offset/);
    assert.ok(readFileSync(out).equals(content), 'the resumed file differs');
    const served = await second.run.done;
    assert.equal(served.code, 0, served.stderr);
    const [fetched] = jsonLines(served.stdout).filter((e) => e['event'] === 'fetched');
    const resent = Number(fetched?.['bytes']);
    // Only the missing part (and the 64 KiB checked again) came the second time.
    assert.ok(resent <= content.length - cutAt + 64 * 1024, `the second server sent ${resent} bytes`);
    record(import.meta.url, { resume: { bytes: content.length, cutAt, resent } });
  });
});
