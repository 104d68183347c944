// test/vectors/packets.ts
// Annotated UDP packet vectors: every packet quoted in PROTOCOL.md §14 and §15, plus the shapes
// real clients write (§2.1–§2.4, §4.1, §7), each with the Packet that decodePacket must return.
//
// Notation in comments: \0 = NUL, \a = 0x07. String pieces are UTF-8 (ASCII for the header);
// legacy code-page bytes are spelled out in hex so the vectors do not depend on iconv-lite.

import type { Charset } from '../../src/encoding/charset.js';
import type { Packet } from '../../src/protocol/packet.js';
import { type PacketNo, asPacketNo } from '../../src/protocol/packet-no.js';
import { bytes, hex, repeat } from '../helpers/bytes.js';

export interface PacketVector {
  readonly name: string;
  /** Where the packet comes from. */
  readonly source: string;
  /** Code page for text that is neither flagged nor valid UTF-8 (decode option). */
  readonly fallbackCharset: Charset;
  readonly bytes: Uint8Array;
  readonly packet: Packet;
}

/** A non-canonical packet: decodes to `packet`, which our encoder writes as `canonical`. */
export interface ParseOnlyVector extends PacketVector {
  readonly canonical: Uint8Array;
}

const pn = (n: number): PacketNo => asPacketNo(n);

// Legacy code-page bytes (checked against Python's codecs, independent of iconv-lite).
const CP932_YAMADA = hex('8e 52 93 63'); // 山田
const CP932_YAMADA_TARO = hex('8e 52 93 63 91 be 98 59'); // 山田太郎
const CP932_KAIHATSUBU = hex('8a 4a 94 ad 95 94'); // 開発部
const GBK_ZHANGSAN = hex('d5 c5 c8 fd'); // 张三
const GBK_YANFABU = hex('d1 d0 b7 a2 b2 bf'); // 研发部
const GBK_NIHAO = hex('c4 e3 ba c3'); // 你好
const GBK_ZHONGWEN = hex('d6 d0 ce c4'); // 中文
const GBK_FEIQ_USER = hex('b7 c9 c7 ef d3 c3 bb a7'); // 飞秋用户
const GB18030_TEXT = hex('d6 d0 ce c4 b7 c9 b8 eb b4 ab ca e9 94 39 fc 36'); // 中文飞鸽传书😀 (😀 = 4-byte GB18030)

// ---------------------------------------------------------------------------------------------
// Two-way vectors: decode(bytes) = packet, encode(packet) = bytes.
// ---------------------------------------------------------------------------------------------

const ourBrEntry: PacketVector = {
  name: 'our BR_ENTRY with UN/HN/NN/GN lines',
  source: 'PROTOCOL.md §14 (and §13 item 4)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000000:', // packet number: Unix seconds
    'alice:', // user
    'PC1:', // host
    '18874369:', // BR_ENTRY|FILEATTACHOPT|CAPUTF8OPT = 0x01200001
    'Alice', // body: nickname
    '\0', // end of body
    'Dev', // section 1: group
    '\0', // end of group
    '\nUN:alice', // UTF-8 extension: user
    '\nHN:PC1', // host
    '\nNN:Alice', // nickname
    '\nGN:Dev', // group; no NUL at the very end
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000000),
    user: 'alice',
    host: 'PC1',
    command: 0x01200001,
    charset: 'utf-8',
    kind: 'BR_ENTRY',
    entry: { nick: 'Alice', group: 'Dev', ext: { UN: 'alice', HN: 'PC1', NN: 'Alice', GN: 'Dev' } },
  },
};

const plainAnsEntry: PacketVector = {
  name: "a plain peer's ANSENTRY",
  source: 'PROTOCOL.md §14',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000100:', // packet number
    'bob:', // user
    'PC2:', // host
    '27262979:', // ANSENTRY|FILEATTACHOPT|UTF8OPT|CAPUTF8OPT = 0x01A00003
    'Bob', // nickname
    '\0', // end of body
    '', // group: empty
    '\0', // end of group
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000100),
    user: 'bob',
    host: 'PC2',
    command: 0x01a00003,
    charset: 'utf-8',
    kind: 'ANSENTRY',
    entry: { nick: 'Bob', group: '' },
  },
};

const officialAnsEntry: PacketVector = {
  name: "the official's ANSENTRY with a VS line",
  source: 'PROTOCOL.md §14 (ANSENTRY|0x0F640000|UTF8OPT), §2.4',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000100:', // packet number
    'bob:', // user
    'PC2:', // host
    '266600451:', // ANSENTRY|0x0F640000|UTF8OPT = 0x0FE40003
    'Bob', // nickname
    '\0', // end of body
    '', // group: empty
    '\0', // end of group
    '\nVS:00010002:4:99:103', // client version: Win64 4.99r3; no UN/HN/NN/GN in an ANSENTRY
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000100),
    user: 'bob',
    host: 'PC2',
    command: 0x0fe40003,
    charset: 'utf-8',
    kind: 'ANSENTRY',
    entry: { nick: 'Bob', group: '', ext: { VS: '00010002:4:99:103' } },
  },
};

