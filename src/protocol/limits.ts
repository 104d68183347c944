// src/protocol/limits.ts
// Default limits for decoding what arrives from the LAN (untrusted input).

export interface DecodeLimits {
  /** Largest datagram accepted; the official client reads at most 32767 bytes (§1.2). */
  readonly maxDatagram: number;
  /** Longest user, host, nick or group name in bytes; the official keeps 79 (MAX_NAMEBUF). */
  readonly maxNameBytes: number;
  /** Most NUL-separated sections after the body (the official uses three). */
  readonly maxSections: number;
  /** Most attachment entries in one offer. */
  readonly maxAttachments: number;
  /** Longest attachment file name in bytes (official MAX_FILENAME_U8). */
  readonly maxFileNameBytes: number;
  /** Most hosts in one ANSLIST (§3.4). */
  readonly maxListHosts: number;
}

export const DEFAULT_LIMITS: DecodeLimits = {
  maxDatagram: 65535,
  maxNameBytes: 255,
  maxSections: 16,
  maxAttachments: 1000,
  maxFileNameBytes: 765,
  maxListHosts: 1000,
};

/** Largest datagram we send: iptux truncates anything from 8192 bytes up (§1.2). */
export const MAX_SAFE_DATAGRAM = 8191;

/** Above this a datagram is fragmented on an Ethernet LAN, and some networks drop fragments. */
export const UNFRAGMENTED_DATAGRAM = 1472;
