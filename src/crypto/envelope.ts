// src/crypto/envelope.ts
// The text form of an encrypted body, `CAPA:ENCKEY:ENCBODY[:SIGNATURE]` (§6.3): CAPA in upper-case
// hex, the rest in standard base64 (ENCODE_BASE64) or lower-case hex. Sizes are checked on the text,
// before anything is decoded or decrypted.

import { IpmsgError } from '../errors.js';
import { type Combination, combinationOf } from './capability.js';

export interface Envelope {
  readonly combination: Combination;
  readonly key: Uint8Array;
  readonly body: Uint8Array;
  readonly signature: Uint8Array | undefined;
}

/** Longest body text accepted (the official reads at most 32767-byte datagrams). */
export const MAX_ENVELOPE_CHARS = 65536;
/** ENCKEY and SIGNATURE are one RSA block each: at most 4096 bits. */
const MAX_RSA_BLOCK = 512;

export function encodeEnvelope(envelope: Envelope): string {
  const { combination } = envelope;
  const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString(combination.base64 ? 'base64' : 'hex');
  const fields = [combination.capa.toString(16).toUpperCase(), text(envelope.key), text(envelope.body)];
  if (envelope.signature) fields.push(text(envelope.signature));
  return fields.join(':');
}

function invalid(reason: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_DECRYPT', `Cannot decrypt the message: ${reason}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function decodeField(what: string, text: string, base64: boolean, maxBytes: number): Uint8Array {
  const maxChars = base64 ? Math.ceil(maxBytes / 3) * 4 : maxBytes * 2;
  if (text.length === 0 || text.length > maxChars) throw invalid(`${what} field of ${text.length} characters`);
  if (!(base64 ? BASE64 : HEX).test(text)) throw invalid(`${what} field is not ${base64 ? 'base64' : 'hex'}`);
  return Uint8Array.from(Buffer.from(text, base64 ? 'base64' : 'hex'));
}

/**
 * Splits and decodes the fields; the CAPA word (hex, any case) says how. Fields after the signature
 * are ignored, as the official does.
 * @throws IpmsgError IPMSG_ERR_DECRYPT for an unknown combination, a missing, oversized or
 *   malformed field
 */
export function decodeEnvelope(text: string): Envelope {
  if (text.length > MAX_ENVELOPE_CHARS) throw invalid(`body of ${text.length} characters`);
  const [capaText = '', keyText = '', bodyText = '', signatureText] = text.split(':', 4);
  if (!/^[0-9a-fA-F]{1,8}$/.test(capaText)) throw invalid('it does not start with a capability word');
  const combination = combinationOf(Number.parseInt(capaText, 16));
  if (combination === undefined) throw invalid(`unsupported combination ${capaText}`);
  const { base64 } = combination;
  const key = decodeField('key', keyText, base64, MAX_RSA_BLOCK);
  const body = decodeField('body', bodyText, base64, MAX_ENVELOPE_CHARS);
  if (combination.signature === undefined) return { combination, key, body, signature: undefined };
  if (signatureText === undefined) throw invalid('the signature is missing');
  return { combination, key, body, signature: decodeField('signature', signatureText, base64, MAX_RSA_BLOCK) };
}
