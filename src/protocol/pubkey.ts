// src/protocol/pubkey.ts
// GETPUBKEY / ANSPUBKEY bodies (§6.2): `capa` in lower-case hex, and `CAPA:EXP-MODULUS`.

import { IpmsgError } from '../errors.js';

/** An RSA public key as ANSPUBKEY carries it, with the sender's full capability word. */
export interface PublicKeyAnswer {
  readonly capa: number;
  readonly exponent: number;
  /** Big-endian, no leading zero bytes. */
  readonly modulus: Uint8Array;
}

export const MIN_MODULUS_BITS = 512;
export const MAX_MODULUS_BITS = 4096;

/** GETPUBKEY body: our capa as `%x`. */
export function encodeGetPubKey(capa: number): string {
  return (capa >>> 0).toString(16);
}

/** The requester's capa, or undefined when the body does not start with hex (strtoul reads 0). */
export function decodeGetPubKey(body: string): number | undefined {
  return leadingHex(body.trim());
}

/** ANSPUBKEY body as the official writes it: `%X:%X-` then the modulus in lower-case hex. */
export function encodeAnsPubKey(answer: PublicKeyAnswer): string {
  const modulus = Buffer.from(answer.modulus.buffer, answer.modulus.byteOffset, answer.modulus.byteLength).toString('hex');
  return `${(answer.capa >>> 0).toString(16).toUpperCase()}:${answer.exponent.toString(16).toUpperCase()}-${modulus}`;
}

function invalid(reason: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_DECODE', `Invalid ANSPUBKEY: ${reason}`);
}

/**
 * Parses an ANSPUBKEY body leniently (any case; capa up to ':', exponent up to '-', modulus up to
 * ':' or the end), but only keys a client can use: an odd exponent from 3 to 2^32-1 and an odd
 * modulus of 512 to 4096 bits.
 * @throws IpmsgError IPMSG_ERR_DECODE
 */
export function decodeAnsPubKey(body: string): PublicKeyAnswer {
  const colon = body.indexOf(':');
  const dash = body.indexOf('-', colon + 1);
  if (colon < 0 || dash < 0) throw invalid('not CAPA:EXPONENT-MODULUS');
  const capa = leadingHex(body.slice(0, colon).trim());
  if (capa === undefined) throw invalid('capability is not hex');
  const exponentText = body.slice(colon + 1, dash).trim();
  if (!/^[0-9a-fA-F]{1,8}$/.test(exponentText)) throw invalid('exponent is not hex below 2^32');
  const exponent = Number.parseInt(exponentText, 16);
  if (exponent < 3 || exponent % 2 === 0) throw invalid(`exponent ${exponent} is not an odd number from 3 up`);
  const end = body.indexOf(':', dash + 1);
  const modulusText = body.slice(dash + 1, end < 0 ? undefined : end).trim().replace(/^(?:00)+/, '');
  if (modulusText.length > MAX_MODULUS_BITS / 4) throw invalid(`modulus longer than ${MAX_MODULUS_BITS} bits`);
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(modulusText)) throw invalid('modulus is not whole bytes of hex');
  const modulus = Uint8Array.from(Buffer.from(modulusText, 'hex'));
  const bits = modulus.length * 8 - Math.clz32(modulus[0] ?? 0) + 24;
  if (bits < MIN_MODULUS_BITS) throw invalid(`modulus of ${bits} bits (at least ${MIN_MODULUS_BITS})`);
  if (((modulus[modulus.length - 1] ?? 0) & 1) === 0) throw invalid('modulus is even');
  return { capa, exponent, modulus };
}

/** strtoul(text, 0, 16) for the capa word: the leading hex digits, at most 32 bits. */
function leadingHex(text: string): number | undefined {
  const digits = /^(?:0[xX])?([0-9a-fA-F]{1,8})(?![0-9a-fA-F])/.exec(text)?.[1];
  return digits === undefined ? undefined : Number.parseInt(digits, 16) >>> 0;
}
