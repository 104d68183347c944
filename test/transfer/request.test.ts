// test/transfer/request.test.ts
// The GETFILEDATA / GETDIRFILES request body (§5.2–5.4): our encoders, and the parser a file server
// uses on what real clients send.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpmsgError } from '../../src/errors.js';
import { COMMANDS, IPMSG_FILEATTACHOPT, getMode } from '../../src/protocol/command.js';
import { decodePacket } from '../../src/protocol/packet.js';
import {
  type FileRequest,
  encodeDirFilesRequest,
  encodeEncryptedRequest,
  encodeFileDataRequest,
  parseEncryptedRequest,
  parseFileRequest,
} from '../../src/transfer/request.js';
import { bytes } from '../helpers/bytes.js';

/** encode(…) = body and parseFileRequest(body) = request. */
function testBothWays(name: string, encode: () => string, body: string, request: FileRequest): void {
  describe(name, () => {
    test('encode', () => assert.equal(encode(), body));
    test('parse', () => assert.deepStrictEqual(parseFileRequest(body), request));
  });
}

describe('two-way vectors', () => {
  testBothWays(
    'GETFILEDATA for the §14 offer (packet 1700000005 = 0x6553f105, file 0)',
    () => encodeFileDataRequest(1700000005, 0, 0),
    '6553f105:0:0:',
    { packetNo: 0x6553f105, fileIds: [0], offset: 0 },
  );
  testBothWays(
    "the official's random decimal id re-printed in hex",
    () => encodeFileDataRequest(0x6553f105, 583920174, 0),
    '6553f105:22cdea2e:0:',
    { packetNo: 0x6553f105, fileIds: [583920174], offset: 0 },
  );
  testBothWays(
    'a real offset (resume), lower-case hex',
    () => encodeFileDataRequest(0xabcdef, 0xf, 0x1a2b3c4d5e),
    'abcdef:f:1a2b3c4d5e:',
    { packetNo: 0xabcdef, fileIds: [0xf], offset: 0x1a2b3c4d5e },
  );
  testBothWays(
    'the largest safe numbers',
    () => encodeFileDataRequest(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    '1fffffffffffff:1fffffffffffff:1fffffffffffff:',
    { packetNo: Number.MAX_SAFE_INTEGER, fileIds: [Number.MAX_SAFE_INTEGER], offset: Number.MAX_SAFE_INTEGER },
  );
  testBothWays(
    'GETDIRFILES (official `%x:%x:`)',
    () => encodeDirFilesRequest(0x6553f105, 1),
    '6553f105:1:',
    { packetNo: 0x6553f105, fileIds: [1], offset: 0 },
  );
  testBothWays(
    'GETDIRFILES, an id whose hex digits read as decimal too (both candidates)',
    () => encodeDirFilesRequest(0x38d42926, 0x2710),
    '38d42926:2710:',
    { packetNo: 0x38d42926, fileIds: [0x2710, 2710], offset: 0 },
  );
});

describe('what real clients send', () => {
  const cases: [string, string, FileRequest][] = [
    ['official GETFILEDATA `%x:%x:0:`', '6553f105:22cdea2e:0:', { packetNo: 0x6553f105, fileIds: [0x22cdea2e], offset: 0 }],
    ['iptux GETFILEDATA `%x:%x:%llx` (no trailing colon, §15)', '38d427f0:1:0', { packetNo: 0x38d427f0, fileIds: [1], offset: 0 }],
    ['iptux GETDIRFILES `%x:%x:0` (§15)', '38d42926:2:0', { packetNo: 0x38d42926, fileIds: [2], offset: 0 }],
    ['our own request as iptux logged it (§15 `…:96:d:1:0:`)', 'd:1:0:', { packetNo: 0xd, fileIds: [1], offset: 0 }],
    ['IpMsg.Net GETDIRFILES `{0:x}:{1:x}:0:`', '65f1c2a0:a:0:', { packetNo: 0x65f1c2a0, fileIds: [0xa], offset: 0 }],
    ['IpMsg.Net GETFILEDATA `{0:x}:{1:x}:{2}` (decimal offset 0)', '65f1c2a0:a:0', { packetNo: 0x65f1c2a0, fileIds: [0xa], offset: 0 }],
    ['ipmsg-rs `%x:%x:0:`', '1:2:0:', { packetNo: 1, fileIds: [2], offset: 0 }],
    ['a decimal id printed as is (iptux ids ≥ 10000): hex first, then decimal', '38d427f0:10000:0', { packetNo: 0x38d427f0, fileIds: [0x10000, 10000], offset: 0 }],
    ['single-digit ids read the same both ways: one candidate', '1:9:0:', { packetNo: 1, fileIds: [9], offset: 0 }],
    ['an id with hex letters has no decimal reading', '1:1a:0:', { packetNo: 1, fileIds: [0x1a], offset: 0 }],
    ['upper-case hex', 'ABCDEF:1A:FF:', { packetNo: 0xabcdef, fileIds: [0x1a], offset: 0xff }],
    ['leading zeros', '00000001:0010:000:', { packetNo: 1, fileIds: [0x10, 10], offset: 0 }],
    ['no offset at all', '1:2', { packetNo: 1, fileIds: [2], offset: 0 }],
    ['no offset, trailing colon', '1:2:', { packetNo: 1, fileIds: [2], offset: 0 }],
    ['several trailing colons', '1:2:3:::', { packetNo: 1, fileIds: [2], offset: 3 }],
    [
      'an encrypted request’s extension fields (§5.6) are accepted and ignored',
      `1:2:0:900000:${'ab'.repeat(32)}:3f`,
      { packetNo: 1, fileIds: [2], offset: 0 },
    ],
    ['eight fields', '1:2:0:4:5:6:7:8', { packetNo: 1, fileIds: [2], offset: 0 }],
  ];
  for (const [name, body, request] of cases) {
    test(name, () => assert.deepStrictEqual(parseFileRequest(body), request));
  }
});

describe('refused (undefined)', () => {
  const cases: [string, string][] = [
    ['empty', ''],
    ['only colons', ':::'],
    ['one field', '6553f105'],
    ['one field and a colon', '6553f105:'],
    ['empty packet number', ':1:0:'],
    ['empty file id', '1::0:'],
    ['empty offset between fields', '1:2::4:'],
    ['packet number not hex', 'xyz:1:0:'],
    ['file id not hex', '1:g:0:'],
    ['offset not hex', '1:2:zz:'],
    ['a 0x prefix', '0x1:2:0:'],
    ['negative packet number', '-1:2:0:'],
    ['negative file id', '1:-2:0:'],
    ['negative offset', '1:2:-1:'],
    ['a sign', '1:+2:0:'],
    ['spaces', ' 1:2:0:'],
    ['space inside', '1:2 :0:'],
    ['packet number of 2^53', '20000000000000:1:0:'],
    ['file id of 2^53', '1:20000000000000:0:'],
    ['offset of 2^53', '1:2:20000000000000:'],
    ['seventeen digits', '1:2:00000000000000001:'],
    ['decimal point', '1:2.5:0:'],
    ['extension field not hex', '1:2:0:900000:key:'],
    ['nine fields', '1:2:0:4:5:6:7:8:9'],
    ['a body over 256 characters (otherwise valid)', `1:2:0:${['a'.repeat(62), 'b'.repeat(62), 'c'.repeat(62), 'd'.repeat(62)].join(':')}`],
    ['an extension field over 64 digits', `1:2:0:${'0'.repeat(65)}`],
    ['a NUL', '1:2\0:0:'],
    ['a newline', '1:2:0\n'],
    ['non-ASCII digits', '1:２:0:'],
  ];
  for (const [name, body] of cases) {
    test(name, () => assert.equal(parseFileRequest(body), undefined));
  }
  test('256 characters are still accepted', () => {
    const body = `1:2:0:${['a'.repeat(62), 'b'.repeat(62), 'c'.repeat(62), 'd'.repeat(61)].join(':')}`;
    assert.equal(body.length, 256);
    assert.deepStrictEqual(parseFileRequest(body), { packetNo: 1, fileIds: [2], offset: 0 });
  });
});

describe('encoders refuse numbers that are not non-negative safe integers', () => {
  const bad = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53];
  for (const value of bad) {
    test(String(value), () => {
      const calls: (() => string)[] = [
        () => encodeFileDataRequest(value, 0, 0),
        () => encodeFileDataRequest(0, value, 0),
        () => encodeFileDataRequest(0, 0, value),
        () => encodeDirFilesRequest(value, 0),
        () => encodeDirFilesRequest(0, value),
      ];
      for (const call of calls) {
        assert.throws(call, (error: unknown) => {
          assert.ok(error instanceof IpmsgError);
          assert.equal(error.code, 'IPMSG_ERR_INTERNAL');
          assert.match(error.message, /^Invalid file request: .*not a non-negative safe integer/);
          return true;
        });
      }
    });
  }
});

