// src/crypto/message.ts
// Encrypting and decrypting a SENDMSG body exactly as the official MakeEncryptMsg / DecryptMsg do
// (§6.3): a random session key wrapped with the recipient's RSA key (PKCS#1 v1.5), the plaintext
// in AES-256-CBC or Blowfish-128-CBC (PKCS#7), signed with RSASSA-PKCS1-v1_5 over the plaintext.

import { type KeyObject, createCipheriv, createDecipheriv, randomBytes, sign, verify } from 'node:crypto';
import type { Charset } from '../encoding/charset.js';
import { IpmsgError } from '../errors.js';
import { BLOWFISH_BLOCK, blowfishCbcDecrypt, blowfishCbcEncrypt } from './blowfish.js';
import type { Combination } from './capability.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { type OwnKeys, modulusBits } from './keys.js';
import { type MessageParts, decodePlaintext, encodePlaintext } from './plaintext.js';
import { rsaDecrypt, rsaEncrypt } from './rsa-pkcs1.js';

const AES_BLOCK = 16;
const SESSION_KEY_BYTES = { 'aes-256-cbc': 32, 'bf-cbc': 16 } as const;

/**
 * The IV: with PACKETNO_IV the packet number's ASCII digits, zero-filled; otherwise zeros. The
 * official receiver copies the header token into a 16-byte buffer with a NUL (so at most 15
 * digits count), and Blowfish takes only its first 8 bytes.
 */
export function messageIv(combination: Combination, packetNo: string): Buffer {
  const iv = Buffer.alloc(AES_BLOCK);
  if (combination.packetNoIv) iv.write(packetNo.slice(0, AES_BLOCK - 1), 'latin1');
  return iv.subarray(0, combination.cipher === 'bf-cbc' ? BLOWFISH_BLOCK : AES_BLOCK);
}

