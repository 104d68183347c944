// test/e2e/files.test.ts
// File transfer between real processes of the CLI on 127.0.0.1: send --file ↔ recv --save,
// name conflicts, get-file --resume against our server and against one that ignores the offset.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startAcker } from '../helpers/acker.js';
import { OLD, listTree, makeTree } from '../helpers/tree.js';
import { freePort, local, makeSandbox, runCli, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const env = sandbox.env;
const root = mkdtempSync(join(tmpdir(), 'ipmsg-files-'));
after(() => {
  sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function startRecv(save: string, extra: readonly string[] = []) {
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', '--save', save, '--timeout', '20s', ...extra], env);
  await recv.waitFor('listening on UDP port');
  return { port, recv };
}

describe('send --file → recv --save', () => {
  test('a file and a nested folder arrive byte-identical with their mtimes', async () => {
    const src = join(root, 'src1');
    const dst = join(root, 'dst1');
    mkdirSync(dst, { recursive: true });
    makeTree(join(src, 'tree'), 300_000);
    writeFileSync(join(src, 'big.bin'), randomBytes(3_000_000));
    utimesSync(join(src, 'big.bin'), OLD, OLD);
    const { port, recv } = await startRecv(dst);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'take these', '--file', join(src, 'big.bin'), '--file', join(src, 'tree'), '--json'], env);
    assert.equal(send.code, 0, send.stderr);
    const events = jsonLines(send.stdout);
    assert.equal(events[0]?.['status'], 'delivered');
    assert.deepEqual(events.filter((e) => e['event'] === 'fetched').map((e) => e['file']).sort(), ['big.bin', 'tree']);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    const saved = message?.['saved'] as Record<string, unknown>[];
    assert.deepEqual(saved.map((s) => [s['name'], s['status'], s['path']]), [
      ['big.bin', 'saved', join(dst, 'big.bin')],
      ['tree', 'saved', join(dst, 'tree')],
    ]);
    assert.ok(readFileSync(join(dst, 'big.bin')).equals(readFileSync(join(src, 'big.bin'))));
    assert.equal(statSync(join(dst, 'big.bin')).mtimeMs / 1000, OLD);
    assert.deepEqual(listTree(join(dst, 'tree')), listTree(join(src, 'tree')));
    assert.deepEqual(readdirSync(dst).sort(), ['big.bin', 'tree']); // no .part left behind
  });

  test('an existing name is never overwritten: the download becomes "name (1).ext"', async () => {
    const src = join(root, 'src2');
    const dst = join(root, 'dst2');
    mkdirSync(src, { recursive: true });
    mkdirSync(dst, { recursive: true });
    writeFileSync(join(src, 'report.txt'), 'new');
    writeFileSync(join(dst, 'report.txt'), 'old');
    const { port, recv } = await startRecv(dst);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, '--file', join(src, 'report.txt')], env);
    assert.equal(send.code, 0, send.stderr);
    assert.equal((await recv.done).code, 0);
    assert.equal(readFileSync(join(dst, 'report.txt'), 'utf8'), 'old');
    assert.equal(readFileSync(join(dst, 'report (1).txt'), 'utf8'), 'new');
  });

  test('send --file exits 75 when nobody fetches before --serve-timeout', async () => {
    const src = join(root, 'src3');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'x.txt'), 'x');
    const acker = await startAcker();
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${acker.port}`, '--file', join(src, 'x.txt'), '--serve-timeout', '500ms'], env);
    acker.close();
    assert.equal(send.code, 75);
    assert.match(send.stderr, /not fetched within 0\.5s: 127\.0\.0\.1 \(x\.txt\)/);
  });
});

describe('declined offers', () => {
  test('a recipient that releases the offer (RELEASEFILES) makes send --file exit 77', async () => {
    const src = join(root, 'src7');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'unwanted.txt'), 'no thanks');
    const acker = await startAcker({ release: true });
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${acker.port}`, '--file', join(src, 'unwanted.txt'), '--serve-timeout', '10s'], env);
    acker.close();
    assert.equal(send.code, 77, send.stderr);
    assert.match(send.stderr, /the files were declined by 127\.0\.0\.1/);
  });
});

