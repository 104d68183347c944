// src/transport/endpoint.ts
// A bound UDP socket plus the packet codec: what arrives is decoded (a bad datagram is a warning,
// never a crash), what leaves is encoded.

import { isIpmsgError } from '../errors.js';
import type { Charset } from '../encoding/charset.js';
import type { DecodeLimits } from '../protocol/limits.js';
import { type EncodeOptions, type Packet, decodePacket, encodePacket } from '../protocol/packet.js';
import type { DatagramSocket, RemoteAddress } from './datagram.js';

export interface EndpointOptions {
  readonly fallbackCharset: Charset;
  readonly limits?: DecodeLimits;
  readonly onPacket: (packet: Packet, from: RemoteAddress) => void;
  readonly onWarning: (message: string) => void;
  /** Datagrams handed to the socket and not yet sent, at most (default SEND_WINDOW). */
  readonly sendWindow?: number;
}

/**
 * A burst (one message to a thousand peers) goes out at most this many datagrams at a time: the
 * socket's queue, and the kernel's, never hold the whole burst (ENOBUFS, drops at the sender).
 */
export const SEND_WINDOW = 64;

interface Queued {
  readonly bytes: Uint8Array;
  readonly to: RemoteAddress;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class Endpoint {
  readonly socket: DatagramSocket;
  readonly #window: number;
  #sending = 0;
  #queue: Queued[] = [];
  #head = 0;

  constructor(socket: DatagramSocket, options: EndpointOptions) {
    this.socket = socket;
    this.#window = Math.max(1, options.sendWindow ?? SEND_WINDOW);
    const decodeOptions = {
      fallbackCharset: options.fallbackCharset,
      ...(options.limits ? { limits: options.limits } : {}),
    };
    socket.onMessage((bytes, from) => {
      let packet: Packet;
      try {
        packet = decodePacket(bytes, decodeOptions);
      } catch (error) {
        const reason = isIpmsgError(error) ? error.message : `decoder failure: ${String(error)}`;
        options.onWarning(`ignored a datagram of ${bytes.length} bytes from ${from.address}:${from.port}: ${reason}`);
        return;
      }
      try {
        options.onPacket(packet, from);
      } catch (error) {
        options.onWarning(`failed to handle a ${packet.kind} packet from ${from.address}:${from.port}: ${String(error)}`);
      }
    });
    socket.onError((error) => options.onWarning(`socket error: ${error.message}`));
  }

  get port(): number {
    return this.socket.port;
  }

  /** Encodes and sends; encoding errors (text the code page cannot hold) are thrown before anything is sent. */
  send(packet: Packet, to: RemoteAddress, options?: EncodeOptions): Promise<void> {
    return this.sendBytes(encodePacket(packet, options), to);
  }

  /** Sends at once when the window has room, else after the datagrams before it. */
  sendBytes(bytes: Uint8Array, to: RemoteAddress): Promise<void> {
    if (this.#sending < this.#window) return this.#send(bytes, to);
    return new Promise((resolve, reject) => this.#queue.push({ bytes, to, resolve, reject }));
  }

  /** Datagrams handed to the socket and not yet sent (at most the window). */
  get sending(): number {
    return this.#sending;
  }

  #send(bytes: Uint8Array, to: RemoteAddress): Promise<void> {
    this.#sending++;
    const sent = this.socket.send(bytes, to);
    // Not .finally(): that is two more promises per datagram, and a burst sends thousands.
    sent.then(this.#sent, this.#sent);
    return sent;
  }

  readonly #sent = (): void => {
    this.#sending--;
    this.#next();
  };

  #next(): void {
    const queued = this.#queue[this.#head];
    if (!queued) return;
    this.#queue[this.#head++] = undefined as unknown as Queued;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    this.#send(queued.bytes, queued.to).then(queued.resolve, queued.reject);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}
