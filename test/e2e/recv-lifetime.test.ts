// test/e2e/recv-lifetime.test.ts
// One lifetime for recv --save on 127.0.0.1: --timeout ends a transfer in progress (the .part
// stays, exit 75), and a stalled offer does not keep another sender's offer from being saved.

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeAttachments } from '../../src/protocol/attachment.js';
import { IPMSG_FILEATTACHOPT, IPMSG_SENDCHECKOPT, IPMSG_SENDMSG } from '../../src/protocol/command.js';
import { freePort, jsonLines, makeSandbox, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const root = mkdtempSync(join(tmpdir(), 'ipmsg-lifetime-'));
after(() => {
  sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** An offerer: a TCP server on `port` doing `behaviour` with each request, and a UDP socket on the same port sending the offer. */
async function offerer(behaviour: (socket: Socket) => void): Promise<{ port: number; offer(to: number, name: string, size: number, user: string): Promise<void>; close(): void }> {
  const port = await freePort();
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => behaviour(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  let acked = false;
  udp.on('message', (m) => {
    if ((Number(m.toString('latin1').split(':')[4]) & 0xff) === 0x21) acked = true;
  });
  return {
    port,
    async offer(to, name, size, user) {
      const list = encodeAttachments([{ fileId: 0, name, size, mtime: 1_600_000_000, attr: 1 }]);
      const packet = Buffer.from(`1:${Date.now()}:${user}:${user}-pc:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_FILEATTACHOPT}:take this\0${list}\0`);
      // recv needs a moment to bind: resend until it acknowledges (its duplicate check prints it once).
      for (let i = 0; i < 100 && !acked; i++) {
        udp.send(packet, to, '127.0.0.1');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(acked, 'recv never acknowledged the offer');
    },
    close() {
      udp.close();
      server.close();
      for (const socket of open) socket.destroy();
    },
  };
}

const open = new Set<Socket>();
/** Sends one byte a second, for ever: never stalls long enough for the stall timeout. */
const drip = (socket: Socket): void => {
  open.add(socket);
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('x')), 1000);
  socket.on('close', () => clearInterval(timer));
};
/** Sends nothing at all. */
const stall = (socket: Socket): void => void open.add(socket);
const serve = (content: string) => (socket: Socket): void => void socket.end(content);

describe('recv --save: one lifetime', () => {
  test('--timeout ends a dripping transfer: exit 75, the message printed as not saved, the .part kept', async () => {
    const dir = join(root, 'drip');
    mkdirSync(dir);
    const peer = await offerer(drip);
    try {
      const recvPort = await freePort();
      const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(recvPort), '--save', dir, '--timeout', '3s', '--json'], sandbox.env);
      await peer.offer(recvPort, 'slow.bin', 1_000_000, 'dripper');
      // A kill switch far above the timeout: without the fix the run goes on until the 30 s stall timeout never fires.
      const kill = setTimeout(() => recv.child.kill('SIGKILL'), 20_000);
      const result = await recv.done.finally(() => clearTimeout(kill));
      assert.equal(result.signal, null, 'recv had to be killed: --timeout did not end the transfer');
      assert.equal(result.code, 75, result.stderr);
      const [message] = jsonLines(result.stdout);
      const [saved] = (message?.['saved'] ?? []) as Record<string, unknown>[];
      assert.equal(saved?.['status'], 'skipped');
      assert.match(String(saved?.['reason']), /run ended during the transfer \(timeout\); the \.part stays/);
      assert.deepEqual(readdirSync(dir), ['slow.bin.part']);
    } finally {
      peer.close();
    }
  });

  test('Ctrl-C during a transfer ends it the same way: exit 130, the .part kept', async () => {
    const dir = join(root, 'interrupt');
    mkdirSync(dir);
    const peer = await offerer(drip);
    try {
      const recvPort = await freePort();
      const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(recvPort), '--save', dir, '--json'], sandbox.env);
      await peer.offer(recvPort, 'slow.bin', 1_000_000, 'dripper');
      await recv.waitFor('"event":"progress"', 15_000);
      recv.child.kill('SIGINT');
      const result = await recv.done;
      assert.equal(result.code, 130, result.stderr);
      const [message] = jsonLines(result.stdout);
      assert.match(String(((message?.['saved'] ?? []) as Record<string, unknown>[])[0]?.['reason']), /run ended during the transfer \(stopped\)/);
      assert.deepEqual(readdirSync(dir), ['slow.bin.part']);
    } finally {
      peer.close();
    }
  });

  test('a stalled offer does not keep another sender’s offer from being saved', async () => {
    const dir = join(root, 'two');
    mkdirSync(dir);
    const stuck = await offerer(stall);
    const good = await offerer(serve('hello'));
    try {
      const recvPort = await freePort();
      const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(recvPort), '--save', dir, '--count', '2', '--stall-timeout', '4s', '--timeout', '20s', '--json'], sandbox.env);
      await stuck.offer(recvPort, 'stuck.bin', 10, 'staller');
      await good.offer(recvPort, 'good.txt', 5, 'goodie');
      // The good offer is saved and printed while the stalled one still waits.
      await recv.waitFor('"good.txt"', 15_000);
      const first = jsonLines(recv.stdout())[0];
      assert.equal(first?.['text'], 'take this');
      assert.equal((first?.['from'] as Record<string, unknown>)['user'], 'goodie');
      assert.equal(readFileSync(join(dir, 'good.txt'), 'utf8'), 'hello');
      const result = await recv.done;
      // The stalled one ends at its stall timeout: counted as decided, and its error is the exit status.
      assert.equal(result.code, 75, result.stderr);
      const lines = jsonLines(result.stdout);
      assert.equal(lines.length, 2);
      assert.equal((lines[1]?.['from'] as Record<string, unknown>)['user'], 'staller');
    } finally {
      stuck.close();
      good.close();
    }
  });
});

describe('recv --save: its folder', () => {
  test('a folder that does not exist is created with its parents, as curl --create-dirs does', async () => {
    const dir = join(root, 'not', 'yet', 'there');
    const peer = await offerer(serve('made'));
    try {
      const recvPort = await freePort();
      const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(recvPort), '--save', dir, '--timeout', '15s', '--json'], sandbox.env);
      await peer.offer(recvPort, 'file.txt', 4, 'maker');
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(readFileSync(join(dir, 'file.txt'), 'utf8'), 'made');
    } finally {
      peer.close();
    }
  });

  test('a folder that cannot be created is 73 at once', async () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const result = await startCli(['recv', '--bind', '127.0.0.1', '--port', String(await freePort()), '--save', join(blocker, 'sub'), '--timeout', '15s'], sandbox.env).done;
    assert.equal(result.code, 73, result.stderr);
    assert.match(result.stderr, /Cannot create the --save folder/);
  });
});
