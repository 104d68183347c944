// src/protocol/peer-charset.ts
// Which code page a peer reads, from what its entry announced, and the charset we send it (§7).

import { type Charset, parseCharset } from '../encoding/charset.js';
import { IPMSG_CAPUTF8OPT, hasOpt } from './command.js';
import type { Entry } from './entry.js';

/** What a peer's entry says about the text it reads; kept across runs (state/peer-charsets.ts). */
export type PeerReads =
  /** It announced CAPUTF8OPT. */
  | { readonly kind: 'utf8' }
  /** iptux, with the encoding it announced (§2.4, §15); iptux ignores UTF8OPT. */
  | { readonly kind: 'iptux'; readonly charset: Charset }
  /** No CAPUTF8OPT, and its client implies a code page (FeiQ's `1_lbt…` version: GB18030). */
  | { readonly kind: 'dialect'; readonly charset: Charset }
  /** No CAPUTF8OPT: our legacy code page. */
  | { readonly kind: 'legacy' };

/** Why a message went out in its charset: `send --json` prints it as `charsetReason`. */
export type CharsetReason =
  /** --encoding (IPMSG_ENCODING, config "encoding") chose one code page for every peer. */
  | 'forced'
  | 'peer-utf8'
  | 'peer-iptux'
  | 'peer-dialect'
  | 'peer-legacy'
  /** Nothing known of the peer, in this run or from an earlier one: UTF-8. */
  | 'peer-unknown';

export interface CharsetChoice {
  readonly charset: Charset;
  readonly reason: CharsetReason;
}

/** The code page a client's version field implies: FeiQ (`1_lbt4_10#128#<MAC>#0#0#0`) is a GBK client. */
export function dialectCharset(version: string): Charset | undefined {
  return /^\d+_lbt/i.test(version) ? 'gb18030' : undefined;
}

/**
 * What an entry packet (BR_ENTRY, ANSENTRY, BR_ABSENCE) says the peer reads. iptux comes first:
 * it never sets CAPUTF8OPT but announces its encoding; one we do not know is read as UTF-8, which
 * iptux always tries first.
 */
export function peerReads(command: number, version: string, entry: Entry): PeerReads {
  if (entry.iptux !== undefined) return { kind: 'iptux', charset: parseCharset(entry.iptux.encoding) ?? 'utf-8' };
  if (hasOpt(command, IPMSG_CAPUTF8OPT)) return { kind: 'utf8' };
  const dialect = dialectCharset(version);
  return dialect ? { kind: 'dialect', charset: dialect } : { kind: 'legacy' };
}

/**
 * The charset for one peer: `forced` for everybody when set; else UTF-8 where it announced
 * CAPUTF8OPT, iptux's announced encoding, the dialect's code page, or `legacy` for a peer known to
 * lack UTF-8; UTF-8 for a peer we know nothing of.
 */
export function chooseCharset(forced: Charset | undefined, reads: PeerReads | undefined, legacy: Charset): CharsetChoice {
  if (forced !== undefined) return { charset: forced, reason: 'forced' };
  if (reads === undefined) return { charset: 'utf-8', reason: 'peer-unknown' };
  switch (reads.kind) {
    case 'utf8':
      return { charset: 'utf-8', reason: 'peer-utf8' };
    case 'iptux':
      return { charset: reads.charset, reason: 'peer-iptux' };
    case 'dialect':
      return { charset: reads.charset, reason: 'peer-dialect' };
    case 'legacy':
      return { charset: legacy, reason: 'peer-legacy' };
  }
}

/** A PeerReads read back from a file; undefined for anything else. */
export function asPeerReads(value: unknown): PeerReads | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, charset } = value as { kind?: unknown; charset?: unknown };
  if (kind === 'utf8' || kind === 'legacy') return { kind };
  const known = typeof charset === 'string' ? parseCharset(charset) : undefined;
  if ((kind === 'iptux' || kind === 'dialect') && known !== undefined) return { kind, charset: known };
  return undefined;
}
