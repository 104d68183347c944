// test/crypto/rsa-pkcs1.test.ts
// The session-key unwrap: PKCS#1 v1.5 type-2 blocks built byte by byte here and raised to e with
// OpenSSL's raw RSA, so every malformation can be tried; openssl pkeyutl for the real thing.

import assert from 'node:assert/strict';
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { rsaDecrypt, rsaEncrypt } from '../../src/crypto/rsa-pkcs1.js';
import { fixtureKey } from '../helpers/keys.js';
import { OpenSsl } from '../helpers/openssl.js';

const bob = fixtureKey('bob-rsa2048');
const KEY = Buffer.from('a1'.repeat(32), 'hex');

/** 00 02 PS 00 M for a 256-byte modulus, PS nonzero unless told otherwise. */
function block(options: { first?: number; type?: number; psLength?: number; separator?: number; message?: Buffer; zeroInPs?: number } = {}): Buffer {
  const message = options.message ?? KEY;
  const psLength = options.psLength ?? 256 - 3 - message.length;
  const ps = Buffer.alloc(psLength, 0x5a);
  if (options.zeroInPs !== undefined) ps[options.zeroInPs] = 0;
  const out = Buffer.concat([Buffer.from([options.first ?? 0, options.type ?? 2]), ps, Buffer.from([options.separator ?? 0]), message]);
  assert.equal(out.length, 256);
  return out;
}

const raise = (em: Buffer): Buffer => publicEncrypt({ key: bob.publicKey, padding: constants.RSA_NO_PADDING }, em);

describe('rsaDecrypt', () => {
  test('a well-formed block gives the key', () => {
    assert.deepEqual(rsaDecrypt(bob.privateKey, raise(block()), 32), { key: KEY, ok: true });
  });

  const malformed: [string, Buffer, number][] = [
    ['first byte 01', block({ first: 1 }), 32],
    ['block type 01 (a signature block)', block({ type: 1 }), 32],
    ['separator not 00', block({ separator: 7 }), 32],
    ['a zero inside the padding string', block({ zeroInPs: 100 }), 32],
    ['a zero in the first padding byte', block({ zeroInPs: 0 }), 32],
    ['key of 31 bytes where 32 are expected', block({ message: KEY.subarray(1), psLength: 222 }), 32],
    ['key of 33 bytes where 32 are expected', block({ message: Buffer.concat([KEY, Buffer.from([1])]), psLength: 220 }), 32],
    ['padding string of 7 bytes', block({ message: randomBytes(246), psLength: 7 }), 246],
  ];
  for (const [name, em, length] of malformed) {
    test(`refused, with a random stand-in key of the right length: ${name}`, () => {
      const result = rsaDecrypt(bob.privateKey, raise(em), length);
      assert.equal(result.ok, false);
      assert.equal(result.key.length, length);
      assert.notDeepEqual(result.key, em.subarray(256 - length));
    });
  }

  test('a padding string of exactly 8 bytes is fine', () => {
    const message = randomBytes(245);
    assert.deepEqual(rsaDecrypt(bob.privateKey, raise(block({ message, psLength: 8 })), 245), { key: message, ok: true });
  });

  test('a ciphertext of the wrong length or not below the modulus: refused, not thrown', () => {
    assert.equal(rsaDecrypt(bob.privateKey, Buffer.alloc(255, 1), 32).ok, false);
    assert.equal(rsaDecrypt(bob.privateKey, Buffer.alloc(256, 0xff), 32).ok, false);
  });
});

describe('against openssl pkeyutl (PKCS#1 padding)', () => {
  const openssl = new OpenSsl();
  after(() => openssl.cleanup());
  const publicPath = openssl.file('bob.pub.pem', bob.publicPem);

  test('openssl encrypts, we decrypt', () => {
    const key = randomBytes(32);
    const args = ['pkeyutl', '-encrypt', '-pubin', '-inkey', publicPath, '-pkeyopt', 'rsa_padding_mode:pkcs1', '-in', openssl.file('k', key)];
    assert.deepEqual(rsaDecrypt(bob.privateKey, openssl.run(args), 32), { key, ok: true });
  });

  test('we encrypt, openssl decrypts', () => {
    const key = randomBytes(32);
    const args = ['pkeyutl', '-decrypt', '-inkey', bob.pemPath, '-pkeyopt', 'rsa_padding_mode:pkcs1', '-in', openssl.file('c', rsaEncrypt(bob.publicKey, key))];
    assert.deepEqual(openssl.run(args), key);
  });
});
