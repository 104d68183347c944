// src/workflows/send-text.ts
// Text that does not fit one datagram: refused, or (when asked) attached as message.txt and
// served for a short time.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpmsgError } from '../errors.js';
import type { EncryptMode, Messenger } from '../messenger/index.js';
import type { Destination } from '../messenger/target.js';
import { type OfferedFile, prepareOffer } from '../transfer/local-files.js';
import { DEFAULT_SERVE_TIMEOUT, type ServeOptions, type ServeResult, serveOffer } from './serve-offer.js';

/** The name text is attached under. */
export const ATTACHED_TEXT_NAME = 'message.txt';
/** How long attached text is served unless told otherwise: a notifier must not wait long for a fetch nobody makes. */
export const TEXT_SERVE_TIMEOUT = 120_000;

/** What the datagram says when the text itself is attached: its first line, shortened. */
export function summary(text: string): string {
  const first = text.split('\n', 1)[0] ?? '';
  const short = first.length > 200 ? `${first.slice(0, 200)}…` : first;
  return `${short}\n(the whole message is attached as ${ATTACHED_TEXT_NAME}, ${Buffer.byteLength(text)} bytes)`;
}

/**
 * Refuses text that does not fit one datagram (as sent under `encrypt`), before anything is sent.
 * @throws IpmsgError IPMSG_ERR_TOO_LONG
 */
export function checkFits(messenger: Messenger, text: string, encrypt: EncryptMode | undefined): void {
  if (messenger.messageFits(text, encrypt)) return;
  throw new IpmsgError(
    'IPMSG_ERR_TOO_LONG',
    `the message (${Buffer.byteLength(text)} bytes) does not fit one datagram: shorten it, or send it as an attached ${ATTACHED_TEXT_NAME} with --as-file (the recipient must then fetch it)`,
  );
}

/**
 * Offers `text` as an attached message.txt (beside `files`) with its first line as the message,
 * and serves it for `serveTimeout` (default TEXT_SERVE_TIMEOUT for text alone). The temporary copy is removed after.
 * @throws as serveOffer
 */
export async function offerText(messenger: Messenger, destinations: readonly Destination[], text: string, files: readonly OfferedFile[], options: ServeOptions): Promise<ServeResult> {
  const folder = mkdtempSync(join(tmpdir(), 'ipmsg-text-'));
  try {
    const path = join(folder, ATTACHED_TEXT_NAME);
    writeFileSync(path, text);
    const offered = [...files, ...prepareOffer([path])].map((file, fileId) => ({ ...file, fileId }));
    return await serveOffer(messenger, destinations, summary(text), offered, { ...options, serveTimeout: options.serveTimeout ?? (files.length > 0 ? DEFAULT_SERVE_TIMEOUT : TEXT_SERVE_TIMEOUT) });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
