// test/crypto/blowfish.test.ts
// Blowfish against Eric Young's published vectors (schneier.com vectors.txt: ecb, set_key and
// chaining-mode data), its π table against π itself, and CBC/PKCS#7 against openssl's bf-cbc.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { PI_FRACTION_HEX } from '../../src/crypto/blowfish-pi.js';
import { Blowfish, blowfishCbcDecrypt, blowfishCbcEncrypt } from '../../src/crypto/blowfish.js';
import { hex, toHexString } from '../helpers/bytes.js';
import { LEGACY, OpenSsl } from '../helpers/openssl.js';

const plainHex = (bytes: Uint8Array): string => toHexString(bytes).replace(/ /g, '').toUpperCase();

function ecb(key: string, block: string, encrypt: boolean): string {
  const data = hex(block);
  const cipher = new Blowfish(hex(key));
  if (encrypt) cipher.encryptBlock(data);
  else cipher.decryptBlock(data);
  return plainHex(data);
}

describe('Blowfish ECB: Eric Young "ecb test data" (key, clear, cipher)', () => {
  const vectors = `
    0000000000000000 0000000000000000 4EF997456198DD78
    FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF 51866FD5B85ECB8A
    3000000000000000 1000000000000001 7D856F9A613063F2
    1111111111111111 1111111111111111 2466DD878B963C9D
    0123456789ABCDEF 1111111111111111 61F9C3802281B096
    1111111111111111 0123456789ABCDEF 7D0CC630AFDA1EC7
    FEDCBA9876543210 0123456789ABCDEF 0ACEAB0FC6A0A28D
    7CA110454A1A6E57 01A1D6D039776742 59C68245EB05282B
    0131D9619DC1376E 5CD54CA83DEF57DA B1B8CC0B250F09A0
    07A1133E4A0B2686 0248D43806F67172 1730E5778BEA1DA4
    3849674C2602319E 51454B582DDF440A A25E7856CF2651EB
    04B915BA43FEB5B6 42FD443059577FA2 353882B109CE8F1A
    0113B970FD34F2CE 059B5E0851CF143A 48F4D0884C379918
    0170F175468FB5E6 0756D8E0774761D2 432193B78951FC98
    43297FAD38E373FE 762514B829BF486A 13F04154D69D1AE5
    07A7137045DA2A16 3BDD119049372802 2EEDDA93FFD39C79
    04689104C2FD3B2F 26955F6835AF609A D887E0393C2DA6E3
    37D06BB516CB7546 164D5E404F275232 5F99D04F5B163969
    1F08260D1AC2465E 6B056E18759F5CCA 4A057A3B24D3977B
    584023641ABA6176 004BD6EF09176062 452031C1E4FADA8E
    025816164629B007 480D39006EE762F2 7555AE39F59B87BD
    49793EBC79B3258F 437540C8698F3CFA 53C55F9CB49FC019
    4FB05E1515AB73A7 072D43A077075292 7A8E7BFA937E89A3
    49E95D6D4CA229BF 02FE55778117F12A CF9C5D7A4986ADB5
    018310DC409B26D6 1D9D5C5018F728C2 D1ABB290658BC778
    1C587F1C13924FEF 305532286D6F295A 55CB3774D13EF201
    0101010101010101 0123456789ABCDEF FA34EC4847B268B2
    1F1F1F1F0E0E0E0E 0123456789ABCDEF A790795108EA3CAE
    E0FEE0FEF1FEF1FE 0123456789ABCDEF C39E072D9FAC631D
    0000000000000000 FFFFFFFFFFFFFFFF 014933E0CDAFF6E4
    FFFFFFFFFFFFFFFF 0000000000000000 F21E9A77B71C49BC
    0123456789ABCDEF 0000000000000000 245946885754369A
    FEDCBA9876543210 FFFFFFFFFFFFFFFF 6B5C5A9C5D9E0A5A`;
  const rows = vectors.trim().split('\n').map((line) => line.trim().split(/\s+/) as [string, string, string]);
  test('all 33 distinct rows are here', () => assert.equal(rows.length, 33));
  for (const [key, clear, cipher] of rows) {
    test(`key ${key}: ${clear} ⇄ ${cipher}`, () => {
      assert.equal(ecb(key, clear, true), cipher);
      assert.equal(ecb(key, cipher, false), clear);
    });
  }
});

