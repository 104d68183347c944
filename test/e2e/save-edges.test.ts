// test/e2e/save-edges.test.ts
// The edges of saving, through the real binary on 127.0.0.1: a local write that fails (a file size
// limit here, a full disk alike) is exit 74 with one line naming the file and the cause; get-file's
// names and old `.part` files; offers whose time or name cannot be used; what a folder offer skips;
// a conflict that ends the run is said once.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSocket } from 'node:dgram';
import { startAcker } from '../helpers/acker.js';
import { binPath, freePort, jsonLines, makeSandbox, runCli, startCli, watchChild } from '../helpers/cli.js';

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

/** Runs the binary in `cwd`. */
function runIn(cwd: string, args: readonly string[]) {
  return watchChild(spawn(process.execPath, [binPath, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })).done;
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

/** Starts `recv` (with `extra`) and sends it one raw offer listing `attachments` (§5.1). */
async function offerRaw(attachments: string, extra: readonly string[] = []) {
  const port = await freePort();
  const recv = startCli(['recv', '-v', '--no-crypto', '--bind', '127.0.0.1', '--port', String(port), '--json', '--timeout', '10s', ...extra], env);
  await recv.waitFor('listening on UDP port');
  const socket = createSocket('udp4');
  // SENDMSG | FILEATTACHOPT; the attachment list follows the text after a NUL.
  const packet = Buffer.from(`1:4242:peer:peerhost:${0x20 | 0x200000}:files\x00${attachments}\x00`, 'latin1');
  await new Promise<void>((resolve, reject) => socket.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  const done = await recv.done;
  socket.close();
  return done;
}

describe('an offer whose time cannot be read', () => {
  test('a time of more than 13 hex digits keeps the file, with a notice; exit 0', async () => {
    const done = await offerRaw('0:x.txt:10:10000000000000:1:\x07');
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    const attachments = message?.['attachments'] as Record<string, unknown>[];
    assert.deepEqual(attachments.map((a) => [a['name'], a['size'], a['mtime']]), [['x.txt', 16, 0]]);
    assert.match(done.stderr, /x\.txt from 127\.0\.0\.1: its time "10000000000000" cannot be read/);
  });
});

describe('names that cannot be used', () => {
  test('recv --save: an offered name that cannot be used is a protocol error (76, as a bad folder stream), said once', async () => {
    const dst = join(root, 'unsafe');
    mkdirSync(dst, { recursive: true });
    const done = await offerRaw('0:..:1:0:1:\x07', ['--save', dst]);
    assert.equal(done.code, 76, done.stderr);
    const lines = done.stderr.split('\n').filter((l) => l.includes('cannot be used'));
    assert.equal(lines.length, 1, done.stderr);
    assert.match(lines[0] ?? '', /^ipmsg: \.\. from 127\.0\.0\.1: Invalid offer: the name "\.\." cannot be used here/);
  });
});

describe('send --file of a folder with links', () => {
  test('each link skipped inside is named in a notice; a link given is offered under its own name', async () => {
    const src = join(root, 'links');
    mkdirSync(join(src, 'folder'), { recursive: true });
    writeFileSync(join(src, 'target.txt'), 'target');
    symlinkSync(join(src, 'target.txt'), join(src, 'folder', 'inside-link'));
    symlinkSync(join(src, 'target.txt'), join(src, 'given-link.txt'));
    const acker = await startAcker();
    const args = ['send', '--no-crypto', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${acker.port}`, '--file', join(src, 'folder'), '--file', join(src, 'given-link.txt'), '--serve-timeout', '200ms'];
    const send = await runCli(args, env);
    acker.close();
    assert.equal(send.code, 75, send.stderr); // nobody fetched
    assert.match(send.stderr, /ipmsg: not offering .*folder\/inside-link: a symbolic link/);
    assert.match(send.stderr, /not fetched within 0\.2s: 127\.0\.0\.1 \(folder, given-link\.txt\)/);
  });
});

describe('recv --save --on-conflict fail', () => {
  test('the conflict is said once, and the download is kept as .part', async () => {
    const src = join(root, 'conflict-src');
    const dst = join(root, 'conflict-dst');
    mkdirSync(src, { recursive: true });
    mkdirSync(dst, { recursive: true });
    writeFileSync(join(src, 'same.txt'), 'new');
    writeFileSync(join(dst, 'same.txt'), 'old');
    const port = await freePort();
    const recv = startCli(['recv', '-v', '--no-crypto', '--bind', '127.0.0.1', '--port', String(port), '--save', dst, '--on-conflict', 'fail', '--timeout', '10s'], env);
    await recv.waitFor('listening on UDP port');
    const send = await runCli(['send', '--no-crypto', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, '--file', join(src, 'same.txt'), '--serve-timeout', '10s'], env);
    const done = await recv.done;
    assert.equal(send.code, 0, send.stderr);
    assert.equal(done.code, 73, done.stderr);
    assert.equal(done.stderr.split('\n').filter((l) => l.includes('exists')).length, 1, done.stderr);
    assert.equal(readFileSync(join(dst, 'same.txt'), 'utf8'), 'old');
    assert.equal(readFileSync(join(dst, 'same.txt.part'), 'utf8'), 'new');
  });
});

describe('get-file names', () => {
  test('without -o: saved in the current folder under --name, or as <packetNo>-<fileId> without it', async () => {
    const dst = join(root, 'curl-o');
    mkdirSync(dst, { recursive: true });
    const content = randomBytes(5000);
    const { server, port } = await serveBytes(content);
    const common = ['--no-crypto', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, '99', '3', '--size', String(content.length)];
    const named = await runIn(dst, ['get-file', ...common, '--name', 'report.pdf']);
    const unnamed = await runIn(dst, ['get-file', ...common]);
    server.close();
    assert.equal(named.code, 0, named.stderr);
    assert.equal(unnamed.code, 0, unnamed.stderr);
    assert.deepEqual(readdirSync(dst).sort(), ['99-3', 'report.pdf']);
    assert.ok(readFileSync(join(dst, 'report.pdf')).equals(content));
  });

  test('an old .part without --resume stops with 73 and says to resume; nothing new is written', async () => {
    const dst = join(root, 'old-part');
    mkdirSync(dst, { recursive: true });
    writeFileSync(join(dst, 'big.bin.part'), 'half');
    const { server, port } = await serveBytes(randomBytes(5000));
    const args = ['get-file', '--no-crypto', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, '99', '3', '-o', join(dst, 'big.bin'), '--size', '5000'];
    const done = await runIn(dst, args);
    server.close();
    assert.equal(done.code, 73, done.stderr);
    assert.match(done.stderr, /big\.bin\.part exists from an earlier attempt: continue it with --resume/);
    assert.deepEqual(readdirSync(dst), ['big.bin.part']);
  });

  test('a resumed transfer reports where it started, so that its speed counts only the bytes moved now', async () => {
    const dst = join(root, 'resume-speed');
    mkdirSync(dst, { recursive: true });
    const content = randomBytes(300_000);
    writeFileSync(join(dst, 'r.bin.part'), content.subarray(0, 200_000));
    // Honours no offset: sends the file from the start (the resume check sees it and rewrites).
    const { server, port } = await serveBytes(content);
    const args = ['get-file', '--no-crypto', '--json', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, '99', '3', '-o', join(dst, 'r.bin'), '--size', '300000', '--resume'];
    const done = await runIn(dst, args);
    server.close();
    assert.equal(done.code, 0, done.stderr);
    const events = jsonLines(done.stderr.split('\n').filter((l) => l.startsWith('{')).join('\n'));
    assert.equal(events.find((e) => e['event'] === 'done')?.['resumedAt'], 200_000);
    assert.ok(readFileSync(join(dst, 'r.bin')).equals(content));
  });
});

describe('recv --save next to a dangling link of the offered name', () => {
  test('saves under the next name and ends, never spinning', { timeout: 30_000 }, async () => {
    const src = join(root, 'dangling-src');
    const dst = join(root, 'dangling-dst');
    mkdirSync(src, { recursive: true });
    mkdirSync(dst, { recursive: true });
    writeFileSync(join(src, 'x.txt'), 'new');
    symlinkSync(join(dst, 'nowhere'), join(dst, 'x.txt'));
    const port = await freePort();
    const recv = startCli(['recv', '-v', '--no-crypto', '--bind', '127.0.0.1', '--port', String(port), '--save', dst, '--timeout', '10s'], env);
    await recv.waitFor('listening on UDP port');
    const send = await runCli(['send', '--no-crypto', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, '--file', join(src, 'x.txt'), '--serve-timeout', '10s'], env);
    const done = await recv.done;
    assert.equal(send.code, 0, send.stderr);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(readFileSync(join(dst, 'x (1).txt'), 'utf8'), 'new');
  });
});
