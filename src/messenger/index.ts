// src/messenger/index.ts
// The facade: one bound endpoint, the retry engine and the peer table, behaving as a polite IPMsg
// peer while a subcommand runs, and offering the operations the subcommands are made of.

import { IpmsgError } from '../errors.js';
import type { Charset } from '../encoding/charset.js';
import type { Attachment } from '../protocol/attachment.js';
import {
  IPMSG_CAPUTF8OPT,
  IPMSG_FILEATTACHOPT,
  IPMSG_READCHECKOPT,
  IPMSG_SECRETOPT,
  IPMSG_SENDCHECKOPT,
  hasOpt,
} from '../protocol/command.js';
import { type DecodeLimits, MAX_SAFE_DATAGRAM, UNFRAGMENTED_DATAGRAM } from '../protocol/limits.js';
import { type Packet, type SendMsgPacket, encodePacket } from '../protocol/packet.js';
import type { PacketNo } from '../protocol/packet-no.js';
import { type InterfaceTable, broadcastTargets, localAddresses } from '../transport/broadcast.js';
import { type Clock, sleep } from '../transport/clock.js';
import { type BindOptions, type BoundSocket, type RemoteAddress, bindUdp } from '../transport/datagram.js';
import { Endpoint } from '../transport/endpoint.js';
import type { PacketNumberSource } from '../transport/packet-counter.js';
import { Exchanges } from '../transport/reliable.js';
import { RecentPackets } from './duplicates.js';
import {
  type Identity,
  type Sender,
  entryPacket,
  fileRequestPacket,
  infoPacket,
  isBroadcastOrAutoReply,
  queryPacket,
  replyPacket,
  sendMsgPacket,
} from './packets.js';
import { type Peer, PeerTable, describePeer, peerFromEntry } from './peers.js';
import type { Destination } from './target.js';

export const NOT_ABSENT_TEXT = 'Not Absence mode'; // the official's resource string (§4.5)
const RECEIVE_BUFFER = 4 * 1024 * 1024;

export interface MessengerOptions {
  readonly identity: Identity;
  readonly port: number;
  /** Local address to bind; all interfaces when undefined. */
  readonly bind: string | undefined;
  /** When the port is taken, use a free one instead of failing. */
  readonly portFallback: boolean;
  /** Broadcast addresses added to the interfaces' own. */
  readonly broadcast: readonly string[];
  readonly charset: Charset;
  readonly fallbackCharset: Charset;
  readonly lossy: boolean;
  /** Our answer to GETINFO. */
  readonly clientVersion: string;
  readonly clock: Clock;
  readonly packetNumbers: PacketNumberSource;
  readonly onWarning: (message: string) => void;
  readonly onNotice: (message: string) => void;
  readonly bindSocket?: (options: BindOptions) => Promise<BoundSocket>;
  readonly interfaces?: InterfaceTable;
  readonly limits?: DecodeLimits;
}

export interface ReceivedMessage {
  readonly packet: SendMsgPacket;
  readonly from: RemoteAddress;
  /** The sender's entry, when it announced itself while we listened. */
  readonly peer: Peer | undefined;
  readonly receivedAt: number;
}

export interface MessageHandler {
  /** Whether to accept (acknowledge and deliver) a message from this sender. */
  accepts(packet: SendMsgPacket, from: RemoteAddress): boolean;
  deliver(message: ReceivedMessage): void;
}

export interface RetryOptions {
  /** Total time to wait for the answer, split evenly between the tries. */
  readonly timeout: number;
  /** Resends after the first transmission. */
  readonly retries: number;
  readonly signal?: AbortSignal;
}

export type SendStatus = 'delivered' | 'read' | 'sent' | 'failed';

export interface SendOutcome {
  readonly destination: Destination;
  readonly packetNo: PacketNo;
  readonly status: SendStatus;
  readonly attempts: number;
  readonly error?: IpmsgError;
}

export interface SendOptions extends RetryOptions {
  readonly check: boolean;
  /** Files offered with the message; `beforeSend` registers them before anyone can ask. */
  readonly attachments?: readonly Attachment[];
  readonly beforeSend?: (packetNo: PacketNo) => void;
  readonly seal: boolean;
  /** Wait for the read notice of a sealed message; undefined waits until interrupted. */
  readonly waitRead: boolean;
  readonly readTimeout: number | undefined;
}

