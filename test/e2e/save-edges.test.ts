// test/e2e/save-edges.test.ts
// The edges of saving, through the real binary on 127.0.0.1: a local write that fails (a file size
// limit here, a full disk alike) is exit 74 with one line naming the file and the cause; get-file's
// names and old `.part` files.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { binPath, freePort, makeSandbox, watchChild } from '../helpers/cli.js';

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
