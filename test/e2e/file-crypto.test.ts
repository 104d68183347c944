// test/e2e/file-crypto.test.ts
// Encrypted file transfer between real processes of the CLI on 127.0.0.1 (§5.6): files and folders
// arrive byte-identical over an AES-256-CTR stream, --no-encrypt-body signs the request only, an
// encrypted transfer resumes, a peer without crypto still gets plain transfers, a recipient of an
// encrypted offer cannot fetch with a plain request, and the bytes on the wire are not the file.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startAcker } from '../helpers/acker.js';
import { OLD, listTree, makeTree } from '../helpers/tree.js';
import { freePort, jsonLines, local, makeSandbox, runCli, type Running, startCli } from '../helpers/cli.js';
import { UdpRelay } from '../helpers/udp-relay.js';

const alice = makeSandbox();
const bob = makeSandbox();
alice.env['IPMSG_USER'] = 'alice';
bob.env['IPMSG_USER'] = 'bob';
const root = mkdtempSync(join(tmpdir(), 'ipmsg-fenc-'));
after(() => {
  alice.cleanup();
  bob.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function startRecv(env: NodeJS.ProcessEnv, extra: readonly string[]): Promise<{ port: number; recv: Running }> {
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', '--timeout', '20s', ...extra], env);
  await recv.waitFor('listening on UDP port');
  return { port, recv };
}

type Saved = { name: string; status: string; path: string; security: string };

/** alice sends `files` to a bob (recv --save `dst` + `extra`); returns what each side printed. */
async function sendToRecv(files: string[], dst: string, extra: readonly string[] = [], recvEnv = bob.env) {
  mkdirSync(dst, { recursive: true });
  const { port, recv } = await startRecv(recvEnv, ['--save', dst, ...extra]);
  const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'files', ...files.flatMap((f) => ['--file', f]), '--json', '-v'], alice.env);
  assert.equal(send.code, 0, send.stderr);
  const done = await recv.done;
  assert.equal(done.code, 0, done.stderr);
  const fetched = jsonLines(send.stdout).filter((e) => e['event'] === 'fetched');
  const saved = jsonLines(done.stdout)[0]?.['saved'] as Saved[];
  return { fetched, saved, send, done };
}

const src = join(root, 'src');
makeTree(join(src, 'tree'), 1_500_000);
const big = randomBytes(6_000_000);
writeFileSync(join(src, 'big.bin'), big);
utimesSync(join(src, 'big.bin'), OLD, OLD);

describe('send --file → recv --save, both with keys', () => {
  test('a file and a folder arrive byte-identical with their mtimes over an encrypted stream', async () => {
    const dst = join(root, 'dst1');
    const { fetched, saved, send } = await sendToRecv([join(src, 'big.bin'), join(src, 'tree')], dst);
    // The offer itself went encrypted, and the result says so.
    const [offered] = jsonLines(send.stdout);
    assert.equal(offered?.['status'], 'delivered');
    assert.equal(offered?.['encrypted'], true);
    assert.deepEqual(fetched.map((e) => [e['file'], e['security']]), [['big.bin', 'encrypted'], ['tree', 'encrypted']]);
    assert.deepEqual(saved.map((s) => [s.name, s.status, s.security]), [['big.bin', 'saved', 'encrypted'], ['tree', 'saved', 'encrypted']]);
    assert.ok(readFileSync(join(dst, 'big.bin')).equals(big));
    assert.equal(statSync(join(dst, 'big.bin')).mtimeMs / 1000, OLD);
    assert.deepEqual(listTree(join(dst, 'tree')), listTree(join(src, 'tree')));
    assert.deepEqual(readdirSync(dst).sort(), ['big.bin', 'tree']);
  });

  const clearer: [string, string, string, 'signed' | 'plain'][] = [
    ['--no-encrypt-body: the requests are signed, the data comes in clear (NOENC_FILEBODY)', 'dst2', '--no-encrypt-body', 'signed'],
    ['a peer without crypto (recv --no-crypto) still gets plain transfers', 'dst3', '--no-crypto', 'plain'],
  ];
  for (const [title, folder, flag, security] of clearer) {
    test(title, async () => {
      const dst = join(root, folder);
      const { fetched, saved } = await sendToRecv([join(src, 'big.bin'), join(src, 'tree')], dst, [flag]);
      assert.deepEqual(fetched.map((e) => e['security']), [security, security]);
      assert.deepEqual(saved.map((s) => s.security), [security, security]);
      assert.ok(readFileSync(join(dst, 'big.bin')).equals(big));
      assert.deepEqual(listTree(join(dst, 'tree')), listTree(join(src, 'tree')));
    });
  }
});

