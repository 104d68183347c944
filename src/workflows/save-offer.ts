// src/workflows/save-offer.ts
// Saving what a message offers: one file or folder fetched over TCP into a folder, through a
// `.part` name, and placed without overwriting anything unasked (recv --save, get-file).

import { lstatSync, mkdirSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Charset, DEFAULT_FALLBACK_CHARSET, decodeText, detectCharset } from '../encoding/charset.js';
import { IpmsgError } from '../errors.js';
import type { Messenger } from '../messenger/index.js';
import { type Attachment, attachmentKind } from '../protocol/attachment.js';
import { type Clock, systemClock } from '../transport/clock.js';
import type { RemoteAddress } from '../transport/datagram.js';
import { encodeDirFilesRequest, encodeFileDataRequest } from '../transfer/request.js';
import { quoteName } from '../transfer/entry-name.js';
import { type ConflictPolicy, partFileName, partName, placeCompleted, unsafeName } from '../transfer/save.js';
import { WINDOWS_NAME_REASON, localName, windowsSafeName } from '../transfer/windows-name.js';
import { type ProgressSink, noProgress } from './progress.js';

export const DEFAULT_STALL_TIMEOUT = 30_000;

export interface SaveOptions {
  /** The folder to save into. */
  readonly dir: string;
  /** Final name; the offered name when undefined. */
  readonly name?: string;
  /** When the final name exists (default 'rename', to `name (1).ext`). */
  readonly policy?: ConflictPolicy;
  /** Continue `NAME.part` (a single file only). */
  readonly resume?: boolean;
  /**
   * Without `resume`, when a file's `NAME.part` exists: 'rename' fetches into `NAME (1).part`
   * (default), 'fail' stops with an error that names it (to be continued with resume).
   */
  readonly oldPart?: 'rename' | 'fail';
  /** Skip anything larger than this. */
  readonly maxSize?: number;
  /** Give up when nothing arrives for this long (ms). */
  readonly stallTimeout?: number;
  /** The offer carried UTF8OPT: ask with it, and read names as UTF-8 (default true). */
  readonly utf8?: boolean;
  /** With a peer that takes encrypted requests: false asks for a clear stream (NOENC_FILEBODY). */
  readonly encryptBody?: boolean;
  /** The user name the offer came from, when known: without a fingerprint, requests go plain at once. */
  readonly offeredBy?: string;
  /** Local address to connect from. */
  readonly localAddress?: string;
  /** How folder entry names that are not UTF-8 are read. */
  readonly fallbackCharset?: Charset;
  readonly clock?: Clock;
  /** Ends the transfer; the `.part` stays. */
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
  readonly onNotice?: (message: string) => void;
  /**
   * Whose file-name rules apply (default: the running platform's). On 'win32' names Windows cannot
   * hold are saved under names it can (transfer/windows-name.ts), with a notice.
   */
  readonly platform?: NodeJS.Platform;
}

/** The outcome of one offered item. */
export interface Saved {
  readonly fileId: number;
  /** The name it is saved under (before any ` (N)` that a conflict adds: see `path`). */
  readonly name: string;
  /** The name asked for, only when Windows needed another one. */
  readonly offeredName?: string;
  readonly kind: 'file' | 'dir' | 'other';
  readonly path: string | null;
  readonly bytes: number;
  readonly status: 'saved' | 'skipped';
  readonly reason?: string;
  /** How it was asked for (§5.6): 'encrypted' stream, 'signed' request with a clear stream, or 'plain'. */
  readonly security?: 'encrypted' | 'signed' | 'plain';
}

/** One offered item, as the offer's attachment list (or `get-file`'s arguments) describe it. */
export type OfferedItem = Pick<Attachment, 'fileId' | 'name' | 'attr'> & { readonly size: number | undefined; readonly mtime?: number };

/** What fetching needs (node:net, the request crypto): loaded on first use, or early by preloadFetching(). */
function fetching() {
  return Promise.all([import('../messenger/file-security.js'), import('../transfer/fetch-file.js'), import('../transfer/fetch-folder.js')]);
}

/** Loads what fetching needs now, so that the first offer does not wait for it. */
export async function preloadFetching(): Promise<void> {
  await fetching();
}

/**
 * Fetches one offered file or folder from `from` (its TCP port is the offer's UDP port: §5.2)
 * into `options.dir`, through a `.part` name, and places it without overwriting unasked.
 * @throws IpmsgError IPMSG_ERR_TRANSFER, IPMSG_ERR_PROTOCOL (a bad stream, or an offered name that
 *   cannot be used here), IPMSG_ERR_USAGE (`options.name` cannot be used), IPMSG_ERR_CANT_CREATE, IPMSG_ERR_IO (a
 *   local write failed: the `.part` stays, nothing is under the final name),
 *   IPMSG_ERR_KEY_MISMATCH, or the signal's reason
 */