const sendMsgWithFile: PacketVector = {
  name: 'SENDMSG with one attachment',
  source: 'PROTOCOL.md §14',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000005:', // packet number
    'alice:', // user
    'PC1:', // host
    '27263264:', // SENDMSG|SENDCHECKOPT|FILEATTACHOPT|UTF8OPT|CAPUTF8OPT = 0x01A00120
    'see file', // message text
    '\0', // end of text (counted in the datagram)
    '0:', // file id (decimal)
    'report.pdf:', // file name
    '1a2b3:', // size, hex (107187 bytes)
    '65f1c2a0:', // mtime, hex Unix seconds
    '1:', // attr: IPMSG_FILE_REGULAR
    '\x07', // entry separator; no trailing NUL after the list
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000005),
    user: 'alice',
    host: 'PC1',
    command: 0x01a00120,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: 'see file',
    attachments: [{ fileId: 0, name: 'report.pdf', size: 0x1a2b3, mtime: 0x65f1c2a0, attr: 1 }],
  },
};

const peerAck: PacketVector = {
  name: "the peer's RECVMSG acknowledgement",
  source: 'PROTOCOL.md §14',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000101:', // packet number
    'bob:', // user
    'PC2:', // host
    '33:', // RECVMSG (0x21), no options
    '1700000005', // body: the acknowledged packet number, decimal
    '\0', // end of body
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000101),
    user: 'bob',
    host: 'PC2',
    command: 0x21,
    charset: 'utf-8',
    kind: 'RECVMSG',
    ref: pn(1700000005),
  },
};

const peerGetFileData: PacketVector = {
  name: "the peer's GETFILEDATA request (sent over TCP, same text format)",
  source: 'PROTOCOL.md §14',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000102:', // packet number
    'bob:', // user
    'PC2:', // host
    '8388704:', // GETFILEDATA|UTF8OPT = 0x00800060
    '6553f105:', // offer packet number 1700000005 in hex
    '0:', // file id, hex
    '0:', // offset, hex
    '\0', // end of body
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000102),
    user: 'bob',
    host: 'PC2',
    command: 0x00800060,
    charset: 'utf-8',
    kind: 'GETFILEDATA',
    body: '6553f105:0:0:',
  },
};

const ansList: PacketVector = {
  name: 'ANSLIST with one host (no more pages)',
  source: 'PROTOCOL.md §14 (body as quoted but for the port; header constructed), §3.4',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000103:', // packet number
    'carol:', // user
    'PC3:', // host
    '19:', // ANSLIST (0x13)
    '    0\x07', // next start index, %5d: 0 = list complete
    '    1\x07', // hosts in this packet, %5d
    'bob\x07', // user
    'PC2\x07', // host
    '18874368\x07', // status: FILEATTACHOPT|CAPUTF8OPT, decimal
    '192.168.1.20\x07', // address
    '30985\x07', // port 2425 = 0x0979 byte-swapped: 0x7909 (§14 prints 31001 = 0x7919, a slip)
    'Bob\x07', // nickname
    '\b\x07', // group: empty, written as HOSTLIST_DUMMY
    '\0', // end of body
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000103),
    user: 'carol',
    host: 'PC3',
    command: 0x13,
    charset: 'utf-8',
    kind: 'ANSLIST',
    text: '    0\x07    1\x07bob\x07PC2\x0718874368\x07192.168.1.20\x0730985\x07Bob\x07\b\x07',
    list: {
      next: 0,
      hosts: [{ user: 'bob', host: 'PC2', status: 18874368, address: '192.168.1.20', port: 2425, nick: 'Bob', group: '' }],
    },
  },
};

