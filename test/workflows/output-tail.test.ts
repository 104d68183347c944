// test/workflows/output-tail.test.ts
// The end of a command's output: bounded in bytes, read back as the lines a terminal would show.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutputTail } from '../../src/workflows/output-tail.js';

const bytes = (text: string): Uint8Array => Buffer.from(text);

describe('OutputTail', () => {
  test('keeps the last n lines, whatever the pieces the output came in', () => {
    const tail = new OutputTail();
    for (const piece of ['one\ntw', 'o\nthree\n', 'four\nfi', 've\n']) tail.push(bytes(piece));
    assert.deepEqual(tail.lines(3), { lines: ['three', 'four', 'five'], cut: true });
    assert.deepEqual(tail.lines(10), { lines: ['one', 'two', 'three', 'four', 'five'], cut: false });
    assert.deepEqual(tail.lines(0), { lines: [], cut: true });
  });

  test('a last line without a line end is shown; empty lines are kept', () => {
    const tail = new OutputTail();
    tail.push(bytes('a\n\nno newline'));
    assert.deepEqual(tail.lines(5).lines, ['a', '', 'no newline']);
  });

  test('CRLF is one line end; a bare CR keeps what was written after it', () => {
    const tail = new OutputTail();
    tail.push(bytes('first\r\nprogress 10%\rprogress 100%\r\ndone\r\n'));
    assert.deepEqual(tail.lines(5).lines, ['first', 'progress 100%', 'done']);
  });

  test('colour and other terminal escapes are removed', () => {
    const tail = new OutputTail();
    tail.push(bytes('\x1b[1;31mFAIL\x1b[0m test \x1b]0;title\x07x\n'));
    assert.deepEqual(tail.lines(1).lines, ['FAIL test x']);
  });

  test('NUL and other control characters are removed; tabs stay', () => {
    const tail = new OutputTail();
    tail.push(Uint8Array.from([0x61, 0x00, 0x09, 0x62, 0x07, 0x08, 0x7f, 0x0a, 0x00, 0x00]));
    assert.deepEqual(tail.lines(5).lines, ['a\tb', '']);
  });

  test('invalid UTF-8 shows as U+FFFD, valid multi-byte text survives being split across pieces', () => {
    const tail = new OutputTail();
    const text = Buffer.from('飞鸽\n');
    tail.push(text.subarray(0, 2));
    tail.push(text.subarray(2));
    tail.push(Uint8Array.from([0x61, 0xff, 0xfe, 0x62, 0x0a]));
    assert.deepEqual(tail.lines(2).lines, ['飞鸽', 'a\ufffd\ufffdb']);
  });

  test('memory is bounded: a long line keeps only its end, and older output is let go', () => {
    const tail = new OutputTail(64);
    tail.push(bytes(`${'x'.repeat(1000)}\n`));
    for (let i = 0; i < 1000; i++) tail.push(bytes('y'.repeat(10)));
    tail.push(bytes('\nlast\n'));
    const { lines, cut } = tail.lines(20);
    assert.equal(cut, true);
    assert.deepEqual(lines.at(-1), 'last');
    assert.ok(Buffer.byteLength(lines.join('\n')) <= 64, lines.join('\n'));
    assert.match(lines[0] ?? '', /^y+$/);
  });

  test('a multi-byte character whose start was let go is not shown half', () => {
    const tail = new OutputTail(5);
    tail.push(bytes('aaaa飞鸽'));
    // The last 5 bytes start inside 飞 (3 bytes): only 鸽 is shown.
    assert.deepEqual(tail.lines(1), { lines: ['鸽'], cut: true });
  });
});
