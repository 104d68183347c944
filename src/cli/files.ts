// src/cli/files.ts
// The file side of the subcommands: serving an offer until it is fetched (send --file, serve-dir)
// and saving offered files and folders (recv --save, get-file).

import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { IpmsgError } from '../errors.js';
import { decodeText, detectCharset } from '../encoding/charset.js';
import type { SendOptions, SendOutcome } from '../messenger/index.js';
import type { Destination } from '../messenger/target.js';
import { type Attachment, attachmentKind } from '../protocol/attachment.js';
import type { PacketNo } from '../protocol/packet-no.js';
import { sleep } from '../transport/clock.js';
import type { RemoteAddress } from '../transport/datagram.js';
import { type OfferedFile, toAttachment } from '../transfer/local-files.js';
import { encodeDirFilesRequest, encodeFileDataRequest } from '../transfer/request.js';
import { type ConflictPolicy, partName, placeCompleted, unsafeName } from '../transfer/save.js';
import { makeProgress } from './progress.js';
import type { Session } from './session.js';
import { startSpinner } from './spinner.js';

export const DEFAULT_SERVE_TIMEOUT = 3_600_000;
export const DEFAULT_STALL_TIMEOUT = 30_000;

export interface ServeOptions {
  readonly send: Omit<SendOptions, 'attachments' | 'beforeSend'>;
  /** How long to keep serving after the offer was delivered. */
  readonly serveTimeout: number;
  /** Complete downloads of each file each recipient may make (serve-dir --max-downloads). */
  readonly downloadsPerRecipient: number;
  /** Stop after this many complete downloads in all. */
  readonly maxDownloads?: number;
}

export interface ServeResult {
  readonly outcomes: SendOutcome[];
}

/**
 * Sends `text` offering `files` to `destinations`, then serves them until every recipient fetched
 * every file (or `maxDownloads` were made), released the offer, or the time is up.
 * @throws IpmsgError IPMSG_ERR_TIMEOUT, IPMSG_ERR_DECLINED, or the delivery error
 */
