// src/protocol/command.ts
// Every IPMSG_* number of PROTOCOL.md §1.1, named as the official ipmsg.h names it.

export const IPMSG_VERSION = 0x0001;
export const IPMSG_NEW_VERSION = 0x0003;
export const IPMSG_DEFAULT_PORT = 0x0979; // 2425, UDP and TCP

/** Commands: the low 8 bits of the command field. */
export const COMMANDS = {
  IPMSG_NOOPERATION: 0x00,
  IPMSG_BR_ENTRY: 0x01,
  IPMSG_BR_EXIT: 0x02,
  IPMSG_ANSENTRY: 0x03,
  IPMSG_BR_ABSENCE: 0x04, // = IPMSG_BR_NOTIFY
  IPMSG_BR_ISGETLIST: 0x10,
  IPMSG_OKGETLIST: 0x11,
  IPMSG_GETLIST: 0x12,
  IPMSG_ANSLIST: 0x13,
  IPMSG_ANSLIST_DICT: 0x14,
  IPMSG_BR_ISGETLIST2: 0x18,
  IPMSG_SENDMSG: 0x20,
  IPMSG_RECVMSG: 0x21,
  IPMSG_READMSG: 0x30,
  IPMSG_DELMSG: 0x31,
  IPMSG_ANSREADMSG: 0x32,
  IPMSG_GETINFO: 0x40,
  IPMSG_SENDINFO: 0x41,
  IPMSG_GETABSENCEINFO: 0x50,
  IPMSG_SENDABSENCEINFO: 0x51,
  IPMSG_GETFILEDATA: 0x60,
  IPMSG_RELEASEFILES: 0x61,
  IPMSG_GETDIRFILES: 0x62,
  IPMSG_DIRFILES_AUTH: 0x63,
  IPMSG_DIRFILES_AUTHRET: 0x64,
  IPMSG_GETPUBKEY: 0x72,
  IPMSG_ANSPUBKEY: 0x73,
  IPMSG_AGENT_REQ: 0xa0,
  IPMSG_AGENT_ANSREQ: 0xa1,
  IPMSG_AGENT_PACKET: 0xa2,
  IPMSG_AGENT_PROXYREQ: 0xa3,
  IPMSG_DIR_POLL: 0xb0,
  IPMSG_DIR_POLLAGENT: 0xb1,
  IPMSG_DIR_BROADCAST: 0xb2,
  IPMSG_DIR_ANSBROAD: 0xb3,
  IPMSG_DIR_PACKET: 0xb4,
  IPMSG_DIR_REQUEST: 0xb5,
  IPMSG_DIR_AGENTPACKET: 0xb6,
  IPMSG_DIR_EVBROAD: 0xb7,
  IPMSG_DIR_AGENTREJECT: 0xb8,
  // iptux private commands (§1.3)
  IPTUX_SENDMSG: 0xfb,
  IPTUX_SEND_SIGN: 0xfc,
  IPTUX_SENDSUBLAYER: 0xfd,
  IPTUX_SENDICON: 0xfe,
  IPTUX_ASKSHARED: 0xff,
} as const;

export type CommandName = keyof typeof COMMANDS;

export const {
  IPMSG_NOOPERATION,
  IPMSG_BR_ENTRY,
  IPMSG_BR_EXIT,
  IPMSG_ANSENTRY,
  IPMSG_BR_ABSENCE,
  IPMSG_SENDMSG,
  IPMSG_RECVMSG,
  IPMSG_READMSG,
  IPMSG_DELMSG,
  IPMSG_ANSREADMSG,
  IPMSG_GETINFO,
  IPMSG_SENDINFO,
  IPMSG_GETABSENCEINFO,
  IPMSG_SENDABSENCEINFO,
  IPMSG_GETFILEDATA,
  IPMSG_RELEASEFILES,
  IPMSG_GETDIRFILES,
  IPMSG_GETPUBKEY,
  IPMSG_ANSPUBKEY,
} = COMMANDS;

/** Options valid for all commands (entry packets use them as host status). */
export const IPMSG_ABSENCEOPT = 0x00000100;
export const IPMSG_SERVEROPT = 0x00000200;
export const IPMSG_CAPFILEENC_OBSLT = 0x00001000;
export const IPMSG_DIALUPOPT = 0x00010000;
export const IPMSG_CAPFILEENCOPT = 0x00040000;
export const IPMSG_FILEATTACHOPT = 0x00200000;
export const IPMSG_ENCRYPTOPT = 0x00400000;
export const IPMSG_UTF8OPT = 0x00800000;
export const IPMSG_CAPUTF8OPT = 0x01000000;
export const IPMSG_CAPIPDICTOPT = 0x02000000;
export const IPMSG_ENCEXTMSGOPT = 0x04000000;
export const IPMSG_CLIPBOARDOPT = 0x08000000;
export const IPMSG_DIR_MASTER = 0x10000000;
export const IPMSG_FLAG_RESV1 = 0x20000000;
export const IPMSG_FLAG_RESV2 = 0x40000000;

export const IPMSG_ALLSTAT =
  IPMSG_ABSENCEOPT |
  IPMSG_SERVEROPT |
  IPMSG_DIALUPOPT |
  IPMSG_FILEATTACHOPT |
  IPMSG_CLIPBOARDOPT |
  IPMSG_ENCRYPTOPT |
  IPMSG_CAPUTF8OPT |
  IPMSG_ENCEXTMSGOPT |
  IPMSG_CAPFILEENCOPT |
  IPMSG_CAPIPDICTOPT |
  IPMSG_DIR_MASTER;
