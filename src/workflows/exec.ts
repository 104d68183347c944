// src/workflows/exec.ts
// A message handler that is a command: run through the shell (`sh -c` on POSIX, `cmd /d /s /c`
// on Windows) like a git hook or `entr` command, with the message only on stdin (its JSON record)
// and in IPMSG_* variables, never in the command line: nothing a peer sends can become a command.

import { type ChildProcess, spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { ReceivedMessage } from '../messenger/index.js';
import { IPMSG_AUTORETOPT, IPMSG_BROADCASTOPT, IPMSG_MULTICASTOPT, IPMSG_SECRETOPT, hasOpt } from '../protocol/command.js';
import type { Clock } from '../transport/clock.js';
import { WINDOWS, killTree, killTreeNow } from './kill-tree.js';

/** After SIGTERM, a handler that has not ended is sent SIGKILL after this long. */
export const KILL_GRACE = 2000;
/** At most this much of a handler's stdout is kept (the rest is read and discarded). */
export const CAPTURE_LIMIT = 64 * 1024;

/** Where a handler's output goes (our stderr). */
export interface TextSink {
  write(text: string): unknown;
}

/** How one run of a handler ended. */
export interface HandlerExit {
  /** The exit status, or null when a signal ended it. */
  readonly exit: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  /** It ran past its timeout and was killed. */
  readonly timedOut: boolean;
  /** It was killed because the run stopped. */
  readonly stopped: boolean;
  /** Its stdout when captured (up to CAPTURE_LIMIT bytes, as UTF-8). */
  readonly stdout?: string;
  /** It could not be started (the shell missing): the reason. */
  readonly error?: string;
}

export interface RunHandlerOptions {
  /** Given on stdin, then stdin is closed. */
  readonly input: string;
  /** Added to the inherited environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Kill it after this long (ms); undefined: no limit. */
  readonly timeout?: number;
  /** Kill it when this aborts. */
  readonly signal: AbortSignal;
  /** Keep its stdout (bounded) instead of passing it to `output`. */
  readonly capture: boolean;
  /** Where its stderr (and its stdout when not captured) go. */
  readonly output: TextSink;
  readonly clock: Clock;
  /** The environment it inherits (default process.env). */
  readonly baseEnv?: NodeJS.ProcessEnv;
}

/**
 * The longest IPMSG_* value, in UTF-8 bytes. Linux refuses to start a program with a variable of
 * 128 KiB or more (E2BIG); a datagram's text can decode to three times its size (every invalid byte
 * becomes U+FFFD). Any valid text fits; the whole text is always on stdin.
 */
export const ENV_VALUE_LIMIT = 64 * 1024;

const flag = (on: boolean): string => (on ? '1' : '0');

/** An environment value cannot hold NUL (spawn throws), nor reach the kernel's limit: cut at a character. */
export function envValue(value: string): string {
  const text = value.replaceAll('\0', '');
  if (Buffer.byteLength(text) <= ENV_VALUE_LIMIT) return text;
  let end = ENV_VALUE_LIMIT;
  const bytes = Buffer.from(text);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The IPMSG_* variables a handler gets for `message` (docs/commands.md lists them). */
export function handlerEnv(message: ReceivedMessage): Record<string, string> {
  const p = message.packet;
  const env: Record<string, string> = {
    IPMSG_PACKET_NO: String(p.packetNo),
    IPMSG_TIME: new Date(message.receivedAt).toISOString(),
    IPMSG_FROM_USER: p.user,
    IPMSG_FROM_HOST: p.host,
    IPMSG_FROM_NICK: message.peer?.nick ?? '',
    IPMSG_FROM_GROUP: message.peer?.group ?? '',
    IPMSG_FROM_ADDRESS: message.from.address,
    IPMSG_FROM_PORT: String(message.from.port),
    IPMSG_TEXT: p.text,
    IPMSG_ENCRYPTED: flag(message.encrypted),
    IPMSG_SIGNATURE: message.signature,
    IPMSG_SEALED: flag(hasOpt(p.command, IPMSG_SECRETOPT)),
    IPMSG_BROADCAST: flag(hasOpt(p.command, IPMSG_BROADCASTOPT)),
    IPMSG_MULTICAST: flag(hasOpt(p.command, IPMSG_MULTICASTOPT)),
    IPMSG_AUTO_REPLY: flag(hasOpt(p.command, IPMSG_AUTORETOPT)),
    IPMSG_ATTACHMENTS: String(p.attachments?.length ?? 0),
    IPMSG_CHARSET: p.charset,
  };
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, envValue(v)]));
}

