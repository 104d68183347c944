// src/protocol/packet.ts
// The UDP packet codec: `Ver:PacketNo:User:Host:Command:Body\0[sections]` (§2), decoded leniently
// as real clients write it and encoded as real clients expect it.

import { IpmsgError } from '../errors.js';
import { type Charset, decodeText, detectCharset, encodeText } from '../encoding/charset.js';
import { COLON, NUL, asciiBytes, asciiText, concatBytes, splitBytes } from '../encoding/fields.js';
import { assertNever } from './assert-never.js';
import { type Attachment, decodeAttachments, encodeAttachments } from './attachment.js';
import { IPMSG_FILEATTACHOPT, IPMSG_UTF8OPT, hasOpt } from './command.js';
import { type Entry, encodeExtension, parseExtension } from './entry.js';
import { type HostList, decodeGetList, decodeHostList } from './host-list.js';
import { DEFAULT_LIMITS, type DecodeLimits } from './limits.js';
import { decodeAsciiReply } from './ascii-reply.js';
import { headerNumbers, packetKind } from './packet-header.js';
import { type PacketNo, parsePacketNo } from './packet-no.js';
import { type PublicKeyAnswer, decodeAnsPubKey, decodeGetPubKey, encodeAnsPubKey, encodeGetPubKey } from './pubkey.js';

interface Header {
  /** The version field as sent: '1', or e.g. '1_iptux 0.8.3' (only its leading integer counts). */
  readonly version: string;
  readonly packetNo: PacketNo;
  /**
   * The packet-number token exactly as received, when it is not how we would write the number
   * (leading zeros): the encryption IV is this text (§6.3), not the number.
   */
  readonly packetNoText?: string;
  readonly user: string;
  readonly host: string;
  /** The whole command field: mode in the low 8 bits, options above (unsigned). */
  readonly command: number;
  /** The code page of the text fields (UTF-8 when UTF8OPT is set). */
  readonly charset: Charset;
}

export type EntryKind = 'NOOPERATION' | 'BR_ENTRY' | 'BR_EXIT' | 'ANSENTRY' | 'BR_ABSENCE';
export type ReplyKind = 'RECVMSG' | 'READMSG' | 'ANSREADMSG' | 'DELMSG' | 'RELEASEFILES';
export type QueryKind = 'GETINFO' | 'GETABSENCEINFO';
export type InfoKind = 'SENDINFO' | 'SENDABSENCEINFO';
export type FileRequestKind = 'GETFILEDATA' | 'GETDIRFILES';

export interface EntryPacket extends Header {
  readonly kind: EntryKind;
  readonly entry: Entry;
}
export interface SendMsgPacket extends Header {
  readonly kind: 'SENDMSG';
  readonly text: string;
  /** Present when the message offers files (FILEATTACHOPT). */
  readonly attachments?: readonly Attachment[];
}
export interface ReplyPacket extends Header {
  readonly kind: ReplyKind;
  /** The packet number the body refers to (decimal); undefined when the body is not one. */
  readonly ref: PacketNo | undefined;
}
export interface QueryPacket extends Header {
  readonly kind: QueryKind;
}
export interface InfoPacket extends Header {
  readonly kind: InfoKind;
  readonly text: string;
}
/** GETPUBKEY (§6.2). */
export interface GetPubKeyPacket extends Header {
  readonly kind: 'GETPUBKEY';
  /** The requester's capability word; undefined when the body does not start with hex. */
  readonly capa: number | undefined;
}
/** ANSPUBKEY (§6.2): a body that is not a usable key does not decode. */
export interface AnsPubKeyPacket extends Header {
  readonly kind: 'ANSPUBKEY';
  readonly key: PublicKeyAnswer;
}
/**
 * GETFILEDATA / GETDIRFILES, the first line of a TCP file connection (§5.2, §5.3). The body is a
 * hex `packetID:fileID[:offset]:` or, with ENCRYPTOPT, a ciphertext (§5.6): kept as text, one
 * character per byte, for the transfer layer to read.
 */
