// test/crypto/capability.test.ts
// The capa we advertise and the combination two hosts use (§6.1, §6.3). Expected words are written
// out from the flag table of §1.1, not computed with the code under test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { combinationOf, localCapa, selectCombination } from '../../src/crypto/capability.js';

const OFFICIAL = 0x65920006; // §6.1: RSA_1024|RSA_2048|BLOWFISH_128|AES_256|PACKETNO_IV|ENCODE_BASE64|NOENC_FILEBODY|SIGN_SHA1|SIGN_SHA256
const hex = (capa: number | undefined): string | undefined => capa?.toString(16);

describe('localCapa', () => {
  test('RSA_2048|AES_256|SIGN_SHA256|SIGN_SHA1|PACKETNO_IV|ENCODE_BASE64|NOENC_FILEBODY = 65900004', () => {
    assert.equal(hex(localCapa()), '65900004');
  });
  test('with legacy crypto also RSA_1024|BLOWFISH_128: the official 65920006', () => {
    assert.equal(localCapa({ legacy: true }), OFFICIAL);
  });
});

describe('selectCombination (official MakeEncryptMsg order)', () => {
  const cases: [string, number, boolean, string | undefined][] = [
    ['official peer: the worked value 41900004', OFFICIAL, false, '41900004'],
    ['official peer, legacy on: still RSA-2048', OFFICIAL, true, '41900004'],
    ['peer without SIGN_SHA256: SHA-1 (21900004)', 0x25920006, false, '21900004'],
    ['peer without any SIGN: no signature (1900004)', 0x05920006, false, '1900004'],
    ['peer without PACKETNO_IV and base64: 40100004', 0x64120006, false, '40100004'],
    ['an RSA-1024 + Blowfish peer (IpMsg.Net), legacy off: plain text', 0x00020002, false, undefined],
    ['an RSA-1024 + Blowfish peer, legacy on: 20002', 0x00020002, true, '20002'],
    ['the official 1024-bit capa, legacy on: 1820002', 0x01820002, true, '1820002'],
    ['RSA-2048 without AES (iptux constants): plain text', 0x00400004, false, undefined],
    ['no crypto at all', 0, true, undefined],
  ];
  for (const [name, theirs, legacy, expected] of cases) {
    test(name, () => assert.equal(hex(selectCombination(localCapa({ legacy }), theirs)?.capa), expected));
  }
});

describe('combinationOf (reading a received CAPA word)', () => {
  test('41900004', () => {
    assert.deepEqual(combinationOf(0x41900004), {
      capa: 0x41900004,
      rsaBits: 2048,
      cipher: 'aes-256-cbc',
      signature: 'sha256',
      packetNoIv: true,
      base64: true,
    });
  });
  test('20002: RSA-1024 + Blowfish, zero IV, hex', () => {
    assert.deepEqual(combinationOf(0x20002), {
      capa: 0x20002,
      rsaBits: 1024,
      cipher: 'bf-cbc',
      signature: undefined,
      packetNoIv: false,
      base64: false,
    });
  });
  test('SHA-256 wins over SHA-1; RSA-2048 over RSA-1024; AES over Blowfish (as DecryptMsg reads)', () => {
    const both = combinationOf(0x60120006);
    assert.equal(both?.signature, 'sha256');
    assert.equal(both?.rsaBits, 2048);
    assert.equal(both?.cipher, 'aes-256-cbc');
  });
  test('no RSA key or no cipher: nothing to decrypt with', () => {
    assert.equal(combinationOf(0x00100000), undefined);
    assert.equal(combinationOf(0x00000004), undefined);
    assert.equal(combinationOf(0x00000008), undefined); // RSA_4096: defined, never used
  });
});
