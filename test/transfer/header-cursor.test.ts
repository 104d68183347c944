// test/transfer/header-cursor.test.ts
// FieldCursor walks the ':'-separated fields of one folder-stream header (§5.3) within its bounds;
// hexNumber and timeValue read its numbers, `%llx` times before 1970 included.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FieldCursor, hexNumber, timeValue } from '../../src/transfer/header-cursor.js';

const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1');

describe('FieldCursor', () => {
  test('walks the fields of a header, and only within its bounds', () => {
    // A header at offset 3 of a larger buffer, followed by bytes of the next one.
    const header = '0016:a.txt:1f:1:14=65:';
    const bytes = latin1(`xyz${header}0012:next:`);
    const end = 3 + header.length;
    const c = new FieldCursor().reset(bytes, 3, end);
    const fields: string[] = [];
    while (c.next()) fields.push(Buffer.from(bytes.subarray(c.from, c.to)).toString('latin1'));
    assert.deepEqual(fields, ['0016', 'a.txt', '1f', '1', '14=65']);
    assert.equal(c.next(), false, 'stays at the end');
  });

  test('hex(), indexOf() and is() read the current field', () => {
    const c = new FieldCursor().reset(latin1('.:FF:14=1:'), 0, 10);
    assert.ok(c.next() && c.is(0x2e));
    assert.ok(c.next() && c.hex(0xff) === 255 && c.hex(0xfe) === -1);
    assert.ok(c.next());
    assert.equal(c.indexOf(0x3d), 7);
    assert.equal(c.indexOf(0x3a), -1);
  });

  test('a field without its closing colon is not a field', () => {
    const c = new FieldCursor().reset(latin1('abc'), 0, 3);
    assert.equal(c.next(), false);
  });
});

describe('hexNumber and timeValue', () => {
  test('hex digits of either case, empty and non-hex refused, values above the limit refused', () => {
    assert.equal(hexNumber(latin1('aF09'), 0, 4, 0xffff), 0xaf09);
    assert.equal(hexNumber(latin1(''), 0, 0, 10), -1);
    assert.equal(hexNumber(latin1('1g'), 0, 2, 100), -1);
    assert.equal(hexNumber(latin1('100'), 0, 3, 0xff), -1);
  });

  test('a time is its hex value, or a 64-bit two’s complement for times before 1970', () => {
    assert.equal(timeValue(latin1('65a0bc00'), 0, 8), 0x65a0bc00);
    assert.equal(timeValue(latin1('ffffffffffffffff'), 0, 16), -1);
    assert.equal(timeValue(latin1('00ffffffffffffff0'), 0, 17), undefined, 'not 16 significant digits');
    assert.equal(timeValue(latin1('zz'), 0, 2), undefined);
  });
});