describe('get-file --resume', () => {
  test('continues a .part file from its length against our server', async () => {
    const src = join(root, 'src4');
    const dst = join(root, 'dst4');
    mkdirSync(src, { recursive: true });
    mkdirSync(dst, { recursive: true });
    const content = randomBytes(2_500_000);
    writeFileSync(join(src, 'data.bin'), content);
    writeFileSync(join(dst, 'data.bin.part'), content.subarray(0, 1_000_000)); // an interrupted earlier attempt
    const acker = await startAcker();
    const serverPort = await freePort();
    const send = startCli(['send', ...local(serverPort), `127.0.0.1:${acker.port}`, '--file', join(src, 'data.bin'), '--serve-timeout', '20s'], env);
    await send.waitFor('offered 1 item');
    const packetNo = acker.offers[0];
    assert.ok(packetNo);
    const get = await runCli(
      ['get-file', ...local(await freePort()), `127.0.0.1:${serverPort}`, String(packetNo), '0', '-o', join(dst, 'data.bin'), '--resume', '--size', String(content.length), '--json'],
      env,
    );
    assert.equal(get.code, 0, get.stderr);
    assert.doesNotMatch(get.stderr, /ignored the resume offset/);
    assert.ok(readFileSync(join(dst, 'data.bin')).equals(content));
    assert.equal((await send.done).code, 0);
    acker.close();
  });

  test('a server that ignores the offset is detected, and the file is not appended to', async () => {
    const dst = join(root, 'dst5');
    mkdirSync(dst, { recursive: true });
    const content = randomBytes(800_000);
    writeFileSync(join(dst, 'whole.bin.part'), content.subarray(0, 300_000));
    const requests: string[] = [];
    const server = createServer((socket) => {
      socket.once('data', (request) => {
        requests.push(request.toString('latin1'));
        socket.end(content); // the whole file, whatever the offset (as iptux and the official do)
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const get = await runCli(['get-file', ...local(port), `127.0.0.1:${port}`, '1234', '0', '-o', join(dst, 'whole.bin'), '--resume', '--size', String(content.length)], env);
    server.close();
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stderr, /ignored the resume offset/);
    assert.ok(readFileSync(join(dst, 'whole.bin')).equals(content));
    // The request asked for an offset (hex) before the 300,000 bytes already there.
    assert.match(requests[0] ?? '', /:4d2:0:[0-9a-f]+:\0$/);
  });
});

describe('serve-dir', () => {
  test('offers a folder and serves it until fetched; --each offers its entries', async () => {
    const src = join(root, 'src6');
    makeTree(join(src, 'shared'), 300_000);
    for (const each of [false, true]) {
      const dst = join(root, each ? 'dst6-each' : 'dst6');
      mkdirSync(dst, { recursive: true });
      const { port, recv } = await startRecv(dst);
      const serve = await runCli(
        ['serve-dir', ...local(await freePort()), join(src, 'shared'), 'the shared folder', '--to', `127.0.0.1:${port}`, '--timeout', '15s', ...(each ? ['--each'] : []), '--json'],
        env,
      );
      assert.equal(serve.code, 0, serve.stderr);
      const done = await recv.done;
      assert.equal(done.code, 0, done.stderr);
      const [message] = jsonLines(done.stdout);
      assert.equal(message?.['text'], 'the shared folder');
      if (each) {
        assert.deepEqual(readdirSync(dst).sort(), ['a.txt', 'empty-folder', 'empty.txt', 'sub']);
        assert.deepEqual(listTree(join(dst, 'sub')), listTree(join(src, 'shared', 'sub')));
      } else {
        assert.deepEqual(listTree(join(dst, 'shared')), listTree(join(src, 'shared')));
      }
    }
  });

  test('--max-downloads 2 lets the recipient fetch twice, then exits 0', async () => {
    const src = join(root, 'src10');
    const dst = join(root, 'dst10');
    makeTree(join(src, 'pub'), 300_000);
    mkdirSync(dst, { recursive: true });
    const acker = await startAcker();
    const serverPort = await freePort();
    const serve = startCli(['serve-dir', ...local(serverPort), join(src, 'pub'), '--to', `127.0.0.1:${acker.port}`, '--max-downloads', '2', '--timeout', '20s', '--json'], env);
    await serve.waitFor('"status":"delivered"');
    const packetNo = String(acker.offers[0]);
    for (const name of ['first', 'second']) {
      const got = await runCli(['get-file', ...local(await freePort()), `127.0.0.1:${serverPort}`, packetNo, '0', '--dir', '-o', join(dst, name)], env);
      assert.equal(got.code, 0, `${got.stderr} / serve: ${serve.stderr()} ${serve.stdout()}`);
      assert.deepEqual(listTree(join(dst, name)), listTree(join(src, 'pub')));
    }
    const done = await serve.done;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(jsonLines(done.stdout).filter((e) => e['event'] === 'fetched').length, 2);
    acker.close();
  });

  test('a folder that does not exist is 66', async () => {
    const serve = await runCli(['serve-dir', ...local(await freePort()), join(root, 'nope'), '--to', '127.0.0.1:9'], env);
    assert.equal(serve.code, 66);
    assert.match(serve.stderr, /no such file or folder/);
  });
});

describe('get-file', () => {
  test('--dir fetches an offered folder; a second fetch by the same recipient is refused', async () => {
    const src = join(root, 'src8');
    const dst = join(root, 'dst8');
    makeTree(join(src, 'folder'), 300_000);
    mkdirSync(dst, { recursive: true });
    const acker = await startAcker();
    const serverPort = await freePort();
    const send = startCli(['send', ...local(serverPort), `127.0.0.1:${acker.port}`, '--file', join(src, 'folder'), '--serve-timeout', '20s'], env);
    await send.waitFor('offered 1 item');
    const packetNo = String(acker.offers[0]);
    const args = ['get-file', ...local(await freePort()), `127.0.0.1:${serverPort}`, packetNo, '0', '--dir', '-o', join(dst, 'got'), '--json'];
    const got = await runCli(args, env);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(jsonLines(got.stdout)[0]?.['path'], join(dst, 'got'));
    assert.deepEqual(listTree(join(dst, 'got')), listTree(join(src, 'folder')));
    assert.equal((await send.done).code, 0);
    acker.close();
  });

  test('--bind is the source address of the TCP connection too (a server that serves by address sees it)', async () => {
    const dst = join(root, 'dst-bind');
    mkdirSync(dst, { recursive: true });
    const content = randomBytes(10_000);
    const peers: (string | undefined)[] = [];
    const server = createServer((socket) => {
      peers.push(socket.remoteAddress);
      socket.once('data', () => socket.end(content));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // 127.0.0.2 is another address of the loopback interface: without --bind the kernel would pick 127.0.0.1.
    const args = ['get-file', '--bind', '127.0.0.2', '--port', String(await freePort()), `127.0.0.1:${port}`, '1234', '0', '-o', join(dst, 'bound.bin'), '--size', String(content.length)];
    const get = await runCli(args, env);
    server.close();
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual(peers, ['127.0.0.2']);
    assert.ok(readFileSync(join(dst, 'bound.bin')).equals(content));
  });

  test('Ctrl-C leaves the .part file, and exits 130', async () => {
    const dst = join(root, 'dst9');
    mkdirSync(dst, { recursive: true });
    const server = createServer((socket) => {
      socket.once('data', () => socket.write(Buffer.alloc(100_000, 7))); // then nothing more: stalled
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const get = startCli(['get-file', ...local(port), `127.0.0.1:${port}`, '77', '0', '-o', join(dst, 'stalled.bin'), '--size', '1000000', '--json'], env);
    // Wait until the 100,000 bytes are in the .part file, then interrupt.
    const part = join(dst, 'stalled.bin.part');
    for (let i = 0; i < 200; i++) {
      if ((() => {
        try {
          return statSync(part).size === 100_000;
        } catch {
          return false;
        }
      })()) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    get.child.kill('SIGINT');
    const done = await get.done;
    server.close();
    assert.equal(done.code, 130, done.stderr);
    assert.equal(statSync(join(dst, 'stalled.bin.part')).size, 100_000);
    assert.throws(() => statSync(join(dst, 'stalled.bin')));
  });
});
