// src/transfer/file-server.ts
// The TCP side of an offer: reads each connection's request, has the offer registry grant it, and
// serves GETFILEDATA (from the requested offset) or GETDIRFILES (the folder stream) (§5.2–§5.4).
// Every run is bounded: a connection must ask within the request timeout, a transfer whose peer
// takes no bytes for the stall timeout is closed, and transfers are capped per recipient and in
// total (requests over a cap are refused, not queued). Encrypted streams are AES-256-CTR (§5.6).

import { createFileStreamCipher } from '../crypto/file-crypto.js';
import { type Server, type Socket, createServer } from 'node:net';
import { IpmsgError, isIpmsgError } from '../errors.js';
import type { Charset } from '../encoding/charset.js';
import { IPMSG_UTF8OPT, hasOpt } from '../protocol/command.js';
import { type Packet, decodePacket } from '../protocol/packet.js';
import { type Clock, type Timer, systemClock } from '../transport/clock.js';
import { ChunkWriter } from './chunk-writer.js';
import { type SendHooks, sendFile, sendFileAsStream, sendFolder } from './file-sender.js';
import type { OfferedFile } from './local-files.js';
import { type Grant, type OpenRequest, OfferRegistry } from './offer-registry.js';
import { requestProgress } from './request.js';
import { formatEndpoint } from '../transport/address.js';

/** Connections that have not sent a valid request by then are closed (the official: 10–20 s). */
export const DEFAULT_REQUEST_TIMEOUT = 10_000;
/** A transfer whose peer takes no bytes for this long is closed (the client's default stall timeout). */
export const DEFAULT_SEND_STALL_TIMEOUT = 30_000;
/** Transfers running at once to one recipient address (the official fetches one at a time). */
export const DEFAULT_MAX_TRANSFERS_PER_RECIPIENT = 8;
/** Transfers running at once in all. */
export const DEFAULT_MAX_TRANSFERS = 32;
const MAX_REQUEST_BYTES = 1024;

export interface ServedEvent {
  readonly packetNo: number;
  readonly fileId: number;
  readonly address: string;
  /** 'encrypted': signed request, AES-256-CTR stream; 'signed': signed request, clear stream (NOENC_FILEBODY). */
  readonly security: 'encrypted' | 'signed' | 'plain';
}

export interface FileServerOptions {
  readonly port: number;
  /** Where to listen; every address of both families (where the machine has IPv6) when absent. */
  readonly address?: string;
  /** With `address` `::`: IPv6 alone (-6). */
  readonly ipv6Only?: boolean;
  /** Code page for names in folder streams when the request is not flagged UTF-8. */
  readonly charset: Charset;
  readonly fallbackCharset: Charset;
  /** ms; default DEFAULT_REQUEST_TIMEOUT. */
  readonly requestTimeout?: number;
  /** ms without the peer taking a byte after which a transfer is closed; default DEFAULT_SEND_STALL_TIMEOUT. */
  readonly stallTimeout?: number;
  /** Default DEFAULT_MAX_TRANSFERS_PER_RECIPIENT. */
  readonly maxTransfersPerRecipient?: number;
  /** Default DEFAULT_MAX_TRANSFERS. */
  readonly maxTransfers?: number;
  /** The timers of the two timeouts; default systemClock. */
  readonly clock?: Clock;
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
  readonly openRequest?: OpenRequest;
}

export class FileServer {
  readonly #server: Server;
  readonly #options: FileServerOptions;
  readonly #clock: Clock;
  readonly #offers: OfferRegistry;
  readonly #sockets = new Set<Socket>();
  /** Transfers running, per recipient address. */
  readonly #running = new Map<string, number>();
  #runningTotal = 0;

