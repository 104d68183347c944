// test/stress/malicious-server.test.ts
// A malicious file server against the real `get-file` and `recv --save` on 127.0.0.1: unsafe names
// in folder streams, headers over 1 KiB, more than announced, unbalanced RETPARENT, a file longer
// than announced, a never-ending stream, a stalled one. Each must end in an error exit, and nothing
// may exist outside the target folder afterwards.

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IPMSG_FILEATTACHOPT, IPMSG_SENDCHECKOPT, IPMSG_SENDMSG } from '../../src/protocol/command.js';
import { encodeAttachments } from '../../src/protocol/attachment.js';
import { freePort, runCli } from '../helpers/cli.js';
import { record, sleep, stressWorkspace, treeDigest } from './support.js';

const { sandbox, root } = stressWorkspace('ipmsg-evil-');
/** Where an absolute name would land if it were obeyed. */
const absoluteVictim = join(tmpdir(), `ipmsg-evil-absolute-${process.pid}`);
after(() => rmSync(absoluteVictim, { recursive: true, force: true }));

const REGULAR = 1;
const DIR = 2;
const RETPARENT = 3;

/** A folder-stream header written as a hostile server would, name bytes as given (no checks). */
function header(name: string | Buffer, size: number, attr: number): Buffer {
  const nameBytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : name;
  const tail = Buffer.from(`:${size.toString(16)}:${attr.toString(16)}:`);
  const length = 5 + nameBytes.length + tail.length;
  return Buffer.concat([Buffer.from(`${length.toString(16).padStart(4, '0')}:`), nameBytes, tail]);
}
const dir = (name: string | Buffer): Buffer => header(name, 0, DIR);
const up = (): Buffer => header('.', 0, RETPARENT);
const file = (name: string | Buffer, content: string): Buffer => Buffer.concat([header(name, Buffer.byteLength(content), REGULAR), Buffer.from(content)]);

/** What the server does with a connection once the request has arrived. */
type Behaviour = (socket: Socket) => void;

const sendAndClose = (bytes: Buffer): Behaviour => (socket) => socket.end(bytes);
/** Writes forever (until the client goes away). */
const endless = (chunk: Buffer, first?: Buffer): Behaviour => (socket) => {
  if (first) socket.write(first);
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk));
    if (!socket.destroyed) socket.once('drain', pump);
  };
  socket.on('error', () => undefined);
  pump();
};
/** Sends the start, then nothing, keeping the connection open. */
const stall = (start: Buffer): Behaviour => (socket) => {
  socket.on('error', () => undefined);
  socket.write(start);
};

async function listen(behaviour: Behaviour, port = 0): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (request) => {
      requests.push(request.toString('latin1'));
      behaviour(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, requests };
}

/** A case's folder: `target/` for the download, `outside/` with a file that must stay as it is. */
function makeCase(name: string): { base: string; target: string; check(): void } {
  const base = join(root, name);
  const target = join(base, 'target');
  mkdirSync(target, { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'keep.txt'), 'unchanged');
  const before = treeDigest(join(base, 'outside'));
  return {
    base,
    target,
    check() {
      assert.deepEqual(readdirSync(base).sort(), ['outside', 'target'], 'something was created beside the target folder');
      assert.deepEqual(treeDigest(join(base, 'outside')), before, 'the folder beside the target changed');
      assert.ok(!existsSync(absoluteVictim), `${absoluteVictim} was created`);
      for (const entry of readdirSync(target)) assert.match(entry, /\.part$/, `a complete-looking ${entry} was left in the target`);
    },
  };
}

interface Outcome {
  readonly code: number | null;
  readonly stderr: string;
  readonly ms: number;
}

async function getFile(behaviour: Behaviour, target: string, args: readonly string[]): Promise<Outcome> {
  const { server, port } = await listen(behaviour);
  try {
    const started = Date.now();
    const r = await runCli(['get-file', '--bind', '127.0.0.1', '--port', String(await freePort()), `127.0.0.1:${port}`, '1234', '0', '-o', join(target, 'got'), ...args], sandbox.env);
    return { code: r.code, stderr: r.stderr, ms: Date.now() - started };
  } finally {
    server.close();
  }
}