export async function saveAttachment(messenger: Messenger, from: RemoteAddress, packetNo: number, attachment: OfferedItem, options: SaveOptions): Promise<Saved> {
  const kind = attachmentKind(attachment.attr);
  const platform = options.platform ?? process.platform;
  const wanted = options.name ?? attachment.name;
  const dir = resolve(options.dir);
  const utf8 = options.utf8 ?? true;
  const policy = options.policy ?? 'rename';
  const bad = unsafeName(wanted, platform);
  // An offered name we cannot use is the peer's fault, as an unusable name inside a folder stream is.
  if (bad && options.name === undefined) throw new IpmsgError('IPMSG_ERR_PROTOCOL', `Invalid offer: the name ${JSON.stringify(wanted)} cannot be used here: ${bad}`);
  if (bad) throw new IpmsgError('IPMSG_ERR_USAGE', `The name ${JSON.stringify(wanted)} cannot be used: ${bad}`);
  const name = localName(wanted, platform);
  const names = { fileId: attachment.fileId, name, ...(name === wanted ? {} : { offeredName: wanted }) };
  const skip = (reason: string): Saved => ({ ...names, kind, path: null, bytes: 0, status: 'skipped', reason });
  if (kind === 'other') return skip('neither a file nor a folder');
  if (options.maxSize !== undefined && (attachment.size ?? 0) > options.maxSize) return skip(`larger than the size limit (${attachment.size} bytes)`);
  options.signal?.throwIfAborted();
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `Cannot create the folder ${dir}: ${(error as Error).message}`);
  }
  // Asked before the progress starts: it may take a GETPUBKEY round trip (or an entry exchange).
  const [{ fileRequester }, { fetchFile }, { fetchFolder }] = await fetching();
  const requester = await fileRequester({ messenger, security: messenger.security, clock: options.clock ?? systemClock }, from, {
    encryptBody: options.encryptBody ?? true,
    onNotice: options.onNotice ?? (() => undefined),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.offeredBy === undefined ? {} : { user: options.offeredBy }),
  });
  const security = requester?.security ?? 'plain';
  // A resumed file's progress starts at what its .part holds: the speed counts only what moves now.
  const initial = kind === 'file' && options.resume === true ? (lstatSync(join(dir, partFileName(name)), { throwIfNoEntry: false })?.size ?? 0) : 0;
  const item = (options.progress ?? noProgress).start(name, kind === 'file' ? attachment.size : undefined, initial, { from: from.address });
  const common = {
    address: from.address,
    port: from.port,
    ...(options.localAddress && options.localAddress !== '0.0.0.0' ? { localAddress: options.localAddress } : {}),
    stallTimeout: options.stallTimeout ?? DEFAULT_STALL_TIMEOUT,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (bytes: number) => item.update(bytes),
  };
  /** Moves the completed download to its final name, or reports the conflict policy skipping it. */
  const place = (part: string, bytes: number): Saved => {
    item.finish();
    const path = placeCompleted(part, dir, name, policy);
    if (!path) return skip(`${name} exists (conflict policy skip)`);
    if (name !== wanted) options.onNotice?.(renamedNotice(wanted, name));
    return { ...names, kind, path, bytes, status: 'saved', security };
  };
  if (kind === 'file') {
    const resume = options.resume === true;
    const part = join(dir, partName(dir, name, resume, options.oldPart));
    const result = await fetchFile({
      ...common,
      // A single file is asked for with GETFILEDATA and its offset even when encrypted, so that resume works.
      request: (offset) =>
        requester
          ? requester.request('file', packetNo, attachment.fileId, offset, utf8)
          : messenger.fileRequest('file', encodeFileDataRequest(packetNo, attachment.fileId, offset), utf8),
      partPath: part,
      resume,
      size: attachment.size,
    });
    if (result.restarted) options.onNotice?.(`${from.address} ignored the resume offset and sent ${name} from the start`);
    if (attachment.mtime) {
      try {
        utimesSync(part, attachment.mtime, attachment.mtime);
      } catch (error) {
        throw new IpmsgError('IPMSG_ERR_IO', `Cannot set the time of ${part}: ${(error as Error).message}`, { cause: error });
      }
    }
    return place(part, result.bytes);
  }
  const partDir = join(dir, partName(dir, name, false));
  const limit = [options.maxSize, attachment.size || undefined].filter((n): n is number => n !== undefined);
  const fallback = options.fallbackCharset ?? DEFAULT_FALLBACK_CHARSET;
  const renamed = renamedEntries(options.onNotice);
  const result = await fetchFolder({
    ...common,
    ...(platform === 'win32' ? { localName: windowsSafeName, onRenamed: renamed.notice } : {}),
    request: () =>
      requester ? requester.request('dir', packetNo, attachment.fileId, 0, utf8) : messenger.fileRequest('dir', encodeDirFilesRequest(packetNo, attachment.fileId), utf8),
    partDir,
    decodeName: (bytes) => decodeText(bytes, detectCharset([bytes], utf8, fallback)),
    maxTotalBytes: limit.length > 0 ? Math.min(...limit) : undefined,
  }).finally(renamed.summary);
  return place(partDir, result.bytes);
}

/** Entries of one folder whose renaming is told one by one; beyond them, a count. */
const RENAMED_ENTRIES_TOLD = 10;

function renamedNotice(offered: string, saved: string): string {
  return `saved ${quoteName(offered)} as ${quoteName(saved)} (${WINDOWS_NAME_REASON})`;
}

/** Notices for renamed folder entries: the first few by name, then how many more (a stream may hold a million). */
function renamedEntries(onNotice: ((message: string) => void) | undefined) {
  let count = 0;
  return {
    notice: (offered: string, saved: string): void => {
      if (++count <= RENAMED_ENTRIES_TOLD) onNotice?.(renamedNotice(offered, saved));
    },
    summary: (): void => {
      if (count > RENAMED_ENTRIES_TOLD) onNotice?.(`saved ${count - RENAMED_ENTRIES_TOLD} more folder entries under other names (${WINDOWS_NAME_REASON})`);
    },
  };
}
