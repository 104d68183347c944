// test/encoding/fields.test.ts
// Byte-level helpers for NUL/colon separated fields.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COLON, NUL, asciiBytes, asciiText, concatBytes, parseHex, splitBytes, toHex } from '../../src/encoding/fields.js';
import { bytes, escapeBytes } from '../helpers/bytes.js';

const show = (parts: Uint8Array[]): string[] => parts.map(escapeBytes);

describe('splitBytes', () => {
  test('like String.split: empty parts kept', () => {
    assert.deepStrictEqual(show(splitBytes(bytes('1:2::4:'), COLON)), ['1', '2', '', '4', '']);
    assert.deepStrictEqual(show(splitBytes(bytes(''), COLON)), ['']);
    assert.deepStrictEqual(show(splitBytes(bytes('abc'), NUL)), ['abc']);
  });
  test('with a limit the last part keeps the remaining separators', () => {
    assert.deepStrictEqual(show(splitBytes(bytes('1:2:a:b:32:x:y:z'), COLON, 6)), ['1', '2', 'a', 'b', '32', 'x:y:z']);
    assert.deepStrictEqual(show(splitBytes(bytes('a:b'), COLON, 1)), ['a:b']);
  });
  test('the parts are views of the input, not copies', () => {
    const data = bytes('ab:cd');
    const [, second] = splitBytes(data, COLON);
    assert.ok(second !== undefined);
    assert.equal(second.buffer, data.buffer);
    assert.equal(second.byteOffset, 3);
  });
});

describe('concatBytes', () => {
  test('joins in order', () => {
    assert.equal(escapeBytes(concatBytes([bytes('1:'), new Uint8Array(0), bytes('x\0')])), '1:x\\0');
    assert.equal(concatBytes([]).length, 0);
  });
});

describe('asciiText / asciiBytes', () => {
  test('one character per byte for all 256 values (ISO-8859-1, not windows-1252)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = asciiText(all);
    assert.equal(text.length, 256);
    for (let i = 0; i < 256; i++) assert.equal(text.charCodeAt(i), i, `byte 0x${i.toString(16)}`);
    assert.deepStrictEqual(asciiBytes(text), all);
  });
  test('honours the view of a larger buffer', () => {
    assert.equal(asciiText(bytes('xx1234yy').subarray(2, 6)), '1234');
  });
  test('asciiBytes of header text', () => {
    assert.equal(escapeBytes(asciiBytes('1_iptux 0.8.3:4:')), '1_iptux 0.8.3:4:');
  });
});

describe('hex', () => {
  test('toHex: lower case, no padding (%x)', () => {
    assert.equal(toHex(0), '0');
    assert.equal(toHex(0x1a2b3), '1a2b3');
    assert.equal(toHex(0xfffffffffffff), 'fffffffffffff');
    assert.equal(toHex(2n ** 64n), '10000000000000000');
  });
  test('parseHex: either case, 1 to 13 digits', () => {
    assert.equal(parseHex('65f1c2a0'), 0x65f1c2a0);
    assert.equal(parseHex('65F1C2A0'), 0x65f1c2a0);
    assert.equal(parseHex('0'), 0);
    assert.equal(parseHex('fffffffffffff'), 2 ** 52 - 1);
  });
  test('parseHex refuses the rest', () => {
    for (const text of ['', '0x10', '-1', ' 1', '1 ', 'g', '10000000000000', '1.5']) assert.equal(parseHex(text), undefined, text);
  });
});
