// src/crypto/capability.ts
// Encryption capability flags (§1.1, §6.1): what we advertise, and the one combination two hosts
// use (§6.3, the official MakeEncryptMsg order).

import {
  IPMSG_AES_256,
  IPMSG_BLOWFISH_128,
  IPMSG_ENCODE_BASE64,
  IPMSG_NOENC_FILEBODY,
  IPMSG_PACKETNO_IV,
  IPMSG_RSA_1024,
  IPMSG_RSA_2048,
  IPMSG_SIGN_SHA1,
  IPMSG_SIGN_SHA256,
} from '../protocol/command.js';

export interface CapaOptions {
  /** Also RSA-1024 + Blowfish-128 (old clients, IpMsg.Net): weak, off unless asked for. */
  readonly legacy?: boolean;
}

/** Our capability word: 0x65900004, or 0x65920006 (the official's) with legacy crypto. */
export function localCapa(options: CapaOptions = {}): number {
  let capa =
    IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA256 | IPMSG_SIGN_SHA1 | IPMSG_PACKETNO_IV | IPMSG_ENCODE_BASE64 | IPMSG_NOENC_FILEBODY;
  if (options.legacy) capa |= IPMSG_RSA_1024 | IPMSG_BLOWFISH_128;
  return capa >>> 0;
}

/** What one encrypted message uses, read from the CAPA word at the start of its body. */
export interface Combination {
  /** The CAPA word as written in the body (upper-case hex there). */
  readonly capa: number;
  readonly rsaBits: 1024 | 2048;
  readonly cipher: 'aes-256-cbc' | 'bf-cbc';
  /** Signature hash, when the message is signed. */
  readonly signature: 'sha256' | 'sha1' | undefined;
  /** IV = the packet number in ASCII; otherwise all zeros. */
  readonly packetNoIv: boolean;
  /** base64 fields; otherwise lower-case hex. */
  readonly base64: boolean;
}

/**
 * Reads a CAPA word as the official DecryptMsg does: the RSA key by RSA_2048 then RSA_1024, the
 * cipher by AES_256 then BLOWFISH_128, SHA-256 over SHA-1. Undefined when there is no key or cipher.
 */
export function combinationOf(capa: number): Combination | undefined {
  const has = (flag: number): boolean => (capa & flag) !== 0;
  const rsaBits = has(IPMSG_RSA_2048) ? 2048 : has(IPMSG_RSA_1024) ? 1024 : undefined;
  const cipher = has(IPMSG_AES_256) ? 'aes-256-cbc' : has(IPMSG_BLOWFISH_128) ? 'bf-cbc' : undefined;
  if (rsaBits === undefined || cipher === undefined) return undefined;
  return {
    capa: capa >>> 0,
    rsaBits,
    cipher,
    signature: has(IPMSG_SIGN_SHA256) ? 'sha256' : has(IPMSG_SIGN_SHA1) ? 'sha1' : undefined,
    packetNoIv: has(IPMSG_PACKETNO_IV),
    base64: has(IPMSG_ENCODE_BASE64),
  };
}

const OPTIONAL = IPMSG_PACKETNO_IV | IPMSG_ENCODE_BASE64;
const CHOICES: readonly (readonly [required: number, mask: number])[] = [
  [IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA256, IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA256 | OPTIONAL],
  [IPMSG_RSA_2048 | IPMSG_AES_256, IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA1 | OPTIONAL],
  [IPMSG_RSA_1024 | IPMSG_BLOWFISH_128, IPMSG_RSA_1024 | IPMSG_BLOWFISH_128 | OPTIONAL],
];

/**
 * The combination for a message to a peer whose capa is `theirs` (from its ANSPUBKEY), in the
 * official order; undefined means plain text. Optional bits (IV, base64, SHA-1) only when both have them.
 */
export function selectCombination(ours: number, theirs: number): Combination | undefined {
  const common = ours & theirs;
  for (const [required, mask] of CHOICES) {
    if ((common & required) === required) return combinationOf(common & mask);
  }
  return undefined;
}