/** A UDP offer to `recv --save` from the port the hostile TCP server listens on (§5.2). */
async function recvSave(behaviour: Behaviour, target: string, attachment: { name: string; size: number; attr: number }, args: readonly string[]): Promise<Outcome> {
  const port = await freePort();
  const { server } = await listen(behaviour, port);
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  try {
    const recvPort = await freePort();
    const started = Date.now();
    const recv = runCli(['recv', '--bind', '127.0.0.1', '--port', String(recvPort), '--save', target, '--timeout', '30s', '--json', ...args], sandbox.env);
    const list = encodeAttachments([{ fileId: 0, name: attachment.name, size: attachment.size, mtime: 1_600_000_000, attr: attachment.attr }]);
    const offer = Buffer.from(`1:${Date.now()}:evil:evilhost:${IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_FILEATTACHOPT}:take this\0${list}\0`);
    // recv needs a moment to bind; resend until it has the offer (its duplicate check prints it once).
    let acked = false;
    udp.on('message', () => (acked = true));
    for (let i = 0; i < 100 && !acked; i++) {
      udp.send(offer, recvPort, '127.0.0.1');
      await sleep(100);
    }
    const r = await recv;
    return { code: r.code, stderr: r.stderr, ms: Date.now() - started };
  } finally {
    udp.close();
    server.close();
  }
}

const folderCases: { name: string; stream: Buffer; rule: RegExp }[] = [
  { name: 'a name with /', stream: Buffer.concat([dir('top'), file('../escape.txt', 'x'), up()]), rule: /path separator|'\/'/ },
  { name: 'a name with \\', stream: Buffer.concat([dir('top'), file('..\\escape.txt', 'x'), up()]), rule: /path separator/ },
  { name: "a folder named '..'", stream: Buffer.concat([dir('top'), dir('..'), file('escape.txt', 'x'), up(), up()]), rule: /name '\.\.'/ },
  { name: 'a name with NUL', stream: Buffer.concat([dir('top'), file(Buffer.from('a\0b'), 'x'), up()]), rule: /control character/ },
  { name: 'a name with a control character', stream: Buffer.concat([dir('top'), file('bell\x07.txt', 'x'), up()]), rule: /control character/ },
  { name: 'an absolute name', stream: Buffer.concat([dir('top'), file(absoluteVictim, 'x'), up()]), rule: /absolute name/ },
  { name: 'an absolute top folder', stream: Buffer.concat([dir(absoluteVictim), file('a.txt', 'x'), up()]), rule: /absolute name/ },
  // A drive letter ('C:x') cannot be written: ':' ends the name field. A Windows root can.
  { name: 'a name starting with \\', stream: Buffer.concat([dir('top'), file('\\Windows\\evil.txt', 'x'), up()]), rule: /absolute name/ },
  { name: 'a header over 1 KiB', stream: Buffer.concat([dir('top'), file('n'.repeat(1100), 'x'), up()]), rule: /exceeds the limit of 1024/ },
  { name: 'a stream longer than announced', stream: Buffer.concat([dir('top'), file('a.txt', '12345'), file('b.txt', '67890'), up()]), rule: /more than the limit of 6 bytes/ },
  { name: 'bytes after the last RETPARENT', stream: Buffer.concat([dir('top'), file('a.txt', '123'), up(), file('extra.txt', 'x')]), rule: /after the end/ },
  { name: 'an unbalanced RETPARENT first', stream: Buffer.concat([up(), dir('top'), up()]), rule: /RETPARENT at the top level/ },
  { name: 'a missing RETPARENT', stream: Buffer.concat([dir('top'), dir('sub'), file('a.txt', '123'), up()]), rule: /open folder/ },
];

