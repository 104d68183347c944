// test/windows/files.test.ts
// Files and folders received on the Windows side (Windows' Node under Wine, saving to Wine's Z:
// drive) from a Linux sender: byte-identical, names Windows cannot hold saved under safe names
// with a notice and the offered name in the record; and get-file --resume continuing a .part.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startAcker } from '../helpers/acker.js';
import { freePort, jsonLines, local, makeSandbox, runCli, startCli } from '../helpers/cli.js';
import { listTree, makeTree } from '../helpers/tree.js';
import { runWin, startWin, startWineNode, winPath, wineSkip } from '../helpers/wine.js';

const sandbox = makeSandbox();
// The Windows side pins this peer's key in its prefix, which outlives this file: a name of its own.
sandbox.env['IPMSG_HOST'] = `linux-files-${process.pid}`;
const root = mkdtempSync(join(tmpdir(), 'ipmsg-windows-files-'));
after(() => {
  sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** A Windows recv --save into `dst` (a Linux folder, given to Windows as Z:\…). */
async function startWinRecv(dst: string, extra: readonly string[] = []) {
  const port = await freePort();
  const recv = startWin(['recv', ...local(port), '-v', '--json', '--save', winPath(dst), '--timeout', '60s', ...extra]);
  await recv.waitFor('listening on UDP port', 30_000);
  return { port, recv };
}

describe('Linux send --file → Windows recv --save', { skip: wineSkip }, () => {
  test('a file and a nested folder arrive byte-identical, with their mtimes, and no .part is left', async () => {
    const src = join(root, 'plain-src');
    const dst = join(root, 'plain-dst');
    mkdirSync(dst, { recursive: true });
    makeTree(join(src, 'tree'), 200_000);
    writeFileSync(join(src, 'big.bin'), randomBytes(2_000_000));
    const { port, recv } = await startWinRecv(dst);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'take these', '--file', join(src, 'big.bin'), '--file', join(src, 'tree'), '--json'], sandbox.env);
    assert.equal(send.code, 0, send.stderr);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    assert.equal(message?.['encrypted'], true);
    const saved = message?.['saved'] as Record<string, unknown>[];
    assert.deepEqual(saved.map((s) => [s['name'], s['status'], s['path'], s['offeredName']]), [
      ['big.bin', 'saved', winPath(join(dst, 'big.bin')), undefined],
      ['tree', 'saved', winPath(join(dst, 'tree')), undefined],
    ]);
    assert.ok(readFileSync(join(dst, 'big.bin')).equals(readFileSync(join(src, 'big.bin'))));
    assert.deepEqual(listTree(join(dst, 'tree')), listTree(join(src, 'tree')));
    assert.deepEqual(readdirSync(dst).sort(), ['big.bin', 'tree']);
  });

  test('names Windows cannot hold are saved under safe names, with a notice and the offered name', async () => {
    const src = join(root, 'bad-src');
    const dst = join(root, 'bad-dst');
    mkdirSync(join(src, 'folder', 'sub'), { recursive: true });
    mkdirSync(dst, { recursive: true });
    // Offered name → the name Windows saves it under.
    const files: Record<string, string> = { 'CON.txt': 'CON_.txt', aux: 'aux_', 'a<b>.txt': 'a_b_.txt', 'trailing. ': 'trailing', 'x?y': 'x_y' };
    for (const name of Object.keys(files)) writeFileSync(join(src, name), `content of ${name}`);
    writeFileSync(join(src, 'folder', 'NUL'), 'nul');
    // (Not ':': the protocol cannot carry it in a name, so our sender does not offer it.)
    writeFileSync(join(src, 'folder', 'sub', 'pipe|quote".txt'), 'pipe');
    writeFileSync(join(src, 'folder', 'sub', 'fine.txt'), 'fine');
    const { port, recv } = await startWinRecv(dst);
    const offers = [...Object.keys(files), 'folder'].flatMap((name) => ['--file', join(src, name)]);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, ...offers], sandbox.env);
    assert.equal(send.code, 0, send.stderr);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);

    assert.deepEqual(readdirSync(dst).sort(), [...Object.values(files), 'folder'].sort());
    for (const [offered, local] of Object.entries(files)) {
      assert.equal(readFileSync(join(dst, local), 'utf8'), `content of ${offered}`, local);
      assert.match(done.stderr, new RegExp(`saved .${escapeRegExp(offered)}. as .${escapeRegExp(local)}. \\(not a valid Windows file name\\)`));
    }
    assert.deepEqual(readdirSync(join(dst, 'folder')).sort(), ['NUL_', 'sub']);
    assert.match(done.stderr, /saved "folder\/NUL" as "folder\/NUL_" \(not a valid Windows file name\)/);
    assert.deepEqual(readdirSync(join(dst, 'folder', 'sub')).sort(), ['fine.txt', 'pipe_quote_.txt']);
    assert.equal(readFileSync(join(dst, 'folder', 'sub', 'pipe_quote_.txt'), 'utf8'), 'pipe');

    const [message] = jsonLines(done.stdout);
    const saved = message?.['saved'] as Record<string, unknown>[];
    assert.deepEqual(
      saved.map((s) => [s['offeredName'], s['name'], s['status']]),
      [...Object.entries(files).map(([offered, local]) => [offered, local, 'saved']), [undefined, 'folder', 'saved']],
    );
  });
});