export async function serveOffer(
  session: Session,
  destinations: readonly Destination[],
  text: string,
  files: readonly OfferedFile[],
  options: ServeOptions,
): Promise<ServeResult> {
  const { messenger, settings, out, ctx } = session;
  // Loaded here, not at start-up: node:net costs a plain send ~4 ms. Request security (and
  // node:crypto, ~5 ms more before the offer) only when we have keys.
  const [{ FileServer }, secured] = await Promise.all([
    import('../transfer/file-server.js'),
    messenger.security ? Promise.all([import('../messenger/file-security.js'), import('../crypto/known-peers.js')]) : undefined,
  ]);
  const openFileRequest = secured?.[0].openFileRequest;
  const peerId = secured?.[1].peerId;
  const progress = makeProgress(ctx, settings);
  const names = new Map(files.map((f) => [f.fileId, f.name]));
  const bars = new Map<string, ReturnType<typeof progress.start>>();
  let changed: () => void = () => undefined;
  const declined = new Set<string>();
  const server = await FileServer.listen({
    port: messenger.port,
    ...(settings.bind ? { address: settings.bind } : {}),
    charset: settings.charset,
    fallbackCharset: settings.fallbackCharset,
    downloadsPerRecipient: options.downloadsPerRecipient,
    onWarning: out.verbose,
    onStart: (e) => bars.set(`${e.address}/${e.fileId}`, progress.start(`${names.get(e.fileId)} → ${e.address}`, e.total, e.offset)),
    onProgress: (e) => bars.get(`${e.address}/${e.fileId}`)?.update(e.bytes),
    onDone: (e) => {
      bars.get(`${e.address}/${e.fileId}`)?.finish();
      const name = names.get(e.fileId) ?? String(e.fileId);
      const how = e.security === 'plain' ? '' : e.security === 'encrypted' ? ' (encrypted)' : ' (signed request, clear body)';
      out.result({ event: 'fetched', file: name, fileId: e.fileId, by: e.address, bytes: e.bytes, security: e.security }, `${name} fetched by ${e.address}${how}`);
      changed();
    },
    onFailed: (e) => out.notice(`sending ${names.get(e.fileId)} to ${e.address} failed: ${e.reason}`),
    ...(openFileRequest ? { openRequest: (packet, address) => openFileRequest(messenger, packet, address) } : {}),
  });
  try {
    messenger.serveFiles((packetNo, from) => {
      if (server.release(packetNo, from.address)) {
        declined.add(from.address);
        out.notice(`${from.address} declined the files`);
        changed();
      }
    });
    let offer: PacketNo | undefined;
    const outcomes = await messenger.sendMessage(destinations, text, {
      ...options.send,
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
    for (const o of outcomes) {
      out.result(
        { target: o.destination.text, address: o.destination.address, port: o.destination.port, packetNo: o.packetNo, status: o.status, attempts: o.attempts, ...(o.error ? { error: o.error.message } : {}) },
        o.error ? undefined : `offered ${files.length} ${files.length === 1 ? 'item' : 'items'} to ${o.destination.address}:${o.destination.port}`,
      );
      if (o.status === 'failed' && offer !== undefined) server.release(offer, o.destination.address);
    }
    const failed = outcomes.find((o) => o.status === 'failed');
    if (offer === undefined || outcomes.every((o) => o.status === 'failed')) throw failed?.error ?? new IpmsgError('IPMSG_ERR_NO_ACK', 'Nobody received the offer');
    const packetNo = offer;
    // serve-dir --max-downloads N serves until N downloads (recipients may fetch again); otherwise
    // until every recipient fetched everything. Either way, until nobody is left to fetch.
    const finished = (): boolean =>
      options.maxDownloads !== undefined
        ? server.downloads(packetNo) >= options.maxDownloads || server.recipients(packetNo) === 0
        : server.isComplete(packetNo);
    const spinner = await startSpinner(ctx, `waiting for ${destinations.map((d) => d.text).join(', ')} to fetch…`);
    const stop = new AbortController();
    changed = () => {
      if (finished()) stop.abort();
    };
    changed();
    try {
      await sleep(ctx.clock, options.serveTimeout, AbortSignal.any([stop.signal, ctx.signal]));
    } catch (error) {
      if (ctx.signal.aborted) throw error;
    } finally {
      spinner.stop();
      progress.stop();
    }
    if (!finished()) {
      const pending = [...server.pending(packetNo)].map(([address, ids]) => `${address} (${ids.map((id) => names.get(id)).join(', ')})`);
      throw new IpmsgError('IPMSG_ERR_TIMEOUT', `not fetched within ${options.serveTimeout / 1000}s: ${pending.join('; ')}`);
    }
    if (declined.size > 0) {
      throw new IpmsgError('IPMSG_ERR_DECLINED', `the files were declined by ${[...declined].join(', ')}`);
    }
    if (failed?.error) throw failed.error;
    return { outcomes };
  } finally {
    await server.close();
  }
}

export interface SaveOptions {
  readonly dir: string;
  /** Final name; the offered name when undefined. */
  readonly name?: string;
  readonly policy: ConflictPolicy;
  readonly resume: boolean;
  readonly maxSize: number | undefined;
  readonly stallTimeout: number;
  /** The offer carried UTF8OPT: ask with it, and read names as UTF-8. */
  readonly utf8: boolean;
  /** With a peer that takes encrypted requests: false asks for a clear stream (--no-encrypt-body). */
  readonly encryptBody: boolean;
  /** The user name the offer came from, when known (recv): without a fingerprint, requests go plain at once. */
  readonly offeredBy?: string;
}

export interface Saved {
  readonly fileId: number;
  readonly name: string;
  readonly kind: 'file' | 'dir' | 'other';
  readonly path: string | null;
  readonly bytes: number;
  readonly status: 'saved' | 'skipped';
  readonly reason?: string;
  /** How it was asked for (§5.6): 'encrypted' stream, 'signed' request with a clear stream, or 'plain'. */
  readonly security?: 'encrypted' | 'signed' | 'plain';
}

/** What fetching needs (node:net, the request crypto), loaded on first use or by preloadFetching(). */
function fetching() {
  return Promise.all([import('../messenger/file-security.js'), import('../transfer/fetch-file.js'), import('../transfer/fetch-folder.js')]);
}

/** For recv --save: load what fetching needs before listening, not when the first offer is waiting. */
export async function preloadFetching(): Promise<void> {
  await fetching();
}

/**
 * Fetches one offered file or folder from `from` (its TCP port is the offer's UDP port: §5.2)
 * into `options.dir`, through a `.part` name, and places it without overwriting unasked.
 * @throws IpmsgError IPMSG_ERR_TRANSFER, IPMSG_ERR_PROTOCOL, IPMSG_ERR_CANT_CREATE
 */
export async function saveAttachment(
  session: Session,
  from: RemoteAddress,
  packetNo: number,
  attachment: Pick<Attachment, 'fileId' | 'name' | 'attr'> & { size: number | undefined; mtime?: number },
  options: SaveOptions,
): Promise<Saved> {
  const { messenger, settings, ctx } = session;
  const kind = attachmentKind(attachment.attr);
  const name = options.name ?? attachment.name;
  const skip = (reason: string): Saved => ({ fileId: attachment.fileId, name, kind, path: null, bytes: 0, status: 'skipped', reason });
  const bad = unsafeName(name);
  if (bad) return skip(`the name ${JSON.stringify(name)} is not usable: ${bad}`);
  if (kind === 'other') return skip('neither a file nor a folder');
  if (options.maxSize !== undefined && (attachment.size ?? 0) > options.maxSize) return skip(`larger than --max-size (${attachment.size} bytes)`);
  // Asked before the bar starts: it may take a GETPUBKEY round trip (or an entry exchange).
  const [{ fileRequester }, { fetchFile }, { fetchFolder }] = await fetching();
  const requester = await fileRequester(messenger, from, {
    encryptBody: options.encryptBody,
    signal: ctx.signal,
    onNotice: session.out.notice,
    ...(options.offeredBy === undefined ? {} : { user: options.offeredBy }),
  });
  const security = requester?.security ?? 'plain';
  const progress = makeProgress(ctx, settings);
  const item = progress.start(name, attachment.size || undefined);
  const common = {
    address: from.address,
    port: from.port,
    ...(settings.bind && settings.bind !== '0.0.0.0' ? { localAddress: settings.bind } : {}),
    stallTimeout: options.stallTimeout,
    signal: ctx.signal,
    onProgress: (bytes: number) => item.update(bytes),
  };
  /** Moves the completed download to its final name, or reports the conflict policy skipping it. */
  const place = (part: string, bytes: number): Saved => {
    item.finish();
    const path = placeCompleted(part, options.dir, name, options.policy);
    return path ? { fileId: attachment.fileId, name, kind, path, bytes, status: 'saved', security } : skip(`${name} exists (--on-conflict skip)`);
  };
  try {
    if (kind === 'file') {
      const part = join(options.dir, partName(options.dir, name, options.resume));
      const result = await fetchFile({
        ...common,
        // Encrypted too, a single file is asked for with GETFILEDATA and its offset, so that --resume works (§5.6 note in README).
        request: (offset) =>
          requester
            ? requester.request('file', packetNo, attachment.fileId, offset, options.utf8)
            : messenger.fileRequest('file', encodeFileDataRequest(packetNo, attachment.fileId, offset), options.utf8),
        partPath: part,
        resume: options.resume,
        size: attachment.size,
      });
      if (result.restarted) session.out.notice(`${from.address} ignored the resume offset and sent ${name} from the start`);
      if (attachment.mtime) utimesSync(part, attachment.mtime, attachment.mtime);
      return place(part, result.bytes);
    }
    const partDir = join(options.dir, partName(options.dir, name, false));
    const limit = [options.maxSize, attachment.size || undefined].filter((n): n is number => n !== undefined);
    const result = await fetchFolder({
      ...common,
      request: () =>
        requester
          ? requester.request('dir', packetNo, attachment.fileId, 0, options.utf8)
          : messenger.fileRequest('dir', encodeDirFilesRequest(packetNo, attachment.fileId), options.utf8),
      partDir,
      decodeName: (bytes) => decodeText(bytes, detectCharset([bytes], options.utf8, settings.fallbackCharset)),
      maxTotalBytes: limit.length > 0 ? Math.min(...limit) : undefined,
    });
    return place(partDir, result.bytes);
  } finally {
    progress.stop();
  }
}
