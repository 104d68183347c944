// src/messenger/index.ts
// The facade: one bound endpoint, the retry engine and the peer table, behaving as a polite IPMsg
// peer while a subcommand runs, and offering the operations the subcommands are made of.

import { IpmsgError } from '../errors.js';
import { type Charset, decodeText, detectCharset, encodeText } from '../encoding/charset.js';
import type { Attachment } from '../protocol/attachment.js';
import type { KeyObject } from 'node:crypto';
import type { SignatureStatus } from '../crypto/message.js';
import { parseFingerprintName } from '../protocol/user-name.js';
import { asciiText } from '../encoding/fields.js';
import {
  IPMSG_ANSPUBKEY,
  IPMSG_AUTORETOPT,
  IPMSG_CAPFILEENCOPT,
  IPMSG_CAPUTF8OPT,
  IPMSG_ENCEXTMSGOPT,
  IPMSG_ENCFILEOPT,
  IPMSG_ENCRYPTOPT,
  IPMSG_FILEATTACHOPT,
  IPMSG_GETPUBKEY,
  IPMSG_READCHECKOPT,
  IPMSG_SECRETOPT,
  IPMSG_SENDCHECKOPT,
  IPMSG_UTF8OPT,
  getMode,
  hasOpt,
} from '../protocol/command.js';
import { type DecodeLimits, MAX_SAFE_DATAGRAM, UNFRAGMENTED_DATAGRAM } from '../protocol/limits.js';
import { type EntryPacket, type OtherPacket, type Packet, type SendMsgPacket, encodePacket } from '../protocol/packet.js';
import type { PacketNo } from '../protocol/packet-no.js';
import { type InterfaceTable, broadcastTargets, localAddresses } from '../transport/broadcast.js';
import { type Clock, sleep } from '../transport/clock.js';
import { type BindOptions, type BoundSocket, type RemoteAddress, bindUdp } from '../transport/datagram.js';
import { Endpoint } from '../transport/endpoint.js';
import type { PacketNumberSource } from '../state/packet-counter.js';
import { Exchanges } from '../transport/reliable.js';
import { DECRYPT_BUDGET, DecryptBudget } from './budget.js';
import { RecentPackets } from './duplicates.js';
import {
  type Identity,
  type Sender,
  autoReplyPacket,
  entryPacket,
  fileRequestPacket,
  infoPacket,
  isBroadcastOrAutoReply,
  pubKeyPacket,
  queryPacket,
  replyPacket,
  sendMsgPacket,
} from './packets.js';
import { type Peer, PeerTable, describePeer, peerFromEntry, peerKey } from './peers.js';
import type { Destination } from './target.js';
import type { PeerKey, Security } from './security.js';
import type { PreparedMessage } from '../crypto/message.js';
import type { Combination } from '../crypto/capability.js';

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
  /** Our keys and known peers: we advertise ENCRYPTOPT and carry a fingerprint only with them. */
  readonly security?: Security;
  /** Peers known not to answer GETPUBKEY (iptux): `--encrypt auto` sends them plain text at once. */
  readonly plainPeers?: PlainPeers;
}

/** Remembers, across runs, which peers (`address:port`) did not answer GETPUBKEY. */
export interface PlainPeers {
  has(peer: string): boolean;
  add(peer: string): void;
  /** A plain message to it went unacknowledged (it may have keys now, §6.6): probe it again next time. */
  delete(peer: string): void;
}

export type EncryptMode = 'auto' | 'always' | 'never';

/** What the sender of a message we cannot decrypt is told (in an automatic reply). */
export const DECRYPT_FAILED_REPLY = 'ipmsg could not decrypt your message; it was not delivered.';

/** How long `--encrypt auto` waits for the key of a peer whose capabilities are unknown. */
export const KEY_PROBE = { tries: 2, interval: 150 };
/** How long a received message waits for its sender's key (for the signature). */
export const SENDER_KEY_WAIT = { tries: 3, interval: 300 };

export interface ReceivedMessage {
  readonly packet: SendMsgPacket;
  readonly from: RemoteAddress;
  /** The sender's entry, when it announced itself while we listened. */
  readonly peer: Peer | undefined;
  readonly receivedAt: number;
  /** It came with ENCRYPTOPT and was decrypted; `packet.text` is the plain text. */
  readonly encrypted: boolean;
  readonly signature: SignatureStatus;
}

