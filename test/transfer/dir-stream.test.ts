// test/transfer/dir-stream.test.ts
// The GETDIRFILES stream (§5.3): header vectors both ways, the §14 and §15 shapes, one stream
// split at every offset, a table of malicious streams, limits, and random input.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeText } from '../../src/encoding/charset.js';
import { asciiText, concatBytes } from '../../src/encoding/fields.js';
import { type ErrorCode, IpmsgError } from '../../src/errors.js';
import {
  IPMSG_FILE_DIR,
  IPMSG_FILE_HIDDENOPT,
  IPMSG_FILE_REGULAR,
  IPMSG_FILE_RETPARENT,
  IPMSG_FILE_RONLYOPT,
  IPMSG_FILE_SYMLINK,
} from '../../src/protocol/file-attr.js';
import { type DirHeader, MAX_SENT_DIR_HEADER_BYTES, encodeDirHeader, writeDirHeader } from '../../src/transfer/dir-header.js';
import { DEFAULT_MAX_DIR_HEADER_BYTES, type DirStreamEvent, type DirStreamOptions, DirStreamParser } from '../../src/transfer/dir-stream-parser.js';
import { entryNameProblem } from '../../src/transfer/entry-name.js';
import { type BytesPart, bytes, escapeBytes, hex } from '../helpers/bytes.js';

const utf8 = new TextEncoder();
const decodeUtf8 = (b: Uint8Array): string => decodeText(b, 'utf-8');
const T = 0x65f1c2a0; // the §14 times

/** A header from our encoder (itself checked against literal bytes below). */
function header(name: string | Uint8Array, size: number, attr: number, times: { mtime?: number; ctime?: number } = {}): Uint8Array {
  return encodeDirHeader({ name: typeof name === 'string' ? utf8.encode(name) : name, size, attr, ...times });
}
const dir = (name: string, mtime?: number): Uint8Array => header(name, 0, IPMSG_FILE_DIR, mtime === undefined ? {} : { mtime });
const up = (mtime?: number): Uint8Array => header('.', 0, IPMSG_FILE_RETPARENT, mtime === undefined ? {} : { mtime });
function file(name: string, content: string | Uint8Array, mtime?: number): Uint8Array {
  const data = typeof content === 'string' ? utf8.encode(content) : content;
  return bytes(header(name, data.length, IPMSG_FILE_REGULAR, mtime === undefined ? {} : { mtime }), data);
}

/** A header written by hand: `body` is everything after `HHHH:`, HHHH computed (or given). */
function raw(body: string | Uint8Array, declared?: string): Uint8Array {
  const tail = typeof body === 'string' ? utf8.encode(body) : body;
  return bytes(declared ?? (5 + tail.length).toString(16).padStart(4, '0'), ':', tail);
}

/** Events with each file's data events joined into one (chunking must not change this). */
type Normalized = Exclude<DirStreamEvent, { type: 'data' }> | { type: 'data'; text: string };

function normalize(events: readonly DirStreamEvent[]): Normalized[] {
  const out: Normalized[] = [];
  let pending: Uint8Array[] = [];
  const flush = (): void => {
    if (pending.length > 0) out.push({ type: 'data', text: escapeBytes(concatBytes(pending)) });
    pending = [];
  };
  for (const event of events) {
    if (event.type === 'data') {
      assert.ok(event.bytes.length > 0, 'no empty data events');
      pending.push(event.bytes);
    } else {
      flush();
      out.push(event);
    }
  }
  flush();
  return out;
}

function parser(options: Partial<DirStreamOptions> = {}): DirStreamParser {
  return new DirStreamParser({ decodeName: decodeUtf8, ...options });
}

/** Pushes the chunks, then finish(); returns the normalized events. */
function parseChunks(chunks: readonly Uint8Array[], options: Partial<DirStreamOptions> = {}): Normalized[] {
  const p = parser(options);
  const events: DirStreamEvent[] = [];
  for (const chunk of chunks) events.push(...p.push(chunk));
  p.finish();
  assert.equal(p.done, true);
  return normalize(events);
}

const parseAll = (stream: Uint8Array, options: Partial<DirStreamOptions> = {}): Normalized[] => parseChunks([stream], options);

function splitEvery(stream: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
  return chunks;
}

