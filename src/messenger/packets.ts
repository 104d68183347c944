// src/messenger/packets.ts
// The packets we send, with the flags real clients expect (§3, §4, §13).

import type { Charset } from '../encoding/charset.js';
import {
  IPMSG_ANSENTRY,
  IPMSG_ANSPUBKEY,
  IPMSG_GETPUBKEY,
  IPMSG_ANSREADMSG,
  IPMSG_RELEASEFILES,
  IPMSG_AUTORETOPT,
  IPMSG_BROADCASTOPT,
  IPMSG_BR_ABSENCE,
  IPMSG_BR_ENTRY,
  IPMSG_BR_EXIT,
  IPMSG_CAPUTF8OPT,
  IPMSG_FILEATTACHOPT,
  IPMSG_GETDIRFILES,
  IPMSG_GETFILEDATA,
  IPMSG_GETABSENCEINFO,
  IPMSG_GETINFO,
  IPMSG_MULTICASTOPT,
  IPMSG_NOADDLISTOPT,
  IPMSG_NOLOGOPT,
  IPMSG_READCHECKOPT,
  IPMSG_READMSG,
  IPMSG_RECVMSG,
  IPMSG_SECRETOPT,
  IPMSG_SENDABSENCEINFO,
  IPMSG_SENDCHECKOPT,
  IPMSG_SENDINFO,
  IPMSG_SENDMSG,
  IPMSG_UTF8OPT,
  makeCommand,
} from '../protocol/command.js';
import type { Attachment } from '../protocol/attachment.js';
import type { PublicKeyAnswer } from '../protocol/pubkey.js';
import type {
  AnsPubKeyPacket,
  EntryKind,
  EntryPacket,
  FileRequestPacket,
  GetPubKeyPacket,
  InfoPacket,
  Packet,
  QueryPacket,
  ReplyPacket,
  SendMsgPacket,
} from '../protocol/packet.js';
import type { PacketNo } from '../protocol/packet-no.js';

export interface Identity {
  readonly user: string;
  readonly host: string;
  readonly nick: string;
  readonly group: string;
}

export interface Sender {
  readonly identity: Identity;
  /**
   * Code page for packets to nobody in particular (broadcasts); packets to one peer take that
   * peer's (charsets.ts). UTF-8 packets also carry UTF8OPT where the protocol allows it.
   */
  readonly charset: Charset;
  /** Our host status bits (CAPUTF8OPT, and FILEATTACHOPT/ENCRYPTOPT only once we can do them). */
  readonly status: number;
}

function header(sender: Sender, packetNo: PacketNo, command: number, charset: Charset) {
  const { user, host } = sender.identity;
  return { version: '1', packetNo, user, host, command, charset };
}

/** UTF8OPT when the packet's text is UTF-8. */
function utf8(charset: Charset): number {
  return charset === 'utf-8' ? IPMSG_UTF8OPT : 0;
}

const ENTRY_MODES: Record<'BR_ENTRY' | 'BR_EXIT' | 'ANSENTRY' | 'BR_ABSENCE', number> = {
  BR_ENTRY: IPMSG_BR_ENTRY,
  BR_ABSENCE: IPMSG_BR_ABSENCE,
  BR_EXIT: IPMSG_BR_EXIT,
  ANSENTRY: IPMSG_ANSENTRY,
};

/**
 * BR_ENTRY / BR_EXIT never carry UTF8OPT (the official never sets it on broadcasts); they carry the
 * UTF-8 names in the extension lines instead. An ANSENTRY to a CAPUTF8OPT peer is flagged UTF-8;
 * to any other peer its names are in that peer's code page, as the official writes them in its
 * own (§2.4, §16). `charset` is the one peer's, for a packet to one peer.
 */
export function entryPacket(
  sender: Sender,
  packetNo: PacketNo,
  kind: 'BR_ENTRY' | 'BR_EXIT' | 'ANSENTRY' | 'BR_ABSENCE',
  peerCanUtf8 = false,
  charset: Charset = sender.charset,
): EntryPacket {
  const { user, host, nick, group } = sender.identity;
  const flagged = kind === 'ANSENTRY' && peerCanUtf8 ? utf8(charset) : 0;
  const command = makeCommand(ENTRY_MODES[kind], sender.status, flagged);
  const entry = kind === 'ANSENTRY' ? { nick, group } : { nick, group, ext: { UN: user, HN: host, NN: nick, GN: group } };
  return { ...header(sender, packetNo, command, charset), kind: kind as EntryKind, entry };
}

export interface MessageFlags {
  /** Ask for RECVMSG (SENDCHECKOPT). */
  readonly check: boolean;
  /** Sealed (SECRETOPT|READCHECKOPT, as the official always pairs them). */
  readonly seal: boolean;
  /** One of several unicast copies. */
  readonly multicast: boolean;
  readonly broadcast: boolean;
  /** Files offered with the message (FILEATTACHOPT and the list after the text: §5.1). */
  readonly attachments?: readonly Attachment[];
}