export interface MessageHandler {
  /** Whether to accept (acknowledge and deliver) a message from this sender. */
  accepts(packet: SendMsgPacket, from: RemoteAddress): boolean;
  deliver(message: ReceivedMessage): void;
  /** A message accepts() let in that is not delivered after all (it could not be decrypted, or its sender's key changed). */
  dropped?(packet: SendMsgPacket, from: RemoteAddress, reason: string): void;
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
  /** Sent encrypted (ENCRYPTOPT). */
  readonly encrypted: boolean;
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
  /** Default 'auto' with keys, 'never' without. */
  readonly encrypt?: EncryptMode;
  /** The message to `destination` goes out encrypted for `peer` (called before it is sent). */
  readonly onEncrypted?: (destination: Destination, peer: { readonly user: string; readonly host: string }) => void;
}

export class Messenger {
  readonly peers = new PeerTable();
  readonly #options: MessengerOptions;
  readonly #endpoint: Endpoint;
  readonly #exchanges: Exchanges;
  readonly #recent = new RecentPackets();
  readonly #decryptBudget: DecryptBudget;
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
    this.#decryptBudget = new DecryptBudget(options.clock);
    const security = options.security;
    this.#sender = {
      // Without keys, never a name of the fingerprinted shape: the official drops such a peer's plain packets (§6.6).
      identity: { ...options.identity, user: security ? security.userName(options.identity.user) : (parseFingerprintName(options.identity.user)?.base ?? options.identity.user) },
      charset: options.charset,
      // With keys we also take and make encrypted, signed file requests (CAPFILEENCOPT, §5.6).
      status: IPMSG_CAPUTF8OPT | (security ? IPMSG_ENCRYPTOPT | IPMSG_ENCEXTMSGOPT | IPMSG_CAPFILEENCOPT : 0),
    };
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

  /** Our keys and the known peers; undefined without crypto. */
  get security(): Security | undefined {
    return this.#options.security;
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

  /**
   * An encrypted, signed file request (§5.6): `plaintext` (given the request's packet number) is
   * encrypted for `peer` like a message; ENCFILEOPT when it carries the body-crypto fields.
   * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE without keys
   */
  encryptedFileRequest(kind: 'file' | 'dir', utf8: boolean, peer: PeerKey, combination: Combination, plaintext: (packetNo: PacketNo) => string, encFile: boolean): { bytes: Uint8Array; packetNo: PacketNo } {
    const security = this.#options.security;
    if (!security) throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', 'Cannot encrypt: no keys loaded');
    const packetNo = this.#next();
    const body = security.encrypt({ text: plaintext(packetNo) }, String(packetNo), peer, combination, 'utf-8');
    const options = IPMSG_ENCRYPTOPT | (encFile ? IPMSG_ENCFILEOPT : 0);
    return { bytes: encodePacket(fileRequestPacket(this.#sender, packetNo, kind, body, utf8, options)), packetNo };
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
    const packet = sendMsgPacket(this.#plainSender(), packetNo, text, {
      check: options.check,
      seal,
      multicast: destinations.length > 1,
      broadcast: false,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
    const bytes = this.#checkedBytes(packet);
    const mode = options.encrypt ?? (this.#options.security ? 'auto' : 'never');
    if (mode === 'always' && !this.#options.security) throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', 'Cannot encrypt: no keys loaded');
    options.beforeSend?.(packetNo);
    return Promise.all(
      destinations.map(async (d): Promise<SendOutcome> => {
        let own: Uint8Array;
        try {
          own = mode === 'never' ? bytes : await this.#encryptedFor(d, packet, bytes, mode, options);
        } catch (error) {
          if (options.signal?.aborted) throw error;
          const failure = error instanceof IpmsgError ? error : new IpmsgError('IPMSG_ERR_INTERNAL', String(error));
          return { destination: d, packetNo, status: 'failed', attempts: 0, encrypted: false, error: failure };
        }
        const outcome = await this.#deliver(d, packetNo, own, { ...options, seal });
        // Plain text under --encrypt auto, and the peer may have keys after all: probe it again next time. Either it
        // ignored the plain text (§6.6 drops plain text from a key holder), or it acknowledged from a fingerprinted
        // name (it has keys; only its key was lost on the way, a lossy LAN).
        if (own === bytes && mode === 'auto' && (outcome.status === 'failed' || outcome.ackedByKeyHolder)) this.#options.plainPeers?.delete(peerKey(d));
        const { ackedByKeyHolder, ...sent } = outcome;
        return { ...sent, encrypted: own !== bytes };
      }),
    );
  }

  /**
   * The datagram for one destination under --encrypt auto|always: encrypted with the key its
   * ANSPUBKEY gives (pinned in known peers), or `plain` when auto finds it cannot encrypt.
   * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE (always), IPMSG_ERR_KEY_MISMATCH
   */
  async #encryptedFor(destination: Destination, packet: SendMsgPacket, plain: Uint8Array, mode: 'auto' | 'always', options: SendOptions): Promise<Uint8Array> {
    const security = this.#options.security as Security;
    const to = { address: destination.address, port: destination.port };
    const entry = this.peers.get(to);
    const plainPeers = this.#options.plainPeers;
    if (mode === 'auto' && (entry ? !entry.capabilities.encrypt : plainPeers?.has(peerKey(to)))) return plain;
    // The attachment list goes inside the ciphertext only for peers that said they read it there (§6.4).
    const extended = (packet.attachments?.length ?? 0) > 0 && entry !== undefined && entry.capabilities.encryptExt;
    // --lossy: encrypt the text as the plain packet would have carried it ('?' for what the code page lacks).
    const charset = this.#sender.charset;
    const text = this.#options.lossy && charset !== 'utf-8' ? decodeText(encodeText(packet.text, charset, true), charset) : packet.text;
    const parts = { text, ...(extended ? { attachments: packet.attachments } : {}) };
    let prepared: PreparedMessage | undefined;
    let answer: PeerKey & { user: string; host: string };
    try {
      // A peer that announced ENCRYPTOPT gets the full retry schedule; an unknown one a short probe.
      const asked = this.publicKey(to, mode === 'auto' && !entry ? { ...KEY_PROBE, ...(options.signal ? { signal: options.signal } : {}) } : this.#schedule(options, true));
      // GETPUBKEY is on the wire: sign and encrypt while its answer travels.
      prepared = security.prepare(parts, charset, String(packet.packetNo));
      answer = await asked;
    } catch (error) {
      if (options.signal?.aborted || !(error instanceof IpmsgError) || error.code !== 'IPMSG_ERR_NO_ACK') throw error;
      if (mode === 'always') throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', `Cannot encrypt for ${destination.text}: it did not send its public key (it cannot encrypt?)`);
      plainPeers?.add(peerKey(to));
      return plain;
    }
    const combination = security.combinationFor(answer.capa);
    if (!combination) {
      if (mode === 'always') throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', `Cannot encrypt for ${destination.text}: no cipher in common (its capabilities: ${answer.capa.toString(16)})`);
      return plain;
    }
    await security.pin(answer, answer.key);
    const body = security.encrypt(parts, String(packet.packetNo), answer, combination, charset, prepared);
    const { attachments, ...rest } = packet;
    const encrypted: SendMsgPacket = {
      ...rest,
      user: this.#sender.identity.user,
      command: packet.command | IPMSG_ENCRYPTOPT | (extended ? IPMSG_ENCEXTMSGOPT : 0),
      text: body,
      ...(attachments && !extended ? { attachments } : {}),
    };
    const bytes = this.#checkedBytes(encrypted);
    options.onEncrypted?.(destination, answer);
    return bytes;
  }

  /**
   * GETPUBKEY → ANSPUBKEY (§6.2): the peer's capability word and key, and who it says it is.
   * @throws IpmsgError IPMSG_ERR_NO_ACK, IPMSG_ERR_KEY_MISMATCH (a key its user name contradicts)
   */
  async publicKey(to: RemoteAddress, schedule: { tries: number; interval: number; signal?: AbortSignal }, autoReply = false): Promise<PeerKey & { user: string; host: string }> {
    const security = this.#options.security;
    if (!security) throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', 'Cannot ask for keys: no keys loaded');
    const packet = pubKeyPacket(this.#sender, this.#next(), 'GETPUBKEY', security.getPubKeyBody(), autoReply);
    let refused: IpmsgError | undefined;
    try {
      const result = await this.#exchanges.run({
        transmit: () => this.#endpoint.send(packet, to),
        match: (p, from) => {
          if (p.kind !== 'OTHER' || getMode(p.command) !== IPMSG_ANSPUBKEY || from.address !== to.address) return undefined;
          try {
            return { ...security.readAnswer(asciiText(p.body), p), user: p.user, host: p.host };
          } catch (error) {
            refused ??= error as IpmsgError;
            this.#options.onWarning(`ignored an ANSPUBKEY from ${to.address}: ${(error as Error).message}`);
            return undefined;
          }
        },
        tries: schedule.tries,
        interval: schedule.interval,
        failure: `No public key (ANSPUBKEY) from ${to.address}`,
        hint: this.#portHint(),
        ...(schedule.signal ? { signal: schedule.signal } : {}),
      });
      return result.value;
    } catch (error) {
      throw refused && isNoAck(error) ? refused : error;
    }
  }

  /**
   * Plain text goes out under the user name without its fingerprint: clients that can decrypt drop
   * plain text from a fingerprinted name (§6.6), and plain text is what a peer gets when its key did
   * not come (a lost GETPUBKEY, or no crypto at all).
   */
  #plainSender(): Sender {
    const base = parseFingerprintName(this.#sender.identity.user)?.base;
    return base === undefined ? this.#sender : { ...this.#sender, identity: { ...this.#sender.identity, user: base } };
  }

  /**
   * Whether `text` fits one safe datagram as a message (iptux drops datagrams of 8 KiB or more),
   * encrypted unless `encrypt` is 'never' or we have no keys.
   */
  messageFits(text: string, encrypt: EncryptMode = 'auto'): boolean {
    const packet = sendMsgPacket(this.#sender, 0 as PacketNo, text, { check: true, seal: true, multicast: true, broadcast: false });
    // Room for a packet number of up to 16 digits, however this one was printed.
    const plain = encodePacket(packet, { lossy: true }).length + 16;
    if (!this.#options.security || encrypt === 'never') return plain <= MAX_SAFE_DATAGRAM;
    // Encrypted: the text, its NUL and up to a block of padding in base64, plus the CAPA word, the
    // RSA-2048 session key and signature (344 base64 characters each) and three colons.
    const header = encodePacket({ ...packet, text: '' }, { lossy: true }).length + 16;
    const cipher = Math.ceil((plain - header + 1 + 16) / 3) * 4;
    return header + 8 + 3 + 344 + cipher + 344 <= MAX_SAFE_DATAGRAM;
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

  async #deliver(destination: Destination, packetNo: PacketNo, bytes: Uint8Array, options: SendOptions): Promise<Omit<SendOutcome, 'encrypted'> & { ackedByKeyHolder?: boolean }> {
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
        // The acknowledger's user name: a fingerprinted one says it has keys (§6.6).
        match: (p, from) => (p.kind === 'RECVMSG' && p.ref === packetNo && from.address === to.address ? p.user : undefined),
        ...this.#schedule(options),
        failure: `No acknowledgement from ${destination.text}`,
        hint: this.#portHint(),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      acknowledged = true;
      if (read) await read;
      return { destination, packetNo, status: read ? 'read' : 'delivered', attempts: result.attempts, ackedByKeyHolder: parseFingerprintName(result.value) !== undefined };
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

  #schedule(options: RetryOptions, withSignal = false): { interval: number; tries: number; signal?: AbortSignal } {
    const tries = Math.max(1, options.retries + 1);
    return { tries, interval: Math.max(1, Math.floor(options.timeout / tries)), ...(withSignal && options.signal ? { signal: options.signal } : {}) };
  }

  /** An unconfirmed BROADCASTOPT message to every broadcast target. */
  async broadcastMessage(text: string): Promise<void> {
    const packet = sendMsgPacket(this.#plainSender(), this.#next(), text, {
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
    if (this.#dropsUnencrypted(packet)) {
      this.#options.onWarning(`ignored a ${packet.kind} without ENCRYPTOPT from the fingerprinted ${packet.user}@${packet.host} (${from.address})`);
      return;
    }
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
      case 'OTHER':
        if (getMode(packet.command) === IPMSG_GETPUBKEY) this.#onGetPubKey(packet, from);
        else if (getMode(packet.command) === IPMSG_ANSPUBKEY) this.#exchanges.offer(packet, from);
        return;
      case 'NOOPERATION':
      case 'DELMSG':
        return;
    }
  }

  /**
   * What the official drops (§6.6): entries and non-auto-reply messages without ENCRYPTOPT from a
   * user name that carries a key fingerprint (only a client with that key can have sent them).
   */
  #dropsUnencrypted(packet: Packet): boolean {
    // Only a client that can decrypt may insist: without keys we are the one the sender fell back to plain text for.
    if (!this.#options.security) return false;
    // A broadcast message cannot be encrypted (one datagram for everybody): it is let through.
    const checked = packet.kind === 'BR_ENTRY' || packet.kind === 'ANSENTRY' || packet.kind === 'BR_ABSENCE' || (packet.kind === 'SENDMSG' && !isBroadcastOrAutoReply(packet));
    return checked && !hasOpt(packet.command, IPMSG_ENCRYPTOPT) && parseFingerprintName(packet.user) !== undefined;
  }

  /** Answers GETPUBKEY with ANSPUBKEY; a signing requester whose key we lack is asked for it in turn (as the official does). */
  #onGetPubKey(packet: OtherPacket, from: RemoteAddress): void {
    const security = this.#options.security;
    if (!security) return;
    const body = security.answer(asciiText(packet.body), packet.user);
    if (body === undefined) return;
    if (!hasOpt(packet.command, IPMSG_AUTORETOPT) && !security.knownKey(packet)) void this.#learnKey(from, packet, true);
    this.#reply(pubKeyPacket(this.#sender, this.#next(), 'ANSPUBKEY', body), from);
  }

  /**
   * In-flight key requests by address and port: a burst of messages asks once. (By address alone,
   * a request still retrying towards a run that has exited answered for the next run from that host.)
   */
  readonly #learning = new Map<string, Promise<LearnedKey | undefined>>();

  /**
   * Asks a peer for its key and pins it (trust on first use). Resolves undefined when it does not
   * answer; a changed key is a warning and resolves the key it showed, flagged as changed.
   */
  #learnKey(from: RemoteAddress, peer: { user: string; host: string }, autoReply: boolean): Promise<LearnedKey | undefined> {
    const at = `${from.address}:${from.port}`;
    const running = this.#learning.get(at);
    if (running) return running;
    const security = this.#options.security as Security;
    const learning = (async (): Promise<LearnedKey | undefined> => {
      try {
        const answer = await this.publicKey(from, SENDER_KEY_WAIT, autoReply);
        if (answer.user !== peer.user || answer.host !== peer.host) return undefined;
        try {
          await security.pin(answer, answer.key);
          return { key: answer.key, changed: undefined };
        } catch (error) {
          return { key: answer.key, changed: error as IpmsgError };
        }
      } catch (error) {
        if (!isNoAck(error)) this.#options.onWarning(`public key of ${from.address}: ${(error as Error).message}`);
        return undefined;
      } finally {
        this.#learning.delete(at);
      }
    })();
    this.#learning.set(at, learning);
    return learning;
  }

  #onMessage(packet: SendMsgPacket, from: RemoteAddress, now: number): void {
    const handler = this.#handler;
    const resent = this.#recent.has(packet.packetNo, packet, from);
    // A new encrypted message costs an RSA decryption: beyond the budget it is not acknowledged (the sender tries again).
    if (!resent && hasOpt(packet.command, IPMSG_ENCRYPTOPT) && this.#options.security && !this.#decryptBudget.take(from.address)) {
      this.#options.onWarning(
        `ignored an encrypted message from ${packet.user}@${packet.host} (${from.address}:${from.port}): more than ${DECRYPT_BUDGET.perAddress.perSecond} a second from it or ${DECRYPT_BUDGET.total.perSecond} in all to decrypt`,
      );
      return;
    }
    // A resent message was accepted the first time: it is acknowledged again whatever the handler says now.
    if (!resent && handler && !handler.accepts(packet, from)) {
      this.#options.onWarning(`ignored a message from ${packet.user}@${packet.host} (${from.address}:${from.port})`);
      return;
    }
    if (hasOpt(packet.command, IPMSG_SENDCHECKOPT) && !isBroadcastOrAutoReply(packet)) {
      this.#reply(replyPacket(this.#sender, this.#next(), 'RECVMSG', packet.packetNo), from);
    }
    if (this.#recent.check(packet.packetNo, packet, from)) return;
    if (hasOpt(packet.command, IPMSG_ENCRYPTOPT) && this.#options.security) {
      // After the acknowledgement has left: dgram sends on a later tick, and the RSA decryption
      // would hold it back by a couple of milliseconds.
      setImmediate(() => void this.#onEncrypted(packet, from, now, handler));
      return;
    }
    const message: ReceivedMessage = { packet, from, peer: this.peers.get(from), receivedAt: now, encrypted: false, signature: 'none' };
    if (handler) return handler.deliver(message);
    const sealed = hasOpt(packet.command, IPMSG_SECRETOPT) ? ' (sealed)' : '';
    this.#options.onNotice(
      `message from ${describePeer({ ...packet, ...from })}${sealed} arrived while not receiving (use 'ipmsg recv'): ${JSON.stringify(packet.text)}`,
    );
  }

  /**
   * Decrypts an ENCRYPTOPT message and checks its signature with the sender's key: the known one,
   * or, for a new sender, the one it gives us now (pinned). An undecryptable message, or one from a
   * sender whose key changed, is dropped with a warning, never delivered as if genuine.
   */
  async #onEncrypted(packet: SendMsgPacket, from: RemoteAddress, now: number, handler: MessageHandler | undefined): Promise<void> {
    const security = this.#options.security as Security;
    const who = `${packet.user}@${packet.host} (${from.address})`;
    const drop = (reason: string): void => {
      if (handler?.dropped) handler.dropped(packet, from, reason);
      else this.#options.onNotice(`dropped a message from ${who}: ${reason}`);
    };
    const extended = hasOpt(packet.command, IPMSG_ENCEXTMSGOPT);
    // The body is base64, so the packet's charset says nothing: tell it from the plaintext, as for a plain packet.
    let textCharset = packet.charset;
    const charset = (plaintext: Uint8Array): Charset =>
      (textCharset = detectCharset([plaintext], hasOpt(packet.command, IPMSG_UTF8OPT), this.#options.fallbackCharset));
    const open = (key: KeyObject | undefined) => security.decrypt(packet.text, packet.packetNoText ?? String(packet.packetNo), key, extended, charset);
    let known = security.knownKey(packet);
    let opened;
    try {
      opened = open(known);
      if (opened.signature === 'unknown-key' || opened.signature === 'bad') {
        // A new sender: ask for its key. A known one whose signature fails: did its key change?
        const learned = await this.#learnKey(from, packet, true);
        if (learned?.changed) return drop(learned.changed.message);
        if (learned && opened.signature === 'unknown-key') {
          known = learned.key;
          opened = open(known);
        }
      }
    } catch (error) {
      // The acknowledgement has gone already: tell the sender, whose client would otherwise show it
      // as delivered (the official does the same, recvdlg.cpp).
      this.#reply(autoReplyPacket(this.#sender, this.#next(), DECRYPT_FAILED_REPLY), from);
      return drop((error as Error).message);
    }
    if (known && security.fingerprintMatches(packet.user, known) === false) {
      return drop(`its user name names another key than the one it signs with`);
    }
    const plain: SendMsgPacket = {
      ...packet,
      charset: textCharset,
      text: opened.text,
      ...(extended && opened.attachments ? { attachments: opened.attachments } : {}),
    };
    const message: ReceivedMessage = { packet: plain, from, peer: this.peers.get(from), receivedAt: now, encrypted: true, signature: opened.signature };
    if (handler) return handler.deliver(message);
    this.#options.onNotice(`encrypted message from ${who} arrived while not receiving (use 'ipmsg recv')`);
  }

  /** Says BR_EXIT to whoever we announced ourselves to, then closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      // No packet number is taken (a locked file update) when there is nobody to say BR_EXIT to.
      if (this.#announced) await this.#broadcast(entryPacket(this.#sender, this.#next(), 'BR_EXIT')).catch(() => undefined);
      else if (this.#toldPeers.length > 0) {
        const exit = entryPacket(this.#sender, this.#next(), 'BR_EXIT');
        await Promise.all(this.#toldPeers.map((to) => this.#endpoint.send(exit, to, { lossy: true }).catch(() => undefined)));
      }
    } finally {
      this.#closed = true;
      this.#exchanges.cancelAll(new IpmsgError('IPMSG_ERR_INTERRUPTED', 'Closed'));
      await this.#endpoint.close();
    }
  }
}

/** A key a peer gave us; `changed` when it is not the one pinned for it. */
interface LearnedKey {
  readonly key: KeyObject;
  readonly changed: IpmsgError | undefined;
}

function isNoAck(error: unknown): boolean {
  return error instanceof IpmsgError && error.code === 'IPMSG_ERR_NO_ACK';
}

export type { Identity } from './packets.js';
export type { Peer } from './peers.js';
export type { Destination, TargetSpec } from './target.js';
