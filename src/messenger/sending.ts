// src/messenger/sending.ts
// Messages we send: one packet number for all destinations, encrypted for each one that gives its
// key (§6), confirmed by RECVMSG with retries, and the unconfirmed broadcast message.

import { setMaxListeners } from 'node:events';
import type { PreparedMessage } from '../crypto/message.js';
import { type Charset, decodeText, encodeText } from '../encoding/charset.js';
import { IpmsgError } from '../errors.js';
import type { Attachment } from '../protocol/attachment.js';
import { IPMSG_ENCEXTMSGOPT, IPMSG_ENCRYPTOPT } from '../protocol/command.js';
import { MAX_SAFE_DATAGRAM, UNFRAGMENTED_DATAGRAM } from '../protocol/limits.js';
import { type SendMsgPacket, encodePacket } from '../protocol/packet.js';
import type { PacketNo } from '../protocol/packet-no.js';
import type { CharsetChoice, CharsetReason } from '../protocol/peer-charset.js';
import { parseFingerprintName } from '../protocol/user-name.js';
import type { KeyExchange, AnsweredKey, KeyRequests } from './key-exchange.js';
import type { BroadcastResult, Link } from './link.js';
import { type RetryOptions, schedule } from './options.js';
import { type Sender, sendMsgPacket } from './packets.js';
import { peerKey } from './peers.js';
import type { Security } from './security.js';
import { type Destination, checkTargetCount } from './target.js';
import type { RetryGroup } from '../transport/retry-group.js';

export type EncryptMode = 'auto' | 'always' | 'never';

/** How long `--encrypt auto` waits for the key of a peer whose capabilities are unknown. */
export const KEY_PROBE = { tries: 2, interval: 150 };

export type SendStatus = 'delivered' | 'read' | 'sent' | 'failed';

