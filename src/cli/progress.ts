// src/cli/progress.ts
// Transfer progress on stderr: a cli-progress bar on an interactive terminal, else a plain line
// every few seconds, or NDJSON events with --json. Never on stdout.

import { createRequire } from 'node:module';
import type { Settings } from './config.js';
import { type Context, isInteractive } from './context.js';
import { oneLine } from './output.js';
import type { ProgressPeer, ProgressSink } from '../workflows/progress.js';

const PLAIN_EVERY_MS = 2000;

export interface Progress extends ProgressSink {
  stop(): void;
}

/** The human label: the recipient we serve is shown after an arrow. */
function label(name: string, peer: ProgressPeer | undefined): string {
  return peer && 'to' in peer ? `${name} → ${peer.to}` : name;
}

interface BarApi {
  MultiBar: new (options: object, preset: object) => {
    create(total: number, start: number, payload: object): { update(value: number, payload?: object): void; stop(): void };
    stop(): void;
  };
  Presets: { shades_classic: object };
}

/** The speed of the bytes moved in this run (`bytes` may fall below 0 when a resumed transfer restarts). */
function rate(bytes: number, ms: number): string {
  return ms > 0 ? `${((Math.max(0, bytes) / ms) * 1000 / 1e6).toFixed(1)} MB/s` : '';
}

export function makeProgress(ctx: Context, settings: Pick<Settings, 'json' | 'quiet'>): Progress {
  if (settings.quiet) return { start: () => ({ update: () => undefined, finish: () => undefined }), stop: () => undefined };
  if (settings.json || !isInteractive(ctx)) {
    return {
      start(name, total, initial = 0, peer) {
        const started = ctx.clock.now();
        let last = started;
        let bytes = initial;
        const line = (event: string): void => {
          const ms = ctx.clock.now() - started;
          if (settings.json) {
            ctx.stderr.write(`${JSON.stringify({ event, name, ...peer, bytes, total: total ?? null, ...(initial > 0 ? { resumedAt: initial } : {}), elapsedMs: ms })}\n`);
          } else {
            const share = total ? ` ${Math.floor((bytes / total) * 100)}%` : '';
            ctx.stderr.write(`ipmsg: ${oneLine(label(name, peer))}: ${bytes} bytes${share} ${rate(bytes - initial, ms)}${event === 'done' ? ', done' : ''}\n`);
          }
        };
        return {
          update(value) {
            bytes = value;
            if (ctx.clock.now() - last >= PLAIN_EVERY_MS) {
              last = ctx.clock.now();
              line('progress');
            }
          },
          finish: () => line('done'),
        };
      },
      stop: () => undefined,
    };
  }
  // cli-progress is loaded only here, on a terminal.
  const bars = createRequire(import.meta.url)('cli-progress') as BarApi;
  const multi = new bars.MultiBar(
    {
      stream: ctx.stderr,
      format: ' {bar} {percentage}% | {name} | {value}/{total} bytes | {speed} | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      gracefulExit: true,
    },
    bars.Presets.shades_classic,
  );
  return {
    start(name, total, initial = 0, peer) {
      const started = ctx.clock.now();
      const bar = multi.create(total ?? 0, initial, { name: label(name, peer), speed: '' });
      return {
        update: (value) => bar.update(value, { speed: rate(value - initial, ctx.clock.now() - started) }),
        finish: () => bar.stop(),
      };
    },
    stop: () => multi.stop(),
  };
}
