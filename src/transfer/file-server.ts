// src/transfer/file-server.ts
// The TCP side of an offer: serves GETFILEDATA (from the requested offset) and GETDIRFILES (the
// hierarchical stream) to the recipients of active offers, and nothing to anyone else (§5.4).
// Encrypted requests (§5.6) are opened and their signature checked by `openRequest`; a replayed
// one is refused, and the stream is AES-256-CTR when the request gave a key.

import type { FileBodyCrypto } from '../crypto/file-body.js';
import { createFileStreamCipher } from '../crypto/file-crypto.js';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { IpmsgError, isIpmsgError } from '../errors.js';
import { type Charset, encodeText } from '../encoding/charset.js';
import { COMMANDS, IPMSG_ENCFILEOPT, IPMSG_ENCRYPTOPT, IPMSG_UTF8OPT, getMode, hasOpt } from '../protocol/command.js';
import { IPMSG_FILE_DIR, IPMSG_FILE_REGULAR, IPMSG_FILE_RETPARENT } from '../protocol/file-attr.js';
import { type OtherPacket, type Packet, decodePacket } from '../protocol/packet.js';
import { ChunkWriter } from './chunk-writer.js';
import { type DirHeader, MAX_SENT_DIR_HEADER_BYTES, encodeDirHeader, writeDirHeader } from './dir-header.js';
import type { FileNode, FolderNode, OfferedFile } from './local-files.js';
import { type FileRequest, parseEncryptedRequest, parseFileRequest } from './request.js';

/** Connections that have not sent a valid request by then are closed (the official: 10–20 s). */
export const DEFAULT_REQUEST_TIMEOUT = 10_000;
const MAX_REQUEST_BYTES = 1024;
const PROGRESS_STEP = 1024 * 1024;

export interface ServedEvent {
  readonly packetNo: number;
  readonly fileId: number;
  readonly address: string;
  /** 'encrypted': signed request, AES-256-CTR stream; 'signed': signed request, clear stream (NOENC_FILEBODY). */
  readonly security: 'encrypted' | 'signed' | 'plain';
}

/** An encrypted request, decrypted and its signature verified. */
export interface OpenedRequest {
  /** The plaintext: `packetID:fileID:[offset:]` and the §5.6 fields. */
  readonly plaintext: string;
  /** Who signed it (the known peer whose key verified the signature, `base@host`). */
  readonly signer: string;
}

export interface FileServerOptions {
  readonly port: number;
  readonly address?: string;
  /** Code page for names in folder streams when the request is not flagged UTF-8. */
  readonly charset: Charset;
  readonly fallbackCharset: Charset;
  readonly requestTimeout?: number;
  /** How many complete downloads of one file each recipient may make (the official: 1). */
  readonly downloadsPerRecipient?: number;
  readonly onStart?: (event: ServedEvent & { readonly total: number; readonly offset: number }) => void;
  readonly onProgress?: (event: ServedEvent & { readonly bytes: number }) => void;
  readonly onDone?: (event: ServedEvent & { readonly bytes: number }) => void;
  readonly onFailed?: (event: ServedEvent & { readonly reason: string }) => void;
  readonly onWarning: (message: string) => void;
  /**
   * Decrypts an ENCRYPTOPT request and verifies its signature with the requester's pinned key.
   * Without it (no keys), encrypted requests are refused.
   * @throws IpmsgError with the reason to refuse
   */
  readonly openRequest?: (packet: OtherPacket, address: string) => Promise<OpenedRequest>;
}

interface ActiveOffer {
  readonly packetNo: number;
  readonly files: readonly OfferedFile[];
  readonly recipients: Set<string>;
  /** Completed downloads per `${address}/${fileId}`. */
  readonly done: Map<string, number>;
  readonly busy: Set<string>;
  /** Recipients the offer went to encrypted: address → the peer it was encrypted for. */
  readonly signers: Map<string, string>;
}

