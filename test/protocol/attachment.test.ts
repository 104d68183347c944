// test/protocol/attachment.test.ts
// The attachment list of a SENDMSG offer (§5.1): fileID:name:size:mtime:attr[:ext=val…]:\a

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Attachment, attachmentKind, decodeAttachments, encodeAttachments } from '../../src/protocol/attachment.js';
import {
  IPMSG_FILE_CLIPBOARD,
  IPMSG_FILE_CLIPBOARDPOS,
  IPMSG_FILE_DIR,
  IPMSG_FILE_MTIME,
  IPMSG_FILE_REGULAR,
  IPMSG_FILE_RONLYOPT,
  IPMSG_FILE_SYMLINK,
} from '../../src/protocol/file-attr.js';

const LIMITS = { maxAttachments: 1000, maxFileNameChars: 765 };

const decode = (list: string): Attachment[] => decodeAttachments(list, LIMITS);

/** encode(attachments) = list, decode(list) = attachments. */
function testBothWays(name: string, attachments: Attachment[], list: string): void {
  describe(name, () => {
    test('decode', () => assert.deepStrictEqual(decode(list), attachments));
    test('encode', () => assert.equal(encodeAttachments(attachments), list));
  });
}

describe('two-way vectors', () => {
  testBothWays(
    'one regular file (§14)',
    [{ fileId: 0, name: 'report.pdf', size: 0x1a2b3, mtime: 0x65f1c2a0, attr: IPMSG_FILE_REGULAR }],
    '0:report.pdf:1a2b3:65f1c2a0:1:\x07',
  );
  testBothWays(
    "the official's random decimal ids, a file and a directory",
    [
      { fileId: 583920174, name: 'a.txt', size: 5, mtime: 0x65f1c2a0, attr: IPMSG_FILE_REGULAR },
      { fileId: 583920175, name: 'docs', size: 0, mtime: 0x65f1c2a0, attr: IPMSG_FILE_DIR },
    ],
    '583920174:a.txt:5:65f1c2a0:1:\x07583920175:docs:0:65f1c2a0:2:\x07',
  );
  testBothWays(
    "':' in a name is escaped as '::'",
    [{ fileId: 1, name: 'a:b::c:', size: 16, mtime: 0, attr: 1 }],
    '1:a::b::::c:::10:0:1:\x07',
  );
  testBothWays(
    'a name starting with a colon',
    [{ fileId: 1, name: ':x', size: 1, mtime: 0, attr: 1 }],
    '1:::x:1:0:1:\x07',
  );
  testBothWays(
    'attribute options above the type byte (read-only file)',
    [{ fileId: 7, name: 'ro.txt', size: 0xff, mtime: 0x1, attr: IPMSG_FILE_REGULAR | IPMSG_FILE_RONLYOPT }],
    '7:ro.txt:ff:1:101:\x07',
  );
  testBothWays(
    'a clipboard image with its position (the only extra attribute the official writes)',
    [
      {
        fileId: 3,
        name: 'image.png',
        size: 0x400,
        mtime: 0x65f1c2a0,
        attr: IPMSG_FILE_CLIPBOARD,
        extra: { [IPMSG_FILE_CLIPBOARDPOS]: '3' },
      },
    ],
    '3:image.png:400:65f1c2a0:20:8=3:\x07',
  );
  testBothWays(
    'extended attributes are written in id order, ids in hex',
    [{ fileId: 2, name: 'f', size: 1, mtime: 2, attr: 1, extra: { [IPMSG_FILE_MTIME]: '65f1c2a0', 0x16: '65f1c2a1' } }],
    '2:f:1:2:1:14=65f1c2a0:16=65f1c2a1:\x07',
  );
  testBothWays('non-ASCII names pass through unchanged', [{ fileId: 0, name: '報告 2024.txt', size: 0, mtime: 0, attr: 1 }], '0:報告 2024.txt:0:0:1:\x07');
  testBothWays('the largest safe size (13 hex digits)', [{ fileId: 0, name: 'big', size: 0xfffffffffffff, mtime: 0, attr: 1 }], '0:big:fffffffffffff:0:1:\x07');
  testBothWays('an empty list', [], '');
});