function encryptBody(combination: Combination, key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (combination.cipher === 'bf-cbc') return blowfishCbcEncrypt(key, iv, plaintext);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

function decryptBody(combination: Combination, key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  if (combination.cipher === 'bf-cbc') return blowfishCbcDecrypt(key, iv, ciphertext);
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}

export interface EncryptOptions {
  readonly parts: MessageParts;
  /** The packet number exactly as the header will carry it (decimal). */
  readonly packetNo: string;
  /** From selectCombination(); RSA_2048 combinations need the peer's 2048-bit key, RSA_1024 its 1024-bit one. */
  readonly combination: Combination;
  readonly peerPublicKey: KeyObject;
  /** Our RSA-2048 private key: signs when the combination has SIGN_SHA256 / SIGN_SHA1. */
  readonly ownPrivateKey: KeyObject;
  /** Code page of the text and attachment list (UTF-8 unless the peer lacks CAPUTF8OPT). */
  readonly charset?: Charset;
  /** Source of the session key; tests pass a fixed one. */
  readonly randomBytes?: (size: number) => Uint8Array;
  /** What prepareMessage() made in advance; used where it fits the combination and the plaintext. */
  readonly prepared?: PreparedMessage;
}

/**
 * The parts of an encrypted message that do not depend on the peer's key, made while the
 * GETPUBKEY exchange is on the wire: the plaintext, its SHA-256 signature, and its AES-256-CBC body
 * under a fresh session key with the packet-number IV (what every current peer picks).
 */
export interface PreparedMessage {
  readonly plaintext: Uint8Array;
  readonly hash: 'sha256';
  readonly signature: Uint8Array;
  readonly iv: Uint8Array;
  readonly sessionKey: Uint8Array;
  readonly body: Uint8Array;
}

/** The capability bits prepareMessage() bets on: AES-256-CBC with the packet-number IV. */
const PREPARED_AS: Combination = {
  capa: 0,
  rsaBits: 2048,
  cipher: 'aes-256-cbc',
  signature: 'sha256',
  packetNoIv: true,
  base64: true,
};

/**
 * The PreparedMessage for `parts` sent with packet number `packetNo` (the IV), signed with our key.
 * @throws IpmsgError IPMSG_ERR_INPUT / IPMSG_ERR_ENCODING for text that cannot be sent
 */
export function prepareMessage(parts: MessageParts, charset: Charset | undefined, packetNo: string, ownPrivateKey: KeyObject, random: (size: number) => Uint8Array = randomBytes): PreparedMessage {
  const plaintext = encodePlaintext(parts, charset);
  const sessionKey = random(SESSION_KEY_BYTES['aes-256-cbc']);
  const iv = messageIv(PREPARED_AS, packetNo);
  return { plaintext, hash: 'sha256', signature: sign('sha256', plaintext, ownPrivateKey), iv, sessionKey, body: encryptBody(PREPARED_AS, sessionKey, iv, plaintext) };
}

/**
 * The encrypted body `CAPA:ENCKEY:ENCBODY[:SIGNATURE]` for a SENDMSG with ENCRYPTOPT (and
 * ENCEXTMSGOPT when `parts` has attachments or recipients).
 * @throws IpmsgError IPMSG_ERR_ENCRYPT_UNAVAILABLE when the peer's key does not fit the combination;
 *   IPMSG_ERR_INPUT / IPMSG_ERR_ENCODING for text that cannot be sent
 */
export function encryptMessage(options: EncryptOptions): string {
  const { combination } = options;
  const bits = modulusBits(options.peerPublicKey);
  if (bits !== combination.rsaBits) {
    throw new IpmsgError('IPMSG_ERR_ENCRYPT_UNAVAILABLE', `Cannot encrypt: the peer's key has ${bits} bits, RSA-${combination.rsaBits} needs ${combination.rsaBits}`);
  }
  const plaintext = encodePlaintext(options.parts, options.charset);
  const iv = messageIv(combination, options.packetNo);
  const ready = options.prepared && Buffer.from(options.prepared.plaintext).equals(plaintext) ? options.prepared : undefined;
  const reuse = ready && combination.cipher === 'aes-256-cbc' && Buffer.from(ready.iv).equals(iv) ? ready : undefined;
  const sessionKey = reuse?.sessionKey ?? (options.randomBytes ?? randomBytes)(SESSION_KEY_BYTES[combination.cipher]);
  const body = reuse?.body ?? encryptBody(combination, sessionKey, iv, plaintext);
  const signature = !combination.signature
    ? undefined
    : ready && ready.hash === combination.signature
      ? ready.signature
      : sign(combination.signature, plaintext, options.ownPrivateKey);
  return encodeEnvelope({ combination, key: rsaEncrypt(options.peerPublicKey, sessionKey), body, signature });
}

export type SignatureStatus = 'verified' | 'bad' | 'none' | 'unknown-key';

export interface DecryptedMessage extends MessageParts {
  /** 'none': the message is not signed; 'unknown-key': signed, but we have no RSA-2048 key of the sender. */
  readonly signature: SignatureStatus;
  readonly combination: Combination;
}

export interface DecryptOptions {
  readonly body: string;
  /** The packet-number token of the header, as received (the IV is built from its characters). */
  readonly packetNo: string;
  readonly ownKeys: OwnKeys;
  /** The sender's RSA-2048 public key, when we have it (known peers, or its ANSPUBKEY). */
  readonly senderPublicKey: KeyObject | undefined;
  /** The packet has ENCEXTMSGOPT: attachment and recipient lists are inside. */
  readonly extended?: boolean;
  /** The text's code page, or how to tell it from the plaintext (a packet without UTF8OPT). */
  readonly charset?: Charset | ((plaintext: Uint8Array) => Charset);
}

const CANNOT_DECRYPT = 'Cannot decrypt the message';

/**
 * Decrypts a SENDMSG body. Every cryptographic failure (wrong key, tampered key, body or padding)
 * gives the same message; only a missing legacy key or a malformed layout says more.
 * @throws IpmsgError IPMSG_ERR_DECRYPT
 */
export function decryptMessage(options: DecryptOptions): DecryptedMessage {
  const envelope = decodeEnvelope(options.body);
  const { combination } = envelope;
  const own = combination.rsaBits === 2048 ? options.ownKeys.rsa2048 : options.ownKeys.rsa1024;
  if (own === undefined) {
    throw new IpmsgError('IPMSG_ERR_DECRYPT', `${CANNOT_DECRYPT}: it uses RSA-1024 (legacy crypto is off)`);
  }
  const { key, ok } = rsaDecrypt(own.privateKey, envelope.key, SESSION_KEY_BYTES[combination.cipher]);
  const plaintext = decryptBody(combination, key, messageIv(combination, options.packetNo), envelope.body);
  if (!ok || plaintext === undefined) throw new IpmsgError('IPMSG_ERR_DECRYPT', CANNOT_DECRYPT);
  const charset = typeof options.charset === 'function' ? options.charset(plaintext) : options.charset;
  const parts = decodePlaintext(plaintext, options.extended ?? false, charset);
  return { ...parts, signature: checkSignature(combination, plaintext, envelope.signature, options.senderPublicKey), combination };
}

function checkSignature(
  combination: Combination,
  plaintext: Uint8Array,
  signature: Uint8Array | undefined,
  senderKey: KeyObject | undefined,
): SignatureStatus {
  if (combination.signature === undefined || signature === undefined) return 'none';
  // The official verifies only with a cached 256-byte (RSA-2048) key.
  if (senderKey === undefined || modulusBits(senderKey) !== 2048) return 'unknown-key';
  return verify(combination.signature, plaintext, senderKey, signature) ? 'verified' : 'bad';
}
