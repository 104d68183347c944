// src/protocol/user-name.ts
// The fingerprint extension of a user name, `name-<16 hex>` (§6.6): finding it and writing it.
// Computing a fingerprint from a key is crypto's business (crypto/fingerprint.ts).

const MAX_BASE_BYTES = 60; // MAX_NAMEBUF (80) - 20

/** `base-<fp>` as the official writes its own user name: base cut to 60 bytes of UTF-8, whole characters only. */
export function withFingerprint(name: string, fp: string): string {
  let base = '';
  let bytes = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char);
    if (bytes + size > MAX_BASE_BYTES) break;
    base += char;
    bytes += size;
  }
  return `${base}-<${fp}>`;
}

export interface FingerprintName {
  /** The name before `-<`. */
  readonly base: string;
  /** The 16 characters between `<` and `>`, lower-cased. */
  readonly fingerprint: string;
}

function isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/**
 * Finds a fingerprint in a user name as the official GetUserNameDigestField does: the first `-<`,
 * exactly 16 letters or digits, `>`. A candidate that breaks off is not rescanned from the
 * character that broke it (so `a--<…>` and `-<x-<…>` carry none): that is the official's reading.
 */
export function parseFingerprintName(name: string): FingerprintName | undefined {
  let state = 0;
  let start = 0;
  let length = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (state === 0) {
      if (c === 0x2d) {
        state = 1;
        start = i;
        length = 0;
      }
    } else if (state === 1) {
      state = c === 0x3c ? 2 : 0;
    } else if (isAlnum(c)) {
      length++;
    } else if (length === 16 && c === 0x3e) {
      return { base: name.slice(0, start), fingerprint: name.slice(start + 2, start + 18).toLowerCase() };
    } else {
      state = 0;
    }
  }
  return undefined;
}
