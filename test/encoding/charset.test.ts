// test/encoding/charset.test.ts
// Text ↔ bytes in UTF-8 and the legacy code pages (§7). Expected bytes are written out in hex
// (checked against Python's codecs), so these tests do not just compare iconv-lite with itself.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CHARSETS,
  type Charset,
  DEFAULT_FALLBACK_CHARSET,
  decodeText,
  detectCharset,
  encodeText,
  isAscii,
  legacyCharset,
  localeCharset,
  parseCharset,
} from '../../src/encoding/charset.js';
import { IpmsgError } from '../../src/errors.js';
import { bytes, hex, toHexString } from '../helpers/bytes.js';

/** encodeText(text) = bytes and decodeText(bytes) = text. */
function testRoundTrip(charset: Charset, text: string, expected: Uint8Array): void {
  test(`${charset}: ${text}`, () => {
    assert.equal(toHexString(encodeText(text, charset)), toHexString(expected));
    assert.equal(decodeText(expected, charset), text);
  });
}

describe('round trips with known bytes', () => {
  testRoundTrip('utf-8', 'héllo 世界 😀', bytes('h', hex('c3 a9'), 'llo ', hex('e4 b8 96 e7 95 8c'), ' ', hex('f0 9f 98 80')));
  testRoundTrip('cp932', 'こんにちは世界', hex('82 b1 82 f1 82 c9 82 bf 82 cd 90 a2 8a 45'));
  testRoundTrip('cp932', '山田太郎 ABC', hex('8e 52 93 63 91 be 98 59 20 41 42 43'));
  testRoundTrip('cp932', '表', hex('95 5c')); // the trail byte is ASCII '\'
  testRoundTrip('gbk', '中文飞鸽传书', hex('d6 d0 ce c4 b7 c9 b8 eb b4 ab ca e9'));
  testRoundTrip('gbk', '张三', hex('d5 c5 c8 fd'));
  testRoundTrip('gb18030', '中文飞鸽传书😀', hex('d6 d0 ce c4 b7 c9 b8 eb b4 ab ca e9 94 39 fc 36'));
  testRoundTrip('gb18030', '€', hex('a2 e3'));
  testRoundTrip('big5', '飛鴿傳書', hex('ad b8 c2 46 b6 c7 ae d1'));
  testRoundTrip('big5', '中', hex('a4 a4'));
  for (const charset of CHARSETS) testRoundTrip(charset, 'plain ASCII: 1:2\x07', bytes('plain ASCII: 1:2\x07'));
});

describe('GBK text decodes as GB18030 (its superset), as iptux does', () => {
  test('中文飞鸽传书', () => {
    assert.equal(decodeText(hex('d6 d0 ce c4 b7 c9 b8 eb b4 ab ca e9'), 'gb18030'), '中文飞鸽传书');
  });
});

function expectEncodingError(fn: () => unknown, char: string, codePoint: string, charset: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof IpmsgError);
    assert.equal(error.code, 'IPMSG_ERR_ENCODING');
    assert.ok(error.message.includes(JSON.stringify(char)), error.message);
    assert.ok(error.message.includes(codePoint), error.message);
    assert.ok(error.message.includes(charset), error.message);
    return true;
  });
}

describe('text a code page cannot hold', () => {
  test('simplified Chinese in cp932 names the first character it cannot hold (中 and 文 it can)', () => {
    expectEncodingError(() => encodeText('中文飞鸽传书', 'cp932'), '飞', 'U+98DE', 'cp932');
  });
  test('an emoji in gbk', () => {
    expectEncodingError(() => encodeText('你好😀', 'gbk'), '😀', 'U+1F600', 'gbk');
  });
  test('Hangul in big5 (iconv-lite big5 is Big5-HKSCS: it does hold kana and 飞)', () => {
    expectEncodingError(() => encodeText('中한', 'big5'), '한', 'U+D55C', 'big5');
  });
  test('a lone surrogate in utf-8', () => {
    assert.throws(
      () => encodeText('a\uD800b', 'utf-8'),
      (error: unknown) => error instanceof IpmsgError && error.code === 'IPMSG_ERR_ENCODING',
    );
  });
  test('the same texts in a code page that holds them', () => {
    assert.equal(toHexString(encodeText('中文飞鸽传书', 'gbk')), 'd6 d0 ce c4 b7 c9 b8 eb b4 ab ca e9');
    assert.equal(toHexString(encodeText('你好😀', 'gb18030')), 'c4 e3 ba c3 94 39 fc 36');
  });
});

