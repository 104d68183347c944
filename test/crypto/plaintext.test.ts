// test/crypto/plaintext.test.ts
// The decrypted layout (§6.3, §6.4): text NUL [attachments NUL] [TO-list NUL], and the empty
// attachment field that keeps a recipient list third.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePlaintext, encodePlaintext } from '../../src/crypto/plaintext.js';
import { isIpmsgError } from '../../src/errors.js';
import { bytes, escapeBytes, hex } from '../helpers/bytes.js';

const FILE = { fileId: 1, name: 'a:b.txt', size: 0x10, mtime: 0x65f1c2a0, attr: 1 };
const BOB = { user: 'bob', host: 'PC2' };
const CAROL = { user: 'carol', host: 'PC3' };

const vectors: [string, Parameters<typeof encodePlaintext>[0], Uint8Array][] = [
  ['text only', { text: 'hi' }, bytes('hi\0')],
  ['text and files', { text: 'hi', attachments: [FILE] }, bytes('hi\0', '1:a::b.txt:10:65f1c2a0:1:\x07\0')],
  ['text and recipients: an empty attachment field first', { text: 'hi', recipients: [BOB, CAROL] }, bytes('hi\0\0TO:bob:PC2\x07carol:PC3\x07\0')],
  ['all three', { text: 'hi', attachments: [FILE], recipients: [BOB] }, bytes('hi\0', '1:a::b.txt:10:65f1c2a0:1:\x07\0', 'TO:bob:PC2\x07\0')],
  ['empty text', { text: '' }, bytes('\0')],
];

describe('encodePlaintext / decodePlaintext', () => {
  for (const [name, parts, expected] of vectors) {
    test(name, () => {
      assert.equal(escapeBytes(encodePlaintext(parts)), escapeBytes(expected));
      assert.deepEqual(decodePlaintext(expected, true), parts);
    });
  }

  test('text and file list in the legacy code page, the recipient list in UTF-8 (as the official writes it)', () => {
    const encoded = encodePlaintext({ text: '日本', recipients: [{ user: 'ユーザ', host: 'PC' }] }, 'cp932');
    const expected = bytes(hex('93fa 967b'), '\0\0TO:ユーザ:PC\x07\0');
    assert.equal(escapeBytes(encoded), escapeBytes(expected));
    assert.deepEqual(decodePlaintext(encoded, true, 'cp932'), { text: '日本', recipients: [{ user: 'ユーザ', host: 'PC' }] });
  });

  test('without ENCEXTMSGOPT only the text counts', () => {
    assert.deepEqual(decodePlaintext(bytes('hi\0\0TO:bob:PC2\x07\0'), false), { text: 'hi' });
  });

  test('lenient reading: no final NUL, a TO field without TO:, entries without a host', () => {
    assert.deepEqual(decodePlaintext(bytes('hi'), true), { text: 'hi' });
    assert.deepEqual(decodePlaintext(bytes('hi\0\0bob:PC2\0'), true), { text: 'hi' });
    assert.deepEqual(decodePlaintext(bytes('hi\0\0TO:bob\x07:PC\x07carol:PC3:x\x07'), true), { text: 'hi', recipients: [CAROL] });
  });

  test('at most 100 recipients are read', () => {
    const list = Array.from({ length: 150 }, (_, i) => `u${i}:h\x07`).join('');
    assert.equal(decodePlaintext(bytes(`x\0\0TO:${list}\0`), true).recipients?.length, 100);
  });

  test('refused: NUL in the text; NUL, BEL or colon in a recipient', () => {
    assert.throws(() => encodePlaintext({ text: 'a\0b' }), (e) => isIpmsgError(e, 'IPMSG_ERR_INPUT'));
    for (const recipient of [{ user: 'a:b', host: 'h' }, { user: 'a', host: 'h\x07' }, { user: 'a\0', host: 'h' }]) {
      assert.throws(() => encodePlaintext({ text: 'x', recipients: [recipient] }), (e) => isIpmsgError(e, 'IPMSG_ERR_INPUT'));
    }
  });
});
