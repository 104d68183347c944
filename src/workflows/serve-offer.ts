// src/workflows/serve-offer.ts
// Offering files: a message that lists them, then the TCP server that hands them to the
// recipients until each has fetched them, released the offer, or the time is up.

import { IpmsgError } from '../errors.js';
import { type Charset, DEFAULT_FALLBACK_CHARSET } from '../encoding/charset.js';
import type { Messenger, SendOptions, SendOutcome } from '../messenger/index.js';
import type { Destination } from '../messenger/target.js';
import type { PacketNo } from '../protocol/packet-no.js';
import { type Clock, systemClock } from '../transport/clock.js';
import { type OfferedFile, toAttachment } from '../transfer/local-files.js';
import { aborted, lifetime } from './lifetime.js';
import { type ProgressItem, type ProgressSink, noProgress } from './progress.js';
import type { Family } from '../transport/address.js';

/** How long an offer is served when nobody says otherwise (an hour: a person may have to accept it). */
export const DEFAULT_SERVE_TIMEOUT = 3_600_000;

/** What happens while an offer is served. */
export type ServeEvent =
  | { readonly kind: 'skipped'; readonly path: string; readonly reason: string }
  | { readonly kind: 'offered'; readonly outcome: SendOutcome; readonly items: number }
  | { readonly kind: 'waiting'; readonly recipients: readonly Destination[] }
  | { readonly kind: 'fetched'; readonly name: string; readonly fileId: number; readonly address: string; readonly bytes: number; readonly security: 'encrypted' | 'signed' | 'plain' }
  | { readonly kind: 'declined'; readonly address: string }
  | { readonly kind: 'failed'; readonly name: string; readonly fileId: number; readonly address: string; readonly reason: string };

export interface ServeOptions {
  /** How the offer itself is sent (retries, encryption, sealing). */
  readonly send: Omit<SendOptions, 'attachments' | 'beforeSend' | 'signal'>;
  /** Stop serving after this long (ms) once the offer was delivered. */
  readonly serveTimeout?: number;
  /** Complete downloads of each file each recipient may make (default 1). */
  readonly downloadsPerRecipient?: number;
  /** Stop after this many complete downloads in all (recipients may fetch again). */
  readonly maxDownloads?: number;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** The address the file server listens on (all interfaces when undefined). */
  readonly localAddress?: string;
  readonly charset?: Charset;
  readonly fallbackCharset?: Charset;
  readonly progress?: ProgressSink;
  readonly onEvent?: (event: ServeEvent) => void;
  readonly onWarning?: (message: string) => void;
}

export interface ServeResult {
  readonly outcomes: readonly SendOutcome[];
  /** Complete downloads made. */
  readonly downloads: number;
}

/**
 * Sends `text` offering `files` to `destinations`, then serves them until every recipient fetched
 * every file (or `maxDownloads` were made), released the offer, or the time is up.
 * @throws IpmsgError IPMSG_ERR_TIMEOUT (not fetched in time), IPMSG_ERR_DECLINED (released),
 *   the delivery error when nobody got the offer, or the signal's reason
 */
