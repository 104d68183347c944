// test/workflows/run-command.test.ts
// runCommand with sinks the test controls: backpressure is respected, a broken sink closes the
// command's stream, the abort signal ends the command, and a command that cannot start says why.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { type OutputSink, runCommand } from '../../src/workflows/run-command.js';

/** A sink that is full after every write until the test (or the next turn) drains it. */
class SlowSink extends EventEmitter implements OutputSink {
  chunks: Buffer[] = [];
  full = false;
  writesWhileFull = 0;
  broken = false;

  constructor(private readonly mode: 'slow' | 'breaks' = 'slow') {
    super();
  }

  write(chunk: Uint8Array): boolean {
    if (this.full) this.writesWhileFull++;
    if (this.mode === 'breaks') {
      this.chunks.push(Buffer.from(chunk));
      if (!this.broken) {
        this.broken = true;
        setImmediate(() => this.emit('error', Object.assign(new Error('EPIPE'), { code: 'EPIPE' })));
      }
      return true;
    }
    this.chunks.push(Buffer.from(chunk));
    this.full = true;
    setImmediate(() => {
      this.full = false;
      this.emit('drain');
    });
    return false;
  }
}

const node = (script: string): string[] => [process.execPath, '-e', script];

describe('runCommand', () => {
  test('a sink that is always full gets nothing until it drains, and still every byte', async () => {
    const stdout = new SlowSink();
    const stderr = new SlowSink();
    const seen: number[] = [];
    const script = 'const b = Buffer.alloc(2 * 1024 * 1024); for (let i = 0; i < b.length; i++) b[i] = i % 251; process.stdout.write(b); process.stderr.write("done")';
    const { done } = runCommand(node(script), { stdout, stderr, onOutput: (chunk) => void seen.push(chunk.length) });
    const result = await done;
    assert.deepEqual(result.end, { kind: 'exited', code: 0 });
    assert.equal(stdout.writesWhileFull, 0);
    const out = Buffer.concat(stdout.chunks);
    assert.equal(out.length, 2 * 1024 * 1024);
    for (let i = 0; i < out.length; i++) if (out[i] !== i % 251) assert.fail(`byte ${i} differs`);
    assert.equal(Buffer.concat(stderr.chunks).toString(), 'done');
    assert.equal(seen.reduce((a, b) => a + b, 0), out.length + 4);
  });

  test('a sink that breaks closes that stream of the command: it dies of SIGPIPE as under a shell', async () => {
    const stdout = new SlowSink('breaks');
    const stderr = new SlowSink();
    // Writes until its stdout is closed; never ends otherwise.
    const result = await runCommand(['sh', '-c', 'while :; do echo y; done'], { stdout, stderr }).done;
    assert.equal(result.end.kind, 'signaled');
    assert.equal(result.end.kind === 'signaled' && result.end.signal, 'SIGPIPE');
  });

  test('aborting the signal sends the command SIGTERM and waits for it to end', async () => {
    const controller = new AbortController();
    const stdout = new SlowSink();
    const running = runCommand(node('process.stdout.write("up\\n"); setInterval(() => {}, 1000)'), {
      stdout,
      stderr: new SlowSink(),
      onOutput: () => controller.abort(),
      signal: controller.signal,
    });
    const result = await running.done;
    assert.deepEqual(result.end, { kind: 'signaled', signal: 'SIGTERM', number: 15 });
    assert.equal(Buffer.concat(stdout.chunks).toString(), 'up\n');
  });

  test('kill() forwards the signal it is given', async () => {
    const running = runCommand(node('process.stdout.write("up"); setInterval(() => {}, 1000)'), {
      stdout: new SlowSink(),
      stderr: new SlowSink(),
      onOutput: () => running.kill('SIGINT'),
    });
    assert.deepEqual((await running.done).end, { kind: 'signaled', signal: 'SIGINT', number: 2 });
  });

  test('not found is 127, not executable 126; nothing is thrown', async () => {
    const sinks = { stdout: new SlowSink(), stderr: new SlowSink() };
    assert.deepEqual((await runCommand(['/no/such/program-ipmsg'], sinks).done).end, {
      kind: 'not-started',
      reason: '/no/such/program-ipmsg: command not found',
      code: 127,
    });
    const notExecutable = (await runCommand(['/'], sinks).done).end;
    assert.equal(notExecutable.kind === 'not-started' && notExecutable.code, 126);
  });
});
