// test/helpers/lan-recv.ts
// `ipmsg recv --json -v` on one node of a namespace LAN: ready once it listens on port 2425.

import type { Lan } from './netns.js';
import { binPath } from './cli.js';

export interface LanRecv {
  /** Resolves once recv listens; rejects when it ended before. */
  readonly ready: Promise<void>;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function startLanRecv(lan: Lan, node: number, env: NodeJS.ProcessEnv, args: readonly string[]): LanRecv {
  const child = lan.spawn(node, process.execPath, [binPath, 'recv', '--json', '-v', ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const ready = new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (stderr.includes('listening on UDP port 2425')) {
        clearInterval(check);
        resolve();
      }
    }, 20);
    void done.then(() => {
      clearInterval(check);
      reject(new Error(`recv ended early: ${stderr}`));
    });
  });
  return { ready, done };
}

/** The identity a test host runs under: `user`, host `user-pc`, nick USER, group lab. */
export function lanIdentity(user: string): string[] {
  return ['--user', user, '--host', `${user}-pc`, '--nick', user.toUpperCase(), '--group', 'lab'];
}

/** ipmsg and `recv` on the nodes of the LAN that `lan()` gives (made in a `before` hook). */
export function lanCommands(lan: () => Lan, env: NodeJS.ProcessEnv) {
  return {
    ipmsg: (node: number, args: readonly string[], timeoutMs = 30_000) => lan().run(node, process.execPath, [binPath, ...args], { env, timeoutMs }),
    startRecv: (node: number, user: string, args: readonly string[]) => startLanRecv(lan(), node, env, [...lanIdentity(user), ...args]),
  };
}