/** The official 4.11's ANSLIST, byte for byte as captured (§16). */
export const officialAnsList: PacketVector = {
  name: 'ANSLIST from the official 4.11, as captured',
  source: 'PROTOCOL.md §16 (captured byte for byte)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1796604560:', // packet number
    'root-<bd766e3a277f2882>:', // user, with its key fingerprint (§6.6)
    'WIN-HOST:', // host
    '19:', // ANSLIST (0x13), no UTF8OPT: our probe's GETLIST had no CAPUTF8OPT
    '    0\x07', // next start index: 0, the list is complete
    '    2\x07', // hosts in this packet
    'probe\x07', // user
    'probehost\x07', // host
    '0-0\x07', // status "<n>-<n>": atol reads 0 (it sent BR_ENTRY without options)
    '10.253.0.2\x07', // address
    '30985\x07', // port: htons(2425) printed as decimal
    'probe\x07', // nick
    'lab\x07', // group
    'root-<bd766e3a277f2882>\x07', // user: the official itself
    'WIN-HOST\x07', // host
    '233046016-0\x07', // status 0x0DE40000: FILEATTACHOPT, ENCRYPTOPT, UTF8OPT, CAPUTF8OPT, ENCEXTMSGOPT, CLIPBOARDOPT, CAPFILEENCOPT
    '10.253.0.1\x07', // address
    '30985\x07', // port 2425
    'win-peer\x07', // nick
    'lab\x07', // group
    '\0', // end of body
  ),
  packet: {
    version: '1',
    packetNo: pn(1796604560),
    user: 'root-<bd766e3a277f2882>',
    host: 'WIN-HOST',
    command: 0x13,
    charset: 'utf-8',
    kind: 'ANSLIST',
    text:
      '    0\x07    2\x07probe\x07probehost\x070-0\x0710.253.0.2\x0730985\x07probe\x07lab\x07' +
      'root-<bd766e3a277f2882>\x07WIN-HOST\x07233046016-0\x0710.253.0.1\x0730985\x07win-peer\x07lab\x07',
    list: {
      next: 0,
      hosts: [
        { user: 'probe', host: 'probehost', status: 0, address: '10.253.0.2', port: 2425, nick: 'probe', group: 'lab' },
        { user: 'root-<bd766e3a277f2882>', host: 'WIN-HOST', status: 233046016, address: '10.253.0.1', port: 2425, nick: 'win-peer', group: 'lab' },
      ],
    },
  },
};

const getList: PacketVector = {
  name: 'GETLIST for the second page',
  source: 'PROTOCOL.md §3.4 (body = decimal start index), §16',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000104:', // packet number
    'alice:', // user
    'PC1:', // host
    '25165842:', // GETLIST (0x12) | CAPUTF8OPT | UTF8OPT
    '250', // start index
    '\0', // end of body
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000104),
    user: 'alice',
    host: 'PC1',
    command: 0x01800012,
    charset: 'utf-8',
    kind: 'GETLIST',
    start: 250,
  },
};

const probeBrEntry: PacketVector = {
  name: 'our probe BR_ENTRY sent to iptux',
  source: 'PROTOCOL.md §15 (first table row)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '953431891:', // packet number
    'probe:', // user
    'probehost:', // host
    '1:', // BR_ENTRY, no options
    'Probe', // nickname
    '\0', // end of body
    'probes', // group
    '\0', // end of group
  ),
  packet: {
    version: '1',
    packetNo: pn(953431891),
    user: 'probe',
    host: 'probehost',
    command: 0x01,
    charset: 'utf-8',
    kind: 'BR_ENTRY',
    entry: { nick: 'Probe', group: 'probes' },
  },
};

const iptuxAnsEntry: PacketVector = {
  name: "iptux 0.8.3's ANSENTRY (nick, group, icon, encoding)",
  source: 'PROTOCOL.md §15 (seen on the wire)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version: IPTUX_VERSION, only the leading 1 counts
    '4:', // packet number: iptux's global counter
    'root:', // user
    'iptux-host:', // host
    '259:', // ANSENTRY|ABSENCEOPT = 0x103 (iptux always sets ABSENCEOPT)
    'iptux-peer', // nickname
    '\0', // end of body
    'lab', // group
    '\0', // end of group
    'icon-tux.png', // icon file
    '\0', // end of icon
    'utf-8', // encoding: marks an iptux-compatible peer
    '\0', // end of encoding
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(4),
    user: 'root',
    host: 'iptux-host',
    command: 0x103,
    charset: 'utf-8',
    kind: 'ANSENTRY',
    entry: { nick: 'iptux-peer', group: 'lab', iptux: { icon: 'icon-tux.png', encoding: 'utf-8' } },
  },
};

const iptuxBrEntry: PacketVector = {
  name: "iptux's start-up BR_ENTRY|ABSENCEOPT",
  source: 'PROTOCOL.md §15 (257 at start-up; body shaped like its ANSENTRY)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '1:', // packet number: the counter starts at 1
    'root:', // user
    'iptux-host:', // host
    '257:', // BR_ENTRY|ABSENCEOPT = 0x101
    'iptux-peer', // nickname
    '\0', // end of body
    'lab', // group
    '\0', // end of group
    'icon-tux.png', // icon
    '\0', // end of icon
    'utf-8', // encoding
    '\0', // end of encoding
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(1),
    user: 'root',
    host: 'iptux-host',
    command: 0x101,
    charset: 'utf-8',
    kind: 'BR_ENTRY',
    entry: { nick: 'iptux-peer', group: 'lab', iptux: { icon: 'icon-tux.png', encoding: 'utf-8' } },
  },
};

