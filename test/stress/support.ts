// test/stress/support.ts
// What the reliability battery shares: when to skip (never in CI), where figures are recorded for
// the README, the CLI run inside a namespace of a test LAN, and a process's resident memory.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after } from 'node:test';
import { binPath, type Running, makeSandbox, watchChild } from '../helpers/cli.js';
import type { Lan } from '../helpers/netns.js';

export const inCi = process.env['CI'] === 'true' || process.env['CI'] === '1';

/**
 * The `skip` option for a battery that needs something this machine lacks: the reason, so that the
 * test is reported as skipped with it. In CI nothing may be skipped silently: the reason is thrown,
 * and the file fails.
 */
export function skipUnless(reason: string | undefined): string | false {
  if (reason === undefined) return false;
  if (inCi) throw new Error(`the reliability battery cannot run in CI: ${reason} (scripts/install-test-deps.sh installs what it needs)`);
  return reason;
}

/**
 * Records figures of this run (merged into .test-build/stress-summary.json by
 * `npm run test:stress`) and prints them as a diagnostic line.
 */
export function record(file: string, figures: Record<string, unknown>): void {
  const dir = process.env['IPMSG_STRESS_SUMMARY_DIR'] ?? join(tmpdir(), 'ipmsg-stress-summary');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${basename(file).replace(/\.[jt]s$/, '')}.json`);
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // first figures of this file
  }
  writeFileSync(path, JSON.stringify({ ...current, ...figures }, null, 2));
  console.log(`# figures ${JSON.stringify(figures)}`);
}

/** The JSON lines of a run's output, without the end record every --json run closes with. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['event'] !== 'end');
}

/** The CLI started inside a node of the LAN (stopped by `lan.destroy()` if still running). */
export function startIn(lan: Lan, node: number, args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Running {
  return watchChild(lan.spawn(node, process.execPath, [binPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }), input);
}

/** VmRSS of a running process in KiB (from /proc/PID/status), or undefined once it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Runs `work` over `items` with at most `limit` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every path below `dir` (sorted), folders marked with '/', files with the SHA-256 of their content. */
export function treeDigest(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort().map((rel) => {
    const path = join(dir, rel);
    return statSync(path).isDirectory() ? `${rel}/` : `${rel} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  });
}

/**
 * A new scratch folder on a tmpfs (/dev/shm) when there is one: the battery creates and deletes
 * many files, and a disk's journal would decide how long that takes.
 */
export function scratchFolder(prefix: string): string {
  let base = tmpdir();
  try {
    if (statSync('/dev/shm').isDirectory()) base = '/dev/shm';
  } catch {
    // no tmpfs: the usual temporary folder
  }
  return mkdtempSync(join(base, prefix));
}

/** A CLI sandbox (its own HOME and XDG folders) and a scratch folder, both removed after the file's tests. */
export function stressWorkspace(prefix: string): { sandbox: ReturnType<typeof makeSandbox>; root: string } {
  const sandbox = makeSandbox();
  const root = scratchFolder(prefix);
  after(() => {
    sandbox.cleanup();
    rmSync(root, { recursive: true, force: true });
  });
  return { sandbox, root };
}
