// src/cli/files.ts
// How the file workflows show themselves: progress on stderr, results and events on stdout.

import type { ServeEvent } from '../workflows/serve-offer.js';
import type { Saved } from '../workflows/save-offer.js';
import { makeProgress } from './progress.js';
import type { Session } from './session.js';
import { startSpinner } from './spinner.js';

/** What serving an offer prints, and the progress it shows; `stop()` when serving ends. */
export function serveOutput(session: Session): { onEvent(event: ServeEvent): void; progress: ReturnType<typeof makeProgress>; stop(): void } {
  const { ctx, settings, out } = session;
  const progress = makeProgress(ctx, settings);
  let spinner: { stop(): void } | undefined;
  let stopped = false;
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
            { target: o.destination.text, address: o.destination.address, port: o.destination.port, packetNo: o.packetNo, status: o.status, encrypted: o.encrypted, attempts: o.attempts, ...(o.error ? { error: o.error.message, code: o.error.code } : {}) },
            o.error ? undefined : `offered ${event.items} ${event.items === 1 ? 'item' : 'items'} to ${o.destination.address}:${o.destination.port}${o.encrypted ? ' (encrypted)' : ''}`,
          );
          return;
        }
        case 'waiting':
          void startSpinner(ctx, `waiting for ${event.recipients.map((d) => d.text).join(', ')} to fetch…`).then((s) => {
            if (stopped) s.stop();
            else spinner = s;
          });
          return;
        case 'fetched': {
          const how = event.security === 'plain' ? '' : event.security === 'encrypted' ? ' (encrypted)' : ' (signed request, clear body)';
          out.result({ event: 'fetched', file: event.name, fileId: event.fileId, by: event.address, bytes: event.bytes, security: event.security }, `${event.name} fetched by ${event.address}${how}`);
          return;
        }
        case 'declined':
          out.notice(`${event.address} declined the files`);
          return;
        case 'failed':
          out.notice(`sending ${event.name} to ${event.address} failed: ${event.reason}`);
          return;
      }
    },
    stop() {
      stopped = true;
      spinner?.stop();
      progress.stop();
    },
  };
}

/** The human line of one saved (or skipped) item. */
export function savedText(s: Saved): string {
  return s.status === 'saved' ? `  saved ${s.path} (${s.bytes} bytes)` : `  not saved ${s.name}: ${s.reason}`;
}