const iptuxMessage: PacketVector = {
  name: "iptux's message",
  source: 'PROTOCOL.md §15',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '7:', // packet number
    'root:', // user
    'iptux-host:', // host
    '288:', // SENDMSG|SENDCHECKOPT = 0x120
    'text', // message
    '\0', // end of text
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(7),
    user: 'root',
    host: 'iptux-host',
    command: 0x120,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: 'text',
  },
};

const iptuxRecvMsg: PacketVector = {
  name: "iptux's RECVMSG 289",
  source: 'PROTOCOL.md §15 (RECVMSG|SENDCHECKOPT, body = our packet number)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '5:', // packet number
    'root:', // user
    'iptux-host:', // host
    '289:', // RECVMSG|SENDCHECKOPT = 0x121
    '953431892', // body: our SENDMSG's packet number, decimal
    '\0', // end of body
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(5),
    user: 'root',
    host: 'iptux-host',
    command: 0x121,
    charset: 'utf-8',
    kind: 'RECVMSG',
    ref: pn(953431892),
  },
};

const iptuxSharedList: PacketVector = {
  name: "iptux's shared-file list (command above 2^31)",
  source: 'PROTOCOL.md §15 (answer to IPTUX_ASKSHARED; the elided second entry filled in)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '6:', // packet number
    'root:', // user
    'iptux-host:', // host
    '2149580832:', // SENDMSG|FILEATTACHOPT|IPTUX_SHAREDOPT = 0x80200020
    '', // empty text
    '\0', // end of text
    '1:hello.txt:1d:0:1:', // id 1, 29 bytes, mtime 0 (shared files), regular
    '\x07', // separator
    '2:docs:22:0:2:', // id 2, directory of 34 bytes
    '\x07', // separator
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(6),
    user: 'root',
    host: 'iptux-host',
    command: 0x80200020,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: '',
    attachments: [
      { fileId: 1, name: 'hello.txt', size: 0x1d, mtime: 0, attr: 1 },
      { fileId: 2, name: 'docs', size: 0x22, mtime: 0, attr: 2 },
    ],
  },
};

const iptuxGetFileData: PacketVector = {
  name: "iptux's GETFILEDATA request (no trailing colon in the body)",
  source: 'PROTOCOL.md §15',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '8:', // packet number
    'root:', // user
    'iptux-host:', // host
    '96:', // GETFILEDATA (0x60)
    '38d427f0:1:0', // body: packet hex, file id hex, offset; no trailing colon
    '\0', // end of body
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(8),
    user: 'root',
    host: 'iptux-host',
    command: 0x60,
    charset: 'utf-8',
    kind: 'GETFILEDATA',
    body: '38d427f0:1:0',
  },
};

const iptuxGetDirFiles: PacketVector = {
  name: "iptux's GETDIRFILES request",
  source: 'PROTOCOL.md §15',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '9:', // packet number
    'root:', // user
    'iptux-host:', // host
    '2097250:', // GETDIRFILES|FILEATTACHOPT = 0x200062
    '38d42926:2:0', // body: packet hex, file id hex, offset
    '\0', // end of body
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(9),
    user: 'root',
    host: 'iptux-host',
    command: 0x200062,
    charset: 'utf-8',
    kind: 'GETDIRFILES',
    body: '38d42926:2:0',
  },
};

/** A 512-bit odd modulus (the smallest a client may use), big-endian: stands in for a real key. */
const MODULUS_HEX = 'c3' + 'a5'.repeat(62) + '0b';

const officialGetPubKey: PacketVector = {
  name: "the official's automatic GETPUBKEY",
  source: 'PROTOCOL.md §6.2',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000201:', // packet number
    'alice:', // user
    'PCA:', // host
    '8306:', // GETPUBKEY|AUTORETOPT = 0x2072
    '65920006', // body: our capa, lower-case hex
    '\0', // end of body
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000201),
    user: 'alice',
    host: 'PCA',
    command: 0x2072,
    charset: 'utf-8',
    kind: 'GETPUBKEY',
    capa: 0x65920006,
  },
};

const officialAnsPubKey: PacketVector = {
  name: "the official's ANSPUBKEY",
  source: 'PROTOCOL.md §6.2',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000202:', // packet number
    'bob:', // user
    'PC2:', // host
    '115:', // ANSPUBKEY (0x73)
    '21920006:', // the full capa, upper-case hex
    '10001-', // exponent, upper-case hex
    MODULUS_HEX, // modulus, lower-case hex, big-endian
    '\0', // end of body
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000202),
    user: 'bob',
    host: 'PC2',
    command: 0x73,
    charset: 'utf-8',
    kind: 'ANSPUBKEY',
    key: { capa: 0x21920006, exponent: 0x10001, modulus: hex(MODULUS_HEX) },
  },
};