describe('lossy writes a look-alike or ? instead', () => {
  test('cp932', () => {
    assert.equal(toHexString(encodeText('中文飞鸽传书', 'cp932', true)), '92 86 95 b6 3f 3f 3f 3f');
  });
  test('gbk', () => {
    assert.equal(decodeText(encodeText('你好😀', 'gbk', true), 'gbk'), '你好?');
  });
  test('a mark the code page lacks becomes a look-alike it holds: ✔ √, ✖ ×, · ・ in CP932', () => {
    assert.equal(decodeText(encodeText('✔ ok · ✖ failed — ✓✗', 'gbk', true), 'gbk'), '√ ok · × failed — √×');
    assert.equal(decodeText(encodeText('✔ ok · ✖ failed — ✓✗', 'cp932', true), 'cp932'), '√ ok ・ × failed ― √×');
    assert.equal(decodeText(encodeText('✔ ✖ 😀', 'big5', true), 'big5'), '√ × ?');
    // GB18030 holds every character: nothing is replaced.
    assert.equal(decodeText(encodeText('✔ ✖', 'gb18030', true), 'gb18030'), '✔ ✖');
  });
  test('without lossy the mark is still refused', () => {
    assert.throws(() => encodeText('✔ done', 'gbk'), /Cannot encode "✔" \(U\+2714\) in gbk/);
  });
  test('utf-8 with a lone surrogate: U+FFFD', () => {
    assert.equal(toHexString(encodeText('a\uD800', 'utf-8', true)), '61 ef bf bd');
  });
});

describe('decodeText', () => {
  test('invalid UTF-8 becomes U+FFFD', () => {
    assert.equal(decodeText(hex('61 ff 62'), 'utf-8'), 'a\uFFFDb');
  });
  test('a leading U+FEFF in a field is text, not a byte-order mark', () => {
    assert.equal(decodeText(hex('ef bb bf 61'), 'utf-8'), '\uFEFFa');
    assert.equal(decodeText(hex('84 31 95 33 61'), 'gb18030'), '\uFEFFa');
  });
  test('decodes a view into a larger buffer (byteOffset honoured)', () => {
    const all = bytes('xx', hex('8e 52 93 63'), 'yy');
    assert.equal(decodeText(all.subarray(2, 6), 'cp932'), '山田');
    assert.equal(decodeText(all.subarray(2, 6), 'gbk'), decodeText(hex('8e 52 93 63'), 'gbk'));
  });
});

describe('detectCharset (§7: UTF8OPT wins, valid UTF-8 → UTF-8, else the fallback)', () => {
  const gbk = hex('c4 e3 ba c3'); // 你好 in GBK: not UTF-8
  const utf8 = bytes('你好');
  test('UTF8OPT wins even over bytes that are not UTF-8', () => {
    assert.equal(detectCharset([gbk], true, 'gb18030'), 'utf-8');
  });
  test('valid UTF-8 without the flag is UTF-8', () => {
    assert.equal(detectCharset([bytes('alice'), utf8], false, 'cp932'), 'utf-8');
  });
  test('pure ASCII is UTF-8', () => {
    assert.equal(detectCharset([bytes('alice'), bytes('PC1')], false, 'gbk'), 'utf-8');
  });
  test('one part that is not UTF-8 makes all of it the fallback', () => {
    assert.equal(detectCharset([utf8, gbk], false, 'gb18030'), 'gb18030');
    assert.equal(detectCharset([gbk, utf8], false, 'cp932'), 'cp932');
  });
  test('empty parts and no parts are UTF-8', () => {
    assert.equal(detectCharset([], false, 'big5'), 'utf-8');
    assert.equal(detectCharset([new Uint8Array(0)], false, 'big5'), 'utf-8');
  });
  test('a truncated UTF-8 sequence is not UTF-8', () => {
    assert.equal(detectCharset([hex('e4 bd')], false, 'gbk'), 'gbk');
  });
  test('the default fallback is GB18030', () => {
    assert.equal(DEFAULT_FALLBACK_CHARSET, 'gb18030');
  });
});

