// test/state/packet-counter.test.ts
// Packet numbers that never go back: in memory, through a locked state file, across instances and
// across processes drawing at the same time.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FilePacketCounter, MemoryPacketCounter } from '../../src/state/packet-counter.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = 1_704_067_200_000; // a round second
const T0_SECONDS = T0 / 1000;

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ipmsg-counter-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** An XDG-like state path that does not exist yet: <tmp>/<case>/.local/state/ipmsg/packet-no. */
function statePath(name: string): string {
  return join(root, name, '.local', 'state', 'ipmsg', 'packet-no');
}

function assertStrictlyIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) {
    assert.ok((values[i] ?? 0) > (values[i - 1] ?? 0), `value ${i} (${values[i]}) is not above ${values[i - 1]}`);
  }
}

describe('MemoryPacketCounter', () => {
  it('starts at the current second and adds one per packet within that second', () => {
    const clock = new FakeClock(T0 + 400);
    const counter = new MemoryPacketCounter(clock);
    assert.deepEqual([counter.next(), counter.next(), counter.next()], [T0_SECONDS, T0_SECONDS + 1, T0_SECONDS + 2]);
  });

  it('jumps to the clock when the clock is ahead, and never goes back when it is behind', () => {
    const clock = new FakeClock(T0);
    const counter = new MemoryPacketCounter(clock);
    assert.equal(counter.next(), T0_SECONDS);
    clock.advance(60_000);
    assert.equal(counter.next(), T0_SECONDS + 60);
    const behind = new MemoryPacketCounter(new FakeClock(T0), T0_SECONDS + 500);
    assert.equal(behind.next(), T0_SECONDS + 501, 'continues from `last` when the clock is behind');
  });
});

