// test/protocol/packet.test.ts
// decodePacket / encodePacket against the annotated vectors (mqtt-packet style: parse, generate,
// mirror), parse-only vectors, error vectors and encoder refusals.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Charset } from '../../src/encoding/charset.js';
import { type ErrorCode, IpmsgError } from '../../src/errors.js';
import { DEFAULT_LIMITS, type DecodeLimits } from '../../src/protocol/limits.js';
import { type Packet, decodePacket, encodePacket, packetKind } from '../../src/protocol/packet.js';
import { asPacketNo } from '../../src/protocol/packet-no.js';
import { bytes, escapeBytes, hex, repeat } from '../helpers/bytes.js';
import { PARSE_ONLY_VECTORS, TWO_WAY_VECTORS } from '../vectors/packets.js';

function decode(data: Uint8Array, fallbackCharset: Charset = 'gb18030', limits?: DecodeLimits): Packet {
  return decodePacket(data, limits ? { fallbackCharset, limits } : { fallbackCharset });
}

/** parse: bytes → packet; generate: packet → bytes; mirror: packet → bytes → packet. */
function testParseGenerate(name: string, packet: Packet, data: Uint8Array, fallbackCharset: Charset = 'gb18030'): void {
  describe(name, () => {
    test('parse', () => {
      assert.deepStrictEqual(decode(data, fallbackCharset), packet);
    });
    test('generate', () => {
      assert.equal(escapeBytes(encodePacket(packet)), escapeBytes(data));
    });
    test('mirror', () => {
      assert.deepStrictEqual(decode(encodePacket(packet), fallbackCharset), packet);
    });
  });
}

/** Non-canonical input: parse it, and check what we would write instead decodes to the same packet. */
function testParse(name: string, packet: Packet, data: Uint8Array, canonical: Uint8Array, fallbackCharset: Charset): void {
  describe(name, () => {
    test('parse', () => {
      assert.deepStrictEqual(decode(data, fallbackCharset), packet);
    });
    test('canonical form', () => {
      assert.notEqual(escapeBytes(canonical), escapeBytes(data), 'a parse-only vector must differ from its canonical form');
      assert.equal(escapeBytes(encodePacket(packet)), escapeBytes(canonical));
      assert.deepStrictEqual(decode(canonical, fallbackCharset), packet);
    });
  });
}

