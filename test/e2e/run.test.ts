// test/e2e/run.test.ts
// ipmsg run between real processes on 127.0.0.1: the command's output passes through byte for
// byte, its exit status is ipmsg's, and a real `ipmsg recv` gets the message when it ends.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { binPath, freePort, jsonLines, local, makeSandbox, ndjson, runCli, type Running, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const env = sandbox.env;
after(() => sandbox.cleanup());

async function startRecv(extra: readonly string[] = []): Promise<{ port: number; recv: Running }> {
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', '--count', '1', '--timeout', '20s', ...extra], env);
  await recv.waitFor('listening on UDP port');
  return { port, recv };
}

async function received(recv: Running): Promise<string> {
  const done = await recv.done;
  assert.equal(done.code, 0, done.stderr);
  const [message] = jsonLines(done.stdout);
  return String(message?.['text']);
}

/** A node one-liner as the command: the same on every machine the tests run on. */
function nodeCmd(script: string): string[] {
  return [process.execPath, '-e', script];
}

/** Runs the CLI and keeps its output as bytes. */
function runRaw(args: readonly string[], runEnv: NodeJS.ProcessEnv = env): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

describe('ipmsg run notifies', () => {
  test('success: ✔, the command line, exit 0 and the last --tail lines; ipmsg exits 0', async () => {
    const { port, recv } = await startRecv();
    const run = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--tail', '2', '--', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'line 1\nline 2\nline 3\nline 4\nline 5\n');
    assert.match(run.stderr, /message delivered encrypted to 127\.0\.0\.1:\d+/);
    const text = await received(recv);
    const lines = text.split('\n');
    assert.equal(lines[0], "✔ sh -c 'for i in 1 2 3 4 5; do echo line $i; done'");
    assert.match(lines[1] ?? '', /^exit 0 · \d+(\.\d)?m?s · on testhost$/);
    assert.deepEqual(lines.slice(2), ['', '…', 'line 4', 'line 5']);
  });

  test("failure: exits with the command's status 3; the message has ✖ and exit 3; --json records end with exit 3", async () => {
    const { port, recv } = await startRecv();
    const run = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--json', '--', 'sh', '-c', 'echo x; echo y >&2; exit 3'], env);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stderr, 'y\n');
    const [firstLine, ...jsonText] = run.stdout.split('\n');
    assert.equal(firstLine, 'x');
    const records = ndjson(jsonText.join('\n'));
    assert.deepEqual(records[0], { event: 'command', command: ['sh', '-c', 'echo x; echo y >&2; exit 3'], exit: 3, signal: null, durationMs: records[0]?.['durationMs'] });
    assert.equal(records[1]?.['status'], 'delivered');
    assert.equal(records[1]?.['port'], port);
    assert.deepEqual(records.at(-1), { event: 'end', ok: false, exit: 3, error: 'the command ended: exit 3' });
    const text = await received(recv);
    assert.match(text, /^✖ sh -c 'echo x; echo y >&2; exit 3'\nexit 3 · /);
    // Both streams, in the order they came.
    assert.ok(text.endsWith('\n\nx\ny'), text);
  });

  test('--on failure sends nothing for a success; IPMSG_TO names the target', async () => {
    const { port, recv } = await startRecv();
    const toEnv = { ...env, IPMSG_TO: `127.0.0.1:${port}` };
    const quiet = await runCli(['run', ...local(await freePort()), '--on', 'failure', '--json', '--', 'true'], toEnv);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.deepEqual(jsonLines(quiet.stdout).map((r) => r['event']), ['command']);
    // recv takes one message: the first it gets must be this failure's, not the success's.
    const loud = await runCli(['run', ...local(await freePort()), '--on', 'failure', '--', 'false'], toEnv);
    assert.equal(loud.code, 1, loud.stderr);
    assert.match(await received(recv), /^✖ false\nexit 1 · /);
  });

  test("--to takes the config file's aliases", async () => {
    const { port, recv } = await startRecv();
    const config = join(sandbox.dir, 'run-aliases.json');
    writeFileSync(config, JSON.stringify({ aliases: { desk: `127.0.0.1:${port}`, ci: 'desk' } }));
    const run = await runCli(['run', ...local(await freePort()), '--to', 'ci', '--', 'true'], { ...env, IPMSG_CONFIG: config });
    assert.equal(run.code, 0, run.stderr);
    assert.match(await received(recv), /^✔ true\nexit 0 · /);
  });

  test('SIGTERM to ipmsg goes to the command; ipmsg exits 143 and the message names the signal', async () => {
    const { port, recv } = await startRecv();
    const run = startCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--', 'sh', '-c', 'echo ready; exec sleep 60'], env);
    await run.waitFor('ready');
    run.child.kill('SIGTERM');
    const done = await run.done;
    assert.equal(done.code, 143, done.stderr);
    assert.match(await received(recv), /^✖ sh -c 'echo ready; exec sleep 60'\nkilled by SIGTERM \(exit 143\) · .*\n\nready$/);
  });

  test('SIGINT goes to the command too, and its message is still sent although ipmsg was interrupted', async () => {
    const { port, recv } = await startRecv();
    const run = startCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--json', '--', 'sh', '-c', 'echo ready; exec sleep 60'], env);
    await run.waitFor('ready');
    run.child.kill('SIGINT');
    const done = await run.done;
    assert.equal(done.code, 130, done.stderr);
    assert.equal(jsonLines(done.stdout.slice('ready\n'.length))[1]?.['status'], 'delivered');
    assert.match(await received(recv), /\nkilled by SIGINT \(exit 130\) · /);
  });

  test('a command that handles SIGTERM ends as it chooses: its status is kept', async () => {
    const { port, recv } = await startRecv();
    const run = startCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--', 'sh', '-c', 'trap "echo cleaning up; exit 5" TERM; echo ready; while :; do sleep 1; done'], env);
    await run.waitFor('ready');
    run.child.kill('SIGTERM');
    const done = await run.done;
    assert.equal(done.code, 5, done.stderr);
    assert.match(await received(recv), /\nexit 5 · [^\n]*\n\nready\ncleaning up$/);
  });

  test('a command that does not exist: one line on stderr, ✖ could not start, exit 127; not executable: 126', async () => {
    const { port, recv } = await startRecv();
    const run = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--', 'no-such-command-ipmsg-test', 'arg'], env);
    assert.equal(run.code, 127, run.stderr);
    assert.match(run.stderr, /^ipmsg: no-such-command-ipmsg-test: command not found\n/);
    assert.match(await received(recv), /^✖ no-such-command-ipmsg-test arg\ncould not start: no-such-command-ipmsg-test: command not found \(exit 127\)/);
    const notExecutable = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${await freePort()}`, '--on', 'success', '--', sandbox.dir], env);
    assert.equal(notExecutable.code, 126, notExecutable.stderr);
  });
});

describe('a message nobody acknowledges', () => {
  const unheard = ['--timeout', '1s', '--retries', '1'];

  test("the command's status is kept and stderr says so; --strict makes it 75", async () => {
    const to = `127.0.0.1:${await freePort()}`;
    const ok = await runCli(['run', ...local(await freePort()), ...unheard, '--to', to, '--', 'true'], env);
    assert.equal(ok.code, 0);
    assert.match(ok.stderr, /^ipmsg: the message about true was not delivered to 127\.0\.0\.1:\d+ \(no acknowledgement after 2 tries\)$/m);
    const failed = await runCli(['run', ...local(await freePort()), ...unheard, '--to', to, '--json', '--', 'sh', '-c', 'exit 4'], env);
    assert.equal(failed.code, 4);
    const records = ndjson(failed.stdout);
    assert.equal(records[1]?.['status'], 'failed');
    assert.equal(records[1]?.['code'], 'IPMSG_ERR_NO_ACK');
    assert.equal(records.at(-1)?.['exit'], 4);
    const strict = await runCli(['run', ...local(await freePort()), ...unheard, '--to', to, '--strict', '--json', '--', 'true'], env);
    assert.equal(strict.code, 75, strict.stderr);
    assert.deepEqual(ndjson(strict.stdout).at(-1)?.['code'], 'IPMSG_ERR_NO_ACK');
  });
});

describe('a target that cannot be found', () => {
  test("the command's status is kept, --json says why; --strict makes it 68", async () => {
    const args = ['run', ...local(await freePort()), '--to', 'nobody-here-ipmsg-test', '--no-dns', '--wait', '200ms', '--json'];
    const run = await runCli([...args, '--', 'sh', '-c', 'exit 6'], env);
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /the message was not sent: Unknown target/);
    const records = ndjson(run.stdout);
    assert.deepEqual([records[1]?.['event'], records[1]?.['ok'], records[1]?.['code']], ['notification', false, 'IPMSG_ERR_UNKNOWN_TARGET']);
    assert.equal(records.at(-1)?.['exit'], 6);
    const strict = await runCli([...args, '--strict', '--', 'true'], env);
    assert.equal(strict.code, 68, strict.stderr);
  });
});

describe('--attach-log', () => {
  test('recv --save gets the whole output (both streams) as <command>-output.log', async () => {
    const dir = join(sandbox.dir, 'saved');
    mkdirSync(dir);
    const { port, recv } = await startRecv(['--save', dir]);
    const script = "for (let i = 0; i < 20000; i++) (i % 100 ? process.stdout : process.stderr).write(`row ${i}\\n`)";
    const run = await runRaw(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--attach-log', '--tail', '3', '--', ...nodeCmd(script)]);
    assert.equal(run.code, 0, run.stderr.toString());
    const text = await received(recv);
    assert.match(text, /\n…\nrow 19997\nrow 19998\nrow 19999$/);
    const saved = readFileSync(join(dir, `${process.execPath.split('/').at(-1)}-output.log`), 'utf8').split('\n');
    assert.equal(saved.length, 20001);
    assert.deepEqual(new Set(saved.slice(0, -1)), new Set(Array.from({ length: 20000 }, (_, i) => `row ${i}`)));
  });
});

describe('a long output is trimmed to one datagram', () => {
  test('with --tail 1000 of long lines, the newest lines that fit arrive, marked as cut', async () => {
    const { port, recv } = await startRecv();
    const script = "for (let i = 0; i < 1000; i++) console.log(`${i} ${'飞鸽'.repeat(30)} ${'x'.repeat(40)}`)";
    const run = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--tail', '1000', '--', ...nodeCmd(script)], env);
    assert.equal(run.code, 0, run.stderr.slice(-300));
    const text = await received(recv);
    const lines = text.split('\n');
    assert.equal(lines[3], '…');
    assert.ok(lines.length > 10, `${lines.length} lines`);
    assert.equal(lines.at(-1), `999 ${'飞鸽'.repeat(30)} ${'x'.repeat(40)}`);
    assert.ok(Buffer.byteLength(text) < 8192);
  });

  test('binary output (NUL bytes) in the tail does not stop the message', async () => {
    const { port, recv } = await startRecv();
    const run = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--', ...nodeCmd("process.stdout.write(Buffer.alloc(5000)); console.log('after\\0zeros')")], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(await received(recv), /\n\nafterzeros$/);
  });

  test('in a code page that takes more bytes than UTF-8 (GB18030: ß is four), it still fits', async () => {
    const { port, recv } = await startRecv();
    const script = "for (let i = 0; i < 500; i++) console.log(`${i} ${'ß'.repeat(100)}`)";
    const run = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--encoding', 'gb18030', '--no-crypto', '--tail', '500', '--', ...nodeCmd(script)], env);
    assert.equal(run.code, 0, run.stderr.slice(-300));
    assert.match(run.stderr, /message delivered to 127\.0\.0\.1/);
    const text = await received(recv);
    assert.equal(text.split('\n').at(-1), `499 ${'ß'.repeat(100)}`);
  });
});

describe('output passes through untouched', () => {
  test('binary output over 1 MiB on stdout and stderr arrives byte for byte', async () => {
    // Every byte value, in a pattern that is not a repetition of pipe-sized pieces.
    const script = [
      'const out = Buffer.alloc(3 * 1024 * 1024 + 7); for (let i = 0; i < out.length; i++) out[i] = (i * 31 + (i >> 9)) & 255;',
      'const err = Buffer.alloc(1024 * 1024 + 3); for (let i = 0; i < err.length; i++) err[i] = (i * 7 + (i >> 11)) & 255;',
      'process.stdout.write(out); process.stderr.write(err);',
    ].join(' ');
    const run = await runRaw(['run', ...local(await freePort()), '--to', `127.0.0.1:${await freePort()}`, '--on', 'failure', '--', ...nodeCmd(script)]);
    assert.equal(run.code, 0, run.stderr.subarray(-500).toString());
    assert.equal(run.stdout.length, 3 * 1024 * 1024 + 7);
    assert.equal(run.stderr.length, 1024 * 1024 + 3);
    for (let i = 0; i < run.stdout.length; i++) if (run.stdout[i] !== ((i * 31 + (i >> 9)) & 255)) assert.fail(`stdout differs at byte ${i}`);
    for (let i = 0; i < run.stderr.length; i++) if (run.stderr[i] !== ((i * 7 + (i >> 11)) & 255)) assert.fail(`stderr differs at byte ${i}`);
  });
});

describe('--attach-log nobody fetches', () => {
  test('after --serve-timeout: a notice, the command\'s status, and the temporary log removed', async () => {
    const tmp = join(sandbox.dir, 'tmp');
    mkdirSync(tmp);
    const { port, recv } = await startRecv();
    const run = await runCli(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--attach-log', '--serve-timeout', '300ms', '--', 'sh', '-c', 'echo partial; exit 2'], { ...env, TMPDIR: tmp });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /the log: not fetched within 0\.3s/);
    assert.match(await received(recv), /^✖ sh -c 'echo partial; exit 2'\n/);
    assert.deepEqual(readdirSync(tmp), []);
  });
});

describe('a reader that stops early (| head)', () => {
  test('the command sees the broken pipe (SIGPIPE, 141) and still notifies; --json keeps the status', async () => {
    for (const json of [false, true]) {
      const { port, recv } = await startRecv();
      const args = ['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, ...(json ? ['--json'] : []), '--', 'sh', '-c', 'while :; do echo y; done'];
      const child = spawn(process.execPath, [binPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      assert.equal(code, 141, stderr);
      assert.match(await received(recv), /^✖ sh -c 'while :; do echo y; done'\nkilled by SIGPIPE \(exit 141\) · [^\n]*\n\n(…\n)?y\n/);
    }
  });
});

describe('a reader gone before ipmsg writes its records', () => {
  test("--json: the command's status stands (3, and 0), not 141, when the command record meets the closed pipe", async () => {
    for (const exit of [3, 0]) {
      const { port, recv } = await startRecv();
      const args = ['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--json', '--', ...nodeCmd(`process.exit(${exit})`)];
      const child = spawn(process.execPath, [binPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      // The reader is gone before anything is written: the command prints nothing, ipmsg's record meets EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      assert.equal(code, exit, stderr);
      assert.match(await received(recv), exit === 0 ? /^✔ / : /^✖ /);
    }
  });
});

describe('the command line', () => {
  test("what follows the command's name is the command's, with or without --", async () => {
    const to = ['--to', `127.0.0.1:${await freePort()}`, '--on', 'failure'];
    const bare = await runCli(['run', ...local(await freePort()), ...to, 'echo', '--json', '-x'], env);
    assert.deepEqual([bare.code, bare.stdout], [0, '--json -x\n']);
    const dashed = await runCli(['run', ...local(await freePort()), ...to, '--', 'echo', '--', '--to'], env);
    assert.deepEqual([dashed.code, dashed.stdout], [0, '-- --to\n']);
  });
});

describe('usage errors run nothing', () => {
  test('a bad flag, no target, a bad target, --serve-timeout alone: exit 64 and the command never ran', async () => {
    const marker = join(sandbox.dir, 'ran');
    const touch = ['--', 'sh', '-c', `echo > '${marker}'`];
    const cases = [
      ['--to', '127.0.0.1:9', '--tail', 'many', ...touch],
      ['--to', '127.0.0.1:9', '--on', 'sometimes', ...touch],
      ['--to', '127.0.0.1:9', '--bogus', ...touch],
      touch,
      ['--to', '127.0.0.1:99999', ...touch],
      ['--to', '127.0.0.1:9', '--serve-timeout', '1s', ...touch],
      ['--to', '127.0.0.1:9'],
    ];
    for (const args of cases) {
      const run = await runCli(['run', ...local(await freePort()), ...args], env);
      assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(existsSync(marker), false, args.join(' '));
    }
  });
});