export interface FileRequestPacket extends Header {
  readonly kind: FileRequestKind;
  readonly body: string;
}
/** GETLIST (§3.4): asks for the host list from `start` on. */
export interface GetListPacket extends Header {
  readonly kind: 'GETLIST';
  readonly start: number;
}
/** ANSLIST (§3.4, §16): the body as sent, and the host list it holds (undefined when malformed). */
export interface AnsListPacket extends Header {
  readonly kind: 'ANSLIST';
  readonly text: string;
  readonly list: HostList | undefined;
}
/** A command we do not know (iptux private commands, …): the body is kept as bytes. */
export interface OtherPacket extends Header {
  readonly kind: 'OTHER';
  readonly body: Uint8Array;
  readonly sections: readonly Uint8Array[];
}

export type Packet =
  | EntryPacket
  | SendMsgPacket
  | ReplyPacket
  | QueryPacket
  | InfoPacket
  | GetPubKeyPacket
  | AnsPubKeyPacket
  | FileRequestPacket
  | GetListPacket
  | AnsListPacket
  | OtherPacket;

export { decodeAsciiReply } from './ascii-reply.js';
export { packetKind } from './packet-header.js';

export interface DecodeOptions {
  /** Code page for text that is neither flagged UTF-8 nor valid UTF-8. */
  readonly fallbackCharset: Charset;
  readonly limits?: DecodeLimits;
}

function invalid(reason: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_DECODE', `Invalid packet: ${reason}`);
}

/**
 * Decodes one datagram.
 * @throws IpmsgError IPMSG_ERR_DECODE for anything that is not an IPMsg text packet
 */
export function decodePacket(bytes: Uint8Array, options: DecodeOptions): Packet {
  return decodeAsciiReply(bytes, options.limits ?? DEFAULT_LIMITS) ?? decodeAnyPacket(bytes, options);
}

/**
 * Decodes one datagram of any kind (decodePacket takes a shorter path for small replies).
 * @throws IpmsgError IPMSG_ERR_DECODE for anything that is not an IPMsg text packet
 */
