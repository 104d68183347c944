// src/messenger/index.ts
// The facade: one bound endpoint behaving as a polite IPMsg peer while a subcommand runs. It answers
// the LAN and hands each packet to the conversation it belongs to (discovery, sending, receiving,
// key exchange); its methods are the operations the subcommands are made of.

import { IpmsgError } from '../errors.js';
import type { Combination } from '../crypto/capability.js';
import { assertNever } from '../protocol/assert-never.js';
import {
  IPMSG_CAPFILEENCOPT,
  IPMSG_CAPUTF8OPT,
  IPMSG_ENCEXTMSGOPT,
  IPMSG_ENCFILEOPT,
  IPMSG_ENCRYPTOPT,
  hasOpt,
} from '../protocol/command.js';
import { type Packet, encodePacket } from '../protocol/packet.js';
import type { PacketNo } from '../protocol/packet-no.js';
import type { CharsetChoice } from '../protocol/peer-charset.js';
import { parseFingerprintName } from '../protocol/user-name.js';
import { type Family, withoutScope } from '../transport/address.js';
import { localAddresses } from '../transport/broadcast.js';
import { type BoundSocket, type RemoteAddress, bindUdp } from '../transport/datagram.js';
import { Endpoint } from '../transport/endpoint.js';
import { Absence } from './absence.js';
import { type DiscoverOptions, Discovery } from './discovery.js';
import { type HostListResult, HostListing } from './host-list.js';
import { type AnsweredKey, KeyExchange } from './key-exchange.js';
import { type BroadcastResult, Link } from './link.js';
import type { MessengerOptions, RetryOptions, Schedule } from './options.js';
import { type Sender, entryPacket, fileRequestPacket, infoPacket, replyPacket } from './packets.js';
import { type Peer, PeerTable, peerFromEntry } from './peers.js';
import { type MessageHandler, type ReceivedMessage, Receiving, dropsUnencrypted } from './receiving.js';
import type { PeerKey, Security } from './security.js';
import { type EncryptMode, type SendOptions, type SendOutcome, Sending } from './sending.js';
import type { Destination } from './target.js';

const RECEIVE_BUFFER = 4 * 1024 * 1024;

export class Messenger {
  readonly #link: Link;
  readonly #discovery: Discovery;
  readonly #keys: KeyExchange;
  readonly #sending: Sending;
  readonly #receiving: Receiving;
  readonly #hostList: HostListing;
  readonly #absence: Absence;
  /** Our own addresses, read when first needed (reading the interfaces is not free). */
  #self: Set<string> | undefined;
  #onRelease: ((packetNo: PacketNo, from: RemoteAddress) => void) | undefined;
  #closed = false;

