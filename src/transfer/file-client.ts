// src/transfer/file-client.ts
// The client side of a file transfer (§5.2): connects, sends the request, and hands what arrives to
// the fetcher (fetch-file.ts, fetch-folder.ts). An encrypted request (§5.6) comes with its
// decipher: every received byte is deciphered in place first.

import type { Cipher } from 'node:crypto';
import { type Socket, connect } from 'node:net';
import { IpmsgError } from '../errors.js';
import { cipherInPlace } from '../crypto/file-crypto.js';
import { formatEndpoint } from '../transport/address.js';

/** Size of each read from the socket. */
export const RECEIVE_BUFFER = 1024 * 1024;

/** A request packet, and the AES-256-CTR decipher of the stream it asks for (§5.6). */
export interface CipheredRequest {
  readonly bytes: Uint8Array;
  readonly decipher: Cipher | undefined;
}

export interface FetchCommon {
  readonly address: string;
  readonly port: number;
  /** Local address to connect from (--bind); the system's choice when undefined. */
  readonly localAddress?: string;
  /**
   * The whole request packet (an IPMsg text packet ending in NUL), sent in one write; made when the
   * connection is up, each time with a fresh packet number (and key).
   */
  readonly request: (offset: number) => Uint8Array | CipheredRequest;
  /** No byte for this long: the transfer is stalled. */
  readonly stallTimeout: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (bytes: number) => void;
}

export function transferError(message: string, cause?: unknown): IpmsgError {
  return new IpmsgError('IPMSG_ERR_TRANSFER', message, cause === undefined ? undefined : { cause });
}

/**
 * A local file error (a full disk, a file size limit, a lost mount) as IPMSG_ERR_IO naming the file
 * and the cause; other errors (already coded, an abort's reason) unchanged.
 */
export function diskError(path: string, error: unknown): unknown {
  if (error instanceof IpmsgError || typeof (error as NodeJS.ErrnoException).syscall !== 'string') return error;
  return new IpmsgError('IPMSG_ERR_IO', `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
}

export interface ReceiveHandler {
  /**
   * One read: `bytes` is a view of `owner`. Unless a `buffer` provider is given, `owner` is reused
   * for the next read, so the bytes are valid only during the call. 'pause' stops reading until
   * the function passed to `onResume` is called.
   */
  data(bytes: Buffer, owner: Uint8Array): 'more' | 'done' | 'pause';
  /** Supplies the buffer of each read (the handler then owns it until it hands it back). */
  buffer?: () => Uint8Array;
  onResume?: (resume: () => void) => void;
}

/**
 * Connects, sends the request, and hands every received chunk to the handler. Resolves when the
 * peer closes or the handler says 'done'.
 */
export function receive(options: FetchCommon, offset: number, handler: ReceiveHandler): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let socket: Socket | undefined;
    let decipher: Cipher | undefined;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = (): void => finish(options.signal?.reason as Error);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket = connect({
      host: options.address,
      port: options.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      noDelay: true,
      onread: {
        buffer: handler.buffer ?? Buffer.allocUnsafe(RECEIVE_BUFFER),
        callback: (n: number, buffer: Uint8Array): boolean => {
          if (settled) return false;
          let next: 'more' | 'done' | 'pause' = 'more';
          try {
            const received = Buffer.from(buffer.buffer, buffer.byteOffset, n);
            if (decipher) cipherInPlace(decipher, received);
            next = handler.data(received, buffer);
            if (next === 'done') finish();
          } catch (error) {
            finish(error as Error);
          }
          return !settled && next !== 'pause';
        },
      },
    });
    handler.onResume?.(() => {
      if (!settled) socket?.resume();
    });
    socket.setTimeout(options.stallTimeout, () => finish(transferError(`the transfer stalled: nothing arrived for ${options.stallTimeout / 1000}s`)));
    socket.on('connect', () => {
      try {
        const request = options.request(offset);
        if (request instanceof Uint8Array) socket?.write(request);
        else {
          decipher = request.decipher;
          socket?.write(request.bytes);
        }
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ECONNREFUSED'
          ? `${formatEndpoint(options.address, options.port)} refused the connection (no file server there, or a firewall)`
          : `the connection to ${formatEndpoint(options.address, options.port)} broke (${error.message})`;
      finish(transferError(why, error));
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
  });
}