function expectError(code: ErrorCode, message: RegExp, fn: () => unknown): IpmsgError {
  let caught: IpmsgError | undefined;
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof IpmsgError, `expected an IpmsgError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    caught = error;
    return true;
  });
  assert.ok(caught);
  return caught;
}

/** The stream must be refused with IPMSG_ERR_PROTOCOL and `rule` in the message, however it is chunked. */
function expectInvalid(stream: Uint8Array, rule: RegExp, options: Partial<DirStreamOptions> = {}): void {
  const pattern = new RegExp(`^Invalid folder stream: .*${rule.source}`);
  for (const chunks of [[stream], splitEvery(stream, 1), splitEvery(stream, 7)]) {
    expectError('IPMSG_ERR_PROTOCOL', pattern, () => parseChunks(chunks, options));
  }
}

// ---------------------------------------------------------------------------------------------

describe('encodeDirHeader: literal vectors', () => {
  const cases: [string, DirHeader, string][] = [
    ['§14 top directory', { name: utf8.encode('docs'), size: 0, attr: IPMSG_FILE_DIR, mtime: T, ctime: T }, '0026:docs:0:2:14=65f1c2a0:16=65f1c2a0:'],
    ['§14 file', { name: utf8.encode('a.txt'), size: 5, attr: IPMSG_FILE_REGULAR, mtime: T, ctime: T }, '0027:a.txt:5:1:14=65f1c2a0:16=65f1c2a0:'],
    ['§14 RETPARENT', { name: utf8.encode('.'), size: 0, attr: IPMSG_FILE_RETPARENT, mtime: T, ctime: T }, '0023:.:0:3:14=65f1c2a0:16=65f1c2a0:'],
    ['RETPARENT without times (official `HHHH:.:0:3:`)', { name: utf8.encode('.'), size: 0, attr: IPMSG_FILE_RETPARENT }, '000b:.:0:3:'],
    ['only an mtime', { name: utf8.encode('b'), size: 0x1a2b3, attr: IPMSG_FILE_REGULAR, mtime: 1 }, '0014:b:1a2b3:1:14=1:'],
    ['only a ctime', { name: utf8.encode('b'), size: 0, attr: IPMSG_FILE_REGULAR, ctime: 0xabc }, '0012:b:0:1:16=abc:'],
    ['attribute options (read-only, hidden)', { name: utf8.encode('r'), size: 1, attr: IPMSG_FILE_REGULAR | IPMSG_FILE_RONLYOPT | IPMSG_FILE_HIDDENOPT }, '000e:r:1:1101:'],
    ['the largest size', { name: utf8.encode('big'), size: Number.MAX_SAFE_INTEGER, attr: 1 }, '001a:big:1fffffffffffff:1:'],
    ['a time before 1970 as %llx of a signed 64-bit number', { name: utf8.encode('old'), size: 0, attr: 1, mtime: -1 }, '0021:old:0:1:14=ffffffffffffffff:'],
    ['non-ASCII name, UTF-8 bytes (length counts bytes)', { name: utf8.encode('報告'), size: 0, attr: 2 }, '0010:報告:0:2:'],
    ['4 GiB, and every attribute bit above the type', { name: utf8.encode('v'), size: 2 ** 32, attr: 0xffffff01 }, '001a:v:100000000:ffffff01:'],
  ];
  for (const [name, entry, expected] of cases) {
    test(name, () => assert.equal(escapeBytes(encodeDirHeader(entry)), escapeBytes(utf8.encode(expected))));
  }
  test('writeDirHeader writes the same bytes in place, and nothing when they do not fit', () => {
    for (const [, entry, expected] of cases) {
      const want = utf8.encode(expected);
      const target = Buffer.alloc(3 + want.length, 0xee);
      assert.equal(writeDirHeader(target, 3, entry), want.length);
      assert.equal(escapeBytes(target.subarray(3)), escapeBytes(want));
      assert.deepEqual([...target.subarray(0, 3)], [0xee, 0xee, 0xee]);
      const short = Buffer.alloc(2 + want.length, 0xee);
      assert.equal(writeDirHeader(short, 3, entry), 0);
      assert.ok(short.every((b) => b === 0xee));
    }
  });
  test('agrees with the header built as a string (toString(16)) for 2,000 random entries', () => {
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = (max: number): number => Math.floor(random() ** 3 * max);
    for (let i = 0; i < 2000; i++) {
      const entry: DirHeader = {
        name: utf8.encode(`n${i}`),
        size: pick(Number.MAX_SAFE_INTEGER),
        attr: [IPMSG_FILE_REGULAR, IPMSG_FILE_DIR, IPMSG_FILE_REGULAR | IPMSG_FILE_RONLYOPT][i % 3] as number,
        ...(i % 4 === 0 ? {} : { mtime: pick(2 ** 40) - 2 ** 30 }),
        ...(i % 5 === 0 ? {} : { ctime: pick(2 ** 36) }),
      };
      const time = (t: number): string => (t >= 0 ? t.toString(16) : BigInt.asUintN(64, BigInt(t)).toString(16));
      let tail = `n${i}:${entry.size.toString(16)}:${entry.attr.toString(16)}:`;
      if (entry.mtime !== undefined) tail += `14=${time(entry.mtime)}:`;
      if (entry.ctime !== undefined) tail += `16=${time(entry.ctime)}:`;
      const expected = `${(5 + tail.length).toString(16).padStart(4, '0')}:${tail}`;
      assert.equal(asciiText(encodeDirHeader(entry)), expected);
    }
  });
  test('a CP932 name with 0x5c as a trail byte (表 = 95 5c) is written as is', () => {
    const name = hex('95 5c 2e 74 78 74'); // 表.txt
    assert.equal(escapeBytes(encodeDirHeader({ name, size: 1, attr: 1 })), escapeBytes(bytes('0010:', name, ':1:1:')));
  });
  test(`a header of exactly ${MAX_SENT_DIR_HEADER_BYTES} bytes is written, one more is refused`, () => {
    const fits = 'n'.repeat(MAX_SENT_DIR_HEADER_BYTES - 10);
    assert.equal(encodeDirHeader({ name: utf8.encode(fits), size: 0, attr: 1 }).length, MAX_SENT_DIR_HEADER_BYTES);
    assert.equal(asciiText(encodeDirHeader({ name: utf8.encode(fits), size: 0, attr: 1 }).subarray(0, 5)), '03fe:');
    expectError('IPMSG_ERR_INPUT', /^Invalid folder entry: header of 1023 bytes exceeds/, () =>
      encodeDirHeader({ name: utf8.encode(`${fits}n`), size: 0, attr: 1 }),
    );
  });
});

describe('encodeDirHeader refuses what the stream cannot carry', () => {
  const names: [string, Uint8Array, number, RegExp][] = [
    ['empty name', new Uint8Array(0), IPMSG_FILE_REGULAR, /empty name/],
    ["'.' as a file", utf8.encode('.'), IPMSG_FILE_REGULAR, /name '\.'/],
    ["'.' as a directory", utf8.encode('.'), IPMSG_FILE_DIR, /name '\.'/],
    ["'..'", utf8.encode('..'), IPMSG_FILE_DIR, /name '\.\.'/],
    ["'..' as RETPARENT", utf8.encode('..'), IPMSG_FILE_RETPARENT, /name '\.\.'/],
    ["':' (names are not escaped in dir streams)", utf8.encode('a:b'), IPMSG_FILE_REGULAR, /contains ':'/],
    ["'/'", utf8.encode('a/b'), IPMSG_FILE_REGULAR, /contains '\/'/],
    ['NUL', bytes('a', [0], 'b'), IPMSG_FILE_REGULAR, /control character/],
    ['newline', utf8.encode('a\nb'), IPMSG_FILE_REGULAR, /control character/],
    ['DEL', bytes('a', [0x7f]), IPMSG_FILE_REGULAR, /control character/],
  ];
  for (const [name, bytesOfName, attr, message] of names) {
    test(name, () => {
      expectError('IPMSG_ERR_INPUT', new RegExp(`^Invalid folder entry: .*${message.source}`), () => encodeDirHeader({ name: bytesOfName, size: 0, attr }));
    });
  }
  const numbers: [string, DirHeader, RegExp][] = [
    ['negative size', { name: utf8.encode('a'), size: -1, attr: 1 }, /size -1/],
    ['fractional size', { name: utf8.encode('a'), size: 1.5, attr: 1 }, /size 1.5/],
    ['size of 2^53', { name: utf8.encode('a'), size: 2 ** 53, attr: 1 }, /size 9007199254740992/],
    ['attr above 32 bits', { name: utf8.encode('a'), size: 0, attr: 2 ** 32 + 1 }, /attr/],
    ['a symbolic link', { name: utf8.encode('a'), size: 0, attr: IPMSG_FILE_SYMLINK }, /unsupported entry type 4/],
    ['type 0 (option bits only)', { name: utf8.encode('a'), size: 0, attr: IPMSG_FILE_RONLYOPT }, /unsupported entry type 0/],
    ['fractional mtime', { name: utf8.encode('a'), size: 0, attr: 1, mtime: 0.5 }, /mtime 0.5/],
    ['unsafe ctime', { name: utf8.encode('a'), size: 0, attr: 1, ctime: 2 ** 60 }, /ctime/],
  ];
  for (const [name, entry, message] of numbers) {
    test(name, () => {
      expectError('IPMSG_ERR_INTERNAL', new RegExp(`^Invalid folder entry: .*${message.source}`), () => encodeDirHeader(entry));
    });
  }
});

describe('entryNameProblem', () => {
  const refused: [string, RegExp][] = [
    ['', /empty name/],
    ['.', /name '\.'/],
    ['..', /name '\.\.'/],
    ['../x', /path separator/],
    ['..\\x', /path separator/],
    ['a/b', /path separator/],
    ['a\\b', /path separator/],
    ['/etc', /absolute/],
    ['\\\\server', /absolute/],
    ['C:x', /absolute/],
    ['c:', /absolute/],
    ['ab:c', /contains ':'/],
    ['a:b', /absolute/],
    ['a\0b', /control character/],
    ['\x1b[31mred', /control character/],
    ['tab\there', /control character/],
    ['del\x7f', /control character/],
    ['c1\u0085', /control character/],
  ];
  for (const [name, problem] of refused) {
    test(`refuses ${JSON.stringify(name)}`, () => assert.match(entryNameProblem(name) ?? '(accepted)', problem));
  }
  const accepted = ['a', '...', '.hidden', 'a..b', 'file (Can\'t open)', '報告 2024.txt', '表.txt', ' ', 'x.', 'é\u00a0z', '😀'];
  for (const name of accepted) {
    test(`accepts ${JSON.stringify(name)}`, () => assert.equal(entryNameProblem(name), undefined));
  }
});

// ---------------------------------------------------------------------------------------------

describe('the §14 example', () => {
  const stream = bytes(
    '0026:docs:0:2:14=65f1c2a0:16=65f1c2a0:', // the attached directory, 0x26 = 38 bytes
    '0027:a.txt:5:1:14=65f1c2a0:16=65f1c2a0:', // its file, then the 5 bytes of content
    'hello',
    '0023:.:0:3:14=65f1c2a0:16=65f1c2a0:', // RETPARENT for docs: the end
  );
  const events: Normalized[] = [
    { type: 'dir', name: 'docs', attr: IPMSG_FILE_DIR, mtime: T, depth: 0 },
    { type: 'file', name: 'a.txt', size: 5, attr: IPMSG_FILE_REGULAR, mtime: T, depth: 1 },
    { type: 'data', text: 'hello' },
    { type: 'fileEnd' },
    { type: 'up', mtime: T },
    { type: 'end' },
  ];
  test('parse', () => assert.deepStrictEqual(parseAll(stream), events));
  test('generate', () => {
    const generated = bytes(
      header('docs', 0, IPMSG_FILE_DIR, { mtime: T, ctime: T }),
      header('a.txt', 5, IPMSG_FILE_REGULAR, { mtime: T, ctime: T }),
      'hello',
      header('.', 0, IPMSG_FILE_RETPARENT, { mtime: T, ctime: T }),
    );
    assert.equal(escapeBytes(generated), escapeBytes(stream));
  });
  test('data arrives as views into the pushed chunk, not copies', () => {
    const p = parser();
    const data = p.push(stream).filter((e) => e.type === 'data');
    assert.equal(data.length, 1);
    const view = data[0]?.type === 'data' ? data[0].bytes : new Uint8Array(0);
    assert.equal(view.buffer, stream.buffer);
    assert.equal(view.byteOffset, stream.byteOffset + 38 + 39);
    assert.equal(view.length, 5);
  });
  test('a chunk that is all file content is handed back as is', () => {
    const p = parser();
    p.push(stream.subarray(0, 38 + 39));
    const content = stream.subarray(38 + 39, 38 + 39 + 5);
    const events2 = p.push(content);
    assert.equal(events2[0]?.type === 'data' && events2[0].bytes, content);
  });
  test('Node Buffers (what sockets deliver) work the same', () => {
    assert.deepStrictEqual(parseChunks(splitEvery(Buffer.from(stream), 10)), events);
  });
});

describe('the §15 iptux 0.8.3 shape', () => {
  // `0000:%s:%.9jx:%lx:%lx=%jx:%lx=%jx:`: 9-digit zero-padded size, 14=mtime, 16=ctime, and a
  // RETPARENT carrying the times of the last entry it stat'ed.
  const t = '6b02c30c';
  const content = 'hello from iptux 0.8.3 there\n'; // 0x1d bytes
  const stream = bytes(
    `002e:docs:000000000:2:14=${t}:16=${t}:`,
    `0033:empty.txt:000000000:1:14=${t}:16=${t}:`,
    `0033:hello.txt:00000001d:1:14=${t}:16=${t}:`,
    content,
    `002d:sub:000000000:2:14=${t}:16=${t}:`,
    `0023:.:0:3:14=${t}:16=${t}:`,
    `0023:.:0:3:14=${t}:16=${t}:`,
  );
  test('the vector is what it claims to be', () => {
    assert.equal(utf8.encode(content).length, 0x1d);
    assert.equal(`002e:docs:000000000:2:14=${t}:16=${t}:`.length, 0x2e);
    assert.equal(`0033:empty.txt:000000000:1:14=${t}:16=${t}:`.length, 0x33);
    assert.equal(`002d:sub:000000000:2:14=${t}:16=${t}:`.length, 0x2d);
  });
  test('parse', () => {
    const m = 0x6b02c30c;
    assert.deepStrictEqual(parseAll(stream), [
      { type: 'dir', name: 'docs', attr: 2, mtime: m, depth: 0 },
      { type: 'file', name: 'empty.txt', size: 0, attr: 1, mtime: m, depth: 1 },
      { type: 'fileEnd' },
      { type: 'file', name: 'hello.txt', size: 0x1d, attr: 1, mtime: m, depth: 1 },
      { type: 'data', text: escapeBytes(utf8.encode(content)) },
      { type: 'fileEnd' },
      { type: 'dir', name: 'sub', attr: 2, mtime: m, depth: 1 },
      { type: 'up', mtime: m },
      { type: 'up', mtime: m },
      { type: 'end' },
    ]);
  });
});

describe('header details', () => {
  const wrap = (...entries: Uint8Array[]): Uint8Array => bytes(dir('top'), ...entries, up());
  const only = (entry: Uint8Array): Normalized | undefined => parseAll(wrap(entry))[1];
  test('upper-case hex everywhere', () => {
    assert.deepStrictEqual(parseAll(bytes('001C:TOP:0:2:14=ABCDEF:16=A:', '000B:.:0:3:')), [
      { type: 'dir', name: 'TOP', attr: 2, mtime: 0xabcdef, depth: 0 },
      { type: 'up' },
      { type: 'end' },
    ]);
  });
  test('a header-size field of 8 digits (strtoul would read it)', () => {
    assert.deepStrictEqual(only(bytes('0000000f:f:0:1:')), { type: 'file', name: 'f', size: 0, attr: 1, depth: 1 });
  });
  test('the official `%x%08x` size with a high word', () => {
    const events = parser().push(bytes(dir('top'), raw('f:100000000:1:'), 'abc'));
    assert.deepStrictEqual(events[1], { type: 'file', name: 'f', size: 0x100000000, attr: 1, depth: 1 });
  });
  test('attribute options are kept', () => {
    assert.deepStrictEqual(parseAll(wrap(raw('d:0:1102:'), raw('.:0:103:')))[1], { type: 'dir', name: 'd', attr: 0x1102, depth: 1 });
  });
  test('unknown extended attributes are skipped unread, spec values with commas included', () => {
    assert.deepStrictEqual(only(raw('f:0:1:10=1a4,rw:2=alice:15=xyz:14=5:')), { type: 'file', name: 'f', size: 0, attr: 1, mtime: 5, depth: 1 });
  });
  test('the last mtime wins; ctime is checked but not reported', () => {
    assert.deepStrictEqual(only(raw('f:0:1:14=1:14=2:16=3:')), { type: 'file', name: 'f', size: 0, attr: 1, mtime: 2, depth: 1 });
  });
  test('a time before 1970 (16 digits, top bit set) is negative', () => {
    assert.deepStrictEqual(only(raw('f:0:1:14=ffffffffffffff9c:')), { type: 'file', name: 'f', size: 0, attr: 1, mtime: -100, depth: 1 });
    assert.deepStrictEqual(only(header('f', 0, 1, { mtime: -86400 })), { type: 'file', name: 'f', size: 0, attr: 1, mtime: -86400, depth: 1 });
  });
  test("a RETPARENT's name other than '.' is allowed when it is a valid name", () => {
    assert.deepStrictEqual(parseAll(bytes(dir('top'), raw('top:0:3:'))), [{ type: 'dir', name: 'top', attr: 2, depth: 0 }, { type: 'up' }, { type: 'end' }]);
  });
  test("the official's unreadable-file marker is an ordinary name", () => {
    assert.deepStrictEqual(only(raw("x.txt (Can't open):0:1:")), { type: 'file', name: "x.txt (Can't open)", size: 0, attr: 1, depth: 1 });
  });
  test('names go through decodeName: CP932 with 0x5c as a trail byte is not a backslash', () => {
    const stream = bytes(raw(bytes(hex('95 5c'), ':0:2:')), raw(bytes(hex('95 5c 2e 74 78 74'), ':3:1:')), 'abc', up());
    assert.deepStrictEqual(parseAll(stream, { decodeName: (b) => decodeText(b, 'cp932') }), [
      { type: 'dir', name: '表', attr: 2, depth: 0 },
      { type: 'file', name: '表.txt', size: 3, attr: 1, depth: 1 },
      { type: 'data', text: 'abc' },
      { type: 'fileEnd' },
      { type: 'up' },
      { type: 'end' },
    ]);
  });
  test('names are not un-escaped: "::" cannot appear, it splits the fields', () => {
    expectInvalid(wrap(raw('a::b:0:1:')), /size field is not a hex number/);
  });
  test(`a header of exactly the limit (${DEFAULT_MAX_DIR_HEADER_BYTES} bytes) is accepted`, () => {
    const name = 'n'.repeat(DEFAULT_MAX_DIR_HEADER_BYTES - 10);
    const h = raw(`${name}:0:1:`);
    assert.equal(h.length, DEFAULT_MAX_DIR_HEADER_BYTES);
    assert.deepStrictEqual(only(h), { type: 'file', name, size: 0, attr: 1, depth: 1 });
  });
});

// ---------------------------------------------------------------------------------------------

const everyByte = new Uint8Array(256).map((_, i) => i);
const NESTED = bytes(
  dir('top', 100), // depth 0
  file('a.txt', 'hello', 101), // depth 1
  dir('empty'), // an empty folder
  up(102),
  dir('sub'),
  file('zero.bin', ''), // an empty file
  dir('deeper'),
  file('b.bin', everyByte, 103), // every byte value, ':' and NUL included
  file('c', '0026:docs:0:2:'), // content that looks like a header
  up(),
  file('d.txt', 'xyz'),
  up(),
  file('z', ''),
  up(104),
);
const NESTED_EVENTS: Normalized[] = [
  { type: 'dir', name: 'top', attr: 2, mtime: 100, depth: 0 },
  { type: 'file', name: 'a.txt', size: 5, attr: 1, mtime: 101, depth: 1 },
  { type: 'data', text: 'hello' },
  { type: 'fileEnd' },
  { type: 'dir', name: 'empty', attr: 2, depth: 1 },
  { type: 'up', mtime: 102 },
  { type: 'dir', name: 'sub', attr: 2, depth: 1 },
  { type: 'file', name: 'zero.bin', size: 0, attr: 1, depth: 2 },
  { type: 'fileEnd' },
  { type: 'dir', name: 'deeper', attr: 2, depth: 2 },
  { type: 'file', name: 'b.bin', size: 256, attr: 1, mtime: 103, depth: 3 },
  { type: 'data', text: escapeBytes(everyByte) },
  { type: 'fileEnd' },
  { type: 'file', name: 'c', size: 14, attr: 1, depth: 3 },
  { type: 'data', text: '0026:docs:0:2:' },
  { type: 'fileEnd' },
  { type: 'up' },
  { type: 'file', name: 'd.txt', size: 3, attr: 1, depth: 2 },
  { type: 'data', text: 'xyz' },
  { type: 'fileEnd' },
  { type: 'up' },
  { type: 'file', name: 'z', size: 0, attr: 1, depth: 1 },
  { type: 'fileEnd' },
  { type: 'up', mtime: 104 },
  { type: 'end' },
];

describe('a multi-level stream with empty folders and empty files', () => {
  test('in one chunk', () => assert.deepStrictEqual(parseAll(NESTED), NESTED_EVENTS));

  test('split in two at every offset', () => {
    for (let i = 0; i <= NESTED.length; i++) {
      assert.deepStrictEqual(parseChunks([NESTED.subarray(0, i), NESTED.subarray(i)]), NESTED_EVENTS, `split at ${i}`);
    }
  });

  test('one byte at a time', () => {
    assert.deepStrictEqual(parseChunks(splitEvery(NESTED, 1)), NESTED_EVENTS);
  });

  test('split in three at every pair of offsets around the headers (and random chunkings)', () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let i = 0; i < 60; i++) {
      for (let j = i; j < i + 60 && j <= NESTED.length; j++) {
        assert.deepStrictEqual(parseChunks([NESTED.subarray(0, i), NESTED.subarray(i, j), NESTED.subarray(j)]), NESTED_EVENTS, `split at ${i}, ${j}`);
      }
    }
    for (let round = 0; round < 300; round++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < NESTED.length; ) {
        const size = 1 + next(round % 2 === 0 ? 8 : 80);
        chunks.push(NESTED.subarray(at, at + size));
        at += size;
      }
      assert.deepStrictEqual(parseChunks(chunks), NESTED_EVENTS, `round ${round}`);
    }
  });

  test('empty chunks change nothing', () => {
    const empty = new Uint8Array(0);
    assert.deepStrictEqual(parseChunks([empty, ...splitEvery(NESTED, 9).flatMap((c) => [c, empty])]), NESTED_EVENTS);
  });

  test('every data event is a view into the chunk it came from', () => {
    for (const size of [1, 3, 50, NESTED.length]) {
      const p = parser();
      for (const chunk of splitEvery(NESTED, size)) {
        for (const event of p.push(chunk)) {
          if (event.type !== 'data') continue;
          assert.equal(event.bytes.buffer, chunk.buffer);
          assert.ok(event.bytes.byteOffset >= chunk.byteOffset && event.bytes.byteOffset + event.bytes.length <= chunk.byteOffset + chunk.length);
        }
      }
      p.finish();
    }
  });

  test('done turns true exactly at the end', () => {
    const p = parser();
    for (let i = 0; i < NESTED.length; i++) {
      assert.equal(p.done, false, `before byte ${i}`);
      p.push(NESTED.subarray(i, i + 1));
    }
    assert.equal(p.done, true);
  });

  test('maxTotalBytes equal to the sum of the sizes is enough', () => {
    assert.deepStrictEqual(parseAll(NESTED, { maxTotalBytes: 5 + 256 + 14 + 3 }), NESTED_EVENTS);
  });

  test('maxEntries equal to the files and folders is enough (RETPARENTs do not count)', () => {
    const items = NESTED_EVENTS.filter((e) => e.type === 'file' || e.type === 'dir').length;
    assert.deepStrictEqual(parseAll(NESTED, { maxEntries: items }), NESTED_EVENTS);
    expectInvalid(NESTED, new RegExp(`more than ${items - 1} files and folders`), { maxEntries: items - 1 });
  });

  test('a folder of 10,000 small files', () => {
    const parts: Uint8Array[] = [dir('many')];
    for (let i = 0; i < 10_000; i++) parts.push(file(`f${i}`, `${i}`));
    parts.push(up());
    const events = parseChunks(splitEvery(bytes(...parts), 1460));
    assert.equal(events.length, 1 + 3 * 10_000 + 2);
    assert.deepStrictEqual(events[3 * 9999 + 1], { type: 'file', name: 'f9999', size: 4, attr: 1, depth: 1 });
    assert.deepStrictEqual(events[3 * 9999 + 2], { type: 'data', text: '9999' });
  });
});

describe('a top-level regular file (GETDIRFILES for a file: the official streams it as one entry)', () => {
  test("accepted with expect: 'file' — file, data, fileEnd, end; no RETPARENT", () => {
    const stream = file('report.pdf', 'PDF!', 7);
    const expected: Normalized[] = [
      { type: 'file', name: 'report.pdf', size: 4, attr: 1, mtime: 7, depth: 0 },
      { type: 'data', text: 'PDF!' },
      { type: 'fileEnd' },
      { type: 'end' },
    ];
    assert.deepStrictEqual(parseAll(stream, { expect: 'file' }), expected);
    assert.deepStrictEqual(parseChunks(splitEvery(stream, 1), { expect: 'file' }), expected);
  });
  test('an empty top-level file ends at once', () => {
    assert.deepStrictEqual(parseAll(file('e', ''), { expect: 'file' }), [{ type: 'file', name: 'e', size: 0, attr: 1, depth: 0 }, { type: 'fileEnd' }, { type: 'end' }]);
  });
  test("refused by default (expect: 'dir')", () => expectInvalid(file('report.pdf', 'PDF!'), /must start with a directory/));
  test("a directory is refused with expect: 'file'", () => expectInvalid(NESTED, /must hold one regular file/, { expect: 'file' }));
  test('anything after the file is refused', () => expectInvalid(bytes(file('a', 'x'), up()), /after the end/, { expect: 'file' }));
  test('maxTotalBytes applies', () => expectInvalid(file('a', 'xyz'), /more than the limit of 2 bytes/, { expect: 'file', maxTotalBytes: 2 }));
});

// ---------------------------------------------------------------------------------------------

describe('malicious and broken streams → IPMSG_ERR_PROTOCOL naming the rule', () => {
  const inTop = (...entries: BytesPart[]): Uint8Array => bytes(dir('top'), ...entries, up());
  const cases: [string, Uint8Array, RegExp, Partial<DirStreamOptions>?][] = [
    // names
    ['name ../x', inTop(raw('../x:1:1:'), 'x'), /name "\.\.\/x" contains a path separator/],
    ['name a/b', inTop(raw('a/b:0:1:')), /path separator/],
    ['name a\\b', inTop(raw('a\\b:0:1:')), /path separator/],
    ['name ..\\x', inTop(raw('..\\x:0:2:'), up()), /path separator/],
    ['name /etc', inTop(raw('/etc:0:2:'), up()), /absolute name "\/etc"/],
    ['name \\x', inTop(raw('\\x:0:1:')), /absolute name/],
    ['name C:x (its ":" ends the name, so "x" is read as the size)', inTop(raw('C:x:5:1:'), 'hello'), /size field is not a hex number/],
    ['name C:x from a decoder that yields ":"', inTop(raw('C|x:0:1:')), /absolute name "C:x"/, { decodeName: (b) => asciiText(b).replace('|', ':') }],
    ['a decoded name with ":" elsewhere', inTop(raw('ab|c:0:1:')), /contains ':'/, { decodeName: (b) => asciiText(b).replace('|', ':') }],
    ['name ..', inTop(raw('..:0:2:'), up()), /name '\.\.'/],
    ['name . as a file', inTop(raw('.:0:1:')), /name '\.'/],
    ['name . as a directory', inTop(raw('.:0:2:'), up()), /name '\.'/],
    ['name .. as a RETPARENT', inTop(dir('d'), raw('..:0:3:')), /name '\.\.'/],
    ['the top folder named ..', bytes(raw('..:0:2:'), up()), /name '\.\.'/],
    ['the top folder named /', bytes(raw('/:0:2:'), up()), /absolute name/],
    ['NUL in a name', inTop(raw(bytes('a', [0], 'b:0:1:'))), /control character/],
    ['ESC in a name (terminal injection)', inTop(raw('\x1b]0;x\x07:0:1:')), /control character/],
    ['newline in a name', inTop(raw('a\nb:0:1:')), /control character/],
    ['DEL in a name', inTop(raw('a\x7f:0:1:')), /control character/],
    ['C1 control (U+009B CSI) in a name', inTop(raw('a\u009b:0:1:')), /control character/],
    ['empty name', inTop(raw(':0:1:14=1:')), /empty name/],
    ['empty name in the smallest header', inTop(raw(':0:1:')), /smaller than the smallest header/],
    ['empty RETPARENT name', inTop(dir('d'), raw(':0:3:14=1:')), /empty name/],
    // header size field
    ['header size zzzz', inTop(raw('a:0:1:', 'zzzz')), /header size field is not a hex number/],
    ['header size 00z6', inTop(raw('a:0:1:', '00z6')), /header size field is not a hex number/],
    ['header size with a space', inTop(raw('a:0:1:', ' 00c')), /header size field is not a hex number/],
    ['header size of 3 digits', bytes('026:docs:0:2:', up()), /header size field of 3 digits \(at least 4 expected\)/],
    ['no header size at all', bytes(':docs:0:2:', up()), /header size field of 0 digits/],
    ['header size of 9 digits', bytes('000000012:docs:0:2:', up()), /more than 8 digits/],
    ['a stream of hex digits', new Uint8Array(100).fill(0x30), /more than 8 digits/],
    ['header over 1 KiB (0401)', inTop(raw(`${'n'.repeat(1025 - 10)}:0:1:`)), /header of 1025 bytes exceeds the limit of 1024/],
    ['header size ffff', bytes('ffff:docs:0:2:'), /header of 65535 bytes exceeds the limit of 1024/],
    ['header over a smaller maxHeaderBytes', inTop(raw(`${'n'.repeat(31)}:0:1:`)), /exceeds the limit of 40/, { maxHeaderBytes: 40 }],
    ['header size smaller than its content (cut in the name)', inTop(raw('a.txt:5:1:', '000c'), 'hello'), /header does not end with ':'/],
    ['header size smaller than its content (cut after the name)', inTop(raw('a.txt:5:1:', '000b'), 'hello'), /header has no size field/],
    ['header size smaller than its content (cut after the size)', inTop(raw('a.txt:5:1:', '000d'), 'hello'), /header has no attr field/],
    ['header size smaller than the smallest header', bytes('0005:', up()), /header size 5 is smaller than the smallest header/],
    ['header size 0', bytes('0000:docs:0:2:'), /header size 0 is smaller/],
    ['header size larger than its content (swallows the next header)', bytes(raw('top:0:2:', '0014'), raw('f:0:1:')), /extended attribute without '='|header does not end/],
    // fields
    ['size not hex', inTop(raw('a:5k:1:')), /size field is not a hex number/],
    ['size empty', inTop(raw('a::1:14=1:')), /size field is not a hex number/],
    ['negative size', inTop(raw('a:-5:1:')), /size field is not a hex number/],
    ['size over 2^53', inTop(raw('a:20000000000000:1:')), /size field is not a hex number \(or too large\)/],
    ['attr not hex', inTop(raw('a:0:file:')), /attr field is not a 32-bit hex number/],
    ['attr empty', inTop(raw('a:0::14=1:')), /attr field is not a 32-bit hex number/],
    ['attr above 32 bits', inTop(raw('a:0:100000001:')), /attr field is not a 32-bit hex number/],
    ['no attr field', inTop(raw('abc:0:')), /header has no attr field/],
    ['extended attribute without =', inTop(raw('a:0:1:14:')), /extended attribute without '='/],
    ['empty extended attribute', inTop(raw('a:0:1::')), /extended attribute without '='/],
    ['extended attribute key not hex', inTop(raw('a:0:1:mtime=5:')), /extended attribute key is not a hex number/],
    ['extended attribute key empty', inTop(raw('a:0:1:=5:')), /extended attribute key is not a hex number/],
    ['mtime not hex', inTop(raw('a:0:1:14=yesterday:')), /mtime \(14\) is not a hex number/],
    ['mtime empty', inTop(raw('a:0:1:14=:')), /mtime \(14\) is not a hex number/],
    ['mtime of 17 digits', inTop(raw('a:0:1:14=10000000000000000:')), /mtime \(14\)/],
    ['mtime positive but over 2^53', inTop(raw('a:0:1:14=7fffffffffffffff:')), /mtime \(14\)/],
    ['ctime not hex', inTop(raw('a:0:1:16=-1:')), /ctime \(16\) is not a hex number/],
    // types and structure
    ['a symlink entry', inTop(raw('link:0:4:')), /unsupported entry type 4 \(symbolic link\)/],
    ['a character device', inTop(raw('tty:0:5:')), /unsupported entry type 5 \(character device\)/],
    ['a block device', inTop(raw('sda:0:6:')), /unsupported entry type 6 \(block device\)/],
    ['a FIFO', inTop(raw('pipe:0:7:')), /unsupported entry type 7 \(FIFO\)/],
    ['a clipboard image', inTop(raw('img.png:0:20:')), /unsupported entry type 32 \(clipboard image\)/],
    ['type 0', inTop(raw('x:0:100:')), /unsupported entry type 0/],
    ['the first entry a file', bytes(file('a.txt', 'hello'), up()), /must start with a directory/],
    ['unbalanced RETPARENT (the first entry)', bytes(up(), dir('x'), up()), /RETPARENT at the top level \(unbalanced\)/],
    ['bytes after the end', bytes(dir('top'), up(), 'x'), /1 bytes after the end \(the stream is longer than announced\)/],
    ['a second RETPARENT after the end', bytes(dir('top'), up(), up()), /after the end/],
    ['a second top folder', bytes(dir('a'), up(), dir('b'), up()), /after the end/],
    ['total over maxTotalBytes', inTop(file('a', 'abc'), file('b', 'de')), /file sizes add up to more than the limit of 4 bytes/, { maxTotalBytes: 4 }],
    ['one file over maxTotalBytes', inTop(file('a', 'abcde')), /more than the limit of 4 bytes/, { maxTotalBytes: 4 }],
    ['maxTotalBytes 0 and a non-empty file', inTop(file('a', 'x')), /more than the limit of 0 bytes/, { maxTotalBytes: 0 }],
    ['more files and folders than maxEntries (empty ones cost no bytes)', inTop(file('a', ''), file('b', ''), dir('c'), up()), /more than 3 files and folders/, { maxEntries: 3 }],
  ];
  for (const [name, stream, rule, options] of cases) {
    test(name, () => expectInvalid(stream, rule, options));
  }

  test('the size limit is enforced at the header, before any content arrives', () => {
    const p = parser({ maxTotalBytes: 4 });
    p.push(dir('top'));
    expectError('IPMSG_ERR_PROTOCOL', /more than the limit of 4 bytes/, () => p.push(header('huge', 2 ** 40, IPMSG_FILE_REGULAR)));
  });
  test('a header over the limit is refused as soon as its size field is read', () => {
    const p = parser();
    expectError('IPMSG_ERR_PROTOCOL', /header of 1025 bytes exceeds/, () => p.push(utf8.encode('0401:')));
  });
  test('junk is refused at its first byte', () => {
    expectError('IPMSG_ERR_PROTOCOL', /header size field is not a hex number/, () => parser().push(utf8.encode('G')));
    expectError('IPMSG_ERR_PROTOCOL', /header size field is not a hex number/, () => parser().push(utf8.encode('HTTP/1.1 200 OK\r\n')));
  });
  test('a name that cannot be decoded', () => {
    const error = expectError('IPMSG_ERR_PROTOCOL', /^Invalid folder stream: a name cannot be decoded$/, () =>
      parseAll(bytes(dir('top'), up()), {
        decodeName: () => {
          throw new RangeError('bad bytes');
        },
      }),
    );
    assert.ok(error.cause instanceof RangeError);
  });
});

describe('incomplete streams: finish() throws', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['nothing at all', new Uint8Array(0), /the stream ended before the first entry/],
    ['part of the header size', utf8.encode('00'), /the stream ended in the middle of a header/],
    ['part of the first header', dir('top').subarray(0, 10), /the stream ended in the middle of a header/],
    ['in the middle of a file', bytes(dir('top'), file('a.txt', 'hello').subarray(0, -2)), /the stream ended 2 bytes before the end of "a\.txt"/],
    ['right after a file header', bytes(dir('top'), header('a.txt', 5, 1)), /the stream ended 5 bytes before the end of "a\.txt"/],
    ['inside the top folder', bytes(dir('top'), file('a', 'x')), /the stream ended inside 1 open folder/],
    ['two folders deep', bytes(dir('top'), dir('sub')), /the stream ended inside 2 open folder/],
    ['before the last RETPARENT', NESTED.subarray(0, NESTED.length - up(104).length), /the stream ended inside 1 open folder/],
    ['in the last RETPARENT', NESTED.subarray(0, -1), /the stream ended in the middle of a header/],
  ];
  for (const [name, stream, message] of cases) {
    test(name, () => {
      const p = parser();
      p.push(stream);
      assert.equal(p.done, false);
      expectError('IPMSG_ERR_PROTOCOL', new RegExp(`^Invalid folder stream: ${message.source}`), () => p.finish());
    });
  }
  test('finish() after the end is fine, and so are empty chunks', () => {
    const p = parser();
    p.push(NESTED);
    assert.deepStrictEqual(p.push(new Uint8Array(0)), []);
    p.finish();
    p.finish();
  });
  test('after an error the parser keeps throwing the same error', () => {
    const p = parser();
    const first = expectError('IPMSG_ERR_PROTOCOL', /not a hex number/, () => p.push(utf8.encode('zzzz')));
    assert.throws(() => p.push(NESTED), (error: unknown) => error === first);
    assert.throws(() => p.finish(), (error: unknown) => error === first);
  });
  test('a failed finish() is remembered too', () => {
    const p = parser();
    const first = expectError('IPMSG_ERR_PROTOCOL', /before the first entry/, () => p.finish());
    assert.throws(() => p.push(NESTED), (error: unknown) => error === first);
  });
});

test('random input: nothing but IPMSG_ERR_PROTOCOL escapes, and what parses is consistent', () => {
  let seed = 0x5eed;
  const next = (n: number): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed % n;
  };
  const alphabet = utf8.encode('0123456789abcdef:=.3214/\\\0\n');
  let parsed = 0;
  let refused = 0;
  for (let round = 0; round < 4000; round++) {
    let stream: Uint8Array;
    const kind = round % 3;
    if (kind === 0) {
      // a valid stream with a few bytes changed
      stream = NESTED.slice();
      for (let k = 0, n = 1 + next(3); k < n; k++) stream[next(stream.length)] = alphabet[next(alphabet.length)] ?? 0;
    } else if (kind === 1) {
      // a valid stream cut or with bytes inserted
      const at = next(NESTED.length);
      stream = next(2) === 0 ? NESTED.subarray(0, at) : bytes(NESTED.subarray(0, at), [alphabet[next(alphabet.length)] ?? 0], NESTED.subarray(at));
    } else {
      // headers from the alphabet
      const length = next(120);
      stream = new Uint8Array(length);
      for (let i = 0; i < length; i++) stream[i] = alphabet[next(alphabet.length)] ?? 0;
      if (length > 5) stream.set(utf8.encode((length > 40 ? 0x26 : length).toString(16).padStart(4, '0')), 0);
    }
    const p = parser();
    const events: DirStreamEvent[] = [];
    try {
      for (let at = 0; at < stream.length; ) {
        const size = 1 + next(40);
        events.push(...p.push(stream.subarray(at, at + size)));
        at += size;
      }
      p.finish();
      parsed++;
    } catch (error) {
      assert.ok(error instanceof IpmsgError, `round ${round}: ${String(error)} for ${escapeBytes(stream)}`);
      assert.equal(error.code, 'IPMSG_ERR_PROTOCOL', `round ${round}: ${error.message}`);
      assert.match(error.message, /^Invalid folder stream: /);
      refused++;
      continue;
    }
    // Consistency of a stream that parsed: data adds up to each file's size, depth balances.
    let depth = 0;
    let remaining = 0;
    for (const event of events) {
      if (event.type === 'dir') {
        assert.equal(event.depth, depth);
        assert.equal(entryNameProblem(event.name), undefined);
        depth++;
      } else if (event.type === 'file') {
        assert.equal(event.depth, depth);
        assert.equal(entryNameProblem(event.name), undefined);
        remaining = event.size;
      } else if (event.type === 'data') {
        remaining -= event.bytes.length;
        assert.ok(remaining >= 0);
      } else if (event.type === 'fileEnd') {
        assert.equal(remaining, 0);
      } else if (event.type === 'up') {
        depth--;
      } else {
        assert.equal(depth, 0);
      }
    }
    assert.equal(events.at(-1)?.type, 'end');
  }
  assert.ok(parsed > 0 && refused > 0, `parsed ${parsed}, refused ${refused}`);
});