describe('the whole request packet (decodePacket does the header, parseFileRequest the body)', () => {
  const decode = (data: Uint8Array) => decodePacket(data, { fallbackCharset: 'gb18030' });
  const body = (packet: ReturnType<typeof decode>): string => {
    assert.ok(packet.kind === 'GETFILEDATA' || packet.kind === 'GETDIRFILES', packet.kind);
    return packet.body;
  };
  test('iptux GETFILEDATA (§15)', () => {
    const packet = decode(bytes('1_iptux 0.8.3:8:root:iptux-host:96:38d427f0:1:0\0'));
    assert.equal(getMode(packet.command), COMMANDS.IPMSG_GETFILEDATA);
    assert.deepStrictEqual(parseFileRequest(body(packet)), { packetNo: 0x38d427f0, fileIds: [1], offset: 0 });
  });
  test('iptux GETDIRFILES|FILEATTACHOPT (§15)', () => {
    const packet = decode(bytes('1_iptux 0.8.3:9:root:iptux-host:2097250:38d42926:2:0\0'));
    assert.equal(getMode(packet.command), COMMANDS.IPMSG_GETDIRFILES);
    assert.equal(packet.command & IPMSG_FILEATTACHOPT, IPMSG_FILEATTACHOPT);
    assert.deepStrictEqual(parseFileRequest(body(packet)), { packetNo: 0x38d42926, fileIds: [2], offset: 0 });
  });
  test('the §14 example request, and ours encodes the same body', () => {
    const packet = decode(bytes('1:1700000102:bob:PC2:8388704:6553f105:0:0:\0'));
    assert.equal(getMode(packet.command), COMMANDS.IPMSG_GETFILEDATA);
    assert.equal(body(packet), encodeFileDataRequest(1700000005, 0, 0));
  });
});

