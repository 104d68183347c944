// src/protocol/packet-no.ts
// Packet numbers: Unix seconds, +1 per packet, never going back (§2.3).

declare const packetNoBrand: unique symbol;
/** A packet number as it travels in the header: a non-negative decimal integer. */
export type PacketNo = number & { readonly [packetNoBrand]: true };

export const MAX_PACKET_NO = Number.MAX_SAFE_INTEGER;

export function asPacketNo(value: number): PacketNo {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a packet number: ${value}`);
  return value as PacketNo;
}

/**
 * The number after `last`, following the official MakePacketNo(): the current second when the
 * clock is ahead, else one more than the last number (iptux drops a message whose number is not
 * higher than the previous one from the same address: §15 item 2).
 */
export function nextPacketNo(last: number, nowMs: number): PacketNo {
  const seconds = Math.floor(nowMs / 1000);
  return asPacketNo(Math.max(seconds, last + 1));
}

/** Parses the decimal packet-number text of a header or of an acknowledgement body. */
export function parsePacketNo(text: string): PacketNo | undefined {
  if (!/^[0-9]{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= MAX_PACKET_NO ? (value as PacketNo) : undefined;
}
