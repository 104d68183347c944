// test/helpers/bytes.ts
// Building and showing datagrams in tests: string pieces are UTF-8 (identical to ASCII for the
// header), legacy code-page bytes are written out in hex so vectors do not depend on iconv-lite.

const utf8 = new TextEncoder();

export type BytesPart = string | readonly number[] | Uint8Array;

/** Joins the parts: strings as UTF-8, number arrays as bytes (0..255), byte arrays as they are. */
export function bytes(...parts: readonly BytesPart[]): Uint8Array {
  const chunks = parts.map((part) => {
    if (typeof part === 'string') return utf8.encode(part);
    if (part instanceof Uint8Array) return part;
    for (const b of part) {
      if (!Number.isInteger(b) || b < 0 || b > 0xff) throw new RangeError(`not a byte: ${b}`);
    }
    return Uint8Array.from(part);
  });
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Bytes from hex text, e.g. hex('8e 52 93 63'); whitespace is ignored. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new RangeError(`not hex bytes: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** `count` copies of one byte (e.g. the official's 64-NUL retry padding). */
export function repeat(byte: number, count: number): Uint8Array {
  return new Uint8Array(count).fill(byte);
}

/** Lower-case hex with a space between bytes, for failure messages. */
export function toHexString(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Printable ASCII as is, everything else as \0, \a, \n or \xNN: readable diffs for datagrams. */
export function escapeBytes(data: Uint8Array): string {
  let out = '';
  for (const b of data) {
    if (b === 0x00) out += '\\0';
    else if (b === 0x07) out += '\\a';
    else if (b === 0x08) out += '\\b';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
