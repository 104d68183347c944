// src/encoding/fields.ts
// Byte-level helpers for NUL/colon separated fields.

export const NUL = 0x00;
export const COLON = 0x3a;

/** Splits `bytes` at every `separator` byte (like String.split, empty parts kept). */
export function splitBytes(bytes: Uint8Array, separator: number, limit = Infinity): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  while (parts.length < limit - 1) {
    const at = bytes.indexOf(separator, start);
    if (at < 0) break;
    parts.push(bytes.subarray(start, at));
    start = at + 1;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Bytes of a header field that must be ASCII (numbers, version), one character per byte
 * (ISO-8859-1, the inverse of asciiBytes). Not TextDecoder('latin1'): that label means
 * windows-1252 (0x80 → '€'), which some Node 20/22 releases implement and others do not.
 */
export function asciiText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Hex as the protocol writes it: lower case, no padding (`%x`). */
export function toHex(value: number | bigint): string {
  return value.toString(16);
}

/** Parses protocol hex; undefined when the text is not hex or is out of the safe range. */
export function parseHex(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,13}$/.test(text)) return undefined;
  return Number.parseInt(text, 16);
}