describe('Blowfish ECB: "set_key test data" (key lengths 1 to 24)', () => {
  const key = 'F0E1D2C3B4A5968778695A4B3C2D1E0F0011223344556677';
  const ciphers = `F9AD597C49DB005E E91D21C1D961A6D6 E9C2B70A1BC65CF3 BE1E639408640F05 B39E44481BDB1E6E
    9457AA83B1928C0D 8BB77032F960629D E87A244E2CC85E82 15750E7A4F4EC577 122BA70B3AB64AE0
    3A833C9AFFC537F6 9409DA87A90F6BF2 884F80625060B8B4 1F85031C19E11968 79D9373A714CA34F
    93142887EE3BE15C 03429E838CE2D14B A4299E27469FF67B AFD5AED1C1BC96A8 10851C0E3858DA9F
    E6F51ED79B9DB21F 64A6E14AFD36B46F 80C7D7D45A5479AD 05044B62FA52D080`.split(/\s+/);
  ciphers.forEach((cipher, i) => {
    const k = key.slice(0, (i + 1) * 2);
    test(`${i + 1}-byte key ${k}`, () => assert.equal(ecb(k, 'FEDCBA9876543210', true), cipher));
  });
});

describe('Blowfish CBC', () => {
  const key = hex('0123456789ABCDEFF0E1D2C3B4A59687');
  const iv = hex('FEDCBA9876543210');
  // "7654321 Now is the time for " and its NUL, zero-filled to 32 bytes as in "chaining mode test data"
  const clear = hex('37363534333231204E6F77206973207468652074696D6520666F722000000000');
  const published = '6B77B4D63006DEE605B156E27403979358DEB9E7154616D959F1652BD5FF92CC';

  test('the chaining-mode vector: the first 32 bytes; PKCS#7 then adds one block of 08', () => {
    const out = blowfishCbcEncrypt(key, iv, clear);
    assert.equal(out.length, 40);
    assert.equal(plainHex(out.subarray(0, 32)), published);
    assert.deepEqual(blowfishCbcDecrypt(key, iv, out), clear);
  });

  test('PKCS#7 pads 1 to 8 bytes; a bad pad, a short or a ragged ciphertext is refused', () => {
    for (let n = 0; n <= 17; n++) {
      const data = randomBytes(n);
      const out = blowfishCbcEncrypt(key, iv, data);
      assert.equal(out.length, (Math.floor(n / 8) + 1) * 8);
      assert.deepEqual(blowfishCbcDecrypt(key, iv, out), new Uint8Array(data));
    }
    const out = blowfishCbcEncrypt(key, iv, new Uint8Array(5));
    // Flipping bit 0 of the IV's last byte turns the pad 03 03 03 into 03 03 02.
    assert.equal(blowfishCbcDecrypt(key, iv.map((b, i) => (i === 7 ? b ^ 0x01 : b)), out), undefined);
    assert.equal(blowfishCbcDecrypt(key, iv, new Uint8Array(0)), undefined);
    assert.equal(blowfishCbcDecrypt(key, iv, out.subarray(0, 7)), undefined);
  });

  test('keys of 1 to 56 bytes only; IVs of 8 bytes only', () => {
    assert.throws(() => new Blowfish(new Uint8Array(0)), RangeError);
    assert.throws(() => new Blowfish(new Uint8Array(57)), RangeError);
    assert.throws(() => blowfishCbcEncrypt(key, new Uint8Array(16), clear), RangeError);
  });
});

describe('Blowfish CBC against openssl bf-cbc (legacy provider)', () => {
  const openssl = new OpenSsl();
  after(() => openssl.cleanup());

  test('the legacy provider is there', () => openssl.requireLegacy());

  for (const length of [0, 1, 7, 8, 9, 100, 1000]) {
    test(`${length} bytes, both directions`, () => {
      const key = randomBytes(16);
      const iv = randomBytes(8);
      const data = randomBytes(length);
      const args = ['enc', '-bf-cbc', ...LEGACY, '-K', key.toString('hex'), '-iv', iv.toString('hex')];
      const theirs = openssl.run(args, data);
      assert.equal(toHexString(blowfishCbcEncrypt(key, iv, data)), toHexString(theirs));
      const ours = blowfishCbcEncrypt(key, iv, data);
      assert.equal(toHexString(openssl.run([...args, '-d'], ours)), toHexString(data));
    });
  }
});

describe('the π table', () => {
  test('equals the first 1042 × 32 bits of the fraction of π (Machin formula in BigInt)', () => {
    const arctanInverse = (x: bigint, one: bigint): bigint => {
      let sum = 0n;
      let term = one / x;
      for (let n = 1n, sign = 1n; term !== 0n; n += 2n, sign = -sign, term /= x * x) sum += (sign * term) / n;
      return sum;
    };
    const bits = BigInt(1042 * 32);
    const guard = 64n;
    const one = 1n << (bits + guard);
    const pi = 16n * arctanInverse(5n, one) - 4n * arctanInverse(239n, one);
    const fraction = (pi - (3n << (bits + guard))) >> guard;
    assert.equal(PI_FRACTION_HEX, fraction.toString(16).padStart(1042 * 8, '0'));
  });
});
