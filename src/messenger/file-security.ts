// src/messenger/file-security.ts
// Encrypted file requests (§5.6) on both sides: what a requester needs to encrypt and sign its
// GETFILEDATA / GETDIRFILES for a peer (and decipher the stream), and how a file server opens such
// a request and checks who signed it.

import { randomBytes } from 'node:crypto';
import { IPMSG_AES_256, IPMSG_NOENC_FILEBODY, IPMSG_PACKETNO_IV } from '../protocol/command.js';
import { FILE_KEY_BYTES } from '../crypto/file-body.js';
import { createFileStreamCipher } from '../crypto/file-crypto.js';
import { parseFingerprintName } from '../crypto/fingerprint.js';
import { peerId } from '../crypto/peer-id.js';
import { IpmsgError, isIpmsgError } from '../errors.js';
import type { FileRequestPacket } from '../protocol/packet.js';
import { type Clock, sleep } from '../transport/clock.js';
import type { RemoteAddress } from '../transport/datagram.js';
import type { CipheredRequest } from '../transfer/file-client.js';
import type { OpenedRequest } from '../transfer/offer-registry.js';
import { encodeEncryptedRequest } from '../transfer/request.js';
import type { Messenger } from './index.js';
import type { Peer } from './peers.js';
import type { Security } from './security.js';

/** How long a requester waits for the entry (ANSENTRY) of a peer it has not heard from: per try. */
export const ENTRY_WAIT = { tries: 3, interval: 300 };
/** GETPUBKEY → ANSPUBKEY for file requests, either side. */
export const FILE_KEY_WAIT = { tries: 3, interval: 300 };

/** What encrypted file requests need: the messenger's entries and key exchange, our keys, its clock. */
export interface FileRequestContext {
  readonly messenger: Pick<Messenger, 'peers' | 'announceTo' | 'publicKey' | 'encryptedFileRequest'>;
  /** Our keys; undefined without crypto (requests then go plain, and encrypted ones are refused). */
  readonly security: Security | undefined;
  /** The clock the messenger runs on. */
  readonly clock: Clock;
  /** A fresh AES-256 key for each stream; random bytes from node:crypto unless a test injects them. */
  readonly streamKey?: () => Uint8Array;
}

/** Encrypted requests to one peer. */
export interface FileRequester {
  /** `base@host` of the peer whose key the requests are encrypted for. */
  readonly peer: string;
  /** 'encrypted': the stream is AES-256-CTR; 'signed': --no-encrypt-body, a clear stream (NOENC_FILEBODY). */
  readonly security: 'encrypted' | 'signed';
  /** The request for one offered item, with a fresh packet number (and stream key) each call. */
  request(kind: 'file' | 'dir', offer: number, fileId: number, offset: number, utf8: boolean): CipheredRequest;
}

/** The entry of the peer at `to`: the one we have, or the ANSENTRY to a BR_ENTRY sent to it. */
async function entryOf(context: FileRequestContext, to: RemoteAddress, signal: AbortSignal | undefined): Promise<Peer | undefined> {
  const { messenger, clock } = context;
  const known = messenger.peers.get(to);
  if (known) return known;
  const arrived = new AbortController();
  let found: Peer | undefined;
  const stop = messenger.peers.watch((peer) => {
    if (peer.address === to.address && peer.port === to.port) {
      found = peer;
      arrived.abort();
    }
  });
  try {
    for (let i = 0; i < ENTRY_WAIT.tries && !found; i++) {
      await messenger.announceTo(to).catch(() => undefined);
      await sleep(clock, ENTRY_WAIT.interval, AbortSignal.any([arrived.signal, ...(signal ? [signal] : [])])).catch(() => undefined);
      if (signal?.aborted) throw signal.reason;
    }
  } finally {
    stop();
  }
  return found;
}

/**
 * What encrypted file requests to the peer at `from` need, as the official decides it: the peer
 * announced CAPFILEENCOPT, has a fingerprinted user name, and gives its key (pinned, trust on first
 * use) with AES-256, packet-number IVs and a signature in common. Undefined when it does not (the
 * requests then go plain, as before), with `onNotice` told why when the peer said it could.
 * `encryptBody` false asks for a clear stream (NOENC_FILEBODY) when the peer offers that.
 * @throws IpmsgError IPMSG_ERR_KEY_MISMATCH when the peer shows another key than the pinned one
 */
