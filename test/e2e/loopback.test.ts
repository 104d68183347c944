// test/e2e/loopback.test.ts
// Two real processes of the CLI on 127.0.0.1, on distinct ports: send ↔ recv, info, absence, and
// the exit statuses a script sees.

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { freePort, jsonLines, local, makeSandbox, runCli, type Running, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const env = sandbox.env;
after(() => sandbox.cleanup());

async function startRecv(extra: readonly string[] = []): Promise<{ port: number; recv: Running }> {
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', ...extra], env);
  await recv.waitFor('listening on UDP port');
  return { port, recv };
}


describe('send → recv', () => {
  test('a message arrives exactly, is acknowledged, and both exit 0', async () => {
    const { port, recv } = await startRecv(['--timeout', '10s']);
    const text = 'hello 飞鸽传书\nsecond line: with colons';
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, text, '--json'], env);
    assert.equal(send.code, 0, send.stderr);
    const [result] = jsonLines(send.stdout);
    assert.equal(result?.['status'], 'delivered');
    assert.equal(result?.['port'], port);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    assert.equal(message?.['text'], text);
    assert.equal(message?.['packetNo'], result?.['packetNo']);
    assert.equal(message?.['charset'], 'utf-8');
    assert.equal(message?.['sealed'], false);
    // With keys, the user name carries the key fingerprint as the official client's does (§6.6).
    assert.match(String((message?.['from'] as Record<string, unknown>)['user']), /^tester-<[0-9a-f]{16}>$/);
    assert.equal(message?.['encrypted'], true);
  });

  test('the message can come from standard input', async () => {
    const { port, recv } = await startRecv(['--timeout', '10s']);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`], env, 'piped text\n');
    assert.equal(send.code, 0, send.stderr);
    assert.match(send.stdout, /^delivered encrypted to 127\.0\.0\.1:\d+\n$/);
    const [message] = jsonLines((await recv.done).stdout);
    assert.equal(message?.['text'], 'piped text');
  });

  test('recv --count 2 waits for two messages; packet numbers keep rising across runs', async () => {
    const { port, recv } = await startRecv(['--count', '2', '--timeout', '10s']);
    const from = await freePort();
    const first = await runCli(['send', ...local(from), `127.0.0.1:${port}`, 'one'], env);
    const second = await runCli(['send', ...local(from), `127.0.0.1:${port}`, 'two'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    const done = await recv.done;
    assert.equal(done.code, 0);
    const messages = jsonLines(done.stdout);
    assert.deepEqual(messages.map((m) => m['text']), ['one', 'two']);
    assert.ok(Number(messages[1]?.['packetNo']) > Number(messages[0]?.['packetNo']));
  });

  test('two targets each get one copy with the same packet number, flagged multicast', async () => {
    const a = await startRecv(['--timeout', '10s']);
    const b = await startRecv(['--timeout', '10s']);
    const send = await runCli(
      ['send', ...local(await freePort()), '--to', `127.0.0.1:${a.port},127.0.0.1:${b.port}`, 'to', 'both', '--json'],
      env,
    );
    assert.equal(send.code, 0, send.stderr);
    assert.equal(jsonLines(send.stdout).length, 2);
    const [ma] = jsonLines((await a.recv.done).stdout);
    const [mb] = jsonLines((await b.recv.done).stdout);
    assert.equal(ma?.['text'], 'to both');
    assert.equal(mb?.['text'], 'to both');
    assert.equal(ma?.['multicast'], true);
    assert.equal(ma?.['packetNo'], mb?.['packetNo']);
  });

  test('a sealed message with --wait-read comes back read', async () => {
    const { port, recv } = await startRecv(['--timeout', '10s']);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'secret', '--wait-read', '--read-timeout', '5s', '--json'], env);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(jsonLines(send.stdout)[0]?.['status'], 'read');
    const [message] = jsonLines((await recv.done).stdout);
    assert.equal(message?.['sealed'], true);
  });

  test('GBK text sent with --encoding gbk is decoded by the receiver', async () => {
    const { port, recv } = await startRecv(['--timeout', '10s']);
    const send = await runCli(['send', ...local(await freePort()), '--encoding', 'gbk', `127.0.0.1:${port}`, '中文消息'], env);
    assert.equal(send.code, 0, send.stderr);
    const [message] = jsonLines((await recv.done).stdout);
    assert.equal(message?.['text'], '中文消息');
    assert.equal(message?.['charset'], 'gb18030');
  });

  test('after its last message recv lingers, acknowledging a resend whose first acknowledgement was lost', async () => {
    const { port, recv } = await startRecv(['--timeout', '10s', '--linger', '2s']);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const acks: string[] = [];
    socket.on('message', (msg) => {
      const fields = msg.toString('latin1').split(':');
      if ((Number(fields[4]) & 0xff) === 0x21) acks.push(fields.slice(5).join(':').replace(/\0+$/, '')); // RECVMSG
    });
    const waitForAcks = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && acks.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    // SENDMSG | SENDCHECKOPT, then the same datagram again, as a sender does when the RECVMSG is lost.
    const message = Buffer.from(`1:4242:tester:testhost:${0x20 | 0x100}:sent twice\0`);
    socket.send(message, port, '127.0.0.1');
    await waitForAcks(1);
    await new Promise((r) => setTimeout(r, 300));
    socket.send(message, port, '127.0.0.1');
    await waitForAcks(2);
    socket.close();
    assert.deepEqual(acks, ['4242', '4242']);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(jsonLines(done.stdout).map((m) => m['text']), ['sent twice']);
  });

  test('recv --from ignores other senders, who then get no acknowledgement', async () => {
    const { port, recv } = await startRecv(['--from', 'somebody-else', '--timeout', '3s']);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'hi', '-t', '600ms', '-r', '1'], env);
    assert.equal(send.code, 75);
    const done = await recv.done;
    assert.equal(done.code, 75);
    assert.deepEqual(jsonLines(done.stdout), []);
  });
});

describe('info and absence', () => {
  let port: number;
  let recv: Running;
  before(async () => {
    ({ port, recv } = await startRecv(['--count', '0']));
  });
  after(() => {
    recv.child.kill('SIGINT');
  });

  test('info prints the version any running subcommand answers', async () => {
    const info = await runCli(['info', ...local(await freePort()), `127.0.0.1:${port}`], env);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^ipmsg CLI \(Node\.js\) Ver\d+\.\d+\.\d+\n$/);
  });

  test('absence prints the official "Not Absence mode" text, and --json has the field', async () => {
    const absence = await runCli(['absence', ...local(await freePort()), `127.0.0.1:${port}`, '--json'], env);
    assert.equal(absence.code, 0, absence.stderr);
    assert.equal(jsonLines(absence.stdout)[0]?.['absence'], 'Not Absence mode');
  });

  test('a taken port falls back to a free one and says so; --strict-port fails with 69', async () => {
    const fallback = await runCli(['info', ...local(port), `127.0.0.1:${port}`, '-t', '300ms', '-r', '0'], env);
    assert.match(fallback.stderr, new RegExp(`UDP port ${port} is in use`));
    const strict = await runCli(['info', ...local(port), '--strict-port', `127.0.0.1:${port}`], env);
    assert.equal(strict.code, 69);
    assert.match(strict.stderr, /^ipmsg: Cannot bind UDP 127\.0\.0\.1:\d+: the port is in use/);
  });
});

describe('exit statuses', () => {
  test('no answer: 75 after the retries, with one line on stderr', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const port = silent.address().port;
    let received = 0;
    // SENDMSG only: --encrypt auto first probes an unknown peer with GETPUBKEY (0x72).
    silent.on('message', (m) => (Number(m.toString('latin1').split(':')[4]) & 0xff) === 0x20 && received++);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'anyone?', '-t', '900ms', '-r', '2'], env);
    silent.close();
    assert.equal(send.code, 75);
    assert.equal(received, 3);
    assert.equal(send.stderr, `ipmsg: No acknowledgement from 127.0.0.1:${port} after 3 tries in 0.9s\n`);
  });

  test('usage errors exit 64', async () => {
    const port = String(await freePort());
    for (const args of [
      ['send', '--bind', '127.0.0.1', '--port', port],
      ['send', '--bind', '127.0.0.1', '-t', 'soon', '127.0.0.1', 'x'],
      ['send', '--no-such-option'],
      ['send', '--bind', '127.0.0.1', '127.0.0.1:99999', 'x'],
      ['bogus'],
    ]) {
      const result = await runCli(args, env, '');
      assert.equal(result.code, 64, `${args.join(' ')} → ${result.code} ${result.stderr}`);
      assert.ok(result.stderr.length > 0);
    }
  });

  test('a message too long for one datagram is refused at once (65, with advice), and nothing is sent', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    let received = 0;
    silent.on('message', () => received++);
    try {
      const long = `first line\n${'x'.repeat(9000)}`;
      const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${silent.address().port}`, long], env);
      assert.equal(send.code, 65, send.stderr);
      assert.match(send.stderr, /does not fit one datagram: shorten it, or send it as an attached message\.txt with --as-file/);
      assert.equal(received, 0);
    } finally {
      silent.close();
    }
  });

  test('--as-file sends a long message as an attached message.txt', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dst = mkdtempSync(join(tmpdir(), 'ipmsg-long-'));
    try {
      const long = `first line\n${'x'.repeat(9000)}\n終わり`;
      const { port, recv } = await startRecv(['--timeout', '10s', '--save', dst]);
      const send = await runCli(['send', ...local(await freePort()), '--as-file', `127.0.0.1:${port}`, long], env);
      assert.equal(send.code, 0, send.stderr);
      const [message] = jsonLines((await recv.done).stdout);
      assert.match(String(message?.['text']), /^first line\n\(the whole message is attached as message\.txt, 9021 bytes\)$/);
      assert.equal(readFileSync(join(dst, 'message.txt'), 'utf8'), long);
    } finally {
      rmSync(dst, { recursive: true, force: true });
    }
  });

  test('text the code page cannot hold is refused (65) unless --lossy', async () => {
    const refused = await runCli(['send', ...local(await freePort()), '--encoding', 'cp932', '127.0.0.1:9', '飞鸽传书'], env);
    assert.equal(refused.code, 65);
    assert.match(refused.stderr, /Cannot encode "飞" \(U\+98DE\) in cp932/);
    const { port, recv } = await startRecv(['--timeout', '10s', '--encoding', 'cp932']);
    const lossy = await runCli(['send', ...local(await freePort()), '--encoding', 'cp932', '--lossy', `127.0.0.1:${port}`, '日本語と飞鸽'], env);
    assert.equal(lossy.code, 0, lossy.stderr);
    const [message] = jsonLines((await recv.done).stdout);
    assert.equal(message?.['text'], '日本語と??');
    assert.equal(message?.['charset'], 'cp932');
  });

  test('recv --timeout with nothing arriving exits 75', async () => {
    const recv = await runCli(['recv', ...local(await freePort()), '--timeout', '300ms'], env);
    assert.equal(recv.code, 75);
    assert.equal(recv.stderr, 'ipmsg: received 0 of 1 messages within 0.3s\n');
  });

  test('SIGINT ends recv with 130', async () => {
    const { recv } = await startRecv();
    recv.child.kill('SIGINT');
    const done = await recv.done;
    assert.equal(done.code, 130);
  });

  test('an unknown name is 68', async () => {
    const result = await runCli(['send', ...local(await freePort()), 'nobody-by-this-name', 'x', '--wait', '300ms', '--no-dns'], env);
    assert.equal(result.code, 68);
    assert.match(result.stderr, /Unknown target "nobody-by-this-name"/);
  });
});

