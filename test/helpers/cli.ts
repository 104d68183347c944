// test/helpers/cli.ts
// Spawns the real bin/ipmsg.js with a private state/config folder, on loopback.

import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const binPath = join(repoRoot, 'bin', 'ipmsg.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A temporary HOME-like folder so runs never touch the user's state or config. */
export function makeSandbox(): { env: NodeJS.ProcessEnv; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ipmsg-test-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: dir,
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    IPMSG_USER: 'tester',
    IPMSG_HOST: 'testhost',
    // recv lingers 2 s after its last message for resends (--linger); the tests that need it ask.
    IPMSG_LINGER: '0',
  };
  return { env, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Options every test run gets: loopback only, so nothing is ever broadcast onto a real LAN. */
export function local(port: number): string[] {
  return ['--bind', '127.0.0.1', '--port', String(port)];
}

/** A UDP port free on 127.0.0.1 at the time of asking. */
export async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once `text` appears on stdout or stderr. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Running {
  return watchChild(spawn(process.execPath, [binPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }), input);
}

/** Collects a child's output (spawned with piped stdio, e.g. inside a namespace) as `startCli` does. */
export function watchChild(child: ChildProcess, input?: string): Running {
  const { stdin } = child;
  if (!child.stdout || !child.stderr || !stdin) throw new Error('watchChild needs a child spawned with piped stdio');
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of watchers) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of watchers) w();
  });
  stdin.on('error', () => undefined);
  if (input !== undefined) stdin.end(input);
  else stdin.end();
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(text, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (stdout.includes(text) || stderr.includes(text)) {
            watchers.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`timed out waiting for ${JSON.stringify(text)}; stdout=${stdout} stderr=${stderr}`));
        }, timeoutMs);
        watchers.add(check);
        void done.then(() => {
          if (watchers.has(check)) {
            watchers.delete(check);
            clearTimeout(timer);
            if (!(stdout.includes(text) || stderr.includes(text))) reject(new Error(`process ended before ${JSON.stringify(text)}; stderr=${stderr}`));
            else resolve();
          }
        });
        check();
      });
    },
    done,
  };
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return startCli(args, env, input).done;
}

/** Every NDJSON line of a --json run, its end record last. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The results of a --json run: its NDJSON lines without the end record. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return ndjson(text).filter((l) => l['event'] !== 'end');
}