const iptuxUtf8Unflagged: PacketVector = {
  name: 'UTF-8 text without UTF8OPT (iptux ignores the flag)',
  source: 'PROTOCOL.md §15 item 3, §7',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '10:', // packet number
    'root:', // user
    'iptux-host:', // host
    '288:', // SENDMSG|SENDCHECKOPT, no UTF8OPT
    '你好', // text, UTF-8 (e4 bd a0 e5 a5 bd): valid UTF-8 wins over the fallback
    '\0', // end of text
  ),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(10),
    user: 'root',
    host: 'iptux-host',
    command: 0x120,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: '你好',
  },
};

const officialBrEntryCp932: PacketVector = {
  name: "the official's BR_ENTRY from Japanese Windows (CP932 legacy fields + UTF-8 lines)",
  source: 'PROTOCOL.md §2.4, §3.1 (0x0F640001), §7',
  fallbackCharset: 'cp932',
  bytes: bytes(
    '1:', // version
    '1700000400:', // packet number
    CP932_YAMADA, // user 山田 in the ANSI code page (CP932)
    ':', // end of user
    'WIN-PC:', // host
    '258211841:', // BR_ENTRY|0x0F640000 = 0x0F640001; br commands never carry UTF8OPT
    CP932_YAMADA_TARO, // nickname 山田太郎, CP932
    '\0', // end of body
    CP932_KAIHATSUBU, // group 開発部, CP932
    '\0', // end of group
    '\nUN:山田', // UTF-8 copies of the names
    '\nHN:WIN-PC', // host
    '\nNN:山田太郎', // nickname
    '\nGN:開発部', // group
    '\nVS:00010002:4:99:103', // version: Win64 4.99r3; the datagram ends here
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000400),
    user: '山田',
    host: 'WIN-PC',
    command: 0x0f640001,
    charset: 'cp932',
    kind: 'BR_ENTRY',
    entry: {
      nick: '山田太郎',
      group: '開発部',
      ext: { UN: '山田', HN: 'WIN-PC', NN: '山田太郎', GN: '開発部', VS: '00010002:4:99:103' },
    },
  },
};

const officialBrEntryGbk: PacketVector = {
  name: "the official's BR_ENTRY from Chinese Windows (GBK legacy fields + UTF-8 lines)",
  source: 'PROTOCOL.md §2.4 (CP_ACP = CP936/GBK), §7',
  fallbackCharset: 'gbk',
  bytes: bytes(
    '1:', // version
    '1700000401:', // packet number
    'zhang:', // user
    'WIN-CN:', // host
    '258211841:', // BR_ENTRY|0x0F640000
    GBK_ZHANGSAN, // nickname 张三, GBK
    '\0', // end of body
    GBK_YANFABU, // group 研发部, GBK
    '\0', // end of group
    '\nUN:zhang', // UTF-8 lines
    '\nHN:WIN-CN', //
    '\nNN:张三', //
    '\nGN:研发部', //
    '\nVS:00010001:4:99:103', // Win32 4.99r3
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000401),
    user: 'zhang',
    host: 'WIN-CN',
    command: 0x0f640001,
    charset: 'gbk',
    kind: 'BR_ENTRY',
    entry: {
      nick: '张三',
      group: '研发部',
      ext: { UN: 'zhang', HN: 'WIN-CN', NN: '张三', GN: '研发部', VS: '00010001:4:99:103' },
    },
  },
};

const gb18030Text: PacketVector = {
  name: 'GB18030 text without UTF8OPT',
  source: 'PROTOCOL.md §7, §15 (GBK/GB18030 text, no flag)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000500:', // packet number
    'zhang:', // user
    'WIN-CN:', // host
    '288:', // SENDMSG|SENDCHECKOPT, no UTF8OPT
    GB18030_TEXT, // 中文飞鸽传书😀 in GB18030 (the emoji needs the 4-byte form)
    '\0', // end of text
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000500),
    user: 'zhang',
    host: 'WIN-CN',
    command: 0x120,
    charset: 'gb18030',
    kind: 'SENDMSG',
    text: '中文飞鸽传书😀',
  },
};

