// test/transfer/file-server-request.loopback.test.ts
// A file request that comes without its trailing NUL: served once its fields are complete, or
// refused with a logged reason when the connection ends, never left waiting (the request timeout
// is on a fake clock here, so only these rules can end a connection).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FileServer } from '../../src/transfer/file-server.js';
import { prepareOffer } from '../../src/transfer/local-files.js';
import { requestProgress } from '../../src/transfer/request.js';
import { FakeClock } from '../helpers/fake-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmsg-fs-request-'));
const content = Buffer.from('0123456789'.repeat(500));
writeFileSync(join(dir, 'data.txt'), content);

let server: FileServer;
const warnings: string[] = [];
before(async () => {
  server = await FileServer.listen({
    port: 0,
    address: '127.0.0.1',
    charset: 'utf-8',
    fallbackCharset: 'gb18030',
    clock: new FakeClock(),
    downloadsPerRecipient: 10,
    onWarning: (m) => warnings.push(m),
  });
  server.addOffer(0x100, prepareOffer([join(dir, 'data.txt')]), ['127.0.0.1']);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `request`, ending our side after it when `end`, and collects everything until the server closes. */
function ask(request: string, end: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      if (end) socket.end(request);
      else socket.write(request);
    });
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => socket.end());
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

const GETFILEDATA = 0x60;
const GETDIRFILES = 0x62;

describe('requestProgress', () => {
  test('complete, incomplete and invalid requests without their NUL', () => {
    const bytes = (text: string) => Buffer.from(text, 'latin1');
    assert.equal(requestProgress(bytes(`1:5:bob:pc:${GETFILEDATA}:100:0:0:`)), 'complete');
    assert.equal(requestProgress(bytes(`1:5:bob:pc:${GETDIRFILES}:100:0:`)), 'complete');
    assert.equal(requestProgress(bytes(`1:5:bob:pc:${GETFILEDATA}:100:0:`)), 'incomplete');
    assert.equal(requestProgress(bytes(`1:5:bob:pc:${GETFILEDATA}:100:0:1`)), 'incomplete');
    assert.equal(requestProgress(bytes(`1:5:bob:pc:${GETFILEDATA | 0x400000}:abcdef:`)), 'incomplete');
    assert.equal(requestProgress(bytes('1:5:bo')), 'incomplete');
    assert.equal(requestProgress(bytes('1:5:bob:pc:32:hello')), 'invalid');
    assert.equal(requestProgress(bytes('GET / HTTP/1.0\r\n')), 'incomplete');
    assert.equal(requestProgress(bytes('GET:/')), 'invalid');
  });
});

describe('FileServer: a request without its NUL', () => {
  test('is served as soon as its fields are complete, the connection still open', { timeout: 20_000 }, async () => {
    assert.ok((await ask(`1:20:bob:pc:${GETFILEDATA}:100:0:0:`, false)).equals(content));
    assert.ok((await ask(`1:21:bob:pc:${GETFILEDATA}:100:0:10:`, false)).equals(content.subarray(16)));
  });

  test('ended by the client (iptux-style, no trailing colon) is served', { timeout: 20_000 }, async () => {
    assert.ok((await ask(`1:22:bob:pc:${GETFILEDATA}:100:0:0`, true)).equals(content));
  });

  test('that is no request is refused at once with a logged reason', { timeout: 20_000 }, async () => {
    assert.equal((await ask('1:23:bob:pc:32:hello:', false)).length, 0);
    assert.ok(warnings.some((w) => /refused a file request from 127\.0\.0\.1: not a file request/.test(w)), warnings.join('\n'));
    assert.equal((await ask('1:24:bob', true)).length, 0);
    assert.ok(warnings.some((w) => /refused a file request from 127\.0\.0\.1: the request ended without its NUL: /.test(w)), warnings.join('\n'));
  });
});