export async function fileRequester(
  context: FileRequestContext,
  from: RemoteAddress,
  options: {
    readonly encryptBody: boolean;
    readonly signal?: AbortSignal;
    readonly onNotice: (message: string) => void;
    /** The offering user name, when known: one without a fingerprint settles it without asking (iptux, FeiQ). */
    readonly user?: string;
  },
): Promise<FileRequester | undefined> {
  const { messenger, security } = context;
  if (!security || (options.user !== undefined && !parseFingerprintName(options.user))) return undefined;
  const entry = await entryOf(context, from, options.signal);
  if (!entry?.capabilities.fileEncrypt || !parseFingerprintName(entry.user)) return undefined;
  let answer;
  try {
    answer = await messenger.publicKey(from, { ...FILE_KEY_WAIT, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (!isIpmsgError(error, 'IPMSG_ERR_NO_ACK')) throw error;
    options.onNotice(`${entry.user}@${entry.host} did not send its public key: asking for the files without encryption`);
    return undefined;
  }
  const combination = security.combinationFor(answer.capa);
  const needed = IPMSG_AES_256 | IPMSG_PACKETNO_IV;
  if (!combination || combination.rsaBits !== 2048 || !combination.signature || (answer.capa & needed) !== needed) {
    options.onNotice(`${answer.user}@${answer.host} has no signed AES-256 in common with us: asking for the files without encryption`);
    return undefined;
  }
  await security.pin(answer, answer.key);
  // --no-encrypt-body is a wish: a peer that cannot send a clear body to a signed request gets asked for an encrypted one.
  const clear = !options.encryptBody && (answer.capa & IPMSG_NOENC_FILEBODY) !== 0;
  return {
    peer: peerId(answer),
    security: clear ? 'signed' : 'encrypted',
    request(kind, offer, fileId, offset, utf8) {
      const key = clear ? undefined : (context.streamKey?.() ?? randomBytes(FILE_KEY_BYTES));
      const { bytes, packetNo } = messenger.encryptedFileRequest(
        kind,
        utf8,
        answer,
        combination,
        (pkt) => encodeEncryptedRequest(kind, offer, fileId, offset, key ? { kind: 'aes-256-ctr', key, packetNo: pkt } : { kind: 'clear', packetNo: pkt }),
        true,
      );
      return { bytes, decipher: key && createFileStreamCipher(key, packetNo) };
    },
  };
}

function refused(reason: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_PROTOCOL', reason);
}

/**
 * Opens an encrypted file request that reached our file server from `address`: decrypts it with
 * our key and verifies its signature with the key pinned for the requester (`base@host` of its
 * header). A requester whose key we lack is asked for it when it told us its UDP port (its entry),
 * and that key pinned. Anything else is refused: no key, a key its name contradicts, a request we
 * cannot decrypt, an unsigned one, or a signature that does not verify.
 * @throws IpmsgError IPMSG_ERR_PROTOCOL, IPMSG_ERR_KEY_MISMATCH
 */
export async function openFileRequest(context: FileRequestContext, packet: FileRequestPacket, address: string): Promise<OpenedRequest> {
  const { messenger, security } = context;
  if (!security) throw refused('it is encrypted, and we have no keys');
  const who = peerId(packet);
  let key = security.knownKey(packet);
  if (!key) {
    const peer = messenger.peers.all().find((p) => p.address === address && p.user === packet.user && p.host === packet.host);
    if (peer) {
      try {
        const answer = await messenger.publicKey(peer, FILE_KEY_WAIT, true);
        if (answer.user === packet.user && answer.host === packet.host) {
          await security.pin(answer, answer.key);
          key = answer.key;
        }
      } catch (error) {
        if (!isIpmsgError(error, 'IPMSG_ERR_NO_ACK')) throw error;
      }
    }
  }
  if (!key) throw refused(`it is signed by ${who}, whose key we do not know`);
  if (security.fingerprintMatches(packet.user, key) === false) throw refused(`the user name ${packet.user} names another key than the one known for ${who}`);
  let signature;
  let plaintext;
  try {
    const opened = security.decrypt(packet.body, String(packet.packetNo), key, false, 'utf-8');
    signature = opened.signature;
    plaintext = opened.text;
  } catch {
    throw refused(`cannot decrypt the request of ${who}`);
  }
  if (signature !== 'verified') throw refused(signature === 'bad' ? `its signature does not verify with the key of ${who}` : `it is not signed with a key of ${who}`);
  return { plaintext, signer: who };
}