export interface SendOutcome {
  readonly destination: Destination;
  readonly packetNo: PacketNo;
  readonly status: SendStatus;
  readonly attempts: number;
  /** Sent encrypted (ENCRYPTOPT). */
  readonly encrypted: boolean;
  /** The code page its text (and attachment names) went out in; the plaintext's when encrypted. */
  readonly charset: Charset;
  readonly charsetReason: CharsetReason;
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

/** One destination's outcome before we know whether it went encrypted, and in which charset. */
/** How the datagram to one destination went; `ackedBy` is the acknowledger's user name. */
type Delivery = Omit<SendOutcome, 'encrypted' | 'charset' | 'charsetReason'> & { readonly ackedBy?: string };

/** One datagram, no acknowledgement asked. */
async function sendUnconfirmed(destination: Destination, packetNo: PacketNo, transmit: () => Promise<void>): Promise<Delivery> {
  try {
    await transmit();
  } catch (error) {
    const failure = new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot send to ${destination.text}: ${(error as Error).message}`);
    return { destination, packetNo, status: 'failed', attempts: 1, error: failure };
  }
  return { destination, packetNo, status: 'sent', attempts: 1 };
}

/** The outcome of one destination, built field by field (no spread or rest: it runs per destination). */
function outcomeOf(delivery: Delivery, encrypted: boolean, choice: CharsetChoice): SendOutcome {
  const { destination, packetNo, status, attempts, error } = delivery;
  const { charset, reason: charsetReason } = choice;
  return error === undefined
    ? { destination, packetNo, status, attempts, encrypted, charset, charsetReason }
    : { destination, packetNo, status, attempts, error, encrypted, charset, charsetReason };
}

/** What the destinations of one message share when it goes encrypted: key requests, and the parts made before a key is known. */
interface Fleet {
  readonly keys: KeyRequests;
  /** By charset and whether the attachment list goes inside (`utf-8|false`). */
  readonly prepared: Map<string, PreparedMessage | undefined>;
}

/** The read notices a sealed message to several destinations waits for (--wait-read). */
interface ReadWaits {
  /** Addresses that more than one destination shares (on different ports): their notices must come from the right port. */
  readonly shared: ReadonlySet<string>;
  /** Aborted with the caller's signal; one listener on it for all the waits. */
  readonly signal: AbortSignal | undefined;
  close(): void;
}

function readWaits(destinations: readonly Destination[], signal: AbortSignal | undefined): ReadWaits {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const d of destinations) (seen.has(d.address) ? shared : seen).add(d.address);
  if (!signal) return { shared, signal, close: () => undefined };
  const child = new AbortController();
  // Node warns past 10 listeners on one signal: a wait per destination is expected here.
  setMaxListeners(destinations.length + 1, child.signal);
  const forward = (): void => child.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  return { shared, signal: child.signal, close: () => signal.removeEventListener('abort', forward) };
}

/** One destination's plain packet in its charset, and that packet's bytes. */
interface Prepared {
  readonly choice: CharsetChoice;
  readonly packet: SendMsgPacket;
  readonly bytes: Uint8Array;
}

/** An answer's sender as the group knows it: address and port. */
function endpointKey(at: { readonly address: string; readonly port: number }): string {
  return `${at.address}|${at.port}`;
}

function asIpmsgError(error: unknown): IpmsgError {
  return error instanceof IpmsgError ? error : new IpmsgError('IPMSG_ERR_INTERNAL', String(error));
}

export class Sending {
  readonly #link: Link;
  readonly #keys: KeyExchange;

  constructor(link: Link, keys: KeyExchange) {
    this.#link = link;
    this.#keys = keys;
  }

  /**
   * Sends one message to each destination (one packet number, MULTICASTOPT when several), confirmed
   * by RECVMSG with retries unless `check` is off.
   * @throws IpmsgError IPMSG_ERR_ENCODING, IPMSG_ERR_TOO_LONG, IPMSG_ERR_ENCRYPT_UNAVAILABLE, IPMSG_ERR_USAGE
   *   (more than MAX_TARGETS destinations) before anything is sent
   */
  async sendMessage(destinations: readonly Destination[], text: string, options: SendOptions): Promise<SendOutcome[]> {
    checkTargetCount(destinations.length);
    const { security, plainPeers } = this.#link.options;
    const seal = options.seal || options.waitRead;
    const packetNo = this.#link.next();
    const flags = {
      check: options.check,
      seal,
      multicast: destinations.length > 1,
      broadcast: false,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    };
    // Each destination in the charset it reads (§7), one packet per charset; all are encoded (and
    // text a code page cannot hold refused) before anything is sent.
    const byCharset = new Map<Charset, Omit<Prepared, 'choice'>>();
    const prepared = destinations.map((d): Prepared => {
      const choice = this.#link.charsets.choose(d);
      let plain = byCharset.get(choice.charset);
      if (!plain) {
        const packet = sendMsgPacket(this.#plainSender(), packetNo, text, flags, choice.charset);
        plain = { packet, bytes: this.#checkedBytes(packet, d) };
        byCharset.set(choice.charset, plain);
      }
      return { choice, ...plain };
    });
    const mode = options.encrypt ?? (security ? 'auto' : 'never');
    if (mode === 'always' && !security) throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', 'Cannot encrypt: no keys loaded');
    options.beforeSend?.(packetNo);
    // One retry schedule for every destination; RECVMSG names its packet number, and its sender is
    // told apart by address and port (peers on one address, several ports) or, alone there, by address.
    const group = options.check
      ? this.#link.exchanges.group<string>({
          identify: (p, from) => (p.kind === 'RECVMSG' && p.ref === packetNo ? { keys: [endpointKey(from), from.address], value: p.user } : undefined),
          ...schedule(options, true),
          hint: this.#link.portHint(),
        })
      : undefined;
    const fleet: Fleet | undefined = mode !== 'never' && security ? { keys: this.#keys.requests(), prepared: new Map() } : undefined;
    const reads = seal && options.waitRead ? readWaits(destinations, options.signal) : undefined;
    const deliverOptions = { ...options, seal };
    try {
      // Promise chains, not async functions: one per destination, thousands pending at once.
      return await Promise.all(
        destinations.map((d, i): Promise<SendOutcome> => {
          const { choice, packet, bytes } = prepared[i] as Prepared;
          const deliver = (own: Uint8Array): Promise<SendOutcome> =>
            this.#deliver(d, packetNo, own, deliverOptions, group, reads).then((sent) => {
              // Plain text under --encrypt auto, and the peer may have keys after all: probe it again next time. Either it
              // ignored the plain text (§6.6 drops plain text from a key holder), or it acknowledged from a fingerprinted
              // name (it has keys; only its key was lost on the way, a lossy LAN).
              if (own === bytes && mode === 'auto' && (sent.status === 'failed' || (sent.ackedBy !== undefined && parseFingerprintName(sent.ackedBy) !== undefined))) {
                plainPeers?.delete(peerKey(d));
              }
              return outcomeOf(sent, own !== bytes, choice);
            });
          try {
            if (mode === 'never' || !fleet) return deliver(bytes);
            return this.#encryptedFor(d, packet, bytes, mode, options, fleet).then(deliver, (error: unknown): SendOutcome => {
              if (options.signal?.aborted) throw error;
              return { destination: d, packetNo, status: 'failed', attempts: 0, encrypted: false, charset: choice.charset, charsetReason: choice.reason, error: asIpmsgError(error) };
            });
          } catch (error) {
            return Promise.reject(error);
          }
        }),
      );
    } finally {
      group?.close();
      fleet?.keys.close();
      reads?.close();
    }
  }

  /**
   * The datagram for one destination under --encrypt auto|always: encrypted with the key its
   * ANSPUBKEY gives (pinned in known peers), or `plain` when auto finds it cannot encrypt.
   * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE (always), IPMSG_ERR_KEY_MISMATCH
   */
  async #encryptedFor(destination: Destination, packet: SendMsgPacket, plain: Uint8Array, mode: 'auto' | 'always', options: SendOptions, fleet: Fleet): Promise<Uint8Array> {
    const link = this.#link;
    const security = link.options.security as Security;
    const to = { address: destination.address, port: destination.port };
    const entry = link.peers.get(to);
    const plainPeers = link.options.plainPeers;
    if (mode === 'auto' && (entry ? !entry.capabilities.encrypt : plainPeers?.has(peerKey(to)))) return plain;
    // The attachment list goes inside the ciphertext only for peers that said they read it there (§6.4).
    const extended = (packet.attachments?.length ?? 0) > 0 && entry !== undefined && entry.capabilities.encryptExt;
    // The plaintext is in the destination's charset, as the plain packet; --lossy: as that packet
    // would have carried it ('?' for what the code page lacks).
    const charset = packet.charset;
    const text = link.options.lossy && charset !== 'utf-8' ? decodeText(encodeText(packet.text, charset, true), charset) : packet.text;
    const parts = { text, ...(extended ? { attachments: packet.attachments } : {}) };
    let prepared: PreparedMessage | undefined;
    let answer: AnsweredKey;
    try {
      // A peer that announced ENCRYPTOPT gets the full retry schedule; an unknown one a short probe.
      const asked = fleet.keys.publicKey(to, mode === 'auto' && !entry ? { ...KEY_PROBE, ...(options.signal ? { signal: options.signal } : {}) } : schedule(options, true));
      // GETPUBKEY is on the wire: sign and encrypt while its answer travels, once for every
      // destination that reads the same plaintext (one signature, not a thousand).
      const id = `${charset}|${extended}`;
      if (!fleet.prepared.has(id)) fleet.prepared.set(id, security.prepare(parts, charset, String(packet.packetNo)));
      prepared = fleet.prepared.get(id);
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
      user: link.sender.identity.user,
      command: packet.command | IPMSG_ENCRYPTOPT | (extended ? IPMSG_ENCEXTMSGOPT : 0),
      text: body,
      ...(attachments && !extended ? { attachments } : {}),
    };
    const bytes = this.#checkedBytes(encrypted, destination);
    options.onEncrypted?.(destination, answer);
    return bytes;
  }

  #deliver(destination: Destination, packetNo: PacketNo, bytes: Uint8Array, options: SendOptions, group: RetryGroup<string> | undefined, reads: ReadWaits | undefined): Promise<Delivery> {
    const link = this.#link;
    const to = { address: destination.address, port: destination.port };
    let transmissions = 0;
    const transmit = (): Promise<void> => {
      transmissions++;
      return link.endpoint.sendBytes(bytes, to);
    };
    const read = reads
      ? link.exchanges.waitFor(
          (p, from) => (p.kind === 'READMSG' && p.ref === packetNo && from.address === to.address && (from.port === to.port || !reads.shared.has(to.address)) ? true : undefined),
          options.readTimeout,
          `${destination.text} did not open the sealed message in time`,
          reads.signal,
        )
      : undefined;
    read?.catch(() => undefined); // settled below; never an unhandled rejection
    if (!group) return sendUnconfirmed(destination, packetNo, transmit);
    // Promise chains, not an async function: a send to many has thousands of these pending at once.
    const failed = (acknowledged: boolean) => (error: unknown): Delivery => {
      if (options.signal?.aborted) throw error;
      // attempts = datagrams actually sent (all the tries when no acknowledgement came)
      return { destination, packetNo, status: acknowledged ? 'delivered' : 'failed', attempts: transmissions, error: asIpmsgError(error) };
    };
    // The acknowledger's user name: a fingerprinted one says it has keys (§6.6).
    return group.add([endpointKey(to), to.address], { transmit, failure: `No acknowledgement from ${destination.text}` }).then((result) => {
      const delivered: Delivery = { destination, packetNo, status: read ? 'read' : 'delivered', attempts: result.attempts, ackedBy: result.value };
      return read ? read.then(() => delivered, failed(true)) : delivered;
    }, failed(false));
  }

  /** An unconfirmed BROADCASTOPT message to every broadcast target; how each target went. */
  async broadcastMessage(text: string): Promise<BroadcastResult[]> {
    const packet = sendMsgPacket(this.#plainSender(), this.#link.next(), text, {
      check: false,
      seal: false,
      multicast: false,
      broadcast: true,
    });
    this.#checkedBytes(packet);
    return this.#link.broadcast(packet);
  }

  /**
   * Plain text goes out under the user name without its fingerprint: clients that can decrypt drop
   * plain text from a fingerprinted name (§6.6), and plain text is what a peer gets when its key did
   * not come (a lost GETPUBKEY, or no crypto at all).
   */
  #plainSender(): Sender {
    const sender = this.#link.sender;
    const base = parseFingerprintName(sender.identity.user)?.base;
    return base === undefined ? sender : { ...sender, identity: { ...sender.identity, user: base } };
  }

  /**
   * Whether `text` fits one safe datagram as a message (iptux drops datagrams of 8 KiB or more),
   * encrypted unless `encrypt` is 'never' or we have no keys.
   */
  messageFits(text: string, encrypt: EncryptMode = 'auto'): boolean {
    const packet = sendMsgPacket(this.#link.sender, 0 as PacketNo, text, { check: true, seal: true, multicast: true, broadcast: false });
    // Room for a packet number of up to 16 digits, however this one was printed.
    const plain = encodePacket(packet, { lossy: true }).length + 16;
    if (!this.#link.options.security || encrypt === 'never') return plain <= MAX_SAFE_DATAGRAM;
    // Encrypted: the text, its NUL and up to a block of padding in base64, plus the CAPA word, the
    // RSA-2048 session key and signature (344 base64 characters each) and three colons.
    const header = encodePacket({ ...packet, text: '' }, { lossy: true }).length + 16;
    const cipher = Math.ceil((plain - header + 1 + 16) / 3) * 4;
    return header + 8 + 3 + 344 + cipher + 344 <= MAX_SAFE_DATAGRAM;
  }

  /**
   * @throws IpmsgError IPMSG_ERR_TOO_LONG for a datagram receivers would drop, IPMSG_ERR_ENCODING
   * (naming `destination` as the reader of the code page, unless --encoding forced it)
   */
  #checkedBytes(packet: SendMsgPacket, destination?: Destination): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(packet, { lossy: this.#link.options.lossy });
    } catch (error) {
      if (!(error instanceof IpmsgError) || error.code !== 'IPMSG_ERR_ENCODING' || destination === undefined) throw error;
      if (this.#link.charsets.choose(destination).reason === 'forced') throw error;
      const named = error.message.replace(` in ${packet.charset};`, ` in ${packet.charset}, the code page ${destination.text} reads;`);
      throw new IpmsgError('IPMSG_ERR_ENCODING', named, { cause: error });
    }
    if (bytes.length > MAX_SAFE_DATAGRAM) {
      throw new IpmsgError(
        'IPMSG_ERR_TOO_LONG',
        `Message too long: the packet would be ${bytes.length} bytes, and receivers such as iptux drop datagrams of 8 KiB or more (at most ${MAX_SAFE_DATAGRAM} bytes)`,
      );
    }
    if (bytes.length > UNFRAGMENTED_DATAGRAM) {
      this.#link.options.onNotice(
        `the message takes ${bytes.length} bytes, more than one Ethernet frame (${UNFRAGMENTED_DATAGRAM}); networks that drop IP fragments will lose it`,
      );
    }
    return bytes;
  }
}