export async function serveOffer(messenger: Messenger, destinations: readonly Destination[], text: string, files: readonly OfferedFile[], options: ServeOptions): Promise<ServeResult> {
  const emit = options.onEvent ?? (() => undefined);
  const progress = options.progress ?? noProgress;
  // What the offered folders hold but cannot be sent (links, special files, unsendable names).
  for (const file of files) for (const { path, reason } of file.skipped ?? []) emit({ kind: 'skipped', path, reason });
  // Loaded here, not at start-up: a plain send needs neither node:net nor the request crypto.
  const [{ FileServer }, secured] = await Promise.all([
    import('../transfer/file-server.js'),
    messenger.security ? Promise.all([import('../messenger/file-security.js'), import('../crypto/peer-id.js')]) : undefined,
  ]);
  const openFileRequest = secured?.[0].openFileRequest;
  const peerId = secured?.[1].peerId;
  const names = new Map(files.map((f) => [f.fileId, f.name]));
  const nameOf = (fileId: number): string => names.get(fileId) ?? String(fileId);
  const bars = new Map<string, ProgressItem>();
  let changed: () => void = () => undefined;
  const declined = new Set<string>();
  const server = await FileServer.listen({
    port: messenger.port,
    ...listenAddress(options.localAddress, messenger.families),
    charset: options.charset ?? 'utf-8',
    fallbackCharset: options.fallbackCharset ?? DEFAULT_FALLBACK_CHARSET,
    downloadsPerRecipient: options.downloadsPerRecipient ?? 1,
    onWarning: options.onWarning ?? (() => undefined),
    onStart: (e) => bars.set(`${e.address}/${e.fileId}`, progress.start(nameOf(e.fileId), e.total, e.offset, { to: e.address })),
    onProgress: (e) => bars.get(`${e.address}/${e.fileId}`)?.update(e.bytes),
    onDone: (e) => {
      bars.get(`${e.address}/${e.fileId}`)?.finish();
      emit({ kind: 'fetched', name: nameOf(e.fileId), fileId: e.fileId, address: e.address, bytes: e.bytes, security: e.security });
      changed();
    },
    onFailed: (e) => emit({ kind: 'failed', name: nameOf(e.fileId), fileId: e.fileId, address: e.address, reason: e.reason }),
    ...(openFileRequest ? { openRequest: (packet, address) => openFileRequest({ messenger, security: messenger.security, clock: options.clock ?? systemClock }, packet, address) } : {}),
  });
  try {
    messenger.serveFiles((packetNo, from) => {
      if (server.release(packetNo, from.address)) {
        declined.add(from.address);
        emit({ kind: 'declined', address: from.address });
        changed();
      }
    });
    let offer: PacketNo | undefined;
    const outcomes = await messenger.sendMessage(destinations, text, {
      ...options.send,
      ...(options.signal ? { signal: options.signal } : {}),
      attachments: files.map(toAttachment),
      beforeSend: (packetNo) => {
        offer = packetNo;
        server.addOffer(packetNo, files, destinations.map((d) => d.address));
      },
      // A recipient that got the offer encrypted must fetch with requests it signed (§5.6).
      onEncrypted: (destination, peer) => {
        if (offer !== undefined && peerId) server.requireSigned(offer, destination.address, peerId(peer));
      },
    });
    for (const outcome of outcomes) {
      emit({ kind: 'offered', outcome, items: files.length });
      if (outcome.status === 'failed' && offer !== undefined) server.release(offer, outcome.destination.address);
    }
    const failed = outcomes.find((o) => o.status === 'failed');
    if (offer === undefined || outcomes.every((o) => o.status === 'failed')) throw failed?.error ?? new IpmsgError('IPMSG_ERR_NO_ACK', 'Nobody received the offer');
    const packetNo = offer;
    // With maxDownloads, until that many downloads (recipients may fetch again); otherwise until
    // every recipient fetched everything. Either way, until nobody is left to fetch.
    const finished = (): boolean =>
      options.maxDownloads !== undefined ? server.downloads(packetNo) >= options.maxDownloads || server.recipients(packetNo) === 0 : server.isComplete(packetNo);
    const serveTimeout = options.serveTimeout ?? DEFAULT_SERVE_TIMEOUT;
    const run = lifetime(options.clock ?? systemClock, { signal: options.signal, timeout: serveTimeout });
    changed = () => {
      if (finished()) run.finish();
    };
    emit({ kind: 'waiting', recipients: destinations });
    changed();
    try {
      await aborted(run.signal);
    } finally {
      run.dispose();
    }
    if (options.signal?.aborted) throw options.signal.reason;
    if (!finished()) {
      const pending = [...server.pending(packetNo)].map(([address, ids]) => `${address} (${ids.map(nameOf).join(', ')})`);
      throw new IpmsgError('IPMSG_ERR_TIMEOUT', `not fetched within ${serveTimeout / 1000}s: ${pending.join('; ')}`);
    }
    if (declined.size > 0) throw new IpmsgError('IPMSG_ERR_DECLINED', `the files were declined by ${[...declined].join(', ')}`);
    if (failed?.error) throw failed.error;
    return { outcomes, downloads: server.downloads(packetNo) };
  } finally {
    await server.close();
  }
}

/** The file server listens where the UDP socket does: its address, or every address of its families. */
function listenAddress(localAddress: string | undefined, families: readonly Family[]): { address?: string; ipv6Only?: boolean } {
  if (localAddress) return { address: localAddress };
  if (families.length === 2) return {};
  return families[0] === 'IPv6' ? { address: '::', ipv6Only: true } : { address: '0.0.0.0' };
}