  private constructor(options: MessengerOptions, bound: BoundSocket) {
    const security = options.security;
    const sender: Sender = {
      // Without keys, never a name of the fingerprinted shape: the official drops such a peer's plain packets (§6.6).
      identity: { ...options.identity, user: security ? security.userName(options.identity.user) : (parseFingerprintName(options.identity.user)?.base ?? options.identity.user) },
      charset: options.charset ?? 'utf-8',
      // With keys we also take and make encrypted, signed file requests (CAPFILEENCOPT, §5.6).
      status: IPMSG_CAPUTF8OPT | (security ? IPMSG_ENCRYPTOPT | IPMSG_ENCEXTMSGOPT | IPMSG_CAPFILEENCOPT : 0),
    };
    const endpoint = new Endpoint(bound.socket, {
      fallbackCharset: options.fallbackCharset,
      ...(options.limits ? { limits: options.limits } : {}),
      onPacket: (packet, from) => this.#dispatch(packet, from),
      onWarning: options.onWarning,
    });
    this.#link = new Link(options, endpoint, sender, bound.fellBackFrom, bound.families ?? ['IPv4']);
    this.#discovery = new Discovery(this.#link);
    this.#keys = new KeyExchange(this.#link);
    this.#sending = new Sending(this.#link, this.#keys);
    this.#receiving = new Receiving(this.#link, this.#keys);
    this.#hostList = new HostListing(this.#link, (at) => this.#isSelf(at));
    this.#absence = new Absence(this.#link, options.absence);
    this.#receiving.onAccepted = (packet, from) => this.#absence.onAccepted(packet, from);
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
      ...(options.family ? { family: options.family } : {}),
    });
    return new Messenger(options, bound);
  }

  /** The peers that announced themselves while we listened. */
  get peers(): PeerTable {
    return this.#link.peers;
  }

  get port(): number {
    return this.#link.endpoint.port;
  }

  /**
   * Our keys (and fingerprint) and the known peers, as given in the options; undefined without
   * crypto. Part of the library API: a caller shows its fingerprint, or pins a key, with it.
   */
  get security(): Security | undefined {
    return this.#link.options.security;
  }

  /** Who gets the messages that reach us; without one they are only noticed (onNotice). */
  set handler(handler: MessageHandler | undefined) {
    this.#receiving.handler = handler;
  }

  broadcastTargets(): string[] {
    return this.#link.broadcastTargets();
  }

  /** Our absence text; undefined when not absent. */
  get absence(): string | undefined {
    return this.#absence.text;
  }

  /**
   * Away with `text` (undefined: back): ABSENCEOPT in our entries, `text` as the answer to
   * GETABSENCEINFO and as the automatic reply to each sender's first message from now on. When it
   * changes after announce(), BR_ABSENCE tells the LAN (§3.3).
   */
  async setAbsence(text: string | undefined): Promise<void> {
    if (this.#absence.set(text)) await this.#discovery.notifyAbsence();
  }

  /** The address families the socket speaks. */
  get families(): readonly Family[] {
    return this.#link.families;
  }

  /** Joins the official's IPv6 multicast group (ff15::979, §8), so that peers announcing there find us. */
  joinMulticastGroup(): void {
    this.#discovery.joinGroup();
  }

  /**
   * From now on we advertise FILEATTACHOPT (we can serve files), and RELEASEFILES from a
   * recipient goes to `onRelease`.
   */
  serveFiles(onRelease: (packetNo: PacketNo, from: RemoteAddress) => void): void {
    this.#link.advertiseFiles();
    this.#onRelease = onRelease;
  }

  /** RELEASEFILES (§5.5): we will not fetch what `message` offers, so its sender may stop serving it. */
  releaseFiles(message: ReceivedMessage): void {
    const link = this.#link;
    link.reply(replyPacket(link.sender, link.next(), 'RELEASEFILES', message.packet.packetNo), message.from);
  }

  /** The TCP request for one offered file or folder, with a fresh packet number (§5.2, §5.3). */
  fileRequest(kind: 'file' | 'dir', body: string, utf8: boolean): Uint8Array {
    return encodePacket(fileRequestPacket(this.#link.sender, this.#link.next(), kind, body, utf8));
  }

  /**
   * An encrypted, signed file request (§5.6): `plaintext` (given the request's packet number) is
   * encrypted for `peer` like a message; ENCFILEOPT when it carries the body-crypto fields.
   * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE without keys
   */
  encryptedFileRequest(kind: 'file' | 'dir', utf8: boolean, peer: PeerKey, combination: Combination, plaintext: (packetNo: PacketNo) => string, encFile: boolean): { bytes: Uint8Array; packetNo: PacketNo } {
    const security = this.#link.options.security;
    if (!security) throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', 'Cannot encrypt: no keys loaded');
    const packetNo = this.#link.next();
    const body = security.encrypt({ text: plaintext(packetNo) }, String(packetNo), peer, combination, 'utf-8');
    const options = IPMSG_ENCRYPTOPT | (encFile ? IPMSG_ENCFILEOPT : 0);
    return { bytes: encodePacket(fileRequestPacket(this.#link.sender, packetNo, kind, body, utf8, options)), packetNo };
  }

  /** BR_ENTRY to one peer: iptux serves files only to peers it has heard an entry from (§15). */
  announceTo(to: RemoteAddress): Promise<void> {
    return this.#discovery.announceTo(to);
  }

  /**
   * BR_ENTRY to the LAN; close() will say BR_EXIT. How each broadcast target went.
   * @throws IpmsgError IPMSG_ERR_UNAVAILABLE when no target could be reached
   */
  announce(): Promise<BroadcastResult[]> {
    return this.#discovery.announce();
  }

  /**
   * Announces itself and collects the peers that answer within `wait` ms; returns early once `count`
   * peers answered or `until` says so. A second BR_ENTRY goes out during long waits, for lost datagrams.
   */
  discover(options: DiscoverOptions): Promise<Peer[]> {
    return this.#discovery.discover(options);
  }

  /**
   * GETLIST → ANSLIST, paged (§3.4): the hosts `destination` knows. They join `peers`, marked
   * `via`, unless we heard them ourselves.
   * @throws IpmsgError IPMSG_ERR_NO_ACK when no list comes (iptux has none)
   */
  hostList(destination: Destination, options: RetryOptions): Promise<HostListResult> {
    return this.#hostList.fetch(destination, options);
  }

  /**
   * GETINFO → SENDINFO or GETABSENCEINFO → SENDABSENCEINFO, retried like a message.
   * @throws IpmsgError IPMSG_ERR_NO_ACK
   */
  query(destination: Destination, kind: 'GETINFO' | 'GETABSENCEINFO', options: RetryOptions): Promise<string> {
    return this.#discovery.query(destination, kind, options);
  }

  /**
   * Sends one message to each destination (one packet number, MULTICASTOPT when several), confirmed
   * by RECVMSG with retries unless `check` is off.
   * @throws IpmsgError IPMSG_ERR_ENCODING, IPMSG_ERR_TOO_LONG, IPMSG_ERR_ENCRYPT_UNAVAILABLE before anything is sent
   */
  sendMessage(destinations: readonly Destination[], text: string, options: SendOptions): Promise<SendOutcome[]> {
    return this.#sending.sendMessage(destinations, text, options);
  }

  /**
   * An unconfirmed BROADCASTOPT message to every broadcast target; how each target went.
   * @throws IpmsgError IPMSG_ERR_UNAVAILABLE when no target could be reached
   */
  broadcastMessage(text: string): Promise<BroadcastResult[]> {
    return this.#sending.broadcastMessage(text);
  }

  /** The charset a message to `to` goes out in, and why (§7): what its entries said, or --encoding. */
  charsetFor(to: RemoteAddress): CharsetChoice {
    return this.#link.charsets.choose(to);
  }

  /**
   * Whether `text` fits one safe datagram as a message (iptux drops datagrams of 8 KiB or more),
   * encrypted unless `encrypt` is 'never' or we have no keys.
   */
  messageFits(text: string, encrypt: EncryptMode = 'auto'): boolean {
    return this.#sending.messageFits(text, encrypt);
  }

  /**
   * GETPUBKEY → ANSPUBKEY (§6.2): the peer's capability word and key, and who it says it is.
   * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE, IPMSG_ERR_NO_ACK, IPMSG_ERR_KEY_MISMATCH
   */
  publicKey(to: RemoteAddress, schedule: Schedule, autoReply = false): Promise<AnsweredKey> {
    return this.#keys.publicKey(to, schedule, autoReply);
  }

  /**
   * GETPUBKEY → ANSPUBKEY asking with capability word `capa`, without keys of our own: the peer's
   * key as it shows it, not checked against its user name, not pinned (for looking only).
   * @throws IpmsgError IPMSG_ERR_NO_ACK, IPMSG_ERR_DECODE
   */
  showPublicKey(to: RemoteAddress, schedule: Schedule, capa: number): Promise<AnsweredKey> {
    return this.#keys.showKey(to, schedule, capa);
  }

  /**
   * The read notice for a sealed message: READMSG, repeated until ANSREADMSG when the sender asked
   * for it (READCHECKOPT, §4.2). Failures are only warnings.
   */
  sendReadNotice(message: ReceivedMessage): Promise<void> {
    return this.#receiving.sendReadNotice(message);
  }

  #isSelf(from: RemoteAddress): boolean {
    if (from.port !== this.port) return false;
    this.#self ??= localAddresses(this.#link.options.interfaces);
    return this.#self.has(withoutScope(from.address));
  }

  #dispatch(packet: Packet, from: RemoteAddress): void {
    if (this.#closed || this.#isSelf(from)) return;
    const link = this.#link;
    const options = link.options;
    const now = options.clock.now();
    if (dropsUnencrypted(packet, options.security !== undefined)) {
      options.onWarning(`ignored a ${packet.kind} without ENCRYPTOPT from the fingerprinted ${packet.user}@${packet.host} (${from.address})`);
      return;
    }
    switch (packet.kind) {
      case 'BR_ENTRY':
        link.peers.update(peerFromEntry(packet, from, now));
        link.charsets.learn(packet, from);
        link.reply(entryPacket(link.sender, link.next(), 'ANSENTRY', hasOpt(packet.command, IPMSG_CAPUTF8OPT), link.charsets.choose(from).charset), from);
        return;
      case 'ANSENTRY':
      case 'BR_ABSENCE':
        link.peers.update(peerFromEntry(packet, from, now));
        link.charsets.learn(packet, from);
        return;
      case 'BR_EXIT':
        link.peers.remove(from);
        return;
      case 'SENDMSG':
        link.charsets.learnFromMessage(packet, from);
        this.#receiving.onMessage(packet, from, now);
        return;
      case 'READMSG':
        this.#receiving.onReadNotice(packet, from);
        return;
      case 'GETINFO':
        link.reply(infoPacket(link.sender, link.next(), 'SENDINFO', options.clientVersion, link.charsets.choose(from).charset), from);
        return;
      case 'GETABSENCEINFO':
        link.reply(infoPacket(link.sender, link.next(), 'SENDABSENCEINFO', this.#absence.answer(), link.charsets.choose(from).charset), from);
        return;
      case 'GETPUBKEY':
        this.#keys.onGetPubKey(packet, from);
        return;
      case 'RECVMSG':
      case 'ANSREADMSG':
      case 'SENDINFO':
      case 'SENDABSENCEINFO':
      case 'ANSPUBKEY':
      case 'ANSLIST':
        link.exchanges.offer(packet, from);
        return;
      case 'RELEASEFILES':
        if (packet.ref !== undefined) this.#onRelease?.(packet.ref, from);
        return;
      // We keep no host list for others: a one-shot run knows little, and what it knows is the LAN's (README "Host list").
      case 'GETLIST':
      // File requests belong on TCP (the file server); over UDP, like unknown commands, they mean nothing to us.
      case 'GETFILEDATA':
      case 'GETDIRFILES':
      case 'NOOPERATION':
      case 'DELMSG':
      case 'OTHER':
        return;
      default:
        assertNever(packet);
    }
  }

  /** Says BR_EXIT to whoever we announced ourselves to, then closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#discovery.goodbye();
    } finally {
      this.#closed = true;
      this.#link.charsets.flush();
      this.#link.options.plainPeers?.flush?.();
      this.#link.exchanges.cancelAll(new IpmsgError('IPMSG_ERR_INTERRUPTED', 'Closed'));
      await this.#link.endpoint.close();
    }
  }
}

export { NOT_ABSENT_TEXT } from './absence.js';
export type { DiscoverOptions } from './discovery.js';
export type { HostListResult } from './host-list.js';
export type { BroadcastResult } from './link.js';
export { SENDER_KEY_WAIT, type AnsweredKey } from './key-exchange.js';
export type { MessengerOptions, PeerCharsets, PlainPeers, RetryOptions, Schedule } from './options.js';
export type { Identity } from './packets.js';
export type { Peer } from './peers.js';
export {
  DECRYPT_FAILED_REPLY,
  type CheckedMessage,
  type KeyChangedMessage,
  type MessageHandler,
  type ReceivedMessage,
  type UnsignedMessage,
} from './receiving.js';
export { KEY_PROBE, type EncryptMode, type SendOptions, type SendOutcome, type SendStatus } from './sending.js';
export type { Destination, TargetSpec } from './target.js';
