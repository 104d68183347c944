// src/messenger/options.ts
// What a Messenger is opened with, and the retry schedule every request/answer exchange shares.

import type { Charset } from '../encoding/charset.js';
import type { PeerReads } from '../protocol/peer-charset.js';
import type { DecodeLimits } from '../protocol/limits.js';
import type { Family } from '../transport/address.js';
import type { InterfaceTable } from '../transport/broadcast.js';
import type { Clock } from '../transport/clock.js';
import type { BindOptions, BoundSocket } from '../transport/datagram.js';
import type { PacketNumberSource } from '../state/packet-counter.js';
import type { Identity } from './packets.js';
import type { Security } from './security.js';

export interface MessengerOptions {
  readonly identity: Identity;
  readonly port: number;
  /** Local address to bind; all interfaces when undefined. */
  readonly bind: string | undefined;
  /** Only this family (-4/-6); both where the machine has IPv6 when undefined. */
  readonly family?: Family;
  /** When the port is taken, use a free one instead of failing. */
  readonly portFallback: boolean;
  /** Broadcast addresses added to the interfaces' own. */
  readonly broadcast: readonly string[];
  /** One code page for every peer (--encoding); undefined: each peer its own (§7, charsets.ts). */
  readonly charset: Charset | undefined;
  /**
   * The legacy code page: how text neither flagged nor valid UTF-8 is read, and what a peer known
   * to lack UTF-8 is sent when its client implies no other.
   */
  readonly fallbackCharset: Charset;
  readonly lossy: boolean;
  /** Our answer to GETINFO. */
  readonly clientVersion: string;
  /**
   * Away: our entries carry ABSENCEOPT, GETABSENCEINFO is answered with this text, and each
   * sender's first message gets it as an automatic reply (absence.ts). Undefined: not absent.
   */
  readonly absence?: string;
  /** Every timer and deferred callback of the messenger runs on it. */
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
  /** What peers' entries said they read, remembered across runs: no round trip before a send. */
  readonly peerCharsets?: PeerCharsets;
}

/** Remembers, across runs, what each peer (`address:port`) announced it reads. */
export interface PeerCharsets {
  get(peer: string): PeerReads | undefined;
  set(peer: string, reads: PeerReads): void;
  /** Saves what was set (called when the messenger closes). */
  flush(): void;
}

/** Remembers, across runs, which peers (`address:port`) did not answer GETPUBKEY. */
export interface PlainPeers {
  has(peer: string): boolean;
  add(peer: string): void;
  /** A plain message to it went unacknowledged (it may have keys now, §6.6): probe it again next time. */
  delete(peer: string): void;
  /** Saves what was added and deleted (called when the messenger closes). */
  flush?(): void;
}

export interface RetryOptions {
  /** Total time to wait for the answer, split evenly between the tries. */
  readonly timeout: number;
  /** Resends after the first transmission. */
  readonly retries: number;
  readonly signal?: AbortSignal;
}

/** Tries and the interval between them for an exchange: the timeout split evenly. */
export interface Schedule {
  readonly tries: number;
  readonly interval: number;
  readonly signal?: AbortSignal;
}

export function schedule(options: RetryOptions, withSignal = false): Schedule {
  const tries = Math.max(1, options.retries + 1);
  return { tries, interval: Math.max(1, Math.floor(options.timeout / tries)), ...(withSignal && options.signal ? { signal: options.signal } : {}) };
}