export function decodeAnyPacket(bytes: Uint8Array, options: DecodeOptions): Packet {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (bytes.length > limits.maxDatagram) throw invalid(`datagram of ${bytes.length} bytes exceeds ${limits.maxDatagram}`);
  const nul = bytes.indexOf(NUL);
  const main = nul < 0 ? bytes : bytes.subarray(0, nul);
  // Trailing NULs (the message terminator, the official's 64-byte retry padding) are not sections;
  // they are cut before splitting, so a datagram full of NULs costs no more than any other.
  let end = bytes.length;
  while (end > nul + 1 && bytes[end - 1] === NUL) end--;
  const sections = nul < 0 ? [] : splitBytes(bytes.subarray(nul + 1, end), NUL, limits.maxSections + 1);
  if (sections.length === 1 && sections[0]?.length === 0) sections.pop();
  if (sections.length > limits.maxSections) throw invalid(`more than ${limits.maxSections} NUL-separated sections`);

  const fields = splitBytes(main, COLON, 6);
  if (fields.length < 5) throw invalid(`${fields.length} header fields, expected at least 5`);
  const [versionBytes, packetNoBytes, userBytes, hostBytes, commandBytes] = fields as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const body = fields[5] ?? new Uint8Array(0);

  const version = asciiText(versionBytes.subarray(0, 64));
  const packetNoText = asciiText(packetNoBytes);
  const numbers = headerNumbers(version, packetNoText, asciiText(commandBytes));
  if (typeof numbers === 'string') throw invalid(numbers);
  const { packetNo, command } = numbers;
  if (userBytes.length > limits.maxNameBytes || hostBytes.length > limits.maxNameBytes) {
    throw invalid(`user or host name longer than ${limits.maxNameBytes} bytes`);
  }

  const kind = packetKind(command);
  // Entry extension lines (they start with '\n') are always UTF-8; every other text field shares a charset.
  const legacy = [userBytes, hostBytes, body, ...sections.filter((s) => s[0] !== 0x0a)];
  const charset = detectCharset(legacy, hasOpt(command, IPMSG_UTF8OPT), options.fallbackCharset);
  const text = (b: Uint8Array): string => decodeText(b, charset);
  const header: Header = {
    version,
    packetNo,
    ...(packetNoText === String(packetNo) ? {} : { packetNoText }),
    user: text(userBytes),
    host: text(hostBytes),
    command,
    charset,
  };

  switch (kind) {
    case 'NOOPERATION':
    case 'BR_ENTRY':
    case 'BR_EXIT':
    case 'ANSENTRY':
    case 'BR_ABSENCE':
      return { ...header, kind, entry: decodeEntry(body, sections, text, limits) };
    case 'SENDMSG': {
      const list = sections[0];
      if (list === undefined || !hasOpt(command, IPMSG_FILEATTACHOPT)) return { ...header, kind, text: text(body) };
      const attachments = decodeAttachments(text(list), {
        maxAttachments: limits.maxAttachments,
        maxFileNameChars: limits.maxFileNameBytes,
      });
      // A list without one usable entry is no offer (and would not survive re-encoding).
      if (attachments.length === 0) return { ...header, kind, text: text(body) };
      return { ...header, kind, text: text(body), attachments };
    }
    case 'RECVMSG':
    case 'READMSG':
    case 'ANSREADMSG':
    case 'DELMSG':
    case 'RELEASEFILES':
      return { ...header, kind, ref: parsePacketNo(asciiText(body).trim()) };
    case 'GETINFO':
    case 'GETABSENCEINFO':
      return { ...header, kind };
    case 'SENDINFO':
    case 'SENDABSENCEINFO':
      return { ...header, kind, text: text(body) };
    case 'GETPUBKEY':
      return { ...header, kind, capa: decodeGetPubKey(asciiText(body)) };
    case 'ANSPUBKEY':
      return { ...header, kind, key: decodeAnsPubKey(asciiText(body)) };
    case 'GETFILEDATA':
    case 'GETDIRFILES':
      return { ...header, kind, body: asciiText(body) };
    case 'GETLIST':
      return { ...header, kind, start: decodeGetList(asciiText(body.subarray(0, 32))) };
    case 'ANSLIST': {
      const listText = text(body);
      return { ...header, kind, text: listText, list: decodeHostList(listText, { maxHosts: limits.maxListHosts, maxField: limits.maxNameBytes }) };
    }
    case 'OTHER':
      return { ...header, kind, body, sections };
    default:
      return assertNever(kind);
  }
}

function decodeEntry(
  body: Uint8Array,
  sections: Uint8Array[],
  text: (b: Uint8Array) => string,
  limits: DecodeLimits,
): Entry {
  const extIndex = sections.findIndex((s) => s[0] === 0x0a);
  const legacy = extIndex < 0 ? sections : sections.slice(0, extIndex);
  for (const field of [body, ...legacy.slice(0, 2)]) {
    if (field.length > limits.maxNameBytes) throw invalid(`entry name longer than ${limits.maxNameBytes} bytes`);
  }
  const nick = text(body);
  const group = legacy[0] === undefined ? '' : text(legacy[0]);
  const extBytes = extIndex < 0 ? undefined : sections[extIndex];
  const parsed = extBytes === undefined ? undefined : parseExtension(decodeText(extBytes, 'utf-8'));
  // A '\n' section without one known line (ipmsg-rs sends `\nhostname`) carries no extension.
  const ext = parsed !== undefined && Object.keys(parsed).length > 0 ? parsed : undefined;
  const icon = legacy[1];
  const encoding = legacy[2];
  // iptux's `\0icon\0encoding\0`; an empty encoding marks no iptux peer (and, being last, would
  // not survive re-encoding: trailing NULs are dropped).
  const iptux =
    icon !== undefined && encoding !== undefined && encoding.length > 0
      ? { icon: text(icon), encoding: text(encoding) }
      : undefined;
  return { nick, group, ...(ext ? { ext } : {}), ...(iptux ? { iptux } : {}) };
}