describe('a malicious server against get-file --dir', () => {
  folderCases.forEach((c, i) => {
    test(`${c.name}: error exit, nothing outside the target`, async () => {
      const place = makeCase(`dir-${i}`);
      const r = await getFile(sendAndClose(c.stream), place.target, ['--dir', '--size', '6']);
      assert.ok(r.code === 76 || r.code === 75, `exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, c.rule);
      place.check();
    });
  });

  test('a never-ending folder stream (one file without end): error exit at its header', async () => {
    const place = makeCase('dir-endless');
    const r = await getFile(endless(Buffer.alloc(64 * 1024, 0x41), Buffer.concat([dir('top'), header('huge.bin', 2 ** 40, REGULAR)])), place.target, ['--dir', '--size', '1000000']);
    assert.equal(r.code, 76, r.stderr);
    assert.match(r.stderr, /more than the limit/);
    place.check();
  });
});

const figures: Record<string, unknown> = {};

describe('a never-ending stream of empty files (they cost nothing against the announced size)', () => {
  test('get-file --dir stops at 1,000,000 files and folders with 76', async () => {
    const place = makeCase('dir-endless-empty');
    let n = 0;
    const batch = (): Buffer => Buffer.concat(Array.from({ length: 1000 }, () => header(`f${n++}`, 0, REGULAR)));
    const behaviour: Behaviour = (socket) => {
      socket.on('error', () => undefined);
      socket.write(dir('top'));
      const pump = (): void => {
        while (!socket.destroyed && socket.write(batch()));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    };
    try {
      const r = await getFile(behaviour, place.target, ['--dir', '--size', '10']);
      assert.equal(r.code, 76, r.stderr);
      assert.match(r.stderr, /more than 1000000 files and folders/);
      place.check();
      figures['endlessEmptyFilesExitMs'] = r.ms;
    } finally {
      rmSync(place.target, { recursive: true, force: true });
    }
  });
});

describe('a malicious server against get-file (one file)', () => {
  test('a file longer than announced: 76, the .part stays, nothing else', async () => {
    const place = makeCase('file-longer');
    const r = await getFile(sendAndClose(Buffer.alloc(1500, 0x42)), place.target, ['--size', '1000']);
    assert.equal(r.code, 76, r.stderr);
    assert.match(r.stderr, /more than the announced 1000 bytes/);
    place.check();
  });

  test('a never-ending stream: 76 as soon as it passes the announced size', async () => {
    const place = makeCase('file-endless');
    const r = await getFile(endless(Buffer.alloc(64 * 1024, 0x43)), place.target, ['--size', '5000000']);
    assert.equal(r.code, 76, r.stderr);
    place.check();
  });

  test('a stalled stream: 75 after --stall-timeout, the .part kept for --resume', async () => {
    const place = makeCase('file-stalled');
    const r = await getFile(stall(Buffer.alloc(1000, 0x44)), place.target, ['--size', '5000', '--stall-timeout', '1s']);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /stalled: nothing arrived for 1s/);
    assert.deepEqual(readdirSync(place.target), ['got.part']);
    place.check();
    figures['getFileStallExitMs'] = r.ms;
  });
});

describe('a malicious server against recv --save', () => {
  test('a folder offer whose stream escapes with ../: error exit, nothing outside', async () => {
    const place = makeCase('recv-dir-escape');
    const stream = Buffer.concat([dir('top'), dir('..'), file('escape.txt', 'x'), up(), up()]);
    const r = await recvSave(sendAndClose(stream), place.target, { name: 'top', size: 1, attr: DIR }, []);
    assert.equal(r.code, 76, r.stderr);
    place.check();
  });

  test('a folder stream longer than the offer announced: 76', async () => {
    const place = makeCase('recv-dir-longer');
    const stream = Buffer.concat([dir('top'), file('a.bin', 'x'.repeat(100)), up()]);
    const r = await recvSave(sendAndClose(stream), place.target, { name: 'top', size: 10, attr: DIR }, []);
    assert.equal(r.code, 76, r.stderr);
    assert.match(r.stderr, /more than the limit of 10 bytes/);
    place.check();
  });

  test('a file longer than the offer announced, never ending: 76', async () => {
    const place = makeCase('recv-file-endless');
    const r = await recvSave(endless(Buffer.alloc(64 * 1024, 0x45)), place.target, { name: 'data.bin', size: 100_000, attr: REGULAR }, []);
    assert.equal(r.code, 76, r.stderr);
    place.check();
  });

  test('a stalled folder stream: 75 after --stall-timeout', async () => {
    const place = makeCase('recv-dir-stalled');
    const r = await recvSave(stall(Buffer.concat([dir('top'), header('a.bin', 1000, REGULAR), Buffer.alloc(10)])), place.target, { name: 'top', size: 1000, attr: DIR }, ['--stall-timeout', '1s']);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /stalled/);
    place.check();
    figures['recvSaveStallExitMs'] = r.ms;
    record(import.meta.url, { maliciousServer: { folderRules: folderCases.length, ...figures } });
  });
});
