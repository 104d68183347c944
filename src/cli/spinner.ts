// src/cli/spinner.ts
// A spinner on stderr while we wait for the LAN, only on an interactive terminal; ora is loaded
// only then (it is costly to load).

import { type Context, isInteractive } from './context.js';
import { importEsm } from './import-esm.js';

export interface Spinner {
  update(text: string): void;
  stop(): void;
}

const silent: Spinner = { update: () => undefined, stop: () => undefined };

/** A spinner with `text`; none when `cancel` is aborted before it could start (ora loads first). */
export async function startSpinner(ctx: Context, text: string, cancel?: AbortSignal): Promise<Spinner> {
  if (!isInteractive(ctx) || cancel?.aborted) return silent;
  const { default: ora } = await importEsm<typeof import('ora')>('ora');
  if (cancel?.aborted) return silent;
  const noColor = ctx.env['NO_COLOR'] !== undefined || ctx.env['FORCE_COLOR'] === '0';
  const spinner = ora({
    text,
    stream: ctx.stderr as NodeJS.WritableStream,
    discardStdin: false,
    ...(noColor ? { color: false as const } : {}),
  }).start();
  return {
    update: (next) => {
      spinner.text = next;
    },
    stop: () => spinner.stop(),
  };
}