describe('FilePacketCounter', () => {
  it('creates the state directory and file, and keeps the end of its block of 64 numbers there', () => {
    const path = statePath('create');
    const warnings: string[] = [];
    const counter = new FilePacketCounter(path, new FakeClock(T0), (m) => warnings.push(m));
    assert.equal(counter.next(), T0_SECONDS);
    assert.equal(readFileSync(path, 'utf8').trim(), String(T0_SECONDS + 63));
    assert.equal(existsSync(`${path}.lock`), false, 'the lock is released');
    assert.deepEqual(warnings, []);
  });

  it('draws the rest of its block without rewriting the file while nobody else draws, then takes a new block', () => {
    const path = statePath('block');
    const counter = new FilePacketCounter(path, new FakeClock(T0), () => assert.fail('no warning expected'));
    assert.equal(counter.next(), T0_SECONDS);
    const written = readFileSync(path, 'utf8');
    const values = Array.from({ length: 63 }, () => counter.next());
    assert.deepEqual(values, Array.from({ length: 63 }, (_, i) => T0_SECONDS + 1 + i));
    assert.equal(readFileSync(path, 'utf8'), written, 'the file was not rewritten within the block');
    assert.equal(counter.next(), T0_SECONDS + 64, 'the next block follows');
    assert.equal(readFileSync(path, 'utf8').trim(), String(T0_SECONDS + 127));
  });

  it('leaves its block as soon as another run has drawn, and stays above that run', () => {
    const path = statePath('interleaved');
    const clock = new FakeClock(T0);
    const warn = (m: string): never => assert.fail(`unexpected warning: ${m}`);
    const a = new FilePacketCounter(path, clock, warn);
    assert.equal(a.next(), T0_SECONDS);
    const b = new FilePacketCounter(path, clock, warn);
    const fromB = b.next();
    assert.ok(fromB > T0_SECONDS + 63, 'the other run starts above the block');
    assert.ok(a.next() > fromB, 'the first run does not go on in its old block');
  });

  it('leaves its block when the clock passes it', () => {
    const path = statePath('clock');
    const clock = new FakeClock(T0);
    const counter = new FilePacketCounter(path, clock, () => assert.fail('no warning expected'));
    assert.equal(counter.next(), T0_SECONDS);
    clock.advance(100_000);
    assert.equal(counter.next(), T0_SECONDS + 100);
    assert.equal(readFileSync(path, 'utf8').trim(), String(T0_SECONDS + 163));
  });

  it('keeps increasing across two instances on one file created in the same second', () => {
    const path = statePath('two');
    const clock = new FakeClock(T0 + 250);
    const warn = (m: string): never => assert.fail(`unexpected warning: ${m}`);
    const a = new FilePacketCounter(path, clock, warn);
    const b = new FilePacketCounter(path, clock, warn);
    const values = [a.next(), b.next(), a.next(), a.next(), b.next(), b.next(), a.next()];
    assertStrictlyIncreasing(values);
    assert.equal(values[0], T0_SECONDS);
    assert.equal(new Set(values).size, values.length);
    // A third run later in the same second, as a new CLI invocation would be.
    const c = new FilePacketCounter(path, clock, warn);
    assert.ok(c.next() > (values.at(-1) ?? 0));
  });

  it('rewrites the file in place at a fixed width, whatever it held before', () => {
    const path = statePath('in-place');
    mkdirSync(join(path, '..'), { recursive: true });
    // As earlier versions wrote it (no padding), then something longer than our width.
    for (const before of [`${T0_SECONDS}\n`, `${T0_SECONDS} and a long tail that is not ours\n`]) {
      writeFileSync(path, before);
      const inode = statSync(path).ino;
      const counter = new FilePacketCounter(path, new FakeClock(T0), () => assert.fail('no warning expected'));
      assert.equal(counter.next(), T0_SECONDS + 1);
      const after = readFileSync(path, 'utf8');
      assert.equal(after, `${String(T0_SECONDS + 64).padStart(String(Number.MAX_SAFE_INTEGER).length, ' ')}\n`);
      assert.equal(statSync(path).ino, inode, 'the same file, not a new one renamed over it');
    }
  });

  it('continues above a stored number that is ahead of the clock', () => {
    const path = statePath('ahead');
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `${T0_SECONDS + 1000}\n`);
    const counter = new FilePacketCounter(path, new FakeClock(T0), () => assert.fail('no warning expected'));
    assert.equal(counter.next(), T0_SECONDS + 1001);
  });

  it('takes over a stale lock file (older than 2 s)', () => {
    const path = statePath('stale');
    mkdirSync(join(path, '..'), { recursive: true });
    const lock = `${path}.lock`;
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const warnings: string[] = [];
    const counter = new FilePacketCounter(path, new FakeClock(T0), (m) => warnings.push(m));
    assert.equal(counter.next(), T0_SECONDS);
    // Taken over: the counter held the lock and released it. (Had it given up waiting on a live lock,
    // the foreign lock file would still be there.)
    assert.equal(existsSync(lock), false);
    assert.equal(readFileSync(path, 'utf8').trim(), String(T0_SECONDS + 63));
    assert.deepEqual(warnings, []);
  });

  it('does not remove a fresh lock held by someone else (goes on without it after waiting)', () => {
    const path = statePath('fresh');
    mkdirSync(join(path, '..'), { recursive: true });
    const lock = `${path}.lock`;
    writeFileSync(lock, '');
    // A short wait keeps the test quick (the default is 5 s).
    const counter = new FilePacketCounter(path, new FakeClock(T0), () => assert.fail('no warning expected'), 200);
    assert.equal(counter.next(), T0_SECONDS);
    assert.equal(existsSync(lock), true, 'the other holder’s lock is left alone');
  });

  it('falls back to memory with one warning when the path cannot be written, still increasing', () => {
    const blocker = join(root, 'blocker');
    writeFileSync(blocker, 'a regular file where a directory should be');
    const path = join(blocker, 'ipmsg', 'packet-no');
    const warnings: string[] = [];
    const clock = new FakeClock(T0);
    const counter = new FilePacketCounter(path, clock, (m) => warnings.push(m));
    const values = [counter.next(), counter.next(), counter.next()];
    clock.advance(1000);
    values.push(counter.next(), counter.next());
    assertStrictlyIncreasing(values);
    assert.equal(values[0], T0_SECONDS);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.ok(warnings[0]?.includes(path), warnings[0]);
  });

  it('falls back without going back below the numbers it already drew from the file', () => {
    const dir = join(root, 'vanishing');
    const path = join(dir, 'packet-no');
    const warnings: string[] = [];
    const clock = new FakeClock(T0);
    const counter = new FilePacketCounter(path, clock, (m) => warnings.push(m));
    const first = [counter.next(), counter.next(), counter.next()];
    // The directory becomes a file: every later file access fails.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, '');
    const later = [counter.next(), counter.next()];
    assertStrictlyIncreasing([...first, ...later]);
    assert.equal(warnings.length, 1);
  });

  it('hands out distinct, per-process increasing numbers to three processes drawing at once', async () => {
    const path = statePath('concurrent');
    const dist = new URL('../../../dist/', import.meta.url);
    assert.ok(existsSync(fileURLToPath(new URL('state/packet-counter.js', dist))), 'run `npm run build` first');
    const script = join(root, 'draw.mjs');
    writeFileSync(
      script,
      [
        `import { FilePacketCounter } from ${JSON.stringify(new URL('state/packet-counter.js', dist).href)};`,
        `import { systemClock } from ${JSON.stringify(new URL('transport/clock.js', dist).href)};`,
        'const [path, count, startAt] = process.argv.slice(2);',
        'const warnings = [];',
        'const counter = new FilePacketCounter(path, systemClock, (m) => warnings.push(m));',
        'while (Date.now() < Number(startAt)) {} // start together',
        'const out = [];',
        'for (let i = 0; i < Number(count); i++) out.push(counter.next());',
        'process.stdout.write(JSON.stringify({ out, warnings }));',
      ].join('\n'),
    );
    const startAt = Date.now() + 500;
    const run = (): Promise<{ out: number[]; warnings: string[] }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [script, path, '300', String(startAt)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          if (code !== 0) return reject(new Error(`child exited ${code}: ${stderr}`));
          resolve(JSON.parse(stdout) as { out: number[]; warnings: string[] });
        });
      });
    const results = await Promise.all([run(), run(), run()]);
    const all = results.flatMap((r) => r.out);
    assert.equal(all.length, 900);
    for (const r of results) {
      assert.deepEqual(r.warnings, []);
      assertStrictlyIncreasing(r.out);
    }
    assert.equal(new Set(all).size, 900, 'no number was handed out twice');
    const stored = Number(readFileSync(path, 'utf8'));
    assert.ok(stored >= Math.max(...all) && stored < Math.max(...all) + 64, 'the file holds the end of the highest block');
    assert.equal(existsSync(`${path}.lock`), false);
  });
});