const utf8Flagged: PacketVector = {
  name: 'UTF-8 text with UTF8OPT',
  source: 'PROTOCOL.md §13 item 5 (SENDMSG|SENDCHECKOPT|CAPUTF8OPT|UTF8OPT, +NOADDLISTOPT)',
  fallbackCharset: 'cp932',
  bytes: bytes(
    '1:', // version
    '1700000006:', // packet number
    'alice:', // user
    'PC1:', // host
    '25690400:', // SENDMSG|SENDCHECKOPT|NOADDLISTOPT|UTF8OPT|CAPUTF8OPT = 0x01880120
    'こんにちは 世界\n2行目', // text, UTF-8, LF newline
    '\0', // end of text
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000006),
    user: 'alice',
    host: 'PC1',
    command: 0x01880120,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: 'こんにちは 世界\n2行目',
  },
};

const feiqMessage: PacketVector = {
  name: 'FeiQ-style version field with GBK text',
  source: 'PROTOCOL.md §2.1 (FeiQ sample code, low confidence)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_lbt4_10#32899#002481627512#0#0#0:', // version: FeiQ's, leading 1
    '1700000600:', // packet number
    'feiq:', // user
    'FEIQ-PC:', // host
    '288:', // SENDMSG|SENDCHECKOPT
    GBK_NIHAO, // 你好 in GBK (decoded as GB18030, its superset)
    '\0', // end of text
  ),
  packet: {
    version: '1_lbt4_10#32899#002481627512#0#0#0',
    packetNo: pn(1700000600),
    user: 'feiq',
    host: 'FEIQ-PC',
    command: 0x120,
    charset: 'gb18030',
    kind: 'SENDMSG',
    text: '你好',
  },
};

export const feiqBrEntry: PacketVector = {
  name: "FeiQ's entry: GBK nickname, no CAPUTF8OPT, no UTF-8 lines",
  source: 'PROTOCOL.md §2.1 (FeiQ version field), §7 (a GBK-only client); issue 15',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_lbt4_10#128#0024816275AB#0#0#0:', // version: FeiQ's, leading 1
    '1700000601:', // packet number
    'feiq:', // user
    'FEIQ-PC:', // host
    '1:', // BR_ENTRY, no CAPUTF8OPT
    GBK_FEIQ_USER, // nickname 飞秋用户 in GBK
    '\0', // end of nickname
    '\0', // empty group
  ),
  packet: {
    version: '1_lbt4_10#128#0024816275AB#0#0#0',
    packetNo: pn(1700000601),
    user: 'feiq',
    host: 'FEIQ-PC',
    command: 0x1,
    charset: 'gb18030',
    kind: 'BR_ENTRY',
    entry: { nick: '飞秋用户', group: '' },
  },
};

/** What we send FeiQ once its entry is known: GB18030 text, no UTF8OPT or CAPUTF8OPT. */
export const messageToFeiq: PacketVector = {
  name: 'our message to FeiQ: GB18030, no UTF8OPT',
  source: 'PROTOCOL.md §7 (UTF-8 only to peers that announced CAPUTF8OPT); issue 15',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000602:', // packet number
    'tester:', // user
    'testhost:', // host
    '524576:', // SENDMSG|SENDCHECKOPT|NOADDLISTOPT = 0x00080120
    GBK_ZHONGWEN, // 中文 in GBK bytes (GB18030 agrees with GBK here)
    '\0', // end of text
  ),
  packet: {
    version: '1',
    packetNo: pn(1700000602),
    user: 'tester',
    host: 'testhost',
    command: 0x80120,
    charset: 'gb18030',
    kind: 'SENDMSG',
    text: '中文',
  },
};

export const TWO_WAY_VECTORS: readonly PacketVector[] = [
  ourBrEntry,
  plainAnsEntry,
  officialAnsEntry,
  sendMsgWithFile,
  peerAck,
  peerGetFileData,
  ansList,
  officialAnsList,
  getList,
  probeBrEntry,
  iptuxAnsEntry,
  iptuxBrEntry,
  iptuxMessage,
  iptuxRecvMsg,
  iptuxSharedList,
  iptuxGetFileData,
  iptuxGetDirFiles,
  officialGetPubKey,
  officialAnsPubKey,
  iptuxUtf8Unflagged,
  officialBrEntryCp932,
  officialBrEntryGbk,
  gb18030Text,
  utf8Flagged,
  feiqMessage,
  feiqBrEntry,
  messageToFeiq,
];

// ---------------------------------------------------------------------------------------------
// Parse-only vectors: real clients write these non-canonical forms; we decode them and would
// write `canonical` instead.
// ---------------------------------------------------------------------------------------------