describe('separators real clients write', () => {
  const two = [
    { fileId: 10000, name: 'hello.txt', size: 0x1d, mtime: 0x6b02c30c, attr: 1 },
    { fileId: 10001, name: 'docs', size: 0x22, mtime: 0x6b02c30c, attr: 2 },
  ];
  test("iptux's '\\a:' (§15)", () => {
    assert.deepStrictEqual(decode('10000:hello.txt:1d:6b02c30c:1:\x07:10001:docs:22:6b02c30c:2:\x07'), two);
  });
  test("':\\a:' with the colon on both sides", () => {
    assert.deepStrictEqual(decode('10000:hello.txt:1d:6b02c30c:1:\x07:10001:docs:22:6b02c30c:2:\x07:'), two);
  });
  test("'\\a' without the trailing colon (spec `\\a[:]`)", () => {
    assert.deepStrictEqual(decode('10000:hello.txt:1d:6b02c30c:1\x0710001:docs:22:6b02c30c:2\x07'), two);
  });
  test('no separator after the last entry', () => {
    assert.deepStrictEqual(decode('10000:hello.txt:1d:6b02c30c:1:\x0710001:docs:22:6b02c30c:2:'), two);
  });
  test('runs of empty fields and separators are skipped', () => {
    assert.deepStrictEqual(decode('\x07\x0710000:hello.txt:1d::6b02c30c:::1:\x07\x07\x0710001:docs:22:6b02c30c:2:\x07'), two);
  });
  test('upper-case hex', () => {
    assert.deepStrictEqual(decode('1:A:1D:6B02C30C:1:\x07'), [{ fileId: 1, name: 'A', size: 0x1d, mtime: 0x6b02c30c, attr: 1 }]);
  });
  test('a missing attr means a regular file; a missing mtime means 0', () => {
    assert.deepStrictEqual(decode('1:a:10:5\x072:b:20\x07'), [
      { fileId: 1, name: 'a', size: 16, mtime: 5, attr: IPMSG_FILE_REGULAR },
      { fileId: 2, name: 'b', size: 32, mtime: 0, attr: IPMSG_FILE_REGULAR },
    ]);
  });
  test('an extra attribute without a value, and fields that are not attributes, are tolerated', () => {
    assert.deepStrictEqual(decode('1:a:1:0:1:14=:junk:=5:zz=1:\x07'), [{ fileId: 1, name: 'a', size: 1, mtime: 0, attr: 1, extra: { 0x14: '' } }]);
  });
});

describe('an offered time that cannot be read', () => {
  test('more than 13 hex digits: the file is kept, its time 0, the text in unreadMtime', () => {
    assert.deepStrictEqual(decode('3:x.txt:10:10000000000000:1:\x07'), [
      { fileId: 3, name: 'x.txt', size: 16, mtime: 0, unreadMtime: '10000000000000', attr: IPMSG_FILE_REGULAR },
    ]);
  });
  test('not hex: the same', () => {
    assert.deepStrictEqual(decode('1:x.txt:1:tomorrow:2:\x07'), [{ fileId: 1, name: 'x.txt', size: 1, mtime: 0, unreadMtime: 'tomorrow', attr: IPMSG_FILE_DIR }]);
  });
});

describe('entries that do not parse are skipped, the others kept', () => {
  const good = '9:ok.txt:1:0:1:\x07';
  const ok = { fileId: 9, name: 'ok.txt', size: 1, mtime: 0, attr: 1 };
  const cases: [string, string][] = [
    ['hex file id', 'a:x.txt:1:0:1:'],
    ['negative file id', '-1:x.txt:1:0:1:'],
    ['eleven-digit file id', '12345678901:x.txt:1:0:1:'],
    ['empty file id', ':x.txt:1:0:1:'],
    ['empty name', '1::1:0:1:'],
    ['no size', '1:x.txt'],
    ['size not hex', '1:x.txt:zz:0:1:'],
    ['size of 14 hex digits (beyond 2^53)', '1:x.txt:10000000000000:0:1:'],
    ['attr not hex', '1:x.txt:1:0:file:'],
    ['no colon at all', 'garbage'],
  ];
  for (const [name, entry] of cases) {
    test(name, () => {
      assert.deepStrictEqual(decode(`${entry}\x07${good}`), [ok]);
      assert.deepStrictEqual(decode(entry), []);
    });
  }
  test('a name longer than the limit', () => {
    const limits = { maxAttachments: 10, maxFileNameChars: 4 };
    assert.deepStrictEqual(decodeAttachments('1:abcde:1:0:1:\x072:abcd:1:0:1:\x07', limits), [
      { fileId: 2, name: 'abcd', size: 1, mtime: 0, attr: 1 },
    ]);
  });
  test('no more than maxAttachments entries', () => {
    const list = Array.from({ length: 5 }, (_, i) => `${i}:f${i}:1:0:1:\x07`).join('');
    const decoded = decodeAttachments(list, { maxAttachments: 3, maxFileNameChars: 765 });
    assert.deepStrictEqual(
      decoded.map((a) => a.fileId),
      [0, 1, 2],
    );
  });
});

describe('attachmentKind', () => {
  test('regular file, directory, anything else', () => {
    assert.equal(attachmentKind(IPMSG_FILE_REGULAR), 'file');
    assert.equal(attachmentKind(IPMSG_FILE_REGULAR | IPMSG_FILE_RONLYOPT), 'file');
    assert.equal(attachmentKind(IPMSG_FILE_DIR), 'dir');
    assert.equal(attachmentKind(IPMSG_FILE_CLIPBOARD), 'other');
    assert.equal(attachmentKind(IPMSG_FILE_SYMLINK), 'other');
    assert.equal(attachmentKind(IPMSG_FILE_RONLYOPT), 'other'); // option bits alone: type 0
  });
});

test('round trip over generated lists (names with colons, all separators)', () => {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = ['a', 'b', ':', '.', ' ', '報', '😀', '=', '-'];
  for (let round = 0; round < 500; round++) {
    const attachments: Attachment[] = Array.from({ length: next(5) }, () => {
      let name = '';
      const length = 1 + next(8);
      for (let i = 0; i < length; i++) name += alphabet[next(alphabet.length)];
      const a: Attachment = { fileId: next(2 ** 31), name, size: next(2 ** 31), mtime: next(2 ** 31), attr: 1 + next(2) };
      return next(3) === 0 ? { ...a, extra: { [0x14]: next(2 ** 31).toString(16) } } : a;
    });
    assert.deepStrictEqual(decode(encodeAttachments(attachments)), attachments, JSON.stringify(attachments));
  }
});