export interface EncodeOptions {
  /** Replace characters the code page cannot hold with '?' instead of failing. */
  readonly lossy?: boolean;
}

/**
 * Encodes a packet as the official client does: `%d:%u:%s:%s:%u:` then the body, then a NUL
 * counted in the datagram (§2.1).
 * @throws IpmsgError IPMSG_ERR_ENCODING, IPMSG_ERR_INPUT
 */
export function encodePacket(packet: Packet, options: EncodeOptions = {}): Uint8Array {
  for (const [field, value] of [['user', packet.user], ['host', packet.host]] as const) {
    if (value.length === 0 || value.includes(':') || value.includes('\0')) {
      throw new IpmsgError('IPMSG_ERR_INPUT', `Invalid ${field} name ${JSON.stringify(value)}: it must be non-empty, without ':'`);
    }
  }
  const enc = (text: string, charset: Charset = packet.charset): Uint8Array => {
    if (text.includes('\0')) throw new IpmsgError('IPMSG_ERR_INPUT', 'Text must not contain a NUL character');
    return encodeText(text, charset, options.lossy);
  };
  // Bodies kept one character per byte (file requests) must stay bytes and must not end early.
  const raw = (text: string): Uint8Array => {
    if (/[\0\u0100-\uffff]/.test(text)) throw new IpmsgError('IPMSG_ERR_INPUT', 'A file request body must be bytes without NUL');
    return asciiBytes(text);
  };
  const header = concatBytes([
    asciiBytes(`${packet.version}:${packet.packetNo}:`),
    enc(packet.user),
    asciiBytes(':'),
    enc(packet.host),
    asciiBytes(`:${packet.command >>> 0}:`),
  ]);
  const nul = new Uint8Array(1);
  switch (packet.kind) {
    case 'NOOPERATION':
    case 'BR_ENTRY':
    case 'BR_EXIT':
    case 'ANSENTRY':
    case 'BR_ABSENCE': {
      const { nick, group, ext, iptux } = packet.entry;
      const parts = [header, enc(nick), nul, enc(group), nul];
      if (iptux) parts.push(enc(iptux.icon), nul, enc(iptux.encoding), nul);
      if (ext) parts.push(enc(encodeExtension(ext), 'utf-8'));
      return concatBytes(parts);
    }
    case 'SENDMSG': {
      const parts = [header, enc(packet.text), nul];
      if (packet.attachments && packet.attachments.length > 0) parts.push(enc(encodeAttachments(packet.attachments)));
      return concatBytes(parts);
    }
    case 'RECVMSG':
    case 'READMSG':
    case 'ANSREADMSG':
    case 'DELMSG':
    case 'RELEASEFILES':
      return concatBytes([header, asciiBytes(packet.ref === undefined ? '' : String(packet.ref)), nul]);
    case 'GETINFO':
    case 'GETABSENCEINFO':
      return concatBytes([header, nul]);
    case 'SENDINFO':
    case 'SENDABSENCEINFO':
      return concatBytes([header, enc(packet.text), nul]);
    case 'GETPUBKEY':
      return concatBytes([header, asciiBytes(packet.capa === undefined ? '' : encodeGetPubKey(packet.capa)), nul]);
    case 'ANSPUBKEY':
      return concatBytes([header, asciiBytes(encodeAnsPubKey(packet.key)), nul]);
    case 'GETFILEDATA':
    case 'GETDIRFILES':
      return concatBytes([header, raw(packet.body), nul]);
    case 'GETLIST':
      return concatBytes([header, asciiBytes(String(packet.start)), nul]);
    case 'ANSLIST':
      return concatBytes([header, enc(packet.text), nul]);
    case 'OTHER': {
      const parts = [header, packet.body, nul];
      for (const section of packet.sections) parts.push(section, nul);
      return concatBytes(parts);
    }
    default:
      return assertNever(packet);
  }
}
