// test/crypto/fingerprint.test.ts
// The user-name fingerprint (§6.6), step by step for a fixed key, each step redone independently:
// the modulus from `openssl rsa -modulus`, the SHA-1 from `openssl dgst -sha1`.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { checkNameFingerprint, fingerprint, fingerprintSteps, parseFingerprintName, withFingerprint } from '../../src/crypto/fingerprint.js';
import { publicParts } from '../../src/crypto/keys.js';
import { toHexString } from '../helpers/bytes.js';
import { type FixtureName, fixtureKey } from '../helpers/keys.js';
import { OpenSsl } from '../helpers/openssl.js';

const openssl = new OpenSsl();
after(() => openssl.cleanup());

const compact = (data: Uint8Array): string => toHexString(data).replace(/ /g, '');

/** The fingerprint computed with openssl for the modulus and the hash, and plain byte shuffling here. */
function independently(name: FixtureName): { le: Buffer; sha1: Buffer; padded: Buffer; folded: Buffer; hex: string } {
  const modulusHex = openssl.run(['rsa', '-in', fixtureKey(name).pemPath, '-noout', '-modulus']).toString().trim().replace(/^Modulus=/, '');
  const le = Buffer.from(modulusHex, 'hex').reverse();
  const sha1 = openssl.run(['dgst', '-sha1', '-binary', openssl.file(`${name}.le`, le)]);
  const padded = Buffer.concat([Buffer.from(sha1).reverse(), Buffer.alloc(4)]);
  const folded = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) folded[i] = (padded[i] ?? 0) ^ (padded[i + 8] ?? 0) ^ (padded[i + 16] ?? 0);
  return { le, sha1, padded, folded, hex: folded.toString('hex') };
}

describe('fingerprint', () => {
  test('alice-rsa2048 step by step, against openssl', (t) => {
    const key = fixtureKey('alice-rsa2048');
    const steps = fingerprintSteps(publicParts(key.publicKey).modulus);
    const expected = independently('alice-rsa2048');
    t.diagnostic(`little-endian modulus, first 16 bytes: ${toHexString(steps.littleEndianModulus.subarray(0, 16))}`);
    t.diagnostic(`SHA-1 of it:                          ${toHexString(steps.sha1)}`);
    t.diagnostic(`reversed + 4 zero bytes:              ${toHexString(steps.reversedPadded)}`);
    t.diagnostic(`chunks: ${[0, 8, 16].map((i) => compact(steps.reversedPadded.subarray(i, i + 8))).join(' ^ ')}`);
    t.diagnostic(`folded = the fingerprint:             ${steps.fingerprint}`);
    assert.equal(steps.littleEndianModulus.length, 256);
    assert.equal(compact(steps.littleEndianModulus), compact(expected.le));
    assert.equal(compact(steps.sha1), compact(expected.sha1));
    assert.equal(compact(steps.reversedPadded), compact(expected.padded));
    assert.equal(compact(steps.folded), compact(expected.folded));
    assert.match(steps.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(fingerprint(key.publicKey), expected.hex);
    assert.equal(fingerprint(key.privateKey), expected.hex);
  });

  test('two other keys agree with openssl too (and differ from each other)', () => {
    const bob = independently('bob-rsa2048').hex;
    const carol = independently('carol-rsa2048').hex;
    assert.equal(fingerprint(fixtureKey('bob-rsa2048').publicKey), bob);
    assert.equal(fingerprint(fixtureKey('carol-rsa2048').publicKey), carol);
    assert.notEqual(bob, carol);
  });

  test('defined for RSA-2048 only', () => {
    assert.throws(() => fingerprint(fixtureKey('bob-rsa1024').publicKey), RangeError);
  });
});

describe('withFingerprint', () => {
  const fp = '0123456789abcdef';
  test('name-<fp>', () => assert.equal(withFingerprint('shirouzu', fp), 'shirouzu-<0123456789abcdef>'));
  test('the base is cut to 60 bytes', () => assert.equal(withFingerprint('x'.repeat(70), fp), `${'x'.repeat(60)}-<${fp}>`));
  test('without splitting a UTF-8 character', () => {
    assert.equal(withFingerprint('あ'.repeat(21), fp), `${'あ'.repeat(20)}-<${fp}>`); // 60 bytes
    assert.equal(withFingerprint(`a${'あ'.repeat(20)}`, fp), `a${'あ'.repeat(19)}-<${fp}>`); // 58 bytes
    assert.equal(withFingerprint('😀'.repeat(16), fp), `${'😀'.repeat(15)}-<${fp}>`); // 4-byte characters
  });
});

describe('parseFingerprintName (official GetUserNameDigestField)', () => {
  const cases: [string, { base: string; fingerprint: string } | undefined][] = [
    ['shirouzu-<0123456789abcdef>', { base: 'shirouzu', fingerprint: '0123456789abcdef' }],
    ['Bob-<0123456789ABCDEF>', { base: 'Bob', fingerprint: '0123456789abcdef' }],
    ['a-b-<0123456789abcdef>', { base: 'a-b', fingerprint: '0123456789abcdef' }],
    ['name-<0123456789abcdef>tail', { base: 'name', fingerprint: '0123456789abcdef' }],
    ['-<ghijklmnopqrstuv>', { base: '', fingerprint: 'ghijklmnopqrstuv' }],
    ['plain', undefined],
    ['name-<0123456789abcde>', undefined],
    ['name-<0123456789abcdef0>', undefined],
    ['name-<0123456789abcdef', undefined],
    ['name<0123456789abcdef>', undefined],
    ['a--<0123456789abcdef>', undefined],
    ['-<x-<0123456789abcdef>', undefined],
    ['name-<01234567_9abcdef>', undefined],
  ];
  for (const [name, expected] of cases) test(JSON.stringify(name), () => assert.deepEqual(parseFingerprintName(name), expected));

  test('round trip with withFingerprint', () => {
    const fp = fingerprint(fixtureKey('alice-rsa2048').publicKey);
    assert.deepEqual(parseFingerprintName(withFingerprint('alice', fp)), { base: 'alice', fingerprint: fp });
  });
});

describe('checkNameFingerprint (an ANSPUBKEY must match the sender name)', () => {
  const alice = fixtureKey('alice-rsa2048').publicKey;
  const name = withFingerprint('alice', independently('alice-rsa2048').hex);
  test('match', () => assert.equal(checkNameFingerprint(name, alice), 'match'));
  test('upper-case digits match too', () => assert.equal(checkNameFingerprint(name.toUpperCase(), alice), 'match'));
  test('another key: mismatch', () => assert.equal(checkNameFingerprint(name, fixtureKey('carol-rsa2048').publicKey), 'mismatch'));
  test('an RSA-1024 key: mismatch', () => assert.equal(checkNameFingerprint(name, fixtureKey('bob-rsa1024').publicKey), 'mismatch'));
  test('a name without a fingerprint: none', () => assert.equal(checkNameFingerprint('alice', alice), 'none'));
});