export class Messenger {
  readonly peers = new PeerTable();
  readonly #options: MessengerOptions;
  readonly #endpoint: Endpoint;
  readonly #exchanges: Exchanges;
  readonly #recent = new RecentPackets();
  /** Our own addresses, read when first needed (os.networkInterfaces() costs ~2 ms). */
  #self: Set<string> | undefined;
  #sender: Sender;
  #onRelease: ((packetNo: PacketNo, from: RemoteAddress) => void) | undefined;
  #handler: MessageHandler | undefined;
  /** Set when the wanted port was taken: answers sent to that port (iptux) never reach us. */
  readonly #fellBackFrom: number | undefined;
  #announced = false;
  /** Peers told BR_ENTRY one by one (announceTo): they alone get BR_EXIT, unless we broadcast. */
  readonly #toldPeers: RemoteAddress[] = [];
  #closed = false;

  private constructor(options: MessengerOptions, bound: BoundSocket) {
    this.#options = options;
    this.#exchanges = new Exchanges(options.clock);
    this.#sender = { identity: options.identity, charset: options.charset, status: IPMSG_CAPUTF8OPT };
    this.#endpoint = new Endpoint(bound.socket, {
      fallbackCharset: options.fallbackCharset,
      ...(options.limits ? { limits: options.limits } : {}),
      onPacket: (packet, from) => this.#dispatch(packet, from),
      onWarning: options.onWarning,
    });
    this.#fellBackFrom = bound.fellBackFrom;
    if (bound.fellBackFrom !== undefined) {
      options.onNotice(
        `UDP port ${bound.fellBackFrom} is in use (another IP Messenger client?); using port ${bound.socket.port}. ` +
          'Clients that answer only to port 2425 (iptux) will not be heard.',
      );
    }
  }

  /**
   * Binds the socket and starts answering the LAN.
   * @throws IpmsgError IPMSG_ERR_UNAVAILABLE
   */
  static async open(options: MessengerOptions): Promise<Messenger> {
    const bind = options.bindSocket ?? bindUdp;
    const bound = await bind({
      port: options.port,
      ...(options.bind ? { address: options.bind } : {}),
      fallback: options.portFallback,
      receiveBufferSize: RECEIVE_BUFFER,
    });
    return new Messenger(options, bound);
  }

  get port(): number {
    return this.#endpoint.port;
  }

  /** The clock it runs on (resolveTargets times its ambiguity grace with it). */
  get clock(): Clock {
    return this.#options.clock;
  }

  set handler(handler: MessageHandler | undefined) {
    this.#handler = handler;
  }

  broadcastTargets(): string[] {
    return broadcastTargets({
      ...(this.#options.bind ? { bind: this.#options.bind } : {}),
      extra: this.#options.broadcast,
      ...(this.#options.interfaces ? { interfaces: this.#options.interfaces } : {}),
    });
  }

  #next(): PacketNo {
    return this.#options.packetNumbers.next();
  }

  #reply(packet: Packet, to: RemoteAddress): void {
    this.#endpoint.send(packet, to, { lossy: true }).catch((error: unknown) => {
      this.#options.onWarning(`cannot answer ${to.address}:${to.port}: ${(error as Error).message}`);
    });
  }

  /** Sends one packet to every broadcast target; fails only when no target could be reached. */
  async #broadcast(packet: Packet): Promise<void> {
    const bytes = encodePacket(packet, { lossy: this.#options.lossy });
    const targets = this.broadcastTargets();
    const failures: string[] = [];
    await Promise.all(
      targets.map((address) =>
        this.#endpoint.sendBytes(bytes, { address, port: this.#options.port }).catch((error: unknown) => {
          failures.push(`${address}: ${(error as Error).message}`);
        }),
      ),
    );
    for (const failure of failures) this.#options.onWarning(`broadcast to ${failure}`);
    if (failures.length === targets.length) {
      throw new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot broadcast: ${failures.join('; ')}`);
    }
  }

  /**
   * From now on we advertise FILEATTACHOPT (we can serve files), and RELEASEFILES from a
   * recipient goes to `onRelease`.
   */
  serveFiles(onRelease: (packetNo: PacketNo, from: RemoteAddress) => void): void {
    this.#sender = { ...this.#sender, status: this.#sender.status | IPMSG_FILEATTACHOPT };
    this.#onRelease = onRelease;
  }

  /** The TCP request for one offered file or folder, with a fresh packet number (§5.2, §5.3). */
  fileRequest(kind: 'file' | 'dir', body: string, utf8: boolean): Uint8Array {
    return encodePacket(fileRequestPacket(this.#sender, this.#next(), kind, body, utf8));
  }

  /** BR_ENTRY to one peer: iptux serves files only to peers it has heard an entry from (§15). */
  async announceTo(to: RemoteAddress): Promise<void> {
    this.#toldPeers.push(to);
    await this.#endpoint.send(entryPacket(this.#sender, this.#next(), 'BR_ENTRY'), to, { lossy: true });
  }

  /** BR_ENTRY to the LAN; close() will say BR_EXIT. */
  async announce(): Promise<void> {
    this.#announced = true;
    await this.#broadcast(entryPacket(this.#sender, this.#next(), 'BR_ENTRY'));
  }

  /**
   * Announces itself and collects the peers that answer within `wait` ms; returns early once `count`
   * peers answered or `until` says so. A second BR_ENTRY goes out after a second, for lost datagrams.
   */
  async discover(options: {
    wait: number;
    count?: number;
    until?: (found: ReadonlyMap<string, Peer>) => boolean;
    signal?: AbortSignal;
    onPeer?: (peer: Peer) => void;
  }): Promise<Peer[]> {
    const found = new Map<string, Peer>();
    const enough = new AbortController();
    const stopWatching = this.peers.watch((peer) => {
      const key = `${peer.address}:${peer.port}`;
      const isNew = !found.has(key);
      found.set(key, peer);
      if (isNew) options.onPeer?.(peer);
      if ((options.count !== undefined && found.size >= options.count) || options.until?.(found)) enough.abort();
    });
    const signals = [enough.signal, ...(options.signal ? [options.signal] : [])];
    try {
      await this.announce();
      const started = this.#options.clock.now();
      if (options.wait > 2000) {
        await sleep(this.#options.clock, 1000, AbortSignal.any(signals));
        await this.announce();
      }
      const left = options.wait - (this.#options.clock.now() - started);
      await sleep(this.#options.clock, Math.max(0, left), AbortSignal.any(signals));
    } catch (error) {
      if (options.signal?.aborted || !enough.signal.aborted) throw error;
    } finally {
      stopWatching();
    }
    return [...found.values()];
  }

  /**
   * Sends one message to each destination (one packet number, MULTICASTOPT when several), confirmed
   * by RECVMSG with retries unless `check` is off.
   * @throws IpmsgError IPMSG_ERR_ENCODING, IPMSG_ERR_TOO_LONG before anything is sent
   */
  async sendMessage(destinations: readonly Destination[], text: string, options: SendOptions): Promise<SendOutcome[]> {
    const seal = options.seal || options.waitRead;
    const packetNo = this.#next();
    const packet = sendMsgPacket(this.#sender, packetNo, text, {
      check: options.check,
      seal,
      multicast: destinations.length > 1,
      broadcast: false,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
    const bytes = this.#checkedBytes(packet);
    options.beforeSend?.(packetNo);
    return Promise.all(destinations.map((d) => this.#deliver(d, packetNo, bytes, { ...options, seal })));
  }

  /** Whether `text` fits one safe datagram as a message (iptux drops datagrams of 8 KiB or more). */
  messageFits(text: string): boolean {
    const packet = sendMsgPacket(this.#sender, 0 as PacketNo, text, { check: true, seal: true, multicast: true, broadcast: false });
    // Room for a packet number of up to 16 digits, however this one was printed.
    return encodePacket(packet, { lossy: true }).length + 16 <= MAX_SAFE_DATAGRAM;
  }

  #checkedBytes(packet: SendMsgPacket): Uint8Array {
    const bytes = encodePacket(packet, { lossy: this.#options.lossy });
    if (bytes.length > MAX_SAFE_DATAGRAM) {
      throw new IpmsgError(
        'IPMSG_ERR_TOO_LONG',
        `Message too long: the packet would be ${bytes.length} bytes, and receivers such as iptux drop datagrams of 8 KiB or more (at most ${MAX_SAFE_DATAGRAM} bytes)`,
      );
    }
    if (bytes.length > UNFRAGMENTED_DATAGRAM) {
      this.#options.onNotice(
        `the message takes ${bytes.length} bytes, more than one Ethernet frame (${UNFRAGMENTED_DATAGRAM}); networks that drop IP fragments will lose it`,
      );
    }
    return bytes;
  }

  async #deliver(destination: Destination, packetNo: PacketNo, bytes: Uint8Array, options: SendOptions): Promise<SendOutcome> {
    const to = { address: destination.address, port: destination.port };
    let transmissions = 0;
    const transmit = (): Promise<void> => {
      transmissions++;
      return this.#endpoint.sendBytes(bytes, to);
    };
    const read =
      options.seal && options.waitRead
        ? this.#exchanges.waitFor(
            (p, from) => (p.kind === 'READMSG' && p.ref === packetNo && from.address === to.address ? true : undefined),
            options.readTimeout,
            `${destination.text} did not open the sealed message in time`,
            options.signal,
          )
        : undefined;
    read?.catch(() => undefined); // settled below; never an unhandled rejection
    if (!options.check) {
      try {
        await transmit();
      } catch (error) {
        const failure = new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot send to ${destination.text}: ${(error as Error).message}`);
        return { destination, packetNo, status: 'failed', attempts: 1, error: failure };
      }
      return { destination, packetNo, status: 'sent', attempts: 1 };
    }
    let acknowledged = false;
    try {
      const result = await this.#exchanges.run({
        transmit,
        match: (p, from) => (p.kind === 'RECVMSG' && p.ref === packetNo && from.address === to.address ? true : undefined),
        ...this.#schedule(options),
        failure: `No acknowledgement from ${destination.text}`,
        hint: this.#portHint(),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      acknowledged = true;
      if (read) await read;
      return { destination, packetNo, status: read ? 'read' : 'delivered', attempts: result.attempts };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const failure = error instanceof IpmsgError ? error : new IpmsgError('IPMSG_ERR_INTERNAL', String(error));
      // attempts = datagrams actually sent (all the tries when no acknowledgement came)
      return { destination, packetNo, status: acknowledged ? 'delivered' : 'failed', attempts: transmissions, error: failure };
    }
  }

  #portHint(): string {
    return this.#fellBackFrom === undefined
      ? ''
      : `; we listen on port ${this.port}, not ${this.#fellBackFrom}, and peers that answer only to ${this.#fellBackFrom} (iptux) cannot reach us`;
  }

  #schedule(options: RetryOptions): { interval: number; tries: number } {
    const tries = Math.max(1, options.retries + 1);
    return { tries, interval: Math.max(1, Math.floor(options.timeout / tries)) };
  }

  /** An unconfirmed BROADCASTOPT message to every broadcast target. */
  async broadcastMessage(text: string): Promise<void> {
    const packet = sendMsgPacket(this.#sender, this.#next(), text, {
      check: false,
      seal: false,
      multicast: false,
      broadcast: true,
    });
    this.#checkedBytes(packet);
    await this.#broadcast(packet);
  }

  /**
   * GETINFO → SENDINFO or GETABSENCEINFO → SENDABSENCEINFO, retried like a message.
   * @throws IpmsgError IPMSG_ERR_NO_ACK
   */
  async query(destination: Destination, kind: 'GETINFO' | 'GETABSENCEINFO', options: RetryOptions): Promise<string> {
    const to = { address: destination.address, port: destination.port };
    const packet = queryPacket(this.#sender, this.#next(), kind);
    const answer = kind === 'GETINFO' ? 'SENDINFO' : 'SENDABSENCEINFO';
    const result = await this.#exchanges.run({
      transmit: () => this.#endpoint.send(packet, to),
      match: (p, from) => (p.kind === answer && from.address === to.address ? p.text : undefined),
      ...this.#schedule(options),
      failure: `No ${answer} answer from ${destination.text}`,
      hint: this.#portHint(),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return result.value;
  }

  /**
   * The read notice for a sealed message: READMSG, repeated every 750 ms up to 12 more times until
   * ANSREADMSG when the sender asked for it (READCHECKOPT, §4.2). Failures are only warnings.
   */
  async sendReadNotice(message: ReceivedMessage): Promise<void> {
    const readCheck = hasOpt(message.packet.command, IPMSG_READCHECKOPT);
    const packetNo = this.#next();
    const packet = replyPacket(this.#sender, packetNo, 'READMSG', message.packet.packetNo, readCheck);
    try {
      if (!readCheck) return await this.#endpoint.send(packet, message.from);
      await this.#exchanges.run({
        transmit: () => this.#endpoint.send(packet, message.from),
        match: (p, from) => (p.kind === 'ANSREADMSG' && p.ref === packetNo && from.address === message.from.address ? true : undefined),
        interval: 750,
        tries: 13,
        failure: `No ANSREADMSG from ${message.from.address}`,
      });
    } catch (error) {
      this.#options.onWarning(`read notice to ${message.from.address}: ${(error as Error).message}`);
    }
  }

  #isSelf(from: RemoteAddress): boolean {
    if (from.port !== this.port) return false;
    this.#self ??= localAddresses(this.#options.interfaces);
    return this.#self.has(from.address);
  }

  #dispatch(packet: Packet, from: RemoteAddress): void {
    if (this.#closed || this.#isSelf(from)) return;
    const now = this.#options.clock.now();
    switch (packet.kind) {
      case 'BR_ENTRY':
        this.peers.update(peerFromEntry(packet, from, now));
        this.#reply(entryPacket(this.#sender, this.#next(), 'ANSENTRY', hasOpt(packet.command, IPMSG_CAPUTF8OPT)), from);
        return;
      case 'ANSENTRY':
      case 'BR_ABSENCE':
        this.peers.update(peerFromEntry(packet, from, now));
        return;
      case 'BR_EXIT':
        this.peers.remove(from);
        return;
      case 'SENDMSG':
        this.#onMessage(packet, from, now);
        return;
      case 'READMSG':
        if (hasOpt(packet.command, IPMSG_READCHECKOPT)) {
          this.#reply(replyPacket(this.#sender, this.#next(), 'ANSREADMSG', packet.packetNo), from);
        }
        this.#exchanges.offer(packet, from);
        return;
      case 'GETINFO':
        this.#reply(infoPacket(this.#sender, this.#next(), 'SENDINFO', this.#options.clientVersion), from);
        return;
      case 'GETABSENCEINFO':
        this.#reply(infoPacket(this.#sender, this.#next(), 'SENDABSENCEINFO', NOT_ABSENT_TEXT), from);
        return;
      case 'RECVMSG':
      case 'ANSREADMSG':
      case 'SENDINFO':
      case 'SENDABSENCEINFO':
        this.#exchanges.offer(packet, from);
        return;
      case 'RELEASEFILES':
        if (packet.ref !== undefined) this.#onRelease?.(packet.ref, from);
        return;
      case 'NOOPERATION':
      case 'DELMSG':
      case 'OTHER':
        return;
    }
  }

  #onMessage(packet: SendMsgPacket, from: RemoteAddress, now: number): void {
    const handler = this.#handler;
    const resent = this.#recent.has(packet.packetNo, packet.user, packet.host, from.address);
    // A resent message was accepted the first time: it is acknowledged again whatever the handler says now.
    if (!resent && handler && !handler.accepts(packet, from)) {
      this.#options.onWarning(`ignored a message from ${packet.user}@${packet.host} (${from.address}:${from.port})`);
      return;
    }
    if (hasOpt(packet.command, IPMSG_SENDCHECKOPT) && !isBroadcastOrAutoReply(packet)) {
      this.#reply(replyPacket(this.#sender, this.#next(), 'RECVMSG', packet.packetNo), from);
    }
    if (this.#recent.check(packet.packetNo, packet.user, packet.host, from.address)) return;
    const message: ReceivedMessage = { packet, from, peer: this.peers.get(from), receivedAt: now };
    if (handler) return handler.deliver(message);
    const sealed = hasOpt(packet.command, IPMSG_SECRETOPT) ? ' (sealed)' : '';
    this.#options.onNotice(
      `message from ${describePeer({ ...packet, ...from })}${sealed} arrived while not receiving (use 'ipmsg recv'): ${JSON.stringify(packet.text)}`,
    );
  }

  /** Says BR_EXIT to whoever we announced ourselves to, then closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      const exit = entryPacket(this.#sender, this.#next(), 'BR_EXIT');
      if (this.#announced) await this.#broadcast(exit).catch(() => undefined);
      else await Promise.all(this.#toldPeers.map((to) => this.#endpoint.send(exit, to, { lossy: true }).catch(() => undefined)));
    } finally {
      this.#closed = true;
      this.#exchanges.cancelAll(new IpmsgError('IPMSG_ERR_INTERRUPTED', 'Closed'));
      await this.#endpoint.close();
    }
  }
}

export type { Identity } from './packets.js';
export type { Peer } from './peers.js';
export type { Destination, TargetSpec } from './target.js';