describe('parseCharset', () => {
  test('names and aliases', () => {
    const cases: [string, Charset][] = [
      ['utf-8', 'utf-8'],
      ['UTF8', 'utf-8'],
      ['Shift_JIS', 'cp932'],
      ['sjis', 'cp932'],
      ['windows-31j', 'cp932'],
      ['CP936', 'gbk'],
      [' gb2312 ', 'gbk'],
      ['GB18030', 'gb18030'],
      ['cp950', 'big5'],
    ];
    for (const [name, charset] of cases) assert.equal(parseCharset(name), charset, name);
  });
  test('unsupported names', () => {
    for (const name of ['latin1', 'euc-jp', 'utf-16', '', 'toString', 'constructor', '__proto__']) {
      assert.equal(parseCharset(name), undefined, name); // not Object.prototype's members either
    }
  });
});

test('isAscii', () => {
  assert.equal(isAscii(''), true);
  assert.equal(isAscii('alice:PC1\x00\x7f'), true);
  assert.equal(isAscii('é'), false);
  assert.equal(isAscii('\u0080'), false);
});

describe('the legacy code page a locale implies', () => {
  const cases: [string | undefined, Charset | undefined][] = [
    ['zh_CN.GBK', 'gbk'],
    ['zh_CN.GB18030', 'gb18030'],
    ['zh_CN.UTF-8', 'gb18030'],
    ['zh_SG', 'gb18030'],
    ['zh_TW.UTF-8', 'big5'],
    ['zh_HK.Big5', 'big5'],
    ['ja_JP.SJIS', 'cp932'],
    ['ja_JP.UTF-8', 'cp932'],
    ['ja_JP.eucJP', 'cp932'],
    ['en_US.UTF-8', undefined],
    ['de_DE@euro', undefined],
    ['C.UTF-8', undefined],
    ['POSIX', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [lang, expected] of cases) {
    test(`LANG=${String(lang)} → ${String(expected)}`, () => assert.equal(localeCharset({ LANG: lang }), expected));
  }

  test('LC_ALL wins over LC_CTYPE, which wins over LANG; empty ones are skipped', () => {
    assert.equal(localeCharset({ LC_ALL: 'ja_JP.UTF-8', LC_CTYPE: 'zh_CN.GBK', LANG: 'zh_TW.Big5' }), 'cp932');
    assert.equal(localeCharset({ LC_ALL: '', LC_CTYPE: 'zh_CN.GBK', LANG: 'zh_TW.Big5' }), 'gbk');
    assert.equal(localeCharset({ LANG: 'zh_TW.Big5' }), 'big5');
  });

  test('legacyCharset: a forced legacy code page, else the locale, else GB18030', () => {
    assert.equal(legacyCharset('cp932', { LANG: 'zh_CN.GBK' }), 'cp932');
    assert.equal(legacyCharset('utf-8', { LANG: 'ja_JP.UTF-8' }), 'cp932');
    assert.equal(legacyCharset(undefined, { LANG: 'en_US.UTF-8' }), DEFAULT_FALLBACK_CHARSET);
    assert.equal(DEFAULT_FALLBACK_CHARSET, 'gb18030');
  });
});