const iptuxFileOffer: ParseOnlyVector = {
  name: "iptux's file offer (empty text, entries joined by \\a:, trailing NUL)",
  source: 'PROTOCOL.md §15, §5.1',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '11:', // packet number
    'root:', // user
    'iptux-host:', // host
    '2097184:', // SENDMSG|FILEATTACHOPT = 0x200020; no SENDCHECKOPT
    '', // empty text
    '\0', // end of text
    '10000:hello.txt:1d:6b02c30c:1:', // private file ids start at 10000; 29 bytes, regular
    '\x07:', // iptux's separator: \a then an extra ':'
    '10001:docs:22:6b02c30c:2:', // directory, 34 bytes
    '\x07', // last separator
    '\0', // trailing NUL (CreateIpmsgExtra)
  ),
  canonical: bytes('1_iptux 0.8.3:11:root:iptux-host:2097184:\0', '10000:hello.txt:1d:6b02c30c:1:\x07', '10001:docs:22:6b02c30c:2:\x07'),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(11),
    user: 'root',
    host: 'iptux-host',
    command: 0x200020,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: '',
    attachments: [
      { fileId: 10000, name: 'hello.txt', size: 0x1d, mtime: 0x6b02c30c, attr: 1 },
      { fileId: 10001, name: 'docs', size: 0x22, mtime: 0x6b02c30c, attr: 2 },
    ],
  },
};

const retryWithFile: ParseOnlyVector = {
  name: 'a late retry padded with 64 NULs (SENDMSG with attachment)',
  source: 'PROTOCOL.md §4.1 (UDP_CHECKSUM_FIXBUF), §14',
  fallbackCharset: 'gb18030',
  bytes: bytes(sendMsgWithFile.bytes, repeat(0x00, 64)), // the §14 SENDMSG + 64 zero bytes
  canonical: sendMsgWithFile.bytes,
  packet: sendMsgWithFile.packet,
};

const retryPlain: ParseOnlyVector = {
  name: 'a late retry padded with 64 NULs (plain message)',
  source: 'PROTOCOL.md §4.1 (to a plain host: 0x120)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000007:', // packet number
    'alice:', // user
    'PC1:', // host
    '288:', // SENDMSG|SENDCHECKOPT
    'hello', // text
    '\0', // end of text
    repeat(0x00, 64), // checksum padding
  ),
  canonical: bytes('1:1700000007:alice:PC1:288:hello\0'),
  packet: {
    version: '1',
    packetNo: pn(1700000007),
    user: 'alice',
    host: 'PC1',
    command: 0x120,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: 'hello',
  },
};

const brExitNoColon: ParseOnlyVector = {
  name: 'BR_EXIT without the trailing colon and without NUL',
  source: 'PROTOCOL.md §2.2 (five fields suffice), §13 item 3',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000200:', // packet number
    'bob:', // user
    'PC2:', // host
    '2', // BR_EXIT; the datagram ends here
  ),
  canonical: bytes('1:1700000200:bob:PC2:2:\0\0'),
  packet: {
    version: '1',
    packetNo: pn(1700000200),
    user: 'bob',
    host: 'PC2',
    command: 0x02,
    charset: 'utf-8',
    kind: 'BR_EXIT',
    entry: { nick: '', group: '' },
  },
};

const getInfoNoColon: ParseOnlyVector = {
  name: 'GETINFO without the trailing colon',
  source: 'PROTOCOL.md §2.2',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000201:', // packet number
    'bob:', // user
    'PC2:', // host
    '64', // GETINFO (0x40); no colon, no NUL
  ),
  canonical: bytes('1:1700000201:bob:PC2:64:\0'),
  packet: {
    version: '1',
    packetNo: pn(1700000201),
    user: 'bob',
    host: 'PC2',
    command: 0x40,
    charset: 'utf-8',
    kind: 'GETINFO',
  },
};

const goIpmsgNoNul: ParseOnlyVector = {
  name: 'go-ipmsg SENDMSG without the terminating NUL',
  source: 'PROTOCOL.md §2.1 (ClientData.String(): %d:%d:%s:%s:%d:%s)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000202:', // packet number
    'gouser:', // user
    'gohost:', // host
    '32:', // SENDMSG, no options
    'hello', // text; no NUL
  ),
  canonical: bytes('1:1700000202:gouser:gohost:32:hello\0'),
  packet: {
    version: '1',
    packetNo: pn(1700000202),
    user: 'gouser',
    host: 'gohost',
    command: 0x20,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: 'hello',
  },
};

const ipmsgRsAnsEntry: ParseOnlyVector = {
  name: 'ipmsg-rs ANSENTRY with an empty body and no NUL',
  source: 'PROTOCOL.md §2.1, §2.4',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000203:', // packet number
    'rsuser:', // user
    'rshost:', // host
    '3:', // ANSENTRY; empty body, datagram ends
  ),
  canonical: bytes('1:1700000203:rsuser:rshost:3:\0\0'),
  packet: {
    version: '1',
    packetNo: pn(1700000203),
    user: 'rsuser',
    host: 'rshost',
    command: 0x03,
    charset: 'utf-8',
    kind: 'ANSENTRY',
    entry: { nick: '', group: '' },
  },
};