describe('an offer sent to bob encrypted, fetched with get-file', () => {
  /** alice offers `file` to a bob that only prints the message; returns the offer's number and alice's server port. */
  async function offerToBob(file: string): Promise<{ packetNo: string; serverPort: number; send: Running }> {
    const { port, recv } = await startRecv(bob.env, []);
    const serverPort = await freePort();
    const send = startCli(['send', ...local(serverPort), `127.0.0.1:${port}`, '--file', file, '--serve-timeout', '20s', '-v', '--json'], alice.env);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    assert.equal(message?.['encrypted'], true);
    return { packetNo: String(message?.['packetNo']), serverPort, send };
  }

  test('--resume continues an encrypted transfer from its .part file', async () => {
    const dst = join(root, 'dst4');
    mkdirSync(dst, { recursive: true });
    writeFileSync(join(dst, 'big.bin.part'), big.subarray(0, 2_000_000)); // an interrupted earlier attempt
    const { packetNo, serverPort, send } = await offerToBob(join(src, 'big.bin'));
    const get = await runCli(
      ['get-file', ...local(await freePort()), `127.0.0.1:${serverPort}`, packetNo, '0', '-o', join(dst, 'big.bin'), '--resume', '--size', String(big.length), '--json'],
      bob.env,
    );
    assert.equal(get.code, 0, get.stderr);
    assert.doesNotMatch(get.stderr, /ignored the resume offset/);
    assert.equal(jsonLines(get.stdout)[0]?.['security'], 'encrypted');
    assert.ok(readFileSync(join(dst, 'big.bin')).equals(big));
    const served = await send.done;
    assert.equal(served.code, 0, served.stderr);
    const [fetched] = jsonLines(served.stdout).filter((e) => e['event'] === 'fetched');
    assert.equal(fetched?.['security'], 'encrypted');
    assert.equal(fetched?.['bytes'], big.length - 2_000_000 + 64 * 1024, 'only the rest (and the resume overlap) was sent');
  });

  test('a plain request (get-file --no-crypto) is refused: the offer went to bob encrypted', async () => {
    const { packetNo, serverPort, send } = await offerToBob(join(src, 'tree', 'a.txt'));
    const plain = await runCli(['get-file', ...local(await freePort()), `127.0.0.1:${serverPort}`, packetNo, '0', '-o', join(root, 'refused.txt'), '--size', '6', '--no-crypto', '--stall-timeout', '3s'], bob.env);
    assert.equal(plain.code, 75, plain.stderr);
    assert.match(plain.stderr, /^ipmsg: .*(closed|broke off)/m);
    assert.throws(() => statSync(join(root, 'refused.txt')), 'nothing under the final name');
    // bob with his keys may still fetch it.
    const signed = await runCli(['get-file', ...local(await freePort()), `127.0.0.1:${serverPort}`, packetNo, '0', '-o', join(root, 'signed.txt'), '--json'], bob.env);
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal(readFileSync(join(root, 'signed.txt'), 'utf8'), 'hello\n');
    const served = await send.done;
    assert.equal(served.code, 0, served.stderr);
    assert.match(served.stderr, /the offer went to 127\.0\.0\.1 encrypted: a plain request is not accepted from it/);
  });
});

describe('on the wire', () => {
  test('through a TCP relay, the stream is not the file (and without encryption it is)', async () => {
    const content = Buffer.concat([Buffer.from('PLAINTEXT-MARKER '.repeat(4096)), randomBytes(200_000)]);
    writeFileSync(join(src, 'marked.bin'), content);
    const marker = Buffer.from('PLAINTEXT-MARKER PLAINTEXT-MARKER PLAINTEXT-MARKER');
    for (const encrypted of [true, false]) {
      const acker = await startAcker();
      const serverPort = await freePort();
      const send = startCli(['send', ...local(serverPort), `127.0.0.1:${acker.port}`, '--file', join(src, 'marked.bin'), '--serve-timeout', '20s', '--json'], alice.env);
      const wire: Buffer[] = [];
      const sockets = new Set<Socket>();
      const tcp = createServer((client) => {
        const upstream = connect({ port: serverPort, host: '127.0.0.1' });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
        }
        upstream.on('data', (d) => wire.push(d));
        client.pipe(upstream);
        upstream.pipe(client);
      });
      let udp: UdpRelay | undefined;
      try {
        await send.waitFor('"status":"delivered"');
        const packetNo = String(acker.offers[0]);
        // The relay listens on one port number for UDP (entries, keys) and TCP (the transfer), as a peer does.
        await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
        const address = tcp.address();
        const relayPort = typeof address === 'object' && address ? address.port : 0;
        udp = await UdpRelay.start({ listen: { address: '127.0.0.1', port: relayPort }, target: { address: '127.0.0.1', port: serverPort }, copies: 1, delayMs: [0, 0], seed: 1 });
        const out = join(root, `marked-${encrypted}.bin`);
        const get = await runCli(['get-file', ...local(await freePort()), `127.0.0.1:${relayPort}`, packetNo, '0', '-o', out, '--json', ...(encrypted ? [] : ['--no-encrypt-body'])], bob.env);
        assert.equal(get.code, 0, get.stderr);
        assert.equal(jsonLines(get.stdout)[0]?.['security'], encrypted ? 'encrypted' : 'signed');
        assert.ok(readFileSync(out).equals(content));
        const seen = Buffer.concat(wire);
        assert.equal(seen.length, content.length);
        assert.equal(seen.includes(marker), !encrypted, encrypted ? 'no plaintext on the wire' : 'NOENC_FILEBODY sends the file in clear');
        assert.equal((await send.done).code, 0);
      } finally {
        send.child.kill();
        for (const s of sockets) s.destroy();
        tcp.close();
        await udp?.close();
        acker.close();
      }
    }
  });
});