/** A message in `charset` (the destination's, charsets.ts); UTF8OPT|CAPUTF8OPT only when that is UTF-8. */
export function sendMsgPacket(sender: Sender, packetNo: PacketNo, text: string, flags: MessageFlags, charset: Charset = sender.charset): SendMsgPacket {
  const command = makeCommand(
    IPMSG_SENDMSG,
    IPMSG_NOADDLISTOPT,
    flags.check && !flags.broadcast ? IPMSG_SENDCHECKOPT : 0,
    flags.seal ? IPMSG_SECRETOPT | IPMSG_READCHECKOPT : 0,
    flags.multicast ? IPMSG_MULTICASTOPT : 0,
    flags.broadcast ? IPMSG_BROADCASTOPT : 0,
    charset === 'utf-8' ? IPMSG_UTF8OPT | IPMSG_CAPUTF8OPT : 0,
    flags.attachments?.length ? IPMSG_FILEATTACHOPT : 0,
  );
  const packet: SendMsgPacket = { ...header(sender, packetNo, command, charset), kind: 'SENDMSG', text };
  return flags.attachments?.length ? { ...packet, attachments: flags.attachments } : packet;
}

/**
 * An automatic notice to one peer (SENDMSG|NOLOGOPT|AUTORETOPT, as the official sends when it
 * cannot decrypt a message): not acknowledged, not logged, and never answered automatically.
 * The absence reply is logged (SENDMSG|AUTORETOPT, §3.3): `logged`.
 */
export function autoReplyPacket(sender: Sender, packetNo: PacketNo, text: string, logged = false, charset: Charset = sender.charset): SendMsgPacket {
  const command = makeCommand(IPMSG_SENDMSG, logged ? 0 : IPMSG_NOLOGOPT, IPMSG_AUTORETOPT, charset === 'utf-8' ? IPMSG_UTF8OPT | IPMSG_CAPUTF8OPT : 0);
  return { ...header(sender, packetNo, command, charset), kind: 'SENDMSG', text };
}

/** RECVMSG, READMSG, ANSREADMSG, RELEASEFILES: a body that is just a packet number. */
export function replyPacket(
  sender: Sender,
  packetNo: PacketNo,
  kind: 'RECVMSG' | 'READMSG' | 'ANSREADMSG' | 'RELEASEFILES',
  ref: PacketNo,
  readCheck = false,
): ReplyPacket {
  const mode = { RECVMSG: IPMSG_RECVMSG, READMSG: IPMSG_READMSG, ANSREADMSG: IPMSG_ANSREADMSG, RELEASEFILES: IPMSG_RELEASEFILES }[kind];
  const command = makeCommand(mode, readCheck ? IPMSG_READCHECKOPT : 0);
  return { ...header(sender, packetNo, command, 'utf-8'), kind, ref };
}

export function queryPacket(sender: Sender, packetNo: PacketNo, kind: 'GETINFO' | 'GETABSENCEINFO'): QueryPacket {
  const command = makeCommand(kind === 'GETINFO' ? IPMSG_GETINFO : IPMSG_GETABSENCEINFO);
  return { ...header(sender, packetNo, command, sender.charset), kind };
}

export function infoPacket(sender: Sender, packetNo: PacketNo, kind: 'SENDINFO' | 'SENDABSENCEINFO', text: string, charset: Charset = sender.charset): InfoPacket {
  const command = makeCommand(kind === 'SENDINFO' ? IPMSG_SENDINFO : IPMSG_SENDABSENCEINFO, utf8(charset));
  return { ...header(sender, packetNo, command, charset), kind, text };
}

/**
 * A TCP file request: GETFILEDATA `pkt:fid:offset:` or GETDIRFILES `pkt:fid:` (hex), UTF8OPT when
 * the offer had it (the official does so), FILEATTACHOPT on GETDIRFILES as iptux sends it.
 */
export function fileRequestPacket(sender: Sender, packetNo: PacketNo, kind: 'file' | 'dir', body: string, utf8: boolean, options = 0): FileRequestPacket {
  const command = makeCommand(
    kind === 'file' ? IPMSG_GETFILEDATA : IPMSG_GETDIRFILES,
    utf8 ? IPMSG_UTF8OPT : 0,
    kind === 'dir' ? IPMSG_FILEATTACHOPT : 0,
    options,
  );
  return { ...header(sender, packetNo, command, 'utf-8'), kind: kind === 'file' ? 'GETFILEDATA' : 'GETDIRFILES', body };
}

/** Messages never answered with RECVMSG or an auto-reply (§3.3). */
export function isBroadcastOrAutoReply(packet: Packet): boolean {
  return (packet.command & (IPMSG_BROADCASTOPT | IPMSG_AUTORETOPT)) !== 0;
}

/** GETPUBKEY with our capability word (§6.2); AUTORETOPT when no answer to it should be asked for in turn. */
export function getPubKeyPacket(sender: Sender, packetNo: PacketNo, capa: number, autoReply = false): GetPubKeyPacket {
  const command = makeCommand(IPMSG_GETPUBKEY, autoReply ? IPMSG_AUTORETOPT : 0);
  return { ...header(sender, packetNo, command, 'utf-8'), kind: 'GETPUBKEY', capa };
}

/** ANSPUBKEY with our key and capability word (§6.2). */
export function ansPubKeyPacket(sender: Sender, packetNo: PacketNo, key: PublicKeyAnswer): AnsPubKeyPacket {
  return { ...header(sender, packetNo, makeCommand(IPMSG_ANSPUBKEY), 'utf-8'), kind: 'ANSPUBKEY', key };
}
