// src/workflows/run-notify.ts
// Sends the report of a command that ended: one message that fits one datagram, and with a log,
// the whole output offered as a file and served for a short time.

import { IpmsgError } from '../errors.js';
import type { SendOutcome } from '../messenger/index.js';
import type { Destination } from '../messenger/target.js';
import type { Client, SendTextOptions } from './client.js';
import { type RunReport, fitReport } from './run-report.js';
import { TEXT_SERVE_TIMEOUT } from './send-text.js';
import type { ServeEvent } from './serve-offer.js';

/** Room kept in the datagram for the offered log's entry (its name, size, time and attributes). */
const ATTACHMENT_ROOM = 200;

export interface RunNotifyOptions extends SendTextOptions {
  /** The whole output: offered as a file with the message, served for `serveTimeout`. */
  readonly log?: string;
  /** How long the log is served once the message was delivered (default TEXT_SERVE_TIMEOUT, 2 minutes). */
  readonly serveTimeout?: number;
  readonly onEvent?: (event: ServeEvent) => void;
  readonly onWarning?: (message: string) => void;
}

export interface RunNotifyResult {
  readonly text: string;
  /** One per target; 'failed' ones carry their error. */
  readonly outcomes: readonly SendOutcome[];
  /** Why the log was not fetched by everybody (the message itself may have been delivered). */
  readonly logProblem?: IpmsgError;
}

/**
 * The report is measured in UTF-8 plus what a legacy code page may need beyond it: GB18030 takes
 * up to four bytes for a character UTF-8 writes in two or three. So it fits whatever the peer reads.
 */
function worstCase(text: string): string {
  let extra = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c > 0x7f) extra += c <= 0x7ff ? 2 : c <= 0xffff ? 1 : 0;
  }
  return text + ' '.repeat(extra);
}

/**
 * Resolves `targets` and sends them `report`, trimmed to fit one datagram (see fitReport).
 * @throws a resolve error (unknown target), the signal's reason; a delivery failure is an outcome
 */
export async function notifyRun(client: Client, targets: string | readonly string[] | readonly Destination[], report: RunReport, options: RunNotifyOptions = {}): Promise<RunNotifyResult> {
  const messenger = client.messenger;
  const room = options.log === undefined ? '' : ' '.repeat(ATTACHMENT_ROOM);
  const text = fitReport(report, (t) => messenger.messageFits(worstCase(t) + room, options.encrypt));
  const destinations = typeof targets !== 'string' && typeof targets[0] !== 'string' ? (targets as readonly Destination[]) : await client.resolve(targets as string | readonly string[], options);
  if (options.log === undefined) return { text, outcomes: await client.send(destinations, text, options) };
  const outcomes: SendOutcome[] = [];
  try {
    await client.sendFiles(destinations, text, [options.log], {
      ...options,
      serveTimeout: options.serveTimeout ?? TEXT_SERVE_TIMEOUT,
      onEvent: (event) => {
        if (event.kind === 'offered') outcomes.push(event.outcome);
        options.onEvent?.(event);
      },
    });
    return { text, outcomes };
  } catch (error) {
    // Not fetched in time, declined or interrupted while served: whether the message itself
    // arrived is for the outcomes to say.
    if (outcomes.length === 0 || !(error instanceof IpmsgError)) throw error;
    return { text, outcomes, logProblem: error };
  }
}
