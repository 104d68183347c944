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
}

export class Endpoint {
  readonly socket: DatagramSocket;

  constructor(socket: DatagramSocket, options: EndpointOptions) {
    this.socket = socket;
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
    return this.socket.send(encodePacket(packet, options), to);
  }

  sendBytes(bytes: Uint8Array, to: RemoteAddress): Promise<void> {
    return this.socket.send(bytes, to);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}
