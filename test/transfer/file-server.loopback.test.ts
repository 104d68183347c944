// test/transfer/file-server.loopback.test.ts
// The TCP file server on 127.0.0.1: it serves offered files to their recipients, from an offset,
// and nothing to anyone else (§5.4).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FileServer } from '../../src/transfer/file-server.js';
import { prepareOffer } from '../../src/transfer/local-files.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmsg-fs-'));
const content = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'.repeat(1000));
writeFileSync(join(dir, 'data.txt'), content);
writeFileSync(join(dir, 'secret.txt'), 'not offered');
mkdirSync(join(dir, 'folder'));
writeFileSync(join(dir, 'folder', 'one.txt'), content);
writeFileSync(join(dir, 'folder', 'two.txt'), 'two');

let server: FileServer;
const warnings: string[] = [];
const done: string[] = [];
/** Progress events: `offer/fileId bytes`. */
const progress: string[] = [];
before(async () => {
  server = await FileServer.listen({
    port: 0,
    address: '127.0.0.1',
    charset: 'utf-8',
    fallbackCharset: 'gb18030',
    requestTimeout: 300,
    onWarning: (m) => warnings.push(m),
    onDone: (e) => done.push(`${e.address}/${e.fileId}`),
    onProgress: (e) => progress.push(`${e.packetNo}/${e.fileId} ${e.bytes}`),
  });
  server.addOffer(100, prepareOffer([join(dir, 'data.txt')]), ['127.0.0.1']);
  server.addOffer(200, prepareOffer([join(dir, 'data.txt')]), ['127.0.0.2']);
  server.addOffer(300, prepareOffer([join(dir, 'data.txt')]), ['127.0.0.1']);
  server.addOffer(400, prepareOffer([join(dir, 'folder')]), ['127.0.0.1']);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `request` (or nothing) and collects everything until the server closes. */
function ask(request: string | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port: server.port, host: '127.0.0.1' }, () => {
      if (request !== undefined) socket.write(request);
    });
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

const GETFILEDATA = 0x60;
const GETDIRFILES = 0x62;

describe('FileServer', () => {
  test('serves an offered file to its recipient, from a hex offset or whole, once', async () => {
    assert.ok((await ask(`1:7:bob:pc:${GETFILEDATA}:64:0:${(1000).toString(16)}:\0`)).equals(content.subarray(1000)));
    assert.ok((await ask(`1:8:bob:pc:${GETFILEDATA}:12c:0:0:\0`)).equals(content));
    assert.deepEqual(done, ['127.0.0.1/0', '127.0.0.1/0']);
    assert.ok(server.isComplete(100) && server.isComplete(300));
    // Each recipient fetches each file once, as the official allows (§5.4).
    assert.equal((await ask(`1:9:bob:pc:${GETFILEDATA}:64:0:0:\0`)).length, 0);
    assert.ok(warnings.some((w) => /data\.txt was already fetched by 127\.0\.0\.1/.test(w)));
  });

  test('a folder under a MiB reports its whole size as its last progress', async () => {
    const stream = await ask(`1:10:bob:pc:${GETDIRFILES}:190:0:\0`);
    assert.ok(stream.length > content.length + 3);
    assert.equal(progress.filter((p) => p.startsWith('400/')).at(-1), `400/0 ${content.length + 3}`);
  });

  test('a request from an address that is not a recipient gets nothing', async () => {
    assert.equal((await ask(`1:9:bob:pc:${GETFILEDATA}:c8:0:0:\0`)).length, 0);
    assert.ok(warnings.some((w) => /127\.0\.0\.1 is not a recipient of offer 200/.test(w)));
  });

  test('unknown offers and files, wrong kinds and garbage get nothing', async () => {
    for (const request of [
      `1:10:bob:pc:${GETFILEDATA}:65:0:0:\0`, // no offer 0x65
      `1:11:bob:pc:${GETFILEDATA}:64:5:0:\0`, // no file 5
      `1:12:bob:pc:98:64:0:\0`, // GETDIRFILES for a regular file
      `1:13:bob:pc:32:hello\0`, // not a file request
      'GET / HTTP/1.0\r\n\r\n\0',
      `1:14:bob:pc:${GETFILEDATA}:../secret.txt:0:\0`,
    ]) {
      assert.equal((await ask(request)).length, 0, request);
    }
  });

  test('a connection that sends nothing is closed after the request timeout', async () => {
    assert.equal((await ask(undefined)).length, 0);
    assert.ok(warnings.some((w) => /sent no valid request in time/.test(w)));
  });

  test('a request longer than 1 KiB without a NUL is refused', async () => {
    assert.equal((await ask('1:15:bob:pc:96:'.padEnd(2000, 'x'))).length, 0);
  });
});
