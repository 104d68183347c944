// src/messenger/security.ts
// What the messenger does with the crypto layer (§6): our keys and capability word, the answer to
// GETPUBKEY, reading an ANSPUBKEY, pinning peers' keys (known peers), and encrypting or decrypting
// one SENDMSG.

import type { KeyObject } from 'node:crypto';
import { type Combination, localCapa, selectCombination } from '../crypto/capability.js';
import { checkNameFingerprint, fingerprint, parseFingerprintName, withFingerprint } from '../crypto/fingerprint.js';
import { answerFor, publicKeyFrom, type OwnKeys } from '../crypto/keys.js';
import { type PeerName, keyChangedError, keyFingerprint, peerId } from '../crypto/peer-id.js';
import type { KnownPeers } from '../state/known-peers.js';
import { type DecryptedMessage, type PreparedMessage, decryptMessage, encryptMessage, prepareMessage } from '../crypto/message.js';
import type { MessageParts } from '../crypto/plaintext.js';
import type { Charset } from '../encoding/charset.js';
import { IpmsgError } from '../errors.js';
import {
  IPMSG_RSA_2048,
  IPMSG_SIGN_SHA1,
  IPMSG_SIGN_SHA256,
} from '../protocol/command.js';
import type { PublicKeyAnswer } from '../protocol/pubkey.js';

export interface SecurityOptions {
  readonly keys: OwnKeys;
  /** RSA-1024 + Blowfish-128 too (--legacy-crypto). */
  readonly legacy: boolean;
  readonly known: KnownPeers;
}

/** A known peer showing another key than the one pinned for it: both fingerprints, and the error that says so. */
export interface KeyChange {
  readonly known: string;
  readonly seen: string;
  /** IPMSG_ERR_KEY_MISMATCH, with both fingerprints and the command that accepts the new key. */
  readonly error: IpmsgError;
}

/** A peer's key as its ANSPUBKEY gave it. */
export interface PeerKey {
  readonly capa: number;
  readonly key: KeyObject;
}

const SIGNS = IPMSG_SIGN_SHA1 | IPMSG_SIGN_SHA256;

export class Security {
  readonly capa: number;
  /** Of our RSA-2048 key (§6.6). */
  readonly fingerprint: string;
  readonly known: KnownPeers;
  readonly #keys: OwnKeys;
  readonly #answers = new Map<2048 | 1024, PublicKeyAnswer>();

  constructor(options: SecurityOptions) {
    this.#keys = options.keys;
    this.known = options.known;
    this.capa = localCapa({ legacy: options.legacy });
    this.fingerprint = fingerprint(options.keys.rsa2048.publicKey);
  }

  /** Our user name as the official writes its own: `name-<fingerprint>`. */
  userName(user: string): string {
    return withFingerprint(parseFingerprintName(user)?.base ?? user, this.fingerprint);
  }

  /**
   * What we answer to a GETPUBKEY with the requester's capability word (§6.2): our 2048-bit key
   * when the requester can use it, else the 1024-bit one; undefined when we share no capability,
   * or when a fingerprinted requester cannot sign (the official ignores those).
   */
  answer(theirs: number | undefined, requester: string): PublicKeyAnswer | undefined {
    if (theirs === undefined) return undefined;
    const common = theirs & this.capa;
    if (common === 0) return undefined;
    if (parseFingerprintName(requester) && ((theirs & IPMSG_RSA_2048) === 0 || (theirs & SIGNS) === 0)) return undefined;
    const bits = (common & IPMSG_RSA_2048) !== 0 ? 2048 : 1024;
    const pair = bits === 2048 ? this.#keys.rsa2048 : this.#keys.rsa1024;
    if (!pair) return undefined;
    // Made once per key: a sender waits for this answer before it can encrypt.
    let answer = this.#answers.get(bits);
    if (answer === undefined) this.#answers.set(bits, (answer = answerFor(pair.publicKey, this.capa)));
    return answer;
  }

