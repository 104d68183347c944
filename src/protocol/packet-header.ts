// src/protocol/packet-header.ts
// The header's rules (§2): which versions we read, the packet number and command as numbers, and
// the kind of packet a command's mode makes. Shared by the full decoder and the reply fast path.

import { COMMANDS, IPMSG_VERSION, getMode } from './command.js';
import type { Packet } from './packet.js';
import { type PacketNo, parsePacketNo } from './packet-no.js';

const KIND_BY_MODE = new Map<number, Packet['kind']>([
  [COMMANDS.IPMSG_NOOPERATION, 'NOOPERATION'],
  [COMMANDS.IPMSG_BR_ENTRY, 'BR_ENTRY'],
  [COMMANDS.IPMSG_BR_EXIT, 'BR_EXIT'],
  [COMMANDS.IPMSG_ANSENTRY, 'ANSENTRY'],
  [COMMANDS.IPMSG_BR_ABSENCE, 'BR_ABSENCE'],
  [COMMANDS.IPMSG_SENDMSG, 'SENDMSG'],
  [COMMANDS.IPMSG_RECVMSG, 'RECVMSG'],
  [COMMANDS.IPMSG_READMSG, 'READMSG'],
  [COMMANDS.IPMSG_ANSREADMSG, 'ANSREADMSG'],
  [COMMANDS.IPMSG_DELMSG, 'DELMSG'],
  [COMMANDS.IPMSG_RELEASEFILES, 'RELEASEFILES'],
  [COMMANDS.IPMSG_GETINFO, 'GETINFO'],
  [COMMANDS.IPMSG_GETABSENCEINFO, 'GETABSENCEINFO'],
  [COMMANDS.IPMSG_SENDINFO, 'SENDINFO'],
  [COMMANDS.IPMSG_SENDABSENCEINFO, 'SENDABSENCEINFO'],
  [COMMANDS.IPMSG_GETPUBKEY, 'GETPUBKEY'],
  [COMMANDS.IPMSG_ANSPUBKEY, 'ANSPUBKEY'],
  [COMMANDS.IPMSG_GETFILEDATA, 'GETFILEDATA'],
  [COMMANDS.IPMSG_GETDIRFILES, 'GETDIRFILES'],
  [COMMANDS.IPMSG_GETLIST, 'GETLIST'],
  [COMMANDS.IPMSG_ANSLIST, 'ANSLIST'],
]);

/** The packet kind a command number decodes to. */
export function packetKind(command: number): Packet['kind'] {
  return KIND_BY_MODE.get(getMode(command)) ?? 'OTHER';
}


/** The numbers of a header, or why they are invalid: the one set of rules for both decoding paths. */
export function headerNumbers(version: string, packetNoText: string, commandText: string): { packetNo: PacketNo; command: number } | string {
  if (version.startsWith('IP2')) return 'binary IPDict packets are not supported';
  const major = /^\d+/.exec(version)?.[0];
  if (major === undefined || Number(major) !== IPMSG_VERSION) return `unsupported version field ${JSON.stringify(version)}`;
  const packetNo = parsePacketNo(packetNoText);
  if (packetNo === undefined) return 'packet number is not a decimal number below 2^53';
  if (!/^[0-9]{1,10}$/.test(commandText) || Number(commandText) > 0xffffffff) return 'command is not a 32-bit decimal number';
  return { packetNo, command: Number(commandText) >>> 0 };
}
