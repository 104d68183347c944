// test/crypto/file-crypto.test.ts
// Encrypted file requests (§5.6): the request fields, and the AES-256-CTR stream against
// `openssl enc -aes-256-ctr` with the packet-number counter block built here by hand.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, describe, test } from 'node:test';
import { decodeFileBodyCrypto, encodeFileBodyCrypto } from '../../src/crypto/file-body.js';
import { cipherInPlace, createFileStreamCipher } from '../../src/crypto/file-crypto.js';
import { OpenSsl } from '../helpers/openssl.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
const PACKET_NO = 1700000006; // 0x6553f106

describe('request fields', () => {
  test('AES-256-CTR: 900000:<64 lower hex>:<pktno hex>', () => {
    const fields = encodeFileBodyCrypto({ kind: 'aes-256-ctr', key: KEY, packetNo: PACKET_NO });
    assert.equal(fields, `900000:${KEY.toString('hex')}:6553f106`);
    assert.deepEqual(decodeFileBodyCrypto(fields), { kind: 'aes-256-ctr', key: Uint8Array.from(KEY), packetNo: PACKET_NO });
  });

  test('clear body: 4000000:<pktno hex>', () => {
    assert.equal(encodeFileBodyCrypto({ kind: 'clear', packetNo: PACKET_NO }), '4000000:6553f106');
    assert.deepEqual(decodeFileBodyCrypto('4000000:6553F106'), { kind: 'clear', packetNo: PACKET_NO });
  });

  test('the packet number may be missing after a key (the official then skips its replay check)', () => {
    assert.deepEqual(decodeFileBodyCrypto(`900000:${KEY.toString('hex').toUpperCase()}`), { kind: 'aes-256-ctr', key: Uint8Array.from(KEY), packetNo: undefined });
    assert.equal(encodeFileBodyCrypto({ kind: 'aes-256-ctr', key: KEY, packetNo: undefined }), `900000:${KEY.toString('hex')}`);
  });

  for (const fields of ['', '9:00', `100000:${KEY.toString('hex')}:1`, `900000:${KEY.toString('hex').slice(2)}:1`, `900000:${KEY.toString('hex')}:xyz`, '4000000', '4000000:', '4000000:-1', 'zz:1']) {
    test(`refused: ${JSON.stringify(fields.slice(0, 30))}`, () => assert.equal(decodeFileBodyCrypto(fields), undefined));
  }

  test('a key that is not 32 bytes is a bug', () => {
    assert.throws(() => encodeFileBodyCrypto({ kind: 'aes-256-ctr', key: KEY.subarray(1), packetNo: 1 }), RangeError);
    assert.throws(() => createFileStreamCipher(KEY.subarray(1), 1), RangeError);
  });
});

describe('the AES-256-CTR stream against openssl', () => {
  const openssl = new OpenSsl();
  after(() => openssl.cleanup());
  /** "1700000006", then zeros: 16 bytes. */
  const iv = Buffer.concat([Buffer.from(String(PACKET_NO), 'latin1'), Buffer.alloc(16 - String(PACKET_NO).length)]);
  const theirs = (data: Buffer): Buffer => openssl.run(['enc', '-aes-256-ctr', '-K', KEY.toString('hex'), '-iv', iv.toString('hex')], data);

  for (const length of [0, 1, 15, 16, 17, 4096 + 3, 100_000]) {
    test(`${length} bytes in one piece`, () => {
      const data = randomBytes(length);
      const cipher = createFileStreamCipher(KEY, PACKET_NO);
      assert.deepEqual(Buffer.concat([cipher.update(data), cipher.final()]), theirs(data));
    });
  }

  test('as a Transform, in pieces of every size, and back', async () => {
    const data = randomBytes(70_000);
    const pieces: Buffer[] = [];
    for (let at = 0, size = 1; at < data.length; at += size, size = (size * 7 + 3) % 5000 || 1) pieces.push(data.subarray(at, at + size));
    const encrypted = await buffer(Readable.from(pieces).pipe(createFileStreamCipher(KEY, PACKET_NO)));
    assert.deepEqual(encrypted, theirs(data));
    const decrypted = await buffer(Readable.from([encrypted]).pipe(createFileStreamCipher(KEY, PACKET_NO)));
    assert.deepEqual(decrypted, data);
  });
});

describe('cipherInPlace', () => {
  test('gives the bytes one update() would, in place, across slice boundaries and odd lengths', () => {
    const key = new Uint8Array(32).fill(7);
    for (const length of [0, 1, 15, 65_000, 65_001, 65_536, 65_537, 200_003]) {
      const plain = Buffer.alloc(length);
      for (let i = 0; i < length; i++) plain[i] = (i * 31 + 5) & 0xff;
      const once = createFileStreamCipher(key, 1234).update(plain);
      const bytes = Buffer.from(plain);
      const cipher = createFileStreamCipher(key, 1234);
      cipherInPlace(cipher, bytes.subarray(0, Math.floor(length / 3)));
      cipherInPlace(cipher, bytes.subarray(Math.floor(length / 3)));
      assert.deepEqual(bytes, once, `length ${length}`);
    }
  });
});