interface ReadRequest {
  readonly request: FileRequest;
  readonly body: FileBodyCrypto | undefined;
  readonly signer: string | undefined;
}

function refused(reason: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_PROTOCOL', `refused a file request: ${reason}`);
}

export class FileServer {
  readonly #server: Server;
  readonly #options: FileServerOptions;
  readonly #offers = new Map<number, ActiveOffer>();
  readonly #sockets = new Set<Socket>();
  /** The last request packet number per signer (replay protection, §5.6). */
  readonly #lastRequest = new Map<string, number>();

  private constructor(server: Server, options: FileServerOptions) {
    this.#server = server;
    this.#options = options;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /**
   * Listens on the TCP port with the number of our UDP port (peers connect there: §5.2).
   * @throws IpmsgError IPMSG_ERR_UNAVAILABLE
   */
  static listen(options: FileServerOptions): Promise<FileServer> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true });
      server.once('error', (error: NodeJS.ErrnoException) => {
        const where = `${options.address ?? '0.0.0.0'}:${options.port}`;
        const reason = error.code === 'EADDRINUSE' ? 'the port is in use (another IP Messenger client?)' : error.message;
        reject(new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot listen on TCP ${where}: ${reason}`, { cause: error }));
      });
      server.listen({ port: options.port, ...(options.address ? { host: options.address } : {}), exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', (error) => options.onWarning(`file server: ${error.message}`));
        resolve(new FileServer(server, options));
      });
    });
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  addOffer(packetNo: number, files: readonly OfferedFile[], recipients: readonly string[]): void {
    this.#offers.set(packetNo, { packetNo, files, recipients: new Set(recipients), done: new Map(), busy: new Set(), signers: new Map() });
  }

  /**
   * The offer went to `address` encrypted, for the peer `signer` (`base@host`): that recipient must
   * ask with a request signed by that peer; plain requests from it are refused.
   */
  requireSigned(packetNo: number, address: string, signer: string): void {
    this.#offers.get(packetNo)?.signers.set(address, signer);
  }

  /** RELEASEFILES: that recipient will not fetch (§5.5). */
  release(packetNo: number, address: string): boolean {
    const offer = this.#offers.get(packetNo);
    return offer?.recipients.delete(address) ?? false;
  }

  /** Whether every remaining recipient fetched every file (or all released the offer). */
  isComplete(packetNo: number): boolean {
    const offer = this.#offers.get(packetNo);
    if (!offer) return true;
    for (const address of offer.recipients) {
      for (const file of offer.files) if (!offer.done.has(`${address}/${file.fileId}`)) return false;
    }
    return true;
  }

  /** Files not yet fetched, per recipient address. */
  pending(packetNo: number): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const offer = this.#offers.get(packetNo);
    for (const address of offer?.recipients ?? []) {
      const missing = offer?.files.filter((f) => !offer.done.has(`${address}/${f.fileId}`)).map((f) => f.fileId) ?? [];
      if (missing.length > 0) out.set(address, missing);
    }
    return out;
  }

  /** Recipients who may still fetch (not released). */
  recipients(packetNo: number): number {
    return this.#offers.get(packetNo)?.recipients.size ?? 0;
  }

  downloads(packetNo: number): number {
    let total = 0;
    for (const count of this.#offers.get(packetNo)?.done.values() ?? []) total += count;
    return total;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined); // reported where the transfer fails
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      this.#options.onWarning(`closed a connection from ${address} that sent no valid request in time`);
      socket.destroy();
    }, this.#options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(0);
      if (end < 0 && received.length <= MAX_REQUEST_BYTES) return;
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      if (end < 0) return this.#reject(socket, address, 'request longer than 1 KiB');
      let packet: Packet;
      try {
        packet = decodePacket(received.subarray(0, end + 1), { fallbackCharset: this.#options.fallbackCharset });
      } catch (error) {
        return this.#reject(socket, address, (error as Error).message);
      }
      void this.#serve(socket, address, packet).catch((error: unknown) => this.#reject(socket, address, (error as Error).message));
    };
    socket.on('data', onData);
    socket.on('close', () => clearTimeout(timer));
  }

  #reject(socket: Socket, address: string, reason: string): void {
    this.#options.onWarning(`refused a file request from ${address}: ${reason}`);
    socket.destroy();
  }

  async #serve(socket: Socket, address: string, packet: Packet): Promise<void> {
    const mode = getMode(packet.command);
    if (packet.kind !== 'OTHER' || (mode !== COMMANDS.IPMSG_GETFILEDATA && mode !== COMMANDS.IPMSG_GETDIRFILES)) {
      throw refused(`command 0x${mode.toString(16)} is not a file request`);
    }
    const wantsDir = mode === COMMANDS.IPMSG_GETDIRFILES;
    const { request, body, signer } = await this.#read(packet, wantsDir ? 'dir' : 'file', address);
    const offer = this.#offers.get(request.packetNo);
    if (!offer) throw refused(`no offer ${request.packetNo}`);
    if (!offer.recipients.has(address)) throw refused(`${address} is not a recipient of offer ${request.packetNo}`);
    const wanted = offer.signers.get(address);
    if (wanted !== undefined && signer !== wanted) {
      throw refused(signer === undefined ? `the offer went to ${address} encrypted: a plain request is not accepted from it` : `signed by ${signer}, but the offer went to ${wanted}`);
    }
    const file = request.fileIds.map((id) => offer.files.find((f) => f.fileId === id)).find((f) => f !== undefined);
    if (!file) throw refused(`offer ${request.packetNo} has no file ${request.fileIds.join(' or ')}`);
    // A file asked for with GETDIRFILES goes as a one-entry stream, as the official sends it to its
    // own encrypted requests (§5.6); plain requests must ask for the kind offered (as iptux does).
    const fileAsStream = wantsDir && file.kind === 'file' && signer !== undefined;
    if (wantsDir !== (file.kind === 'dir') && !fileAsStream) throw refused(`${file.name} is a ${file.kind === 'dir' ? 'folder' : 'file'}`);
    const key = `${address}/${file.fileId}`;
    const limit = this.#options.downloadsPerRecipient ?? 1;
    if (offer.busy.has(key)) throw refused(`${file.name} is already being sent to ${address}`);
    if ((offer.done.get(key) ?? 0) >= limit) throw refused(`${file.name} was already fetched by ${address}`);
    offer.busy.add(key);
    const security = signer === undefined ? 'plain' : body?.kind === 'aes-256-ctr' ? 'encrypted' : 'signed';
    const event: ServedEvent = { packetNo: offer.packetNo, fileId: file.fileId, address, security };
    // The nonce is the request's packet number as its header carries it (the official's ivPacketNo).
    const writer = new ChunkWriter(socket, body?.kind === 'aes-256-ctr' ? createFileStreamCipher(body.key, packet.packetNo) : undefined);
    try {
      const names: Charset = hasOpt(packet.command, IPMSG_UTF8OPT) ? 'utf-8' : this.#options.charset;
      const bytes = fileAsStream
        ? await this.#sendFileAsStream(writer, file, names, event)
        : wantsDir
          ? await this.#sendFolder(writer, file, names, event)
          : await this.#sendFile(writer, file, request.offset, event);
      await writer.drain();
      // Every byte reached the kernel (a peer that left early makes the writes fail instead).
      await new Promise<void>((resolve) => socket.end(resolve));
      offer.done.set(key, (offer.done.get(key) ?? 0) + 1);
      this.#options.onDone?.({ ...event, bytes });
    } catch (error) {
      socket.destroy();
      const reason = isIpmsgError(error) ? error.message : `the connection broke (${(error as Error).message})`;
      this.#options.onFailed?.({ ...event, reason });
    } finally {
      offer.busy.delete(key);
    }
  }

  /**
   * The request as asked: a plain body, or an encrypted one opened by `openRequest` (its signature
   * verified), whose packet number must be above the last one of the same signer (§5.6: a recorded
   * request sent again gets nothing).
   */
  async #read(packet: OtherPacket, kind: 'file' | 'dir', address: string): Promise<ReadRequest> {
    if (!hasOpt(packet.command, IPMSG_ENCRYPTOPT)) {
      const request = parseFileRequest(Buffer.from(packet.body).toString('latin1'));
      if (!request) throw refused('malformed request body');
      return { request, body: undefined, signer: undefined };
    }
    if (!this.#options.openRequest) throw refused('it is encrypted, and we have no keys');
    const opened = await this.#options.openRequest(packet, address);
    const request = parseEncryptedRequest(opened.plaintext, kind, hasOpt(packet.command, IPMSG_ENCFILEOPT));
    if (!request) throw refused(`malformed encrypted request from ${opened.signer}`);
    const packetNo = request.body?.packetNo;
    if (packetNo !== undefined) {
      const last = this.#lastRequest.get(opened.signer);
      if (last !== undefined && packetNo <= last) throw refused(`replayed request: packet ${packetNo} of ${opened.signer} is not after its last, ${last}`);
      this.#lastRequest.set(opened.signer, packetNo);
    }
    return { request, body: request.body, signer: opened.signer };
  }

  /** A regular file as a one-entry folder stream: its header, then its bytes. */
  async #sendFileAsStream(writer: ChunkWriter, file: OfferedFile, names: Charset, event: ServedEvent): Promise<number> {
    const fd = openSync(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const size = fstatSync(fd).size;
      this.#options.onStart?.({ ...event, total: size, offset: 0 });
      const name = names === 'utf-8' ? Buffer.from(file.name, 'utf8') : encodeText(file.name, names, true);
      await writer.append(encodeDirHeader({ name, size, attr: IPMSG_FILE_REGULAR, mtime: file.mtime, ctime: file.mtime }));
      let sent = 0;
      const n = await writer.appendFile(fd, 0, size, (chunk) => {
        sent += chunk;
        this.#options.onProgress?.({ ...event, bytes: sent });
      });
      if (n < size) await writer.append(new Uint8Array(size - n));
      return size;
    } finally {
      closeSync(fd);
    }
  }

  /** Sends the file from `offset`; returns the content bytes sent. */
  async #sendFile(writer: ChunkWriter, file: OfferedFile, offset: number, event: ServedEvent): Promise<number> {
    const fd = openSync(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const size = fstatSync(fd).size;
      const start = Math.min(offset, size);
      this.#options.onStart?.({ ...event, total: size, offset: start });
      let sent = 0;
      await writer.appendFile(fd, start, size - start, (n) => {
        sent += n;
        this.#options.onProgress?.({ ...event, bytes: start + sent });
      });
      return sent;
    } finally {
      closeSync(fd);
    }
  }

  /** The folder as it was listed when offered: files are read now, at their listed size. Returns the content bytes. */
  async #sendFolder(writer: ChunkWriter, file: OfferedFile, names: Charset, event: ServedEvent): Promise<number> {
    this.#options.onStart?.({ ...event, total: file.size, offset: 0 });
    for (const skipped of file.skipped ?? []) this.#options.onWarning(`did not send ${skipped.path}: ${skipped.reason}`);
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
        this.#options.onWarning(`sent ${entry.path} as empty: ${(error as Error).message}`);
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
      // Reported per MiB, not per file: a folder of 10,000 small files would pay for each.
      if (bytes - reported >= PROGRESS_STEP) {
        reported = bytes;
        this.#options.onProgress?.({ ...event, bytes });
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
    if (bytes !== reported) this.#options.onProgress?.({ ...event, bytes });
    return bytes;
  }
}