describe('Windows send --file → Linux recv --save', { skip: wineSkip }, () => {
  test('a file and a folder served from the Windows side arrive byte-identical', async () => {
    const src = join(root, 'win-src');
    const dst = join(root, 'win-dst');
    mkdirSync(dst, { recursive: true });
    makeTree(join(src, 'tree'), 200_000);
    writeFileSync(join(src, 'big.bin'), randomBytes(2_000_000));
    const port = await freePort();
    const recv = startCli(['recv', ...local(port), '-v', '--json', '--save', dst, '--timeout', '60s'], sandbox.env);
    await recv.waitFor('listening on UDP port');
    const send = await runWin(['send', ...local(await freePort()), `127.0.0.1:${port}`, '--file', winPath(join(src, 'big.bin')), '--file', winPath(join(src, 'tree')), '--json']);
    assert.equal(send.code, 0, send.stderr);
    assert.deepEqual(jsonLines(send.stdout).filter((e) => e['event'] === 'fetched').map((e) => e['file']).sort(), ['big.bin', 'tree']);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    assert.ok(readFileSync(join(dst, 'big.bin')).equals(readFileSync(join(src, 'big.bin'))));
    assert.deepEqual(listTree(join(dst, 'tree')), listTree(join(src, 'tree')));
  });
});

describe('Windows file semantics under Wine', { skip: wineSkip }, () => {
  test('recv --on-conflict overwrite onto a file another program holds open fails saying so; the file and the download are kept', async () => {
    const src = join(root, 'held-src');
    const dst = join(root, 'held-dst');
    mkdirSync(src, { recursive: true });
    mkdirSync(dst, { recursive: true });
    writeFileSync(join(src, 'report.txt'), 'new');
    writeFileSync(join(dst, 'report.txt'), 'old');
    // Opened without sharing (UV_FS_O_EXLOCK: share mode 0), as an editor may: Windows refuses to replace it.
    const held = winPath(join(dst, 'report.txt')).replaceAll('\\', '/');
    const holder = startWineNode(['-e', `const fs = require('fs'); fs.openSync('${held}', fs.constants.O_RDONLY | fs.constants.UV_FS_O_EXLOCK); console.log('held'); setInterval(() => {}, 1000);`]);
    try {
      await holder.waitFor('held', 30_000);
      const { port, recv } = await startWinRecv(dst, ['--on-conflict', 'overwrite']);
      const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, '--file', join(src, 'report.txt')], sandbox.env);
      const done = await recv.done;
      assert.equal(done.code, 73, done.stderr);
      assert.match(done.stderr, /still refused after 6 tries: another program may have the file open\) \(the download is kept as .*report\.txt\.part\)/);
      assert.equal(readFileSync(join(dst, 'report.txt'), 'utf8'), 'old');
      assert.equal(readFileSync(join(dst, 'report.txt.part'), 'utf8'), 'new');
      assert.equal(send.code, 0, send.stderr);
    } finally {
      holder.child.kill('SIGINT');
      await holder.done;
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\<>]/g, '\\$&');
}

