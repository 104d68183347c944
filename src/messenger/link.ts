// src/messenger/link.ts
// What the conversations of a Messenger share: the bound endpoint, the retry engine, the peer
// table, the charset each peer reads, our identity as we announce it, and the packet numbers.

import { IpmsgError } from '../errors.js';
import { IPMSG_ABSENCEOPT, IPMSG_FILEATTACHOPT } from '../protocol/command.js';
import { type Packet, encodePacket } from '../protocol/packet.js';
import type { PacketNo } from '../protocol/packet-no.js';
import type { Family } from '../transport/address.js';
import { broadcastTargets } from '../transport/broadcast.js';
import type { RemoteAddress } from '../transport/datagram.js';
import type { Endpoint } from '../transport/endpoint.js';
import { Exchanges } from '../transport/reliable.js';
import { Charsets } from './charsets.js';
import type { MessengerOptions } from './options.js';
import type { Sender } from './packets.js';
import { PeerTable } from './peers.js';

/** How one broadcast target went: `error` when the network refused to send to it. */
export interface BroadcastResult {
  readonly address: string;
  readonly error?: Error;
}

export class Link {
  readonly options: MessengerOptions;
  readonly endpoint: Endpoint;
  readonly exchanges: Exchanges;
  readonly peers = new PeerTable();
  /** The charset each peer is sent. */
  readonly charsets: Charsets;
  /** Set when the wanted port was taken: answers sent to that port (iptux) never reach us. */
  readonly #fellBackFrom: number | undefined;
  /** The families the socket speaks. */
  readonly families: readonly Family[];
  #sender: Sender;

  constructor(options: MessengerOptions, endpoint: Endpoint, sender: Sender, fellBackFrom: number | undefined, families: readonly Family[]) {
    this.options = options;
    this.families = families;
    this.endpoint = endpoint;
    this.exchanges = new Exchanges(options.clock);
    this.charsets = new Charsets(options);
    this.#sender = sender;
    this.#fellBackFrom = fellBackFrom;
  }

  /** Who we are on the wire, with the status bits we can honour now. */
  get sender(): Sender {
    return this.#sender;
  }

  /** From now on we advertise FILEATTACHOPT: we can serve files. */
  advertiseFiles(): void {
    this.#sender = { ...this.#sender, status: this.#sender.status | IPMSG_FILEATTACHOPT };
  }

  /** ABSENCEOPT in our entries from now on, or no longer (§3.1). */
  setAbsent(absent: boolean): void {
    const status = absent ? this.#sender.status | IPMSG_ABSENCEOPT : this.#sender.status & ~IPMSG_ABSENCEOPT;
    this.#sender = { ...this.#sender, status };
  }

  next(): PacketNo {
    return this.options.packetNumbers.next();
  }

  /** Sends an answer; a failure is only a warning (the peer asks again). */
  reply(packet: Packet, to: RemoteAddress): void {
    this.endpoint.send(packet, to, { lossy: true }).catch((error: unknown) => {
      this.options.onWarning(`cannot answer ${to.address}:${to.port}: ${(error as Error).message}`);
    });
  }

  broadcastTargets(): string[] {
    return broadcastTargets({
      ...(this.options.bind ? { bind: this.options.bind } : {}),
      extra: this.options.broadcast,
      families: this.families,
      ...(this.options.interfaces ? { interfaces: this.options.interfaces } : {}),
    });
  }

  /**
   * Sends one packet to every broadcast target and returns how each went (in target order);
   * fails only when no target could be reached.
   * @throws IpmsgError IPMSG_ERR_UNAVAILABLE
   */
  async broadcast(packet: Packet): Promise<BroadcastResult[]> {
    const bytes = encodePacket(packet, { lossy: this.options.lossy });
    const results = await Promise.all(
      this.broadcastTargets().map((address) =>
        this.endpoint.sendBytes(bytes, { address, port: this.options.port }).then(
          (): BroadcastResult => ({ address }),
          (error: unknown): BroadcastResult => ({ address, error: error as Error }),
        ),
      ),
    );
    const failures = results.flatMap((r) => (r.error ? [`${r.address}: ${r.error.message}`] : []));
    if (results.length === 0) throw new IpmsgError('IPMSG_ERR_UNAVAILABLE', 'Cannot broadcast: no interface to broadcast on (--broadcast names one)');
    if (failures.length === results.length) {
      throw new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot broadcast: ${failures.join('; ')}`);
    }
    return results;
  }

  /** Added to "no answer" errors when we could not take the wanted port. */
  portHint(): string {
    return this.#fellBackFrom === undefined
      ? ''
      : `; we listen on port ${this.endpoint.port}, not ${this.#fellBackFrom}, and peers that answer only to ${this.#fellBackFrom} (iptux) cannot reach us`;
  }
}

export function isNoAck(error: unknown): boolean {
  return error instanceof IpmsgError && error.code === 'IPMSG_ERR_NO_ACK';
}