const ipmsgRsBrEntry: ParseOnlyVector = {
  name: 'ipmsg-rs BR_ENTRY `hostname\\0\\nhostname` (a \\n section without known keys)',
  source: 'PROTOCOL.md §2.4',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000204:', // packet number
    'rsuser:', // user
    'rshost:', // host
    '1025:', // BR_ENTRY|BROADCASTOPT = 0x401
    'rshost', // nickname = host name
    '\0', // end of body
    '\nrshost', // looks like an extension section, but has no KEY: lines
  ),
  canonical: bytes('1:1700000204:rsuser:rshost:1025:rshost\0\0'),
  packet: {
    version: '1',
    packetNo: pn(1700000204),
    user: 'rsuser',
    host: 'rshost',
    command: 0x401,
    charset: 'utf-8',
    kind: 'BR_ENTRY',
    entry: { nick: 'rshost', group: '' },
  },
};

const iptuxBrExit: ParseOnlyVector = {
  name: "iptux's BR_EXIT|DIALUPOPT with an empty body",
  source: 'PROTOCOL.md §3.3, §15',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1_iptux 0.8.3:', // version
    '12:', // packet number
    'root:', // user
    'iptux-host:', // host
    '65538:', // BR_EXIT|DIALUPOPT = 0x10002
    '\0', // empty body, one NUL
  ),
  canonical: bytes('1_iptux 0.8.3:12:root:iptux-host:65538:\0\0'),
  packet: {
    version: '1_iptux 0.8.3',
    packetNo: pn(12),
    user: 'root',
    host: 'iptux-host',
    command: 0x10002,
    charset: 'utf-8',
    kind: 'BR_EXIT',
    entry: { nick: '', group: '' },
  },
};

const specExtensionForm: ParseOnlyVector = {
  name: 'extension lines in the spec text form (newline after each line)',
  source: 'PROTOCOL.md §2.4 (spec-en/spec-ja `\\0\\nUN:…\\n HN:…\\n`)',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '1700000205:', // packet number
    'alice:', // user
    'PC1:', // host
    '16777217:', // BR_ENTRY|CAPUTF8OPT = 0x01000001
    'Alice', // nickname
    '\0', // end of body
    '', // no group
    '\0', // end of group
    '\nUN:alice\n', // user line, newline after it
    'HN:PC1\n', // host line
  ),
  canonical: bytes('1:1700000205:alice:PC1:16777217:Alice\0\0\nUN:alice\nHN:PC1'),
  packet: {
    version: '1',
    packetNo: pn(1700000205),
    user: 'alice',
    host: 'PC1',
    command: 0x01000001,
    charset: 'utf-8',
    kind: 'BR_ENTRY',
    entry: { nick: 'Alice', group: '', ext: { UN: 'alice', HN: 'PC1' } },
  },
};

const libipmsgAnsPubKey: ParseOnlyVector = {
  name: "libipmsg's ANSPUBKEY (lower-case capa, upper-case modulus)",
  source: 'PROTOCOL.md §6.2',
  fallbackCharset: 'gb18030',
  bytes: bytes(
    '1:', // version
    '77:', // packet number
    'carol:', // user
    'linux:', // host
    '115:', // ANSPUBKEY (0x73)
    'fa0006:', // capa as %lx
    '10001-', // exponent (BN_bn2hex)
    MODULUS_HEX.toUpperCase(), // modulus (BN_bn2hex, upper case)
    '\0', // end of body
  ),
  canonical: bytes('1:77:carol:linux:115:FA0006:10001-', MODULUS_HEX, '\0'),
  packet: {
    version: '1',
    packetNo: pn(77),
    user: 'carol',
    host: 'linux',
    command: 0x73,
    charset: 'utf-8',
    kind: 'ANSPUBKEY',
    key: { capa: 0xfa0006, exponent: 0x10001, modulus: hex(MODULUS_HEX) },
  },
};

export const PARSE_ONLY_VECTORS: readonly ParseOnlyVector[] = [
  iptuxFileOffer,
  retryWithFile,
  retryPlain,
  brExitNoColon,
  getInfoNoColon,
  goIpmsgNoNul,
  ipmsgRsAnsEntry,
  ipmsgRsBrEntry,
  iptuxBrExit,
  specExtensionForm,
  libipmsgAnsPubKey,
];

/** Every vector's bytes: seeds for the random mutation test. */
export const ALL_VECTOR_BYTES: readonly Uint8Array[] = [...TWO_WAY_VECTORS, ...PARSE_ONLY_VECTORS].map((v) => v.bytes);
