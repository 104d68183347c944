// src/transfer/file-sender.ts
// What the file server writes for a granted request (§5.2, §5.3): a file from an offset, a file as
// a one-entry folder stream, or a folder as it was listed when offered.

import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { IpmsgError } from '../errors.js';
import { type Charset, encodeText } from '../encoding/charset.js';
import { IPMSG_FILE_DIR, IPMSG_FILE_REGULAR, IPMSG_FILE_RETPARENT } from '../protocol/file-attr.js';
import type { ChunkWriter } from './chunk-writer.js';
import { type DirHeader, MAX_SENT_DIR_HEADER_BYTES, encodeDirHeader, writeDirHeader } from './dir-header.js';
import type { FileNode, FolderNode, OfferedFile } from './local-files.js';

const PROGRESS_STEP = 1024 * 1024;

/** What a transfer reports: its size and start, the content bytes sent so far, files left out. */
export interface SendHooks {
  readonly onStart: (total: number, offset: number) => void;
  readonly onProgress: (bytes: number) => void;
  readonly onWarning: (message: string) => void;
}

/** A regular file as a one-entry folder stream: its header, then its bytes. */
export async function sendFileAsStream(writer: ChunkWriter, file: OfferedFile, names: Charset, hooks: SendHooks): Promise<number> {
  const fd = openSync(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    hooks.onStart(size, 0);
    const name = names === 'utf-8' ? Buffer.from(file.name, 'utf8') : encodeText(file.name, names, true);
    await writer.append(encodeDirHeader({ name, size, attr: IPMSG_FILE_REGULAR, mtime: file.mtime, ctime: file.mtime }));
    let sent = 0;
    const n = await writer.appendFile(fd, 0, size, (chunk) => {
      sent += chunk;
      hooks.onProgress(sent);
    });
    if (n < size) await writer.append(new Uint8Array(size - n));
    return size;
  } finally {
    closeSync(fd);
  }
}

/** Sends the file from `offset`; returns the content bytes sent. */
export async function sendFile(writer: ChunkWriter, file: OfferedFile, offset: number, hooks: SendHooks): Promise<number> {
  const fd = openSync(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    const start = Math.min(offset, size);
    hooks.onStart(size, start);
    let sent = 0;
    await writer.appendFile(fd, start, size - start, (n) => {
      sent += n;
      hooks.onProgress(start + sent);
    });
    return sent;
  } finally {
    closeSync(fd);
  }
}

/** The folder as it was listed when offered: files are read now, at their listed size. Returns the content bytes. */
export async function sendFolder(writer: ChunkWriter, file: OfferedFile, names: Charset, hooks: SendHooks): Promise<number> {
  hooks.onStart(file.size, 0);
  for (const skipped of file.skipped ?? []) hooks.onWarning(`did not send ${skipped.path}: ${skipped.reason}`);
  if (!file.tree) throw new IpmsgError('IPMSG_ERR_INTERNAL', `${file.name} was offered without its listing`);
  // Buffer.from() takes short strings from a pool: cheaper than a TextEncoder view per name.
  const name = names === 'utf-8' ? (text: string): Uint8Array => Buffer.from(text, 'utf8') : (text: string): Uint8Array => encodeText(text, names, true);
  const put = async (header: DirHeader): Promise<void> => {
    if (!writer.tryWrite((buffer, offset) => writeDirHeader(buffer, offset, header))) await writer.append(encodeDirHeader(header));
  };
  let bytes = 0;
  let reported = 0;
  const sendFile = async (entry: FileNode): Promise<void> => {
    let fd: number;
    try {
      fd = openSync(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      hooks.onWarning(`sent ${entry.path} as empty: ${(error as Error).message}`);
      await put({ name: name(`${entry.name} (Can't open)`), size: 0, attr: IPMSG_FILE_REGULAR });
      return;
    }
    try {
      await put({ name: name(entry.name), size: entry.size, attr: IPMSG_FILE_REGULAR, mtime: entry.mtime, ctime: entry.mtime });
      const n = writer.tryAppendFile(fd, entry.size) ?? (await writer.appendFile(fd, 0, entry.size));
      // The header promised the listed size: a file that shrank since is padded (one that grew, cut).
      if (n < entry.size) await writer.append(new Uint8Array(entry.size - n));
    } finally {
      closeSync(fd);
    }
    bytes += entry.size;
    // Reported per MiB, not per file: a folder of many small files would pay for each.
    if (bytes - reported >= PROGRESS_STEP) {
      reported = bytes;
      hooks.onProgress(bytes);
    }
  };
  /** A file that fits in the send buffer, header and all, goes in without a single await. */
  const sendSmallFile = (entry: FileNode): boolean => {
    if (MAX_SENT_DIR_HEADER_BYTES + entry.size > writer.room) return false;
    const header: DirHeader = { name: name(entry.name), size: entry.size, attr: IPMSG_FILE_REGULAR, mtime: entry.mtime, ctime: entry.mtime };
    let fd: number;
    try {
      fd = openSync(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return false; // sendFile says why
    }
    try {
      writer.tryWrite((buffer, offset) => writeDirHeader(buffer, offset, header));
      const n = writer.tryAppendFile(fd, entry.size) ?? 0;
      if (n < entry.size) writer.tryAppend(new Uint8Array(entry.size - n));
    } finally {
      closeSync(fd);
    }
    bytes += entry.size;
    return true;
  };
  const sendDir = async (dir: FolderNode, label: string): Promise<void> => {
    await put({ name: name(label), size: 0, attr: IPMSG_FILE_DIR, mtime: dir.mtime, ctime: dir.mtime });
    for (const entry of dir.entries) {
      if (entry.kind === 'dir') await sendDir(entry, entry.name);
      else if (!sendSmallFile(entry)) await sendFile(entry);
    }
    await put({ name: name('.'), size: 0, attr: IPMSG_FILE_RETPARENT, mtime: dir.mtime, ctime: dir.mtime });
  };
  // The top folder goes by its offered name; the receiver may pick its own (§5.3).
  await sendDir(file.tree, file.name);
  // The last part (under a MiB, or the whole of a small folder) is reported too.
  if (bytes !== reported) hooks.onProgress(bytes);
  return bytes;
}
