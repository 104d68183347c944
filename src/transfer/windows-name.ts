// src/transfer/windows-name.ts
// Names Windows cannot hold, made into names it can: received names are saved under these on
// Windows only (elsewhere they are kept as they are). Pure, with the platform as a parameter, so
// that the Windows rule is checked on every platform. The rules are listed in docs/files.md.

/** Longest name kept, in UTF-16 code units: NTFS takes 255, and saving may add ` (N)` and `.part`. */
export const WINDOWS_NAME_MAX = 240;
/** Longest extension kept whole when a long name is shortened. */
const EXTENSION_MAX = 32;

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f]/g;
const TRAILING = /[. ]+$/;
/** A device name, judged on the part before the first dot (and before spaces that end it). */
const RESERVED = /^(CON|PRN|AUX|NUL|COM[1-9\u00b9\u00b2\u00b3]|LPT[1-9\u00b9\u00b2\u00b3])(?= *(?:\.|$))/i;

/** Why Windows needed another name (the notice says it). */
export const WINDOWS_NAME_REASON = 'not a valid Windows file name';

/**
 * One path component as Windows can hold it: each of `<>:"/\|?*` and U+0000–U+001F becomes `_`,
 * a name longer than WINDOWS_NAME_MAX is shortened keeping its extension, trailing dots and spaces
 * go (`_` when nothing is left), and a device name (CON, PRN, AUX, NUL, COM1–9, LPT1–9, also
 * with an extension, any case) gets `_` after it: `CON.txt` → `CON_.txt`.
 */
export function windowsSafeName(name: string): string {
  let safe = shorten(name.replace(FORBIDDEN, '_'));
  safe = safe.replace(TRAILING, '');
  if (safe.length === 0) return '_';
  return safe.replace(RESERVED, '$1_');
}

/** The name a received file is saved under on `platform`: Windows' rule there, the name itself elsewhere. */
export function localName(name: string, platform: NodeJS.Platform): string {
  return platform === 'win32' ? windowsSafeName(name) : name;
}

/** `name` cut to WINDOWS_NAME_MAX code units, keeping a short extension and whole surrogate pairs. */
function shorten(name: string): string {
  if (name.length <= WINDOWS_NAME_MAX) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= EXTENSION_MAX ? name.slice(dot) : '';
  return cutAt(name.slice(0, name.length - extension.length), WINDOWS_NAME_MAX - extension.length) + extension;
}

function cutAt(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}