export const IPMSG_FULLSTAT = IPMSG_ALLSTAT & ~(IPMSG_ABSENCEOPT | IPMSG_SERVEROPT | IPMSG_DIALUPOPT);

/** Options for SENDMSG (and READMSG). The same bits mean other things elsewhere (§1.3). */
export const IPMSG_SENDCHECKOPT = 0x00000100;
export const IPMSG_SECRETOPT = 0x00000200;
export const IPMSG_BROADCASTOPT = 0x00000400;
export const IPMSG_MULTICASTOPT = 0x00000800;
export const IPMSG_AUTORETOPT = 0x00002000;
export const IPMSG_RETRYOPT = 0x00004000;
export const IPMSG_PASSWORDOPT = 0x00008000;
export const IPMSG_NOLOGOPT = 0x00020000;
export const IPMSG_NEWMULTI_OBSLT = 0x00040000;
export const IPMSG_NOADDLISTOPT = 0x00080000;
export const IPMSG_READCHECKOPT = 0x00100000;
export const IPMSG_SECRETEXOPT = IPMSG_READCHECKOPT | IPMSG_SECRETOPT;
export const IPMSG_NOPOPUPOPT = 0x00001000; // not official; iptux, libipmsg, go-ipmsg

/** Options for GETDIRFILES / GETFILEDATA. */
export const IPMSG_ENCFILE_OBSLT = 0x00000400;
export const IPMSG_ENCFILEOPT = 0x00000800;

/** Encryption capability flags: a hex number inside GETPUBKEY/ANSPUBKEY bodies, not option bits. */
export const IPMSG_RSA_512OBSOLETE = 0x00000001;
export const IPMSG_RSA_1024 = 0x00000002;
export const IPMSG_RSA_2048 = 0x00000004;
export const IPMSG_RSA_4096 = 0x00000008;
export const IPMSG_RC2_40OLD = 0x00000010;
export const IPMSG_RC2_128OLD = 0x00000040;
export const IPMSG_BLOWFISH_128OLD = 0x00000400;
export const IPMSG_RC2_40OBSOLETE = 0x00001000;
export const IPMSG_RC2_128OBSOLETE = 0x00004000;
export const IPMSG_RC2_256OBSOLETE = 0x00008000;
export const IPMSG_BLOWFISH_128 = 0x00020000;
export const IPMSG_BLOWFISH_256OBSOL = 0x00040000;
export const IPMSG_AES_128OBSOLETE = 0x00080000;
export const IPMSG_AES_256 = 0x00100000;
export const IPMSG_COMMON_KEYS = IPMSG_BLOWFISH_128 | IPMSG_AES_256;
export const IPMSG_IPDICT_CTR = 0x00400000;
export const IPMSG_PACKETNO_IV = 0x00800000;
export const IPMSG_ENCODE_BASE64 = 0x01000000;
export const IPMSG_UNAMEEXTOPT_OBSLT = 0x02000000;
export const IPMSG_NOENC_FILEBODY = 0x04000000;
export const IPMSG_SIGN_MD5OBSOLETE = 0x10000000;
export const IPMSG_SIGN_SHA1 = 0x20000000;
export const IPMSG_SIGN_SHA256 = 0x40000000;

/** iptux private option bits (§1.3). */
export const IPTUX_SHAREDOPT = 0x80000000;
export const IPTUX_PASSWDOPT = 0x40000000;

/** Client-version type ids used in the `VS:` entry line (§1.1, §2.4). */
export const IPMSG_VER_WIN32_TYPE = 0x00010001;
export const IPMSG_VER_WIN64_TYPE = 0x00010002;
export const IPMSG_VER_MAC_TYPE = 0x00020000;
export const IPMSG_VER_IOS_TYPE = 0x00030000;
export const IPMSG_VER_ANDROID_TYPE = 0x00040000;

export const IPMSG_LIMITED_BROADCAST = '255.255.255.255';
export const FILELIST_SEPARATOR = 0x07; // '\a'
export const HOSTLIST_SEPARATOR = '\x07';
export const HOSTLIST_DUMMY = '\b';

const MODE_MASK = 0x000000ff;

/** GET_MODE(cmd): the command part. */
export function getMode(command: number): number {
  return command & MODE_MASK;
}

/** GET_OPT(cmd): the option bits, as an unsigned 32-bit number. */
export function getOpt(command: number): number {
  return (command & ~MODE_MASK) >>> 0;
}

export function hasOpt(command: number, option: number): boolean {
  return ((command & option) >>> 0) === option >>> 0;
}

/** Builds a command value from a mode and option bits, kept unsigned. */
export function makeCommand(mode: number, ...options: number[]): number {
  let value = mode & MODE_MASK;
  for (const option of options) value |= option;
  return value >>> 0;
}

const commandNames = new Map<number, CommandName>(
  (Object.entries(COMMANDS) as [CommandName, number][]).map(([name, value]) => [value, name]),
);

/** The spec name of a command number, e.g. 0x20 → 'IPMSG_SENDMSG'. */
export function commandName(mode: number): CommandName | undefined {
  return commandNames.get(mode & MODE_MASK);
}
