// test/e2e/save-edges.test.ts
// The edges of saving, through the real binary on 127.0.0.1: a local write that fails (a file size
// limit here, a full disk alike) is exit 74 with one line naming the file and the cause; get-file's
// names and old `.part` files; an offer whose time cannot be read.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSocket } from 'node:dgram';
import { binPath, freePort, jsonLines, makeSandbox, startCli, watchChild } from '../helpers/cli.js';

const sandbox = makeSandbox();
const env = sandbox.env;
const root = mkdtempSync(join(tmpdir(), 'ipmsg-save-edges-'));
after(() => {
  sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** A file server that answers any request with `content`. */
async function serveBytes(content: Buffer): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(content));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** Runs the binary under `ulimit -f` (1 KiB or 512-byte blocks, by shell): a write past it fails with EFBIG. */
function runLimited(blocks: number, args: readonly string[]) {
  const child = spawn('sh', ['-c', `ulimit -f ${blocks} && exec "$0" "$@"`, process.execPath, binPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  return watchChild(child).done;
}

describe('a local write that fails', () => {
  test('get-file exits 74 with one line naming the file and the cause; nothing under the final name', async () => {
    const dst = join(root, 'efbig');
    mkdirSync(dst, { recursive: true });
    const content = randomBytes(2_000_000);
    const { server, port } = await serveBytes(content);
    const args = ['get-file', '--no-crypto', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, '1234', '0', '-o', join(dst, 'big.bin'), '--size', String(content.length)];
    const done = await runLimited(100, args);
    server.close();
    assert.equal(done.code, 74, done.stderr);
    const lines = done.stderr.trim().split('\n');
    assert.equal(lines.length, 1, done.stderr);
    assert.match(lines[0] ?? '', /^ipmsg: Cannot write .*big\.bin\.part: EFBIG/);
    assert.deepEqual(readdirSync(dst), ['big.bin.part']);
  });
});

describe('an offer whose time cannot be read', () => {
  test('a time of more than 13 hex digits keeps the file, with a notice; exit 0', async () => {
    const port = await freePort();
    const recv = startCli(['recv', '-v', '--no-crypto', '--bind', '127.0.0.1', '--port', String(port), '--json', '--timeout', '10s'], env);
    await recv.waitFor('listening on UDP port');
    const socket = createSocket('udp4');
    // SENDMSG | FILEATTACHOPT; the attachment list follows the text after a NUL (§5.1).
    const packet = Buffer.from(`1:4242:peer:peerhost:${0x20 | 0x200000}:files\x000:x.txt:10:10000000000000:1:\x07\x00`, 'latin1');
    await new Promise<void>((resolve, reject) => socket.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    const done = await recv.done;
    socket.close();
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    const attachments = message?.['attachments'] as Record<string, unknown>[];
    assert.deepEqual(attachments.map((a) => [a['name'], a['size'], a['mtime']]), [['x.txt', 16, 0]]);
    assert.match(done.stderr, /x\.txt from 127\.0\.0\.1: its time "10000000000000" cannot be read/);
  });
});
