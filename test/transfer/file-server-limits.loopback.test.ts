// test/transfer/file-server-limits.loopback.test.ts
// The bounds of the file server on 127.0.0.1, on a fake clock: the request timeout, the send-side
// stall timeout (a peer that takes no bytes is cut, one that keeps taking them is not), and the caps
// on transfers per recipient and in total (requests over a cap are refused, other recipients served).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type FileServerOptions, DEFAULT_REQUEST_TIMEOUT, FileServer } from '../../src/transfer/file-server.js';
import { prepareOffer } from '../../src/transfer/local-files.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmsg-fs-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** Larger than what the kernel buffers of a loopback connection hold, so that a peer that does not read stops the sender. */
const BIG = 32 * 1024 * 1024;
const paths = [0, 1, 2, 3].map((i) => {
  const path = join(dir, `big${i}.bin`);
  writeFileSync(path, '');
  truncateSync(path, BIG);
  return path;
});
const GETFILEDATA = 0x60;
const STALL = 30_000;

interface Harness {
  readonly server: FileServer;
  readonly clock: FakeClock;
  readonly warnings: string[];
  readonly started: string[];
  readonly done: string[];
  readonly failed: string[];
  progress: number;
}

async function start(options: Partial<FileServerOptions> = {}): Promise<Harness> {
  const clock = new FakeClock();
  const h: Omit<Harness, 'server'> & { server?: FileServer } = { clock, warnings: [], started: [], done: [], failed: [], progress: 0 };
  h.server = await FileServer.listen({
    port: 0,
    address: '127.0.0.1',
    charset: 'utf-8',
    fallbackCharset: 'gb18030',
    clock,
    stallTimeout: STALL,
    onWarning: (m) => h.warnings.push(m),
    onStart: (e) => h.started.push(`${e.address}/${e.fileId}`),
    onProgress: () => h.progress++,
    onDone: (e) => h.done.push(`${e.address}/${e.fileId}`),
    onFailed: (e) => h.failed.push(`${e.address}/${e.fileId} ${e.reason}`),
    ...options,
  });
  h.server.addOffer(100, prepareOffer(paths), ['127.0.0.1', '127.0.0.2']);
  return h as Harness;
}

/**
 * Lets the event loop run until `condition` holds. No bound of its own: on a loaded machine the
 * sockets take what they take, and the runner's test timeout ends a wait that never ends.
 */
async function until(condition: () => boolean, what: string): Promise<void> {
  while (!condition()) await flush(1);
  assert.ok(condition(), what);
}

interface Client {
  readonly socket: Socket;
  /** Bytes read so far (only when reading). */
  bytes: number;
  closed: boolean;
}

/** Connects from `from`, sends `request`; reads everything when `read`, else leaves the bytes unread. */
async function client(h: Harness, request: string | undefined, from = '127.0.0.1', read = true): Promise<Client> {
  const socket = connect({ port: h.server.port, host: '127.0.0.1', localAddress: from });
  const c: Client = { socket, bytes: 0, closed: false };
  socket.on('error', () => undefined);
  socket.on('close', () => (c.closed = true));
  if (read) socket.on('data', (d: Buffer) => (c.bytes += d.length));
  else socket.pause();
  await new Promise((resolve) => socket.once('connect', resolve));
  if (request !== undefined) socket.write(request);
  return c;
}

const ask = (fileId: number): string => `1:${fileId + 10}:bob:pc:${GETFILEDATA}:64:${fileId}:0:\0`;

