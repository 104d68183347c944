// src/errors.ts
// The one error class of the project, its closed set of codes, and the exit status of each.

export const ERROR_CODES = {
  IPMSG_ERR_USAGE: 64, // bad command line
  IPMSG_ERR_INPUT: 65, // bad input data: empty message, unreadable stdin
  IPMSG_ERR_ENCODING: 65, // text the chosen code page cannot hold
  IPMSG_ERR_TOO_LONG: 65, // message does not fit one safe datagram
  IPMSG_ERR_NO_INPUT: 66, // a file to offer does not exist
  IPMSG_ERR_KEY_MISMATCH: 67, // a known peer shows another public key (EX_NOUSER: not the user we knew)
  IPMSG_ERR_UNKNOWN_TARGET: 68, // no peer answers to that name
  IPMSG_ERR_AMBIGUOUS_TARGET: 68, // several peers answer to that name
  IPMSG_ERR_UNAVAILABLE: 69, // cannot bind, network unreachable
  IPMSG_ERR_INTERNAL: 70, // a bug
  IPMSG_ERR_CANT_CREATE: 73, // a received file or folder cannot be created
  IPMSG_ERR_IO: 74, // local file or stream error
  IPMSG_ERR_NO_ACK: 75, // a peer did not acknowledge in time
  IPMSG_ERR_TIMEOUT: 75, // nothing (or not enough) arrived in time
  IPMSG_ERR_TRANSFER: 75, // a file transfer broke off (retry with --resume) or was refused
  IPMSG_ERR_DECODE: 76, // a packet that cannot be decoded
  IPMSG_ERR_PROTOCOL: 76, // a peer broke the protocol
  IPMSG_ERR_DECRYPT: 76, // an encrypted message that cannot be decrypted (one generic reason)
  IPMSG_ERR_DECLINED: 77, // the recipients released an offer without fetching it
  IPMSG_ERR_KEY_FILE: 78, // a key or known-peers file that cannot be read or is corrupt (EX_CONFIG)
  IPMSG_ERR_ENCRYPT_UNAVAILABLE: 79, // --encrypt always: the peer cannot encrypt (no key, no common cipher); not sysexits
  IPMSG_ERR_INTERRUPTED: 130, // SIGINT / SIGTERM
  IPMSG_ERR_OUTPUT_CLOSED: 141, // the reader of standard output went away (`| head`): 128 + SIGPIPE, as a shell reports it
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class IpmsgError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IpmsgError';
    this.code = code;
  }

  get exitStatus(): number {
    return ERROR_CODES[this.code];
  }
}

export function isIpmsgError(error: unknown, code?: ErrorCode): error is IpmsgError {
  return error instanceof IpmsgError && (code === undefined || error.code === code);
}