/**
 * Signals the handler and what it started: on POSIX it leads its own process group; on Windows,
 * where signals do not exist, taskkill ends the tree at once.
 */
function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  killTree(child, signal, { group: true });
}

/** Handlers still running: killed if this process exits first (a second Ctrl-C does not wait). */
const live = new Set<ChildProcess>();
let exitHook = false;
function watch(child: ChildProcess): void {
  live.add(child);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of live) killTreeNow(c, { group: true });
  });
}

/** Runs `command` through the shell; resolves (never rejects) with how it ended. */
export function runHandler(command: string, options: RunHandlerOptions): Promise<HandlerExit> {
  const clock = options.clock;
  const started = clock.now();
  return new Promise((resolve) => {
    let timedOut = false;
    let stopped = false;
    let child: ChildProcess;
    try {
      child = spawn(command, {
        shell: true,
        // Its own process group, so that a timeout or stop reaches what the shell started too.
        detached: !WINDOWS,
        windowsHide: true,
        env: { ...(options.baseEnv ?? process.env), ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      // Some refusals (E2BIG, an invalid argument) throw instead of emitting 'error': the same end.
      resolve({ exit: null, signal: null, durationMs: clock.now() - started, timedOut: false, stopped: false, ...(options.capture ? { stdout: '' } : {}), error: (error as Error).message });
      return;
    }
    watch(child);
    const chunks: Buffer[] = [];
    let kept = 0;
    const decoders: StringDecoder[] = [];
    const passOn = (): ((chunk: Buffer) => void) => {
      const decoder = new StringDecoder('utf8');
      decoders.push(decoder);
      return (chunk) => void options.output.write(decoder.write(chunk));
    };
    const passStdout = passOn();
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!options.capture) return passStdout(chunk);
      if (kept >= CAPTURE_LIMIT) return;
      const part = chunk.subarray(0, CAPTURE_LIMIT - kept);
      chunks.push(part);
      kept += part.length;
    });
    child.stderr?.on('data', passOn());
    // A handler that does not read its stdin closes it early: not an error.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
    let killTimer: { cancel(): void } | undefined;
    const terminate = (): void => {
      kill(child, 'SIGTERM');
      killTimer ??= clock.after(KILL_GRACE, () => {
        kill(child, 'SIGKILL');
        // A program it started may outlive it holding its output open (on Windows when the tree
        // cannot be ended): once the handler itself is gone, its output is not waited for.
        const letGo = (): void => {
          for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
        };
        if (child.exitCode !== null || child.signalCode !== null) letGo();
        else child.once('exit', letGo);
      });
    };
    const timer =
      options.timeout === undefined
        ? undefined
        : clock.after(options.timeout, () => {
            timedOut = true;
            terminate();
          });
    const onAbort = (): void => {
      stopped = true;
      terminate();
    };
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
    let startError: string | undefined;
    let ended = false;
    const end = (exit: number | null, signal: NodeJS.Signals | null): void => {
      if (ended) return;
      ended = true;
      live.delete(child);
      timer?.cancel();
      killTimer?.cancel();
      options.signal.removeEventListener('abort', onAbort);
      // A character cut at the end of the output is passed on (as U+FFFD), not kept.
      for (const decoder of decoders) {
        const rest = decoder.end();
        if (rest !== '') options.output.write(rest);
      }
      resolve({
        exit,
        signal,
        durationMs: clock.now() - started,
        timedOut,
        stopped: stopped && !timedOut,
        ...(options.capture ? { stdout: Buffer.concat(chunks).toString('utf8') } : {}),
        ...(startError !== undefined ? { error: startError } : {}),
      });
    };
    child.on('error', (error) => {
      startError = error.message;
      // Never started: no 'close' is certain to follow.
      if (child.pid === undefined) end(null, null);
    });
    child.on('close', end);
  });
}