function expectCode(code: ErrorCode, fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof IpmsgError, `expected an IpmsgError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** (expected code, bytes): decoding must fail with exactly that code. */
function testParseError(name: string, code: ErrorCode, data: Uint8Array, message?: RegExp, limits?: DecodeLimits): void {
  test(`${name} → ${code}`, () => {
    expectCode(code, () => decode(data, 'gb18030', limits), message);
  });
}

describe('two-way vectors', () => {
  for (const v of TWO_WAY_VECTORS) testParseGenerate(`${v.name} [${v.source}]`, v.packet, v.bytes, v.fallbackCharset);
});

describe('parse-only vectors (non-canonical forms real clients write)', () => {
  for (const v of PARSE_ONLY_VECTORS) testParse(`${v.name} [${v.source}]`, v.packet, v.bytes, v.canonical, v.fallbackCharset);
});

describe('decoding details', () => {
  test('UTF8OPT wins: bytes that are not UTF-8 still decode as UTF-8 (replacement characters)', () => {
    const p = decode(bytes('1:1:a:b:8388896:', [0xc4, 0xe3, 0xba, 0xc3], '\0'), 'gbk'); // GBK 你好 flagged UTF-8
    assert.equal(p.charset, 'utf-8');
    assert.equal(p.kind, 'SENDMSG');
    assert.ok(p.kind === 'SENDMSG' && p.text.includes('\uFFFD'));
  });

  test('the same GBK bytes without UTF8OPT decode with the fallback code page', () => {
    const p = decode(bytes('1:1:a:b:288:', [0xc4, 0xe3, 0xba, 0xc3], '\0'), 'gbk');
    assert.equal(p.charset, 'gbk');
    assert.ok(p.kind === 'SENDMSG');
    assert.equal(p.text, '你好');
  });

  test('a legacy user name in the header decides the charset of the whole packet', () => {
    // CP932 user 山田, ASCII text: the text is decoded as CP932 as well (ASCII either way).
    const p = decode(bytes('1:1:', hex('8e 52 93 63'), ':PC:32:hi\0'), 'cp932');
    assert.equal(p.user, '山田');
    assert.equal(p.charset, 'cp932');
  });

  test('extension lines are UTF-8 even when the legacy fields are not', () => {
    const p = decode(bytes('1:1:u:h:16777217:', hex('8e 52 93 63'), '\0\0\nNN:山田'), 'cp932');
    assert.ok(p.kind === 'BR_ENTRY');
    assert.equal(p.charset, 'cp932');
    assert.deepStrictEqual(p.entry, { nick: '山田', group: '', ext: { NN: '山田' } });
  });

  test('the body keeps its colons (only the first five are separators)', () => {
    const p = decode(bytes('1:1:a:b:32:x:y::z:\0'));
    assert.ok(p.kind === 'SENDMSG');
    assert.equal(p.text, 'x:y::z:');
  });

  test('a leading zero in the packet number and the version', () => {
    const p = decode(bytes('01:0042:a:b:32:hi\0'));
    assert.equal(p.version, '01');
    assert.equal(p.packetNo, 42);
    assert.equal(p.packetNoText, '0042', 'the token as sent (the IV of an encrypted message)');
    assert.equal(decode(bytes('1:42:a:b:32:hi\0')).packetNoText, undefined, 'only when it differs from the number');
  });

  test('the largest packet number and command still decode', () => {
    const p = decode(bytes('1:9007199254740991:a:b:4294967295:\0'));
    assert.equal(p.packetNo, Number.MAX_SAFE_INTEGER);
    assert.equal(p.command, 0xffffffff);
    assert.equal(p.kind, 'OTHER'); // mode 0xff = IPTUX_ASKSHARED
  });

  test('an acknowledgement whose body is not a packet number has ref undefined', () => {
    const p = decode(bytes('1:5:a:b:33:not-a-number\0'));
    assert.deepStrictEqual(p, {
      version: '1',
      packetNo: asPacketNo(5),
      user: 'a',
      host: 'b',
      command: 0x21,
      charset: 'utf-8',
      kind: 'RECVMSG',
      ref: undefined,
    });
  });

  test('SENDMSG without FILEATTACHOPT ignores a second section', () => {
    const p = decode(bytes('1:5:a:b:288:text\0', '0:x:1:0:1:\x07'));
    assert.ok(p.kind === 'SENDMSG');
    assert.equal(p.attachments, undefined);
  });

  test('OTHER keeps extra NUL sections as bytes; trailing NULs are not sections', () => {
    const p = decode(bytes('1:5:a:b:20:6553f105\0', 'second\0', '\0', 'fourth', repeat(0, 10))); // ANSLIST_DICT
    assert.ok(p.kind === 'OTHER');
    assert.deepStrictEqual(p.sections, [bytes('second'), new Uint8Array(0), bytes('fourth')]);
  });

  test('GETPUBKEY whose body is not hex has no capa, and is written with an empty body', () => {
    const p = decode(bytes('1:5:a:b:114:zz\0'));
    assert.ok(p.kind === 'GETPUBKEY');
    assert.equal(p.capa, undefined);
    assert.equal(escapeBytes(encodePacket(p)), escapeBytes(bytes('1:5:a:b:114:\0')));
  });

  test('a file request body keeps every byte, one character each', () => {
    const data = bytes('1:5:a:b:96:', [0x41, 0x80, 0xff, 0x3a], '\0');
    const p = decode(data);
    assert.ok(p.kind === 'GETFILEDATA');
    assert.equal(p.body, 'A\u0080\u00ff:');
    assert.equal(escapeBytes(encodePacket(p)), escapeBytes(data));
  });

  test('a version field longer than 64 bytes is cut to 64', () => {
    const p = decode(bytes('1', 'x'.repeat(100), ':5:a:b:32:\0'));
    assert.equal(p.version, '1' + 'x'.repeat(63));
  });

  test('a version field with bytes above 0x7f is kept byte for byte (latin1)', () => {
    // 0x80..0x9f are where windows-1252 (TextDecoder's "latin1") differs from ISO-8859-1.
    const data = bytes('1_', [0x80, 0x9f, 0xa0, 0xff], ':5:a:b:32:hi\0');
    const p = decode(data);
    assert.equal(p.version, '1_\u0080\u009f\u00a0\u00ff');
    assert.equal(escapeBytes(encodePacket(p)), escapeBytes(data));
  });

  test('a name of exactly the limit is accepted', () => {
    const name = 'n'.repeat(DEFAULT_LIMITS.maxNameBytes);
    const p = decode(bytes(`1:5:${name}:${name}:1:${name}\0${name}\0`));
    assert.equal(p.user.length, DEFAULT_LIMITS.maxNameBytes);
  });

  test('a datagram of exactly maxDatagram bytes is accepted', () => {
    const head = bytes('1:5:a:b:32:');
    const data = bytes(head, repeat(0x61, DEFAULT_LIMITS.maxDatagram - head.length));
    assert.equal(decode(data).kind, 'SENDMSG');
  });

  test('exactly maxSections sections are accepted', () => {
    const sections = Array.from({ length: DEFAULT_LIMITS.maxSections }, (_, i) => `s${i}\0`);
    assert.equal(decode(bytes('1:5:a:b:20:body\0', ...sections)).kind, 'OTHER');
  });

  // Each of the next three once decoded to a Packet that encodePacket could not reproduce.
  test('FILEATTACHOPT with no usable list entry: no attachments property', () => {
    const data = bytes('1:5:alice:PC1:2097440:hi\0', 'garbage\x07:\x07'); // SENDMSG|SENDCHECKOPT|FILEATTACHOPT
    const p = decode(data);
    assert.ok(p.kind === 'SENDMSG');
    assert.equal('attachments' in p, false);
    assert.deepStrictEqual(decode(encodePacket(p)), p);
  });

  test("a '\\n' section without a known line is no extension", () => {
    const p = decode(bytes('1:5:u:h:1:nick\0grp\0\nPL:1\nfoo'));
    assert.ok(p.kind === 'BR_ENTRY');
    assert.deepStrictEqual(p.entry, { nick: 'nick', group: 'grp' });
    assert.deepStrictEqual(decode(encodePacket(p)), p);
  });

  test('iptux fields need a non-empty encoding (an empty last field does not survive re-encoding)', () => {
    const empty = decode(bytes('1:5:u:h:3:nick\0grp\0icon.png\0\0stray\0'));
    assert.ok(empty.kind === 'ANSENTRY');
    assert.deepStrictEqual(empty.entry, { nick: 'nick', group: 'grp' });
    assert.deepStrictEqual(decode(encodePacket(empty)), empty);
    const noIcon = decode(bytes('1:5:u:h:3:nick\0grp\0\0utf-8\0'));
    assert.ok(noIcon.kind === 'ANSENTRY');
    assert.deepStrictEqual(noIcon.entry, { nick: 'nick', group: 'grp', iptux: { icon: '', encoding: 'utf-8' } });
    assert.equal(escapeBytes(encodePacket(noIcon)), '1:5:u:h:3:nick\\0grp\\0\\0utf-8\\0');
  });

  test('a name starting with U+FEFF keeps it (no BOM stripping per field)', () => {
    const data = bytes('1:5:', hex('ef bb bf'), 'bob:PC2:33:5\0');
    const p = decode(data);
    assert.equal(p.user, '\uFEFFbob');
    assert.equal(escapeBytes(encodePacket(p)), escapeBytes(data));
  });

  test('packetKind maps modes and ignores option bits', () => {
    assert.equal(packetKind(0x20), 'SENDMSG');
    assert.equal(packetKind(0x80200020), 'SENDMSG');
    assert.equal(packetKind(0x0f640001), 'BR_ENTRY');
    assert.equal(packetKind(0x73), 'ANSPUBKEY');
    assert.equal(packetKind(0x20000072), 'GETPUBKEY');
    assert.equal(packetKind(0x00800060), 'GETFILEDATA');
    assert.equal(packetKind(0x200062), 'GETDIRFILES');
    assert.equal(packetKind(0x13), 'ANSLIST');
    assert.equal(packetKind(0x14), 'OTHER'); // ANSLIST_DICT
  });
});

describe('error vectors', () => {
  testParseError('ANSPUBKEY with an even modulus', 'IPMSG_ERR_DECODE', bytes('1:5:a:b:115:21920006:10001-', 'c3', 'a5'.repeat(62), '0a\0'), /Invalid ANSPUBKEY: modulus is even/);
  testParseError('ANSPUBKEY without a key', 'IPMSG_ERR_DECODE', bytes('1:5:a:b:115:21920006\0'), /Invalid ANSPUBKEY/);
  testParseError('empty datagram', 'IPMSG_ERR_DECODE', new Uint8Array(0));
  testParseError('not IPMsg text: an HTTP request', 'IPMSG_ERR_DECODE', bytes('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /header fields/);
  testParseError('not IPMsg text: a TLS ClientHello', 'IPMSG_ERR_DECODE', hex('16 03 01 00 a5 01 00 00 a1 03 03'));
  testParseError('not IPMsg text: five fields but a word as version', 'IPMSG_ERR_DECODE', bytes('hello:1:a:b:32:\0'), /version/);
  testParseError(
    'IP2: binary IPDict',
    'IPMSG_ERR_DECODE',
    bytes('IP2:', '2b:', 'VER:1:3:', 'PKT:8:65f1c2a0:', 'UID:5:alice:', 'CMD:2:20:', ':Z'),
    /IPDict/,
  );
  testParseError('version 2', 'IPMSG_ERR_DECODE', bytes('2:1700000000:alice:PC1:32:hi\0'), /version/);
  testParseError('version 10', 'IPMSG_ERR_DECODE', bytes('10:1700000000:alice:PC1:32:hi\0'), /version/);
  testParseError('version 0', 'IPMSG_ERR_DECODE', bytes('0:1700000000:alice:PC1:32:hi\0'), /version/);
  testParseError('non-numeric packet number', 'IPMSG_ERR_DECODE', bytes('1:abc:alice:PC1:32:hi\0'), /packet number/);
  testParseError('negative packet number', 'IPMSG_ERR_DECODE', bytes('1:-1:alice:PC1:32:hi\0'), /packet number/);
  testParseError('hex packet number', 'IPMSG_ERR_DECODE', bytes('1:0x10:alice:PC1:32:hi\0'), /packet number/);
  testParseError('empty packet number', 'IPMSG_ERR_DECODE', bytes('1::alice:PC1:32:hi\0'), /packet number/);
  testParseError('packet number with a space', 'IPMSG_ERR_DECODE', bytes('1: 5:alice:PC1:32:hi\0'), /packet number/);
  testParseError('packet number 2^64', 'IPMSG_ERR_DECODE', bytes('1:18446744073709551616:alice:PC1:32:hi\0'), /packet number/);
  testParseError('packet number 2^53', 'IPMSG_ERR_DECODE', bytes('1:9007199254740992:alice:PC1:32:hi\0'), /packet number/);
  testParseError('command 2^32', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1:4294967296:hi\0'), /command/);
  testParseError('command of eleven digits', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1:00000000032:hi\0'), /command/);
  testParseError('negative command', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1:-32:hi\0'), /command/);
  testParseError('hex command', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1:0x20:hi\0'), /command/);
  testParseError('empty command', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1::hi\0'), /command/);
  testParseError('four fields', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1\0'), /4 header fields/);
  testParseError('four fields, colon after NUL', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1\0:32:'), /4 header fields/);
  testParseError('one field', 'IPMSG_ERR_DECODE', bytes('1'), /1 header fields/);
  const long = 'u'.repeat(DEFAULT_LIMITS.maxNameBytes + 1);
  testParseError('user name over the limit', 'IPMSG_ERR_DECODE', bytes(`1:5:${long}:PC1:32:hi\0`), /name longer/);
  testParseError('host name over the limit', 'IPMSG_ERR_DECODE', bytes(`1:5:alice:${long}:32:hi\0`), /name longer/);
  testParseError('nickname over the limit', 'IPMSG_ERR_DECODE', bytes(`1:5:alice:PC1:1:${long}\0grp\0`), /name longer/);
  testParseError('group name over the limit', 'IPMSG_ERR_DECODE', bytes(`1:5:alice:PC1:1:nick\0${long}\0`), /name longer/);
  testParseError(
    'name over a custom limit',
    'IPMSG_ERR_DECODE',
    bytes('1:5:alice:PC1:32:hi\0'),
    /longer than 4 bytes/,
    { ...DEFAULT_LIMITS, maxNameBytes: 4 },
  );
  testParseError(
    'datagram over the limit',
    'IPMSG_ERR_DECODE',
    bytes('1:5:alice:PC1:32:', repeat(0x61, DEFAULT_LIMITS.maxDatagram)),
    /exceeds 65535/,
  );
  testParseError('datagram over a custom limit', 'IPMSG_ERR_DECODE', bytes('1:5:alice:PC1:32:hello\0'), /exceeds 16/, {
    ...DEFAULT_LIMITS,
    maxDatagram: 16,
  });
  testParseError(
    'too many sections',
    'IPMSG_ERR_DECODE',
    bytes('1:5:alice:PC1:32:hi\0', ...Array.from({ length: DEFAULT_LIMITS.maxSections + 1 }, () => 's\0')),
    /more than 16 NUL-separated sections/,
  );
  testParseError(
    'too many sections, even when empty in the middle',
    'IPMSG_ERR_DECODE',
    bytes('1:5:alice:PC1:32:hi', repeat(0, DEFAULT_LIMITS.maxSections + 1), 'tail'),
    /sections/,
  );
});

describe('encoder refusals', () => {
  const base: Packet = {
    version: '1',
    packetNo: asPacketNo(1700000000),
    user: 'alice',
    host: 'PC1',
    command: 0x120,
    charset: 'utf-8',
    kind: 'SENDMSG',
    text: 'hello',
  };

  test('the base packet itself encodes (so the refusals below are about the changed field)', () => {
    assert.equal(escapeBytes(encodePacket(base)), '1:1700000000:alice:PC1:288:hello\\0');
  });
  test('empty user', () => expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, user: '' }), /user/));
  test('empty host', () => expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, host: '' }), /host/));
  test("':' in the user name", () => expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, user: 'a:b' }), /user/));
  test("':' in the host name", () => expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, host: 'PC:1' }), /host/));
  test('NUL in the user name', () => expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, user: 'a\0b' })));
  test('NUL in the message text', () => expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, text: 'a\0b' }), /NUL/));
  test('NUL in a file request body', () =>
    expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, command: 0x60, kind: 'GETFILEDATA', body: '1:0\0:0:' }), /NUL/));
  test('a character above U+00FF in a file request body', () =>
    expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, command: 0x60, kind: 'GETFILEDATA', body: '1:0:\u0100:' }), /bytes/));
  test('NUL in a nickname', () =>
    expectCode(
      'IPMSG_ERR_INPUT',
      () => encodePacket({ ...base, command: 1, kind: 'BR_ENTRY', entry: { nick: 'a\0b', group: '' } }),
      /NUL/,
    ));
  test('NUL in a group', () =>
    expectCode(
      'IPMSG_ERR_INPUT',
      () => encodePacket({ ...base, command: 1, kind: 'BR_ENTRY', entry: { nick: 'a', group: 'g\0' } }),
      /NUL/,
    ));
  test('NUL in an extension line', () =>
    expectCode(
      'IPMSG_ERR_INPUT',
      () => encodePacket({ ...base, command: 1, kind: 'BR_ENTRY', entry: { nick: 'a', group: '', ext: { NN: 'a\0b' } } }),
      /NUL/,
    ));
  test('NUL in an attachment name', () =>
    expectCode(
      'IPMSG_ERR_INPUT',
      () => encodePacket({ ...base, attachments: [{ fileId: 0, name: 'a\0b', size: 1, mtime: 0, attr: 1 }] }),
      /NUL/,
    ));
  test('NUL in SENDINFO text', () =>
    expectCode('IPMSG_ERR_INPUT', () => encodePacket({ ...base, command: 0x41, kind: 'SENDINFO', text: '\0' }), /NUL/));
  test('text the code page cannot hold', () =>
    expectCode('IPMSG_ERR_ENCODING', () => encodePacket({ ...base, charset: 'cp932', text: '飞鸽' }), /飞/));
  test('a user name the code page cannot hold', () =>
    expectCode('IPMSG_ERR_ENCODING', () => encodePacket({ ...base, charset: 'gbk', user: '😀' }), /U\+1F600/));
  test('lossy writes ? instead', () => {
    const out = encodePacket({ ...base, charset: 'cp932', text: '中文飞鸽' }, { lossy: true });
    assert.equal(escapeBytes(out), escapeBytes(bytes('1:1700000000:alice:PC1:288:', hex('92 86 95 b6'), '??\0')));
  });
  test('the command is written unsigned', () => {
    const out = encodePacket({ ...base, command: 0x80200020 | 0 }); // a negative int32 in JS
    assert.match(escapeBytes(out), /:2149580832:/);
  });
});
