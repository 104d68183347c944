// src/cli/files.ts
// How the file workflows show themselves: progress on stderr, results and events on stdout.

import type { ServeEvent } from '../workflows/serve-offer.js';
import type { Saved } from '../workflows/save-offer.js';
import { type Progress, makeProgress } from './progress.js';
import { isInteractive } from './context.js';
import type { Session } from './session.js';
import { type Spinner, startSpinner } from './spinner.js';
import { formatEndpoint } from '../transport/address.js';

/**
 * What serving an offer prints, and the progress it shows; `stop()` when serving ends. The spinner
 * that shows while waiting for the recipients gives way to the progress bars for good once a
 * transfer starts: both draw on stderr's last lines.
 */
export function serveOutput(
  session: Pick<Session, 'ctx' | 'settings' | 'out'>,
  spin: typeof startSpinner = startSpinner,
): { onEvent(event: ServeEvent): void; progress: Progress; stop(): void } {
  const { ctx, settings, out } = session;
  const bars = makeProgress(ctx, settings);
  let spinner: Spinner | undefined;
  /** Aborted once the spinner must not show any more: a transfer started, or serving ended. */
  const noSpinner = new AbortController();
  const hideSpinner = (): void => {
    noSpinner.abort();
    spinner?.stop();
    spinner = undefined;
  };
  // While bars show on a terminal, lines are held until they stop: a line written under them is
  // drawn over at their next update.
  let barsShown = false;
  const held: (() => void)[] = [];
  const say = (line: () => void): void => {
    if (barsShown) held.push(line);
    else line();
  };
  const progress: Progress = {
    start(name, total, initial, peer) {
      hideSpinner();
      barsShown = isInteractive(ctx) && !settings.json && !settings.quiet;
      return bars.start(name, total, initial, peer);
    },
    stop: () => bars.stop(),
  };
  return {
    progress,
    onEvent(event) {
      switch (event.kind) {
        case 'skipped':
          out.notice(`not offering ${event.path}: ${event.reason}`);
          return;
        case 'offered': {
          const o = event.outcome;
          out.result(
            { target: o.destination.text, address: o.destination.address, port: o.destination.port, packetNo: o.packetNo, status: o.status, encrypted: o.encrypted, charset: o.charset, charsetReason: o.charsetReason, attempts: o.attempts, ...(o.error ? { error: o.error.message, code: o.error.code } : {}) },
            o.error ? undefined : `offered ${event.items} ${event.items === 1 ? 'item' : 'items'} to ${formatEndpoint(o.destination.address, o.destination.port)}${o.encrypted ? ' (encrypted)' : ''}`,
          );
          return;
        }
        case 'waiting':
          void spin(ctx, `waiting for ${event.recipients.map((d) => d.text).join(', ')} to fetch…`, noSpinner.signal).then((s) => {
            if (noSpinner.signal.aborted) s.stop();
            else spinner = s;
          });
          return;
        case 'fetched': {
          const how = event.security === 'plain' ? '' : event.security === 'encrypted' ? ' (encrypted)' : ' (signed request, clear body)';
          say(() => out.result({ event: 'fetched', file: event.name, fileId: event.fileId, by: event.address, bytes: event.bytes, security: event.security }, `${event.name} fetched by ${event.address}${how}`));
          return;
        }
        case 'declined':
          say(() => out.notice(`${event.address} declined the files`));
          return;
        case 'failed':
          say(() => out.notice(`sending ${event.name} to ${event.address} failed: ${event.reason}`));
          return;
      }
    },
    stop() {
      hideSpinner();
      bars.stop();
      barsShown = false;
      for (const line of held.splice(0)) line();
    },
  };
}

/** The human line of one saved (or skipped) item. */
export function savedText(s: Saved): string {
  return s.status === 'saved' ? `  saved ${s.path} (${s.bytes} bytes)` : `  not saved ${s.name}: ${s.reason}`;
}
