// src/encoding/charset.ts
// Text ↔ bytes in UTF-8 or a legacy code page (§7), refusing silent '?' substitution.

import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { IpmsgError } from '../errors.js';

export const CHARSETS = ['utf-8', 'cp932', 'gbk', 'gb18030', 'big5'] as const;
export type Charset = (typeof CHARSETS)[number];

/** Legacy code page used to decode text that is neither flagged nor valid UTF-8 (§7). */
export const DEFAULT_FALLBACK_CHARSET: Charset = 'gb18030';

const ALIASES: Record<string, Charset> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  cp932: 'cp932',
  'shift_jis': 'cp932',
  'shift-jis': 'cp932',
  sjis: 'cp932',
  'windows-31j': 'cp932',
  gbk: 'gbk',
  cp936: 'gbk',
  gb2312: 'gbk',
  gb18030: 'gb18030',
  big5: 'big5',
  cp950: 'big5',
};

/** Normalises a user-supplied charset name; undefined when it is not one we support. */
export function parseCharset(name: string): Charset | undefined {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined; // not 'constructor', '__proto__'
}

interface IconvLite {
  encode(text: string, encoding: string): Buffer;
  decode(bytes: Buffer, encoding: string): string;
}

// iconv-lite is loaded on first use of a legacy code page: UTF-8 runs never pay for it.
let iconv: IconvLite | undefined;
function loadIconv(): IconvLite {
  iconv ??= createRequire(import.meta.url)('iconv-lite') as IconvLite;
  return iconv;
}

const utf8Encoder = new TextEncoder();
// ignoreBOM: every field is decoded on its own, so a leading U+FEFF is text, not a byte-order mark.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Stand-ins, best first, for symbols that the legacy code pages lack (CP932, GBK and Big5 have no
 * ✔/✖): a mark that turns into '?' no longer tells success from failure.
 */
const LOOKALIKES: Readonly<Record<string, readonly string[]>> = {
  '✔': ['√'],
  '✓': ['√'],
  '✖': ['×'],
  '✗': ['×'],
  '·': ['・', '.'],
  '—': ['―', '-'],
};

function encodable(char: string, charset: Charset): boolean {
  return loadIconv().decode(loadIconv().encode(char, charset), charset) === char;
}

/** Text with each character the code page lacks replaced by a stand-in it holds, where there is one. */
function withLookalikes(text: string, charset: Charset): string {
  let out = '';
  for (const char of text) {
    const stand = LOOKALIKES[char];
    out += stand === undefined || encodable(char, charset) ? char : (stand.find((s) => encodable(s, charset)) ?? char);
  }
  return out;
}

/**
 * Encodes text in `charset`. Text the code page cannot hold is refused (iconv-lite would write '?')
 * unless `lossy` is set: then a character it lacks becomes a look-alike it holds (√ for ✔, × for
 * ✖), else '?'.
 * @throws IpmsgError IPMSG_ERR_ENCODING
 */
export function encodeText(text: string, charset: Charset, lossy = false): Uint8Array {
  if (charset === 'utf-8') {
    if (!lossy && !text.isWellFormed()) {
      throw new IpmsgError('IPMSG_ERR_ENCODING', 'Cannot encode text: it contains an unpaired surrogate');
    }
    return utf8Encoder.encode(text);
  }
  const bytes = loadIconv().encode(text, charset);
  if (loadIconv().decode(bytes, charset) === text) return bytes;
  if (lossy) return loadIconv().encode(withLookalikes(text, charset), charset);
  const bad = firstUnencodable(text, charset);
  throw new IpmsgError(
    'IPMSG_ERR_ENCODING',
    `Cannot encode ${JSON.stringify(bad)} (U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}) in ${charset}; use --encoding utf-8, or --lossy to send '?' instead`,
  );
}

function firstUnencodable(text: string, charset: Charset): string {
  for (const char of text) {
    if (!encodable(char, charset)) return char;
  }
  return text.slice(0, 1);
}

export function decodeText(bytes: Uint8Array, charset: Charset): string {
  if (charset === 'utf-8') return utf8Decoder.decode(bytes);
  return loadIconv().decode(asBuffer(bytes), charset);
}

/**
 * The charset a packet's text is in: UTF-8 when the sender flagged it (UTF8OPT) or when the bytes
 * are valid UTF-8, else the configured legacy code page (§7; iptux decides the same way).
 */
export function detectCharset(bytes: readonly Uint8Array[], flaggedUtf8: boolean, fallback: Charset): Charset {
  if (flaggedUtf8) return 'utf-8';
  for (const part of bytes) if (part.length > 0 && !isUtf8(part)) return fallback;
  return 'utf-8';
}

/**
 * The legacy code page a locale implies (`LC_ALL`, else `LC_CTYPE`, else `LANG`): its codeset when
 * that is one we support (`zh_CN.GBK`, `ja_JP.SJIS`), else the Windows ANSI code page of its
 * language (`ja` → CP932, `zh_TW`/`zh_HK`/`zh_MO` → Big5, other `zh` → GB18030); undefined for the rest.
 */
export function localeCharset(env: { readonly LC_ALL?: string | undefined; readonly LC_CTYPE?: string | undefined; readonly LANG?: string | undefined }): Charset | undefined {
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v.length > 0);
  const m = locale === undefined ? null : /^([a-zA-Z]{2,3})(?:_([a-zA-Z]{2}))?(?:\.([^@]+))?/.exec(locale);
  if (!m) return undefined;
  const codeset = m[3] === undefined ? undefined : parseCharset(m[3]);
  if (codeset !== undefined && codeset !== 'utf-8') return codeset;
  const language = (m[1] ?? '').toLowerCase();
  const territory = (m[2] ?? '').toUpperCase();
  if (language === 'ja') return 'cp932';
  if (language === 'zh') return ['TW', 'HK', 'MO'].includes(territory) ? 'big5' : 'gb18030';
  return undefined;
}

/**
 * The legacy code page when none is configured: a forced legacy code page (--encoding), else the
 * locale's, else GB18030.
 */
export function legacyCharset(forced: Charset | undefined, env: Parameters<typeof localeCharset>[0]): Charset {
  if (forced !== undefined && forced !== 'utf-8') return forced;
  return localeCharset(env) ?? DEFAULT_FALLBACK_CHARSET;
}

export function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}
