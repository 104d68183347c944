// test/protocol/pubkey.test.ts
// GETPUBKEY / ANSPUBKEY bodies (§6.2), and the key they carry against openssl's view of it.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { answerFor, publicKeyFrom } from '../../src/crypto/keys.js';
import { isIpmsgError } from '../../src/errors.js';
import { decodeAnsPubKey, decodeGetPubKey, encodeAnsPubKey, encodeGetPubKey } from '../../src/protocol/pubkey.js';
import { fixtureKey } from '../helpers/keys.js';
import { OpenSsl } from '../helpers/openssl.js';

const bob = fixtureKey('bob-rsa2048');
const openssl = new OpenSsl();
after(() => openssl.cleanup());

/** The modulus as `openssl rsa -modulus` prints it (upper-case hex). */
function opensslModulus(pemPath: string): string {
  return openssl.run(['rsa', '-in', pemPath, '-noout', '-modulus']).toString().trim().replace(/^Modulus=/, '');
}

describe('GETPUBKEY', () => {
  test('our capa in lower-case hex (%x)', () => {
    assert.equal(encodeGetPubKey(0x65920006), '65920006');
    assert.equal(encodeGetPubKey(0x41900004), '41900004');
  });
  test('read as strtoul(…, 16) reads it', () => {
    assert.equal(decodeGetPubKey('65920006'), 0x65920006);
    assert.equal(decodeGetPubKey('65920006\0'), 0x65920006);
    assert.equal(decodeGetPubKey(' 6592000A'), 0x6592000a);
    assert.equal(decodeGetPubKey(''), undefined);
    assert.equal(decodeGetPubKey('zz'), undefined);
    assert.equal(decodeGetPubKey('1234567890'), undefined, 'more than 32 bits');
  });
});

describe('ANSPUBKEY', () => {
  const modulus = opensslModulus(bob.pemPath);

  test('encodes CAPA (upper hex) : EXP (upper hex) - MODULUS (lower hex, big-endian), 512 digits for RSA-2048', () => {
    const body = encodeAnsPubKey(answerFor(bob.publicKey, 0x65920006));
    assert.equal(body, `65920006:10001-${modulus.toLowerCase()}`);
    assert.equal(body.split('-')[1]?.length, 512);
  });

  test('decodes the official form into a key openssl agrees with', () => {
    const answer = decodeAnsPubKey(`65920006:10001-${modulus.toLowerCase()}`);
    assert.equal(answer.capa, 0x65920006);
    assert.equal(answer.exponent, 65537);
    const key = publicKeyFrom(answer);
    const pem = openssl.file('peer.pub.pem', key.export({ type: 'spki', format: 'pem' }));
    assert.equal(openssl.run(['rsa', '-pubin', '-in', pem, '-noout', '-modulus']).toString().trim(), `Modulus=${modulus}`);
  });

  test('lenient like the official: any case, a field after the modulus, a leading zero byte', () => {
    for (const body of [`65920006:10001-${modulus}`, `65920006:10001-${modulus.toLowerCase()}:extra`, `65920006:10001-00${modulus}`]) {
      const answer = decodeAnsPubKey(body);
      assert.equal(Buffer.from(answer.modulus).toString('hex').toUpperCase(), modulus, body.slice(0, 20));
    }
    assert.equal(decodeAnsPubKey(`21c002:10001-${modulus}`).capa, 0x21c002);
  });

  const errors: [string, string][] = [
    ['no colon', `6592000610001-${modulus}`],
    ['no dash', `65920006:10001${modulus}`],
    ['capa not hex', `zz:10001-${modulus}`],
    ['even exponent', `65920006:10000-${modulus}`],
    ['exponent 1', `65920006:1-${modulus}`],
    ['exponent above 32 bits', `65920006:100000001-${modulus}`],
    ['odd number of digits', `65920006:10001-${modulus.slice(1)}`],
    ['not hex', `65920006:10001-${modulus.slice(2)}zz`],
    ['even modulus', `65920006:10001-${modulus.slice(0, -2)}00`],
    ['modulus of 256 bits', `65920006:10001-${modulus.slice(0, 64)}`],
    ['modulus above 4096 bits', `65920006:10001-${'f'.repeat(1026)}`],
    ['empty modulus', '65920006:10001-'],
  ];
  for (const [name, body] of errors) {
    test(`refused: ${name}`, () => {
      assert.throws(() => decodeAnsPubKey(body), (e) => isIpmsgError(e, 'IPMSG_ERR_DECODE') && e.message.startsWith('Invalid ANSPUBKEY: '));
    });
  }
});