  /**
   * Reads the key of an ANSPUBKEY from `sender` (its user name). A key that contradicts a
   * fingerprint in the name is refused, as the official drops it.
   * @throws IpmsgError IPMSG_ERR_DECODE for a key Node cannot use, IPMSG_ERR_KEY_MISMATCH for a
   *   key that is not the one the user name names
   */
  readAnswer(answer: PublicKeyAnswer, sender: PeerName): PeerKey {
    const key = publicKeyFrom(answer);
    if (checkNameFingerprint(sender.user, key) === 'mismatch') {
      throw new IpmsgError(
        'IPMSG_ERR_KEY_MISMATCH',
        `${sender.user}@${sender.host} sent a public key (${keyFingerprint(key)}) that is not the one its user name names`,
      );
    }
    return { capa: answer.capa, key };
  }

  /**
   * Trust on first use: remembers a new peer's key; a known peer must show the key we know.
   * @throws IpmsgError IPMSG_ERR_KEY_MISMATCH with both fingerprints
   */
  async pin(peer: PeerName, key: KeyObject): Promise<void> {
    const change = await this.remember(peer, key);
    if (change) throw change.error;
  }

  /** Trust on first use, as pin(); a known peer that shows another key is returned, not thrown. */
  async remember(peer: PeerName, key: KeyObject): Promise<KeyChange | undefined> {
    const result = await this.known.remember(peer, key);
    return typeof result === 'object' ? this.#change(peer, result.mismatch) : undefined;
  }

  /**
   * The change a fingerprinted user name claims: the key it names is not the one pinned for it.
   * Undefined when the name carries no fingerprint, nothing is pinned, or they agree.
   */
  namedChange(peer: PeerName): KeyChange | undefined {
    const named = parseFingerprintName(peer.user)?.fingerprint;
    const pinned = named === undefined ? undefined : this.known.get(peer);
    if (named === undefined || pinned === undefined || checkNameFingerprint(peer.user, pinned.publicKey) !== 'mismatch') return undefined;
    return this.#change(peer, { known: pinned.fingerprint, seen: named });
  }

  #change(peer: PeerName, mismatch: { readonly known: string; readonly seen: string }): KeyChange {
    return { known: mismatch.known, seen: mismatch.seen, error: keyChangedError(peerId(peer), mismatch) };
  }

  /** The key we know for a peer (known peers), if any. */
  knownKey(peer: PeerName): KeyObject | undefined {
    return this.known.get(peer)?.publicKey;
  }

  /** The fingerprint of the key pinned for a peer, if any. */
  pinnedFingerprint(peer: PeerName): string | undefined {
    return this.known.fingerprint(peer);
  }

  /** False when a fingerprinted user name names another key than `key`; undefined without a fingerprint. */
  fingerprintMatches(user: string, key: KeyObject): boolean | undefined {
    const check = checkNameFingerprint(user, key);
    return check === 'none' ? undefined : check === 'match';
  }

  /** The combination for a peer with this capa word; undefined = none in common. */
  combinationFor(peerCapa: number): Combination | undefined {
    return selectCombination(this.capa, peerCapa);
  }

  /**
   * What the message to `packetNo` can be before the peer's key is known (prepareMessage), made
   * while waiting for it; undefined for text that cannot be encoded (encrypt() reports it).
   */
  prepare(parts: MessageParts, charset: Charset, packetNo: string): PreparedMessage | undefined {
    try {
      return prepareMessage(parts, charset, packetNo, this.#keys.rsa2048.privateKey);
    } catch {
      return undefined;
    }
  }

  /** The encrypted SENDMSG body (§6.3), with what `prepared` holds where it fits. */
  encrypt(parts: MessageParts, packetNo: string, peer: PeerKey, combination: Combination, charset: Charset, prepared?: PreparedMessage): string {
    return encryptMessage({ parts, packetNo, combination, peerPublicKey: peer.key, ownPrivateKey: this.#keys.rsa2048.privateKey, charset, ...(prepared ? { prepared } : {}) });
  }

  /**
   * Decrypts a SENDMSG body; the signature is checked with `senderKey` when given.
   * @throws IpmsgError IPMSG_ERR_DECRYPT
   */
  decrypt(body: string, packetNo: string, senderKey: KeyObject | undefined, extended: boolean, charset: Charset | ((plaintext: Uint8Array) => Charset)): DecryptedMessage {
    return decryptMessage({ body, packetNo, ownKeys: this.#keys, senderPublicKey: senderKey, extended, charset });
  }
}