/** A TCP server that sends the first `count` bytes of `content` and then nothing, holding the connection. */
async function stallAfter(content: Buffer, count: number): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.write(content.subarray(0, count)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

describe('Windows get-file --resume', { skip: wineSkip }, () => {
  test('a transfer that stalls leaves a .part (75); --resume against the Linux sender completes it byte-identical', async () => {
    const dst = join(root, 'resume-dst');
    const src = join(root, 'resume-src');
    mkdirSync(dst, { recursive: true });
    mkdirSync(src, { recursive: true });
    const content = randomBytes(3_000_000);
    writeFileSync(join(src, 'data.bin'), content);
    const output = winPath(join(dst, 'data.bin'));

    // First attempt: 1 MB arrives, then the connection goes quiet.
    const stalling = await stallAfter(content, 1_000_000);
    const first = await runWin(
      ['get-file', '--no-crypto', ...local(stalling.port), `127.0.0.1:${stalling.port}`, '99', '0', '-o', output, '--size', String(content.length), '--stall-timeout', '1s'],
    );
    stalling.server.close();
    assert.equal(first.code, 75, first.stderr);
    assert.match(first.stderr, /the transfer stalled/);
    assert.match(first.stderr, /the \.part stays: run the same command with --resume to continue/);
    assert.deepEqual(readdirSync(dst), ['data.bin.part']);
    assert.ok(readFileSync(join(dst, 'data.bin.part')).equals(content.subarray(0, 1_000_000)));

    // Second attempt, from a real Linux sender, which honours the offset.
    const acker = await startAcker();
    const serverPort = await freePort();
    const send = startCli(['send', ...local(serverPort), `127.0.0.1:${acker.port}`, '--file', join(src, 'data.bin'), '--serve-timeout', '60s'], sandbox.env);
    await send.waitFor('offered 1 item');
    const packetNo = acker.offers[0];
    assert.ok(packetNo);
    const second = await runWin(['get-file', ...local(await freePort()), `127.0.0.1:${serverPort}`, String(packetNo), '0', '-o', output, '--resume', '--size', String(content.length), '--json']);
    acker.close();
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /ignored the resume offset/);
    assert.equal((await send.done).code, 0);
    assert.deepEqual(readdirSync(dst), ['data.bin']);
    assert.ok(readFileSync(join(dst, 'data.bin')).equals(content));
    assert.equal(existsSync(join(dst, 'data.bin.part')), false);
  });

  test('Ctrl-C (SIGINT to the Wine process) during a transfer ends get-file with 130 and keeps the .part', async () => {
    const dst = join(root, 'interrupt-dst');
    mkdirSync(dst, { recursive: true });
    const content = randomBytes(500_000);
    const stalling = await stallAfter(content, 200_000);
    const get = startWin(['get-file', '--no-crypto', '-v', ...local(stalling.port), `127.0.0.1:${stalling.port}`, '99', '0', '-o', winPath(join(dst, 'x.bin')), '--size', String(content.length)]);
    const part = join(dst, 'x.bin.part');
    while (get.child.exitCode === null && (!existsSync(part) || readFileSync(part).length < 200_000)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    get.child.kill('SIGINT');
    const done = await get.done;
    stalling.server.close();
    assert.equal(done.code, 130, done.stderr);
    assert.match(done.stderr, /interrupted/);
    assert.deepEqual(readdirSync(dst), ['x.bin.part']);
    assert.ok(readFileSync(part).equals(content.subarray(0, 200_000)));
  });
});
