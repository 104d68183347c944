// src/protocol/entry.ts
// What entry-type packets (BR_ENTRY, ANSENTRY, BR_ABSENCE, BR_EXIT, NOOPERATION) carry (§2.4).

import { IPMSG_VER_ANDROID_TYPE, IPMSG_VER_IOS_TYPE, IPMSG_VER_MAC_TYPE, IPMSG_VER_WIN32_TYPE, IPMSG_VER_WIN64_TYPE } from './command.js';

/** The UTF-8 extension lines `\nUN:…\nHN:…\nNN:…\nGN:…\nVS:…` of the official client. */
export interface EntryExtension {
  readonly UN?: string;
  readonly HN?: string;
  readonly NN?: string;
  readonly GN?: string;
  readonly VS?: string;
}

export const EXTENSION_KEYS = ['UN', 'HN', 'NN', 'GN', 'VS'] as const;
type ExtensionKey = (typeof EXTENSION_KEYS)[number];

export interface Entry {
  readonly nick: string;
  readonly group: string;
  /** Present when the sender appended the official UTF-8 extension section. */
  readonly ext?: EntryExtension;
  /** iptux appends `\0icon\0encoding\0` instead (§2.4). */
  readonly iptux?: { readonly icon: string; readonly encoding: string };
}

/** Parses the extension section (it starts with '\n'); unknown keys such as IP: or PL: are ignored. */
export function parseExtension(text: string): EntryExtension {
  const ext: Partial<Record<ExtensionKey, string>> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon !== 2) continue;
    const key = line.slice(0, 2);
    if ((EXTENSION_KEYS as readonly string[]).includes(key)) ext[key as ExtensionKey] = line.slice(3);
  }
  return ext;
}

/** Writes the extension section the way the official does: a leading '\n' before each line. */
export function encodeExtension(ext: EntryExtension): string {
  let out = '';
  for (const key of EXTENSION_KEYS) {
    const value = ext[key];
    if (value !== undefined) out += `\n${key}:${value}`;
  }
  return out;
}

const VERSION_TYPES: Record<number, string> = {
  [IPMSG_VER_WIN32_TYPE]: 'Win32',
  [IPMSG_VER_WIN64_TYPE]: 'Win64',
  [IPMSG_VER_MAC_TYPE]: 'Mac',
  [IPMSG_VER_IOS_TYPE]: 'iOS',
  [IPMSG_VER_ANDROID_TYPE]: 'Android',
};

/**
 * The release name of a `VS:` revision. 4.99r3 and later (§2.4): +100 for 'r' or none, +50 for
 * 'b', +0 for 'a'. 4.0–4.99r2 (§16) wrote 10000 or 20000 for a release, 1000 more for a beta.
 */
function revisionSuffix(rev: number): string {
  if (rev >= 10000) {
    const level = rev % 10000;
    return level >= 1000 ? `b${level - 1000}` : level > 0 ? `r${level}` : '';
  }
  return rev > 100 ? `r${rev - 100}` : rev === 100 ? '' : rev >= 50 ? `b${rev - 50}` : rev > 0 ? `a${rev}` : '';
}

/** FeiQ's version field, `1_lbt4_10#128#<MAC>#0#0#0`: its dialect (`lbt4_10`) and the `#` fields after it. */
export interface FeiqVersion {
  readonly dialect: string;
  readonly fields: readonly string[];
}

/** The parts of a FeiQ version field (`1_lbt…`); undefined for any other client. */
export function parseFeiqVersion(version: string): FeiqVersion | undefined {
  const rest = version.replace(/^\d+_?/, '').trim();
  if (!rest.startsWith('lbt')) return undefined;
  const [dialect = rest, ...fields] = rest.split('#');
  return { dialect, fields };
}

/**
 * A readable client description from the `VS:` value (`%08X:%d:%d:%d`, see revisionSuffix) or,
 * failing that, from a non-standard version field (`1_iptux 0.8.3`; FeiQ's `1_lbt…`, whose fields,
 * a MAC address among them, are not a name).
 */
export function describeClient(version: string, vs: string | undefined): string | undefined {
  if (vs !== undefined) {
    const m = /^([0-9A-Fa-f]{8}):(\d+):(\d+):(\d+)$/.exec(vs);
    if (m) {
      const type = VERSION_TYPES[Number.parseInt(m[1] ?? '', 16)] ?? `type ${m[1]}`;
      return `IP Messenger ${type} ${m[2]}.${m[3]}${revisionSuffix(Number(m[4]))}`;
    }
  }
  if (parseFeiqVersion(version)) return 'FeiQ';
  const rest = version.replace(/^\d+_?/, '').trim();
  return rest.length === 0 ? undefined : rest;
}
