// src/protocol/ascii-reply.ts
// A short decoding path for the commonest datagram of a send to many peers: an all-ASCII reply
// (RECVMSG and its kind) that gives exactly the packet the full decoder would.

import { isAscii } from 'node:buffer';
import { NUL } from '../encoding/fields.js';
import { COMMANDS, getMode } from './command.js';
import type { DecodeLimits } from './limits.js';
import type { ReplyKind, ReplyPacket } from './packet.js';
import { headerNumbers, packetKind } from './packet-header.js';
import { parsePacketNo } from './packet-no.js';

/** The longest datagram decodeAsciiReply looks at (a reply is a header and a packet number). */
const MAX_SHORT_REPLY = 512;

/** Modes whose body is a packet number (ReplyKind). */
const REPLY_MODES = new Set<number>([
  COMMANDS.IPMSG_RECVMSG,
  COMMANDS.IPMSG_READMSG,
  COMMANDS.IPMSG_ANSREADMSG,
  COMMANDS.IPMSG_DELMSG,
  COMMANDS.IPMSG_RELEASEFILES,
]);

/**
 * A valid all-ASCII reply (RECVMSG and its kind) without sections, decoded from one string; the
 * same packet decodeAnyPacket makes of it (ASCII is valid UTF-8, and one byte per character).
 * Undefined for anything else, valid or not, which the full decoder handles. A send to many peers
 * gets one acknowledgement from each: this keeps their decoding cheap in a short-lived process.
 */
export function decodeAsciiReply(bytes: Uint8Array, limits: DecodeLimits): ReplyPacket | undefined {
  if (bytes.length > Math.min(limits.maxDatagram, MAX_SHORT_REPLY) || !isAscii(bytes)) return undefined;
  // Not asciiText(): Buffer's toString is a long way through Node's code for a few dozen bytes.
  const all = String.fromCharCode.apply(null, bytes as unknown as number[]);
  const nul = all.indexOf('\0');
  if (nul >= 0) for (let i = nul + 1; i < all.length; i++) if (all.charCodeAt(i) !== NUL) return undefined;
  const main = nul < 0 ? all : all.slice(0, nul);
  const c1 = main.indexOf(':');
  const c2 = c1 < 0 ? -1 : main.indexOf(':', c1 + 1);
  const c3 = c2 < 0 ? -1 : main.indexOf(':', c2 + 1);
  const c4 = c3 < 0 ? -1 : main.indexOf(':', c3 + 1);
  if (c4 < 0 || c3 - c2 - 1 > limits.maxNameBytes || c4 - c3 - 1 > limits.maxNameBytes) return undefined;
  const c5 = main.indexOf(':', c4 + 1);
  const packetNoText = main.slice(c1 + 1, c2);
  const numbers = headerNumbers(main.slice(0, Math.min(c1, 64)), packetNoText, main.slice(c4 + 1, c5 < 0 ? main.length : c5));
  if (typeof numbers === 'string' || !REPLY_MODES.has(getMode(numbers.command))) return undefined;
  const { packetNo, command } = numbers;
  const version = main.slice(0, Math.min(c1, 64));
  const user = main.slice(c2 + 1, c3);
  const host = main.slice(c3 + 1, c4);
  const kind = packetKind(command) as ReplyKind;
  const ref = parsePacketNo((c5 < 0 ? '' : main.slice(c5 + 1)).trim());
  // Two literals rather than a spread: a spread in a literal is slow before V8 optimises.
  return packetNoText === String(packetNo)
    ? { version, packetNo, user, host, command, charset: 'utf-8', kind, ref }
    : { version, packetNo, packetNoText, user, host, command, charset: 'utf-8', kind, ref };
}
