// src/workflows/run-command.ts
// Runs a command with its output passed through untouched (and shown to `onOutput`), and tells
// how it ended: what `ipmsg run` wraps.

import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { type Clock, systemClock } from '../transport/clock.js';
import { WINDOWS, isRunning, killTree, killTreeNow } from './kill-tree.js';
import { type CommandEnd, NOT_EXECUTABLE, NOT_FOUND } from './run-report.js';
import { type WindowsPlan, planWindowsCommand } from './windows-command.js';

/** Where the command's output goes on: our own stdout and stderr. */
export interface OutputSink {
  write(chunk: Uint8Array): boolean;
  once(event: 'drain' | 'error', listener: () => void): unknown;
  off(event: 'drain' | 'error', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface RunCommandOptions {
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
  /** Every piece of output, both streams in arrival order; the next waits for a returned promise. */
  readonly onOutput?: (chunk: Uint8Array, stream: 'stdout' | 'stderr') => void | Promise<void>;
  /** Aborting sends the command SIGTERM (on Windows: ends its process tree); the run still waits for it to end. */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * After the command exits, how long (ms) to wait for the rest of its output: a process it left
   * behind may hold the pipes open (default 1s).
   */
  readonly drainGrace?: number;
}

export interface CommandResult {
  readonly end: CommandEnd;
  readonly durationMs: number;
}

export interface RunningCommand {
  /** Sends the command a signal (forwarding ours); on Windows, any signal ends its process tree. */
  kill(signal: NodeJS.Signals): void;
  /** Ends the command (on Windows its process tree) before returning: for a process about to exit. */
  killNow(): void;
  readonly done: Promise<CommandResult>;
}

const DRAIN_GRACE = 1000;
/** A batch-file argument cmd cannot pass on as it is: the usage status. */
const UNSAFE_ARGUMENT = 64;

const isFile = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

/** A variable of `env` whatever its case (Windows' names are case-insensitive). */
function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const key = Object.keys(env).find((k) => k.toUpperCase() === name);
  return key === undefined ? undefined : env[key];
}

/** How `argv` starts on Windows (PATH, PATHEXT, batch files through cmd.exe): see windows-command.ts. */
export function windowsPlan(argv: readonly string[], options: Pick<RunCommandOptions, 'env' | 'cwd'> = {}): WindowsPlan {
  const env = options.env ?? process.env;
  return planWindowsCommand(argv, {
    cwd: options.cwd ?? process.cwd(),
    path: variable(env, 'PATH'),
    pathext: variable(env, 'PATHEXT'),
    comspec: variable(env, 'COMSPEC'),
    isFile,
  });
}

/**
 * Starts `argv` (no shell) with our stdin, its stdout and stderr copied to `options.stdout` /
 * `options.stderr` at the pace they take (a slow reader slows the command, as a pipe would). When
 * a sink breaks (EPIPE), that stream of the command is closed, so it sees the broken pipe itself.
 * Never rejects: a command that cannot be started ends as 'not-started' (126/127).
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions): RunningCommand {
  const clock = options.clock ?? systemClock;
  const [file, ...args] = argv;
  const started = clock.now();
  let child: ChildProcess | undefined;
  const onAbort = (): void => void (child && killTree(child, 'SIGTERM'));
  const done = new Promise<CommandResult>((resolve) => {
    const finish = (end: CommandEnd): void => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ end, durationMs: clock.now() - started });
    };
    if (file === undefined) return finish({ kind: 'not-started', reason: 'no command', code: NOT_FOUND });
    const plan = WINDOWS ? windowsPlan(argv, options) : { kind: 'spawn' as const, file, args, verbatim: false };
    if (plan.kind !== 'spawn') return finish({ kind: 'not-started', reason: plan.reason, code: plan.kind === 'unsafe' ? UNSAFE_ARGUMENT : plan.code });
    const running = spawn(plan.file, plan.args, {
      stdio: ['inherit', 'pipe', 'pipe'],
      ...(plan.verbatim ? { windowsVerbatimArguments: true } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    child = running;
    running.on('error', (error: NodeJS.ErrnoException) => {
      // A failed start has no pid; a kill that fails later is not an end.
      if (running.pid !== undefined) return;
      const code = error.code === 'ENOENT' ? NOT_FOUND : NOT_EXECUTABLE;
      const reason = error.code === 'ENOENT' ? `${file}: command not found` : `${file}: ${error.code === 'EACCES' ? 'permission denied' : error.message}`;
      finish({ kind: 'not-started', reason, code });
    });
    const pumps = Promise.all([
      pump(running.stdout, options.stdout, (chunk) => options.onOutput?.(chunk, 'stdout')),
      pump(running.stderr, options.stderr, (chunk) => options.onOutput?.(chunk, 'stderr')),
    ]);
    running.once('exit', (code, signal) => {
      const end: CommandEnd = signal
        ? { kind: 'signaled', signal, number: constants.signals[signal] ?? 0 }
        : { kind: 'exited', code: code ?? 0 };
      const ended = clock.now();
      let timer: { cancel(): void } | undefined;
      const grace = new Promise<void>((resolveGrace) => {
        timer = clock.after(options.drainGrace ?? DRAIN_GRACE, () => {
          running.stdout?.destroy();
          running.stderr?.destroy();
          resolveGrace();
        });
      });
      void Promise.race([pumps, grace]).then(() => {
        timer?.cancel();
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ end, durationMs: ended - started });
      });
    });
  });
  if (options.signal?.aborted) queueMicrotask(onAbort);
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    kill(signal) {
      if (child && isRunning(child)) killTree(child, signal);
    },
    killNow() {
      if (child) killTreeNow(child);
    },
    done,
  };
}

/** Copies `from` to `to` with backpressure; once `to` is broken, closes `from` and stops writing. */
async function pump(from: Readable | null, to: OutputSink, onOutput: (chunk: Uint8Array) => void | Promise<void>): Promise<void> {
  if (!from) return;
  let broken = false;
  const onError = (): void => {
    broken = true;
  };
  // Kept after the copy ends: a sink that breaks later must not throw an unhandled error.
  to.on('error', onError);
  try {
    for await (const chunk of from as AsyncIterable<Uint8Array>) {
      await onOutput(chunk);
      if (broken) break;
      if (!to.write(chunk)) await drained(to);
      if (broken) break;
    }
  } catch {
    // The stream was destroyed after the command ended (a leftover process held it open).
  } finally {
    if (broken) from.destroy();
  }
}

function drained(to: OutputSink): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      to.off('drain', done);
      to.off('error', done);
      resolve();
    };
    to.once('drain', done);
    to.once('error', done);
  });
}