describe('FileServer limits (fake clock)', () => {
  test('a connection without a request is closed at the request timeout, not before', async (t) => {
    const h = await start();
    t.after(() => h.server.close());
    const timers = h.clock.pending;
    const c = await client(h, undefined);
    await until(() => h.clock.pending > timers, 'the server accepted the connection');
    h.clock.advance(DEFAULT_REQUEST_TIMEOUT - 1);
    await flush();
    assert.equal(c.closed, false);
    h.clock.advance(1);
    await until(() => c.closed, 'the connection was closed');
    assert.ok(h.warnings.some((w) => /127\.0\.0\.1 that sent no valid request in time/.test(w)));
  });

  test('a transfer whose peer takes no bytes is closed at the stall timeout and not counted as fetched', async (t) => {
    const h = await start();
    t.after(() => h.server.close());
    const c = await client(h, ask(0), '127.0.0.1', false);
    t.after(() => c.socket.destroy());
    await until(() => h.started.length === 1, 'the transfer started');
    h.clock.advance(STALL - 1);
    await flush();
    assert.deepEqual(h.failed, []);
    h.clock.advance(1);
    await until(() => h.failed.length === 1, 'the transfer failed');
    assert.match(h.failed[0] ?? '', /^127\.0\.0\.1\/0 the recipient took no bytes for 30s$/);
    assert.deepEqual(h.done, []);
    assert.equal(h.server.isComplete(100), false);
  });

  test('a transfer whose peer keeps taking bytes is not cut, however long it takes', async (t) => {
    const h = await start();
    t.after(() => h.server.close());
    const c = await client(h, ask(1), '127.0.0.1', false);
    await until(() => h.started.length === 1, 'the transfer started');
    h.clock.advance(STALL - 1);
    // The peer reads now: the server sees it take bytes (progress comes after each write taken).
    const seen = h.progress;
    c.socket.on('data', (d: Buffer) => (c.bytes += d.length));
    c.socket.resume();
    await until(() => h.progress > seen + 1, 'the server sent more');
    h.clock.advance(1);
    await until(() => h.done.length === 1 || h.failed.length > 0, 'the transfer ended');
    assert.deepEqual(h.failed, []);
    assert.deepEqual(h.done, ['127.0.0.1/1']);
    await until(() => c.closed, 'the client saw the end');
    assert.equal(c.bytes, BIG);
  });

  test('requests over the cap per recipient, or in total, are refused; another recipient is served meanwhile', async (t) => {
    const h = await start({ maxTransfersPerRecipient: 2, maxTransfers: 3 });
    const held: Client[] = [];
    t.after(async () => {
      for (const c of held) c.socket.destroy();
      await h.server.close();
    });
    for (const fileId of [0, 1]) {
      held.push(await client(h, ask(fileId), '127.0.0.1', false));
      await until(() => h.started.length === held.length, `transfer ${fileId} started`);
    }
    const third = await client(h, ask(2), '127.0.0.1');
    await until(() => third.closed, 'the third request from 127.0.0.1 was closed');
    assert.equal(third.bytes, 0);
    assert.ok(h.warnings.some((w) => /refused a file request from 127\.0\.0\.1: 2 transfers to 127\.0\.0\.1 are running already/.test(w)), h.warnings.join('\n'));

    // Another recipient is served in full while the two are held.
    const other = await client(h, ask(0), '127.0.0.2');
    await until(() => other.closed, 'the other recipient got its file');
    assert.equal(other.bytes, BIG);
    assert.deepEqual(h.done, ['127.0.0.2/0']);

    // Two held + one more from 127.0.0.2 make three: the total cap.
    held.push(await client(h, ask(1), '127.0.0.2', false));
    await until(() => h.started.length === 4, 'the third held transfer started');
    const fourth = await client(h, ask(2), '127.0.0.2');
    await until(() => fourth.closed, 'the request over the total cap was closed');
    assert.equal(fourth.bytes, 0);
    assert.ok(h.warnings.some((w) => /3 transfers are running already \(the most at once\)/.test(w)));

    // A refused file was not marked busy or fetched: once a slot is free it is served.
    held.shift()?.socket.destroy();
    await until(() => h.failed.length === 1, 'the dropped transfer failed');
    const again = await client(h, ask(2), '127.0.0.1');
    await until(() => again.closed, 'the retried request was served');
    assert.equal(again.bytes, BIG);
  });
});