test('encode → parse round trip over generated numbers', () => {
  let seed = 2024;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  for (let i = 0; i < 1000; i++) {
    const packetNo = next();
    const fileId = next() % 100_000;
    const offset = next() * 2 ** 20 + next();
    const file = parseFileRequest(encodeFileDataRequest(packetNo, fileId, offset));
    assert.ok(file);
    assert.equal(file.packetNo, packetNo);
    assert.equal(file.fileIds[0], fileId);
    assert.equal(file.offset, offset);
    const dir = parseFileRequest(encodeDirFilesRequest(packetNo, fileId));
    assert.ok(dir);
    assert.deepStrictEqual([dir.packetNo, dir.fileIds[0], dir.offset], [packetNo, fileId, 0]);
  }
});

describe('encrypted request plaintext (§5.6)', () => {
  const KEY = Uint8Array.from(Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex'));
  const aes = { kind: 'aes-256-ctr', key: KEY, packetNo: 0x6553f10a } as const;
  const vectors: [string, 'file' | 'dir', string, ReturnType<typeof parseEncryptedRequest>][] = [
    // The official StartRecvFile: GETDIRFILES `%x:%x:` then `%x:<key>:%x` (no trailing colon).
    ['GETDIRFILES, AES key', 'dir', `6553f105:1:900000:${Buffer.from(KEY).toString('hex')}:6553f10a`, { packetNo: 0x6553f105, fileIds: [1], offset: 0, body: aes }],
    // GETFILEDATA keeps its offset before the fields (ours, for resume; the official's inline images with 0).
    ['GETFILEDATA with an offset, AES key', 'file', `6553f105:0:186a0:900000:${Buffer.from(KEY).toString('hex')}:6553f10a`, { packetNo: 0x6553f105, fileIds: [0], offset: 100_000, body: aes }],
    ['GETFILEDATA, clear body (NOENC_FILEBODY)', 'file', '6553f105:0:0:4000000:6553f10a', { packetNo: 0x6553f105, fileIds: [0], offset: 0, body: { kind: 'clear', packetNo: 0x6553f10a } }],
  ];
  for (const [name, kind, plaintext, request] of vectors) {
    test(`${name}: encode and parse`, () => {
      assert.ok(request?.body);
      assert.equal(encodeEncryptedRequest(kind, request.packetNo, request.fileIds[0] ?? -1, request.offset, request.body), plaintext);
      assert.deepStrictEqual(parseEncryptedRequest(plaintext, kind, true), request);
    });
  }

  test('without ENCFILEOPT the plaintext is the plain body (a clear stream)', () => {
    assert.equal(encodeEncryptedRequest('dir', 0x6553f105, 1, 0, undefined), '6553f105:1:');
    assert.deepStrictEqual(parseEncryptedRequest('6553f105:1:', 'dir', false), { packetNo: 0x6553f105, fileIds: [1], offset: 0, body: undefined });
    assert.deepStrictEqual(parseEncryptedRequest('6553f105:1:0:', 'file', false), { packetNo: 0x6553f105, fileIds: [1], offset: 0, body: undefined });
  });

  for (const [plaintext, kind, encFile] of [
    ['6553f105:1:', 'dir', true], // ENCFILEOPT without its fields
    ['6553f105:1:900000:00:1', 'dir', true], // a short key
    ['6553f105:1:4000000:6553f10a', 'dir', false], // fields without ENCFILEOPT
    ['6553f105:1:4000000:6553f10a', 'file', true], // GETFILEDATA: 4000000 is read as the offset, then no fields
    ['6553f105:xyz:0:4000000:1', 'file', true],
    ['6553f105', 'file', true],
    [`6553f105:1:0:4000000:${'1'.repeat(300)}`, 'file', true],
  ] as const) {
    test(`refused: ${JSON.stringify(plaintext.slice(0, 40))} (${kind}, ENCFILEOPT ${encFile})`, () => {
      assert.equal(parseEncryptedRequest(plaintext, kind, encFile), undefined);
    });
  }
});