  private constructor(server: Server, options: FileServerOptions) {
    this.#server = server;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#offers = new OfferRegistry(options.downloadsPerRecipient ?? 1, options.openRequest);
    server.on('connection', (socket) => this.#accept(socket));
  }

  /**
   * Listens on the TCP port with the number of our UDP port (peers connect there: §5.2).
   * @throws IpmsgError IPMSG_ERR_UNAVAILABLE
   */
  static listen(options: FileServerOptions): Promise<FileServer> {
    return new Promise((resolve, reject) => {
      // Half-open: a client that ends its side after the request still gets the data.
      const server = createServer({ noDelay: true, allowHalfOpen: true });
      server.once('error', (error: NodeJS.ErrnoException) => {
        const where = formatEndpoint(options.address ?? '0.0.0.0', options.port);
        const reason = error.code === 'EADDRINUSE' ? 'the port is in use (another IP Messenger client?)' : error.message;
        reject(new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot listen on TCP ${where}: ${reason}`, { cause: error }));
      });
      server.listen({ port: options.port, ...(options.address ? { host: options.address } : {}), ...(options.ipv6Only ? { ipv6Only: true } : {}), exclusive: true }, () => {
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
    this.#offers.add(packetNo, files, recipients);
  }

  /**
   * The offer went to `address` encrypted, for the peer `signer` (`base@host`): that recipient must
   * ask with a request signed by that peer; plain requests from it are refused.
   */
  requireSigned(packetNo: number, address: string, signer: string): void {
    this.#offers.requireSigned(packetNo, address, signer);
  }

  /** RELEASEFILES: that recipient will not fetch (§5.5). */
  release(packetNo: number, address: string): boolean {
    return this.#offers.release(packetNo, address);
  }

  /** Whether every remaining recipient fetched every file (or all released the offer). */
  isComplete(packetNo: number): boolean {
    return this.#offers.isComplete(packetNo);
  }

  /** Files not yet fetched, per recipient address. */
  pending(packetNo: number): Map<string, number[]> {
    return this.#offers.pending(packetNo);
  }

  /** Recipients who may still fetch (not released). */
  recipients(packetNo: number): number {
    return this.#offers.recipients(packetNo);
  }

  downloads(packetNo: number): number {
    return this.#offers.downloads(packetNo);
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
    const timer = this.#clock.after(this.#options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT, () => {
      const why = received.length === 0 ? 'sent no valid request' : `sent ${received.length} bytes of a request without its end (NUL)`;
      this.#options.onWarning(`closed a connection from ${address} that ${why} in time`);
      socket.destroy();
    });
    /** Stops reading: the request is what came so far (`ended`: the peer closed its side without a NUL). */
    const take = (request: Buffer, ended: boolean): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      timer.cancel();
      let packet: Packet;
      try {
        packet = decodePacket(request, { fallbackCharset: this.#options.fallbackCharset });
      } catch (error) {
        return this.#reject(socket, address, `${ended ? 'the request ended without its NUL: ' : ''}${(error as Error).message}`);
      }
      void this.#serve(socket, address, packet).catch((error: unknown) => this.#reject(socket, address, (error as Error).message));
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(0);
      if (end >= 0) return take(received.subarray(0, end + 1), false);
      if (received.length > MAX_REQUEST_BYTES) return this.#refuseEarly(socket, address, timer, onData, 'request longer than 1 KiB');
      // A request without its NUL is served as soon as its fields are complete (a client that
      // sends none, then waits for the data).
      const progress = requestProgress(received);
      if (progress === 'complete') return take(received, false);
      if (progress === 'invalid') return this.#refuseEarly(socket, address, timer, onData, 'not a file request');
    };
    const onEnd = (): void => {
      if (received.length === 0) return this.#refuseEarly(socket, address, timer, onData, 'the connection ended before a request');
      take(received, true);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', () => timer.cancel());
  }

  #refuseEarly(socket: Socket, address: string, timer: Timer, onData: (chunk: Buffer) => void, reason: string): void {
    socket.off('data', onData);
    timer.cancel();
    this.#reject(socket, address, reason);
  }

  #reject(socket: Socket, address: string, reason: string): void {
    this.#options.onWarning(`refused a file request from ${address}: ${reason}`);
    socket.destroy();
  }

  /** Why a new transfer to `address` must wait, or undefined when it may start. */
  #overCap(address: string): string | undefined {
    const perRecipient = this.#options.maxTransfersPerRecipient ?? DEFAULT_MAX_TRANSFERS_PER_RECIPIENT;
    const total = this.#options.maxTransfers ?? DEFAULT_MAX_TRANSFERS;
    if ((this.#running.get(address) ?? 0) >= perRecipient) return `${perRecipient} transfers to ${address} are running already (the most per recipient)`;
    if (this.#runningTotal >= total) return `${total} transfers are running already (the most at once)`;
    return undefined;
  }

  async #serve(socket: Socket, address: string, packet: Packet): Promise<void> {
    const grant = await this.#offers.authorise(packet, address);
    if (socket.destroyed) return grant.finish(false);
    const busy = this.#overCap(address);
    if (busy !== undefined) {
      grant.finish(false);
      return this.#reject(socket, address, busy);
    }
    this.#running.set(address, (this.#running.get(address) ?? 0) + 1);
    this.#runningTotal++;
    const event: ServedEvent = { packetNo: grant.packetNo, fileId: grant.file.fileId, address, security: grant.security };
    const watch = this.#watchStall(socket);
    let fetched = false;
    try {
      // The nonce is the request's packet number as its header carries it (the official's ivPacketNo).
      const cipher = grant.body?.kind === 'aes-256-ctr' ? createFileStreamCipher(grant.body.key, packet.packetNo) : undefined;
      const writer = new ChunkWriter(socket, cipher, watch.progress);
      const names: Charset = hasOpt(packet.command, IPMSG_UTF8OPT) ? 'utf-8' : this.#options.charset;
      const bytes = await this.#send(writer, grant, names, event);
      await writer.drain();
      // Every byte reached the kernel (a peer that left early makes the writes fail instead).
      await new Promise<void>((resolve) => socket.end(resolve));
      // The end callback comes also when the socket was destroyed meanwhile (a stall, close()).
      if (!socket.writableFinished) throw new IpmsgError('IPMSG_ERR_TRANSFER', 'the connection closed before the last bytes went out');
      fetched = true;
      grant.finish(true);
      this.#options.onDone?.({ ...event, bytes });
    } catch (error) {
      socket.destroy();
      const reason = watch.stalled() ?? (isIpmsgError(error) ? error.message : `the connection broke (${(error as Error).message})`);
      this.#options.onFailed?.({ ...event, reason });
    } finally {
      watch.cancel();
      if (!fetched) grant.finish(false);
      const left = (this.#running.get(address) ?? 1) - 1;
      if (left > 0) this.#running.set(address, left);
      else this.#running.delete(address);
      this.#runningTotal--;
    }
  }

  #send(writer: ChunkWriter, grant: Grant, names: Charset, event: ServedEvent): Promise<number> {
    const hooks: SendHooks = {
      onStart: (total, offset) => this.#options.onStart?.({ ...event, total, offset }),
      onProgress: (bytes) => this.#options.onProgress?.({ ...event, bytes }),
      onWarning: this.#options.onWarning,
    };
    if (grant.shape === 'file-as-stream') return sendFileAsStream(writer, grant.file, names, hooks);
    if (grant.shape === 'dir') return sendFolder(writer, grant.file, names, hooks);
    return sendFile(writer, grant.file, grant.offset, hooks);
  }

  /**
   * Closes `socket` when it has taken no bytes for the stall timeout. `progress` is called on each
   * write it takes; `stalled` tells why it was closed, when it was.
   */
  #watchStall(socket: Socket): { progress: () => void; stalled: () => string | undefined; cancel: () => void } {
    const limit = this.#options.stallTimeout ?? DEFAULT_SEND_STALL_TIMEOUT;
    const clock = this.#clock;
    let last = clock.now();
    let reason: string | undefined;
    let timer: Timer;
    const check = (): void => {
      const idle = clock.now() - last;
      if (idle < limit) {
        timer = clock.after(limit - idle, check);
        return;
      }
      reason = `the recipient took no bytes for ${limit / 1000}s`;
      socket.destroy();
    };
    timer = clock.after(limit, check);
    return {
      progress: () => (last = clock.now()),
      stalled: () => reason,
      cancel: () => timer.cancel(),
    };
  }
}