describe('the launcher', () => {
  test('keeps a V8 code cache per subcommand (and per file-moving send/recv, and per run without keys), a corrupt cache only costs time, and stale ones are removed', async () => {
    const box = makeSandbox();
    try {
      const { readdirSync, writeFileSync, readFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const args = ['list', '--bind', '127.0.0.1', '--port', String(await freePort()), '--wait', '10ms', '--json'];
      const first = await runCli(args, box.env);
      assert.equal(first.code, 0, first.stderr);
      const dir = join(box.dir, '.cache', 'ipmsg');
      // list also leaves the peer names it heard there (for completion): only the code caches count here.
      const caches = (): string[] => readdirSync(dir).filter((name) => name.startsWith('compile-'));
      const [file, ...others] = caches();
      assert.equal(others.length, 0);
      assert.match(file ?? '', /^compile-v\d+\.\d+\.\d+-\w+-\d+-\d+-list\.cache$/);
      writeFileSync(join(dir, file ?? ''), 'not a code cache');
      const second = await runCli(args, box.env);
      assert.equal(second.code, 0, second.stderr);
      assert.notEqual(readFileSync(join(dir, file ?? ''), 'utf8'), 'not a code cache');
      // A cache left by an older bundle or Node version goes when a new one is written; another subcommand's stays.
      const stale = (file ?? '').replace(/-\d+-\d+-list\.cache$/, '-1-2-list.cache');
      const staleOther = stale.replace('-list.cache', '-get-file.cache');
      writeFileSync(join(dir, stale), 'old');
      writeFileSync(join(dir, staleOther), 'old');
      writeFileSync(join(dir, file ?? ''), 'not a code cache');
      assert.equal((await runCli(args, box.env)).code, 0);
      assert.deepEqual(caches().sort(), [file, staleOther].sort());
      // A recv that saves files gets its own cache: it runs the transfer code a message recv never compiles.
      const recv = ['recv', '--bind', '127.0.0.1', '--port', String(await freePort()), '--timeout', '10ms'];
      await runCli(recv, box.env);
      await runCli([...recv, '--save', box.dir], box.env);
      // So does one without keys: it never compiles the crypto code an encrypting recv runs.
      await runCli([...recv, '--no-crypto'], box.env);
      const profiles = readdirSync(dir).map((name) => /-(recv(?:-files)?(?:-plain)?)\.cache$/.exec(name)?.[1]).filter((p) => p !== undefined);
      assert.deepEqual(profiles.sort(), ['recv', 'recv-files', 'recv-plain']);
      const off = await runCli(['--version'], { ...box.env, IPMSG_NO_COMPILE_CACHE: '1' });
      assert.match(off.stdout, /^\d+\.\d+\.\d+\n$/);
    } finally {
      box.cleanup();
    }
  });
});
