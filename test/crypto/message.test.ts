// test/crypto/message.test.ts
// Encrypted message bodies (§6.3) checked against openssl in both directions: what we build,
// openssl takes apart (pkeyutl, enc, dgst); what openssl builds in the official layout, we read.

import assert from 'node:assert/strict';
import { type KeyObject, createCipheriv, randomBytes, sign } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { localCapa, selectCombination, type Combination } from '../../src/crypto/capability.js';
import type { OwnKeys } from '../../src/crypto/keys.js';
import { encodeEnvelope } from '../../src/crypto/envelope.js';
import { type EncryptOptions, decryptMessage, encryptMessage, messageIv, prepareMessage } from '../../src/crypto/message.js';
import { rsaEncrypt } from '../../src/crypto/rsa-pkcs1.js';
import { IpmsgError, isIpmsgError } from '../../src/errors.js';
import {
  IPMSG_AES_256,
  IPMSG_BLOWFISH_128,
  IPMSG_ENCODE_BASE64,
  IPMSG_PACKETNO_IV,
  IPMSG_RSA_1024,
  IPMSG_RSA_2048,
  IPMSG_SIGN_SHA1,
  IPMSG_SIGN_SHA256,
} from '../../src/protocol/command.js';
import { encodePacket } from '../../src/protocol/packet.js';
import { asPacketNo } from '../../src/protocol/packet-no.js';
import { INVALID_GBK, INVALID_UTF8, Rng } from '../helpers/fuzz-datagrams.js';
import { fixtureKey } from '../helpers/keys.js';
import { LEGACY, OpenSsl } from '../helpers/openssl.js';

const alice = fixtureKey('alice-rsa2048');
const bob = fixtureKey('bob-rsa2048');
const carol = fixtureKey('carol-rsa2048');
const bob1024 = fixtureKey('bob-rsa1024');

const OFFICIAL_CAPA = 0x65920006; // §6.1: a modern official client
const PACKET_NO = '1700000005';
const SESSION_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const BF_KEY = Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex');
/** The session key of the message prepared in advance. */
const EARLY_KEY = Buffer.concat([BF_KEY, BF_KEY]);
/** The packet number's ASCII digits, zero-filled to 16 bytes (built here, not by the code under test). */
const IV = Buffer.concat([Buffer.from(PACKET_NO, 'latin1'), Buffer.alloc(16 - PACKET_NO.length)]);

const bobKeys: OwnKeys = {
  rsa2048: { bits: 2048, privateKey: bob.privateKey, publicKey: bob.publicKey },
  rsa1024: { bits: 1024, privateKey: bob1024.privateKey, publicKey: bob1024.publicKey },
};
const bobKeysNoLegacy: OwnKeys = { rsa2048: bobKeys.rsa2048, rsa1024: undefined };

function combination(theirs: number, legacy = false): Combination {
  const chosen = selectCombination(localCapa({ legacy }), theirs);
  assert.ok(chosen, `no combination with ${theirs.toString(16)}`);
  return chosen;
}

const openssl = new OpenSsl();
after(() => openssl.cleanup());
const alicePublic = openssl.file('alice.pub.pem', alice.publicPem);
const bobPublic = openssl.file('bob.pub.pem', bob.publicPem);
const bob1024Public = openssl.file('bob1024.pub.pem', bob1024.publicPem);

/** `CAPA:KEY:BODY[:SIG]` split, the binary fields decoded. */
function fields(body: string, encoding: 'base64' | 'hex'): { capa: string; key: Buffer; body: Buffer; sig?: Buffer } {
  const [capa = '', key = '', enc = '', sig] = body.split(':');
  return {
    capa,
    key: Buffer.from(key, encoding),
    body: Buffer.from(enc, encoding),
    ...(sig === undefined ? {} : { sig: Buffer.from(sig, encoding) }),
  };
}

/** Encrypts from alice to bob with the official peer's combination and the fixed session key, unless told otherwise. */
function encrypt(options: Partial<EncryptOptions>): string {
  return encryptMessage({
    parts: { text: 'hello' },
    packetNo: PACKET_NO,
    combination: combination(OFFICIAL_CAPA),
    peerPublicKey: bob.publicKey,
    ownPrivateKey: alice.privateKey,
    randomBytes: () => SESSION_KEY,
    ...options,
  });
}

function opensslAesDecrypt(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  return openssl.run(['enc', '-d', '-aes-256-cbc', '-K', key.toString('hex'), '-iv', iv.toString('hex')], data);
}

function opensslRsaDecrypt(pemPath: string, block: Buffer): Buffer {
  return openssl.run(['pkeyutl', '-decrypt', '-inkey', pemPath, '-pkeyopt', 'rsa_padding_mode:pkcs1', '-in', openssl.file('key.bin', block)]);
}

function opensslRsaEncrypt(publicPath: string, data: Buffer): Buffer {
  return openssl.run(['pkeyutl', '-encrypt', '-pubin', '-inkey', publicPath, '-pkeyopt', 'rsa_padding_mode:pkcs1', '-in', openssl.file('session.bin', data)]);
}

function opensslVerify(hash: 'sha256' | 'sha1', publicPath: string, data: Buffer, signature: Buffer): string {
  const args = ['dgst', `-${hash}`, '-verify', publicPath, '-signature', openssl.file('sig.bin', signature), openssl.file('plain.bin', data)];
  return openssl.run(args).toString().trim();
}

describe('what we encrypt, openssl decrypts', () => {
  test('RSA-2048 + AES-256-CBC + packet-number IV + base64 + SHA-256 (capa 41900004)', () => {
    const body = encrypt({ parts: { text: 'hello 世界\nline 2' } });
    const f = fields(body, 'base64');
    assert.equal(f.capa, '41900004');
    assert.equal(f.key.length, 256);
    assert.deepEqual(opensslRsaDecrypt(bob.pemPath, f.key), SESSION_KEY);
    const plain = opensslAesDecrypt(SESSION_KEY, IV, f.body);
    assert.deepEqual(plain, Buffer.from('hello 世界\nline 2\0'));
    assert.ok(f.sig, 'signed');
    assert.equal(opensslVerify('sha256', alicePublic, plain, f.sig), 'Verified OK');
  });

  test('SHA-1 signature and lower-case hex when the peer has neither SIGN_SHA256 nor ENCODE_BASE64 (capa 20900004)', () => {
    const theirs = IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA1 | IPMSG_PACKETNO_IV;
    const body = encrypt({ parts: { text: 'sha1' }, combination: combination(theirs), randomBytes });
    assert.match(body, /^20900004:[0-9a-f]{512}:[0-9a-f]+:[0-9a-f]{512}$/);
    const f = fields(body, 'hex');
    const key = opensslRsaDecrypt(bob.pemPath, f.key);
    const plain = opensslAesDecrypt(key, IV, f.body);
    assert.deepEqual(plain, Buffer.from('sha1\0'));
    assert.equal(opensslVerify('sha1', alicePublic, plain, f.sig ?? Buffer.alloc(0)), 'Verified OK');
  });

  test('without PACKETNO_IV the IV is all zeros (capa 41100004)', () => {
    const theirs = IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA256 | IPMSG_ENCODE_BASE64;
    const body = encrypt({ parts: { text: 'zero iv' }, combination: combination(theirs) });
    const f = fields(body, 'base64');
    assert.equal(f.capa, '41100004');
    assert.deepEqual(opensslAesDecrypt(SESSION_KEY, Buffer.alloc(16), f.body), Buffer.from('zero iv\0'));
  });

  test('RSA-1024 + Blowfish-128: IV = the first 8 digits, no signature (capa 1820002)', () => {
    openssl.requireLegacy();
    const theirs = IPMSG_RSA_1024 | IPMSG_BLOWFISH_128 | IPMSG_PACKETNO_IV | IPMSG_ENCODE_BASE64;
    const body = encrypt({ parts: { text: 'legacy' }, combination: combination(theirs, true), peerPublicKey: bob1024.publicKey, randomBytes: () => BF_KEY });
    const f = fields(body, 'base64');
    assert.equal(f.capa, '1820002');
    assert.equal(f.sig, undefined);
    assert.equal(f.key.length, 128);
    assert.deepEqual(opensslRsaDecrypt(bob1024.pemPath, f.key), BF_KEY);
    const args = ['enc', '-d', '-bf-cbc', ...LEGACY, '-K', BF_KEY.toString('hex'), '-iv', IV.subarray(0, 8).toString('hex')];
    assert.deepEqual(openssl.run(args, f.body), Buffer.from('legacy\0'));
  });

  test('the attachment and recipient lists ride inside (ENCEXTMSGOPT)', () => {
    const body = encrypt({
      parts: {
        text: 'files',
        attachments: [{ fileId: 0, name: 'a.txt', size: 5, mtime: 0x65f1c2a0, attr: 1 }],
        recipients: [{ user: 'bob', host: 'PC2' }, { user: 'carol', host: 'PC3' }],
      },
    });
    const plain = opensslAesDecrypt(SESSION_KEY, IV, fields(body, 'base64').body);
    assert.equal(plain.toString(), 'files\x000:a.txt:5:65f1c2a0:1:\x07\x00TO:bob:PC2\x07carol:PC3\x07\x00');
  });
});

describe('a message prepared before the peer key arrives (prepareMessage)', () => {
  const prepared = prepareMessage({ text: 'early' }, 'utf-8', PACKET_NO, alice.privateKey, () => EARLY_KEY);

  test('openssl decrypts its body with its session key and the packet-number IV, and verifies its signature', () => {
    assert.deepEqual(Buffer.from(prepared.plaintext), Buffer.from('early\0'));
    assert.deepEqual(opensslAesDecrypt(EARLY_KEY, IV, Buffer.from(prepared.body)), Buffer.from('early\0'));
    assert.equal(opensslVerify('sha256', alicePublic, Buffer.from(prepared.plaintext), Buffer.from(prepared.signature)), 'Verified OK');
  });

  test('the message made with it carries its body and signature, and its session key wrapped for the peer', () => {
    const f = fields(encrypt({ parts: { text: 'early' }, prepared }), 'base64');
    assert.deepEqual(opensslRsaDecrypt(bob.pemPath, f.key), EARLY_KEY);
    assert.deepEqual(f.body, Buffer.from(prepared.body));
    assert.deepEqual(f.sig, Buffer.from(prepared.signature));
  });

  test('another text gets nothing of it; a SHA-1 peer its body but a new signature; a zero-IV peer its signature but a new body', () => {
    const other = fields(encrypt({ parts: { text: 'later' }, prepared }), 'base64');
    assert.deepEqual(opensslRsaDecrypt(bob.pemPath, other.key), SESSION_KEY);
    assert.deepEqual(opensslAesDecrypt(SESSION_KEY, IV, other.body), Buffer.from('later\0'));
    assert.equal(opensslVerify('sha256', alicePublic, Buffer.from('later\0'), other.sig ?? Buffer.alloc(0)), 'Verified OK');

    const sha1 = combination(IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA1 | IPMSG_PACKETNO_IV | IPMSG_ENCODE_BASE64);
    const f1 = fields(encrypt({ parts: { text: 'early' }, combination: sha1, prepared }), 'base64');
    assert.deepEqual(f1.body, Buffer.from(prepared.body));
    assert.equal(opensslVerify('sha1', alicePublic, Buffer.from('early\0'), f1.sig ?? Buffer.alloc(0)), 'Verified OK');

    const zeroIv = combination(IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA256 | IPMSG_ENCODE_BASE64);
    const f2 = fields(encrypt({ parts: { text: 'early' }, combination: zeroIv, prepared }), 'base64');
    assert.deepEqual(opensslRsaDecrypt(bob.pemPath, f2.key), SESSION_KEY);
    assert.deepEqual(opensslAesDecrypt(SESSION_KEY, Buffer.alloc(16), f2.body), Buffer.from('early\0'));
    assert.deepEqual(f2.sig, Buffer.from(prepared.signature));
  });
});

describe('what openssl builds in the official layout, we decrypt and verify', () => {
  const plaintext = Buffer.from('from openssl\x000:report.pdf:1a2b3:65f1c2a0:1:\x07\x00TO:bob:PC2\x07alice:PC1\x07\x00');

  function official(capa: string, encoding: 'base64' | 'hex'): string {
    const key = opensslRsaEncrypt(bobPublic, SESSION_KEY);
    const body = openssl.run(['enc', '-aes-256-cbc', '-K', SESSION_KEY.toString('hex'), '-iv', IV.toString('hex')], plaintext);
    const sig = openssl.run(['dgst', '-sha256', '-sign', alice.pemPath, openssl.file('plain.bin', plaintext)]);
    return [capa, key.toString(encoding), body.toString(encoding), sig.toString(encoding)].join(':');
  }

  for (const [capa, encoding] of [['41900004', 'base64'], ['40900004', 'hex']] as const) {
    test(`capa ${capa} (${encoding})`, () => {
      const message = decryptMessage({ body: official(capa, encoding), packetNo: PACKET_NO, ownKeys: bobKeys, senderPublicKey: alice.publicKey, extended: true });
      assert.equal(message.text, 'from openssl');
      assert.deepEqual(message.attachments, [{ fileId: 0, name: 'report.pdf', size: 0x1a2b3, mtime: 0x65f1c2a0, attr: 1 }]);
      assert.deepEqual(message.recipients, [{ user: 'bob', host: 'PC2' }, { user: 'alice', host: 'PC1' }]);
      assert.equal(message.signature, 'verified');
      assert.equal(message.combination.capa.toString(16), capa);
    });
  }

  test('upper-case hex fields are read too', () => {
    const body = official('40900004', 'hex');
    const [capa, ...rest] = body.split(':');
    const message = decryptMessage({ body: [capa, ...rest.map((f) => f.toUpperCase())].join(':'), packetNo: PACKET_NO, ownKeys: bobKeys, senderPublicKey: alice.publicKey });
    assert.equal(message.text, 'from openssl');
    assert.equal(message.attachments, undefined, 'without ENCEXTMSGOPT only the text counts');
    assert.equal(message.signature, 'verified');
  });

  test('RSA-1024 + Blowfish-128 (capa 1820002), and refused while legacy crypto is off', () => {
    openssl.requireLegacy();
    const key = opensslRsaEncrypt(bob1024Public, BF_KEY);
    const enc = openssl.run(['enc', '-bf-cbc', ...LEGACY, '-K', BF_KEY.toString('hex'), '-iv', IV.subarray(0, 8).toString('hex')], Buffer.from('old\0'));
    const body = `1820002:${key.toString('base64')}:${enc.toString('base64')}`;
    const message = decryptMessage({ body, packetNo: PACKET_NO, ownKeys: bobKeys, senderPublicKey: alice.publicKey });
    assert.equal(message.text, 'old');
    assert.equal(message.signature, 'none');
    assert.throws(
      () => decryptMessage({ body, packetNo: PACKET_NO, ownKeys: bobKeysNoLegacy, senderPublicKey: undefined }),
      (e) => isIpmsgError(e, 'IPMSG_ERR_DECRYPT') && /legacy crypto is off/.test(e.message),
    );
  });
});

describe('the packet, byte for byte as the official client builds it', () => {
  test('SENDMSG|SENDCHECKOPT|ENCRYPTOPT|UTF8OPT|CAPUTF8OPT with a 41900004 body', () => {
    const text = 'secret';
    const body = encrypt({ parts: { text } });
    // Everything but ENCKEY is deterministic; PKCS#1 v1.5 type-2 padding is random, so ENCKEY is
    // checked by decrypting it with openssl instead.
    const plain = Buffer.from(`${text}\0`);
    const enc = openssl.run(['enc', '-aes-256-cbc', '-K', SESSION_KEY.toString('hex'), '-iv', IV.toString('hex')], plain);
    const sig = openssl.run(['dgst', '-sha256', '-sign', alice.pemPath, openssl.file('plain.bin', plain)]);
    const ourKey = body.split(':')[1] ?? '';
    assert.deepEqual(opensslRsaDecrypt(bob.pemPath, Buffer.from(ourKey, 'base64')), SESSION_KEY);
    const expectedBody = `41900004:${ourKey}:${enc.toString('base64')}:${sig.toString('base64')}`;
    assert.equal(body, expectedBody);

    const command = 29360416; // 0x01C00120 = SENDMSG 0x20 | SENDCHECKOPT 0x100 | ENCRYPTOPT | UTF8OPT | CAPUTF8OPT
    const datagram = encodePacket({
      kind: 'SENDMSG',
      version: '1',
      packetNo: asPacketNo(Number(PACKET_NO)),
      user: 'alice',
      host: 'PC1',
      command,
      charset: 'utf-8',
      text: body,
    });
    assert.equal(Buffer.from(datagram).toString('latin1'), `1:1700000005:alice:PC1:29360416:${expectedBody}\0`);
  });
});

describe('failures', () => {
  const TEXT = 'tamper me, a text of more than one block';
  const sealed = (peerPublicKey = bob.publicKey, text = TEXT): string => encrypt({ parts: { text }, peerPublicKey });
  const decrypt = (body: string, sender: KeyObject | null = alice.publicKey) =>
    decryptMessage({ body, packetNo: PACKET_NO, ownKeys: bobKeys, senderPublicKey: sender ?? undefined });
  /** Flips one bit of byte `index` (negative: from the end) of binary field `n` (1 key, 2 body, 3 signature). */
  const flip = (body: string, n: number, index: number): string => {
    const parts = body.split(':');
    const bytes = Buffer.from(parts[n] ?? '', 'base64');
    const at = index < 0 ? bytes.length + index : index;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    parts[n] = bytes.toString('base64');
    return parts.join(':');
  };
  const generic = (e: unknown): boolean => isIpmsgError(e, 'IPMSG_ERR_DECRYPT') && e.message === 'Cannot decrypt the message';

  test('the last ciphertext byte changed (the padding breaks): the one generic error', () => {
    assert.throws(() => decrypt(flip(sealed(), 2, -1)), generic);
  });
  test('an earlier ciphertext block changed: decrypts to other text, and the signature says bad', () => {
    const message = decrypt(flip(sealed(), 2, 0));
    assert.notEqual(message.text, TEXT);
    assert.equal(message.signature, 'bad');
  });
  test('the wrapped session key changed: the same generic error', () => {
    for (const at of [0, 1, 100, -1]) assert.throws(() => decrypt(flip(sealed(), 1, at)), generic, `byte ${at}`);
  });
  test('a message for another key (carol): the same generic error', () => {
    assert.throws(() => decrypt(sealed(carol.publicKey)), generic);
  });
  test('the signature changed: bad', () => {
    assert.equal(decrypt(flip(sealed(), 3, 10)).signature, 'bad');
  });
  test('signed by someone else than the key we know: bad', () => {
    assert.equal(decrypt(sealed(), carol.publicKey).signature, 'bad');
  });
  test('no key (or no RSA-2048 key) of the sender: unknown-key, and the text still reads', () => {
    const unknown = decrypt(sealed(), null);
    assert.equal(unknown.signature, 'unknown-key');
    assert.equal(unknown.text, TEXT);
    assert.equal(decrypt(sealed(), bob1024.publicKey).signature, 'unknown-key');
  });
  test('malformed bodies are refused before any decryption, with a reason', () => {
    const body = sealed();
    const [capa, key, enc] = body.split(':');
    for (const bad of ['', 'hello', `XYZ:${key}:${enc}`, `41900004:${key}`, `41900004:${key}:${enc}`, `41900004:${key}:${enc}:*`, `41900004:${key}!:${enc}:AA==`, `8:${key}:${enc}`]) {
      assert.throws(() => decrypt(bad), (e) => isIpmsgError(e, 'IPMSG_ERR_DECRYPT') && e.message.startsWith('Cannot decrypt the message: '), bad);
    }
    assert.throws(() => decrypt(`${capa}:${key}:${'A'.repeat(70000)}`), /: body of 7\d{4} characters$/);
    assert.throws(() => decrypt(`${capa}:${'A'.repeat(800)}:${enc}`), /key field of 800 characters/);
  });
  test('encrypting with a key that does not fit the combination: ENCRYPT_UNAVAILABLE', () => {
    assert.throws(() => sealed(bob1024.publicKey), (e) => isIpmsgError(e, 'IPMSG_ERR_ENCRYPT_UNAVAILABLE'));
  });
  test('text with a NUL cannot be sent', () => {
    assert.throws(() => sealed(bob.publicKey, 'a\0b'), (e) => isIpmsgError(e, 'IPMSG_ERR_INPUT'));
  });
  test('a fresh random session key each time by default', () => {
    const one = encryptMessage({ parts: { text: 'x' }, packetNo: PACKET_NO, combination: combination(OFFICIAL_CAPA), peerPublicKey: bob.publicKey, ownPrivateKey: alice.privateKey });
    const two = encrypt({ parts: { text: 'x' }, randomBytes: undefined });
    assert.notEqual(one.split(':')[2], two.split(':')[2]);
    assert.equal(decrypt(one).text, 'x');
  });
  test('hostile plaintexts inside a well-made envelope (the key unwraps, AES and padding pass) never escape IpmsgError', () => {
    // What reaches the plaintext decoder, the charset detection and the signature check once an
    // attacker who has our public key encrypts garbage to it: seeded, 600 cases.
    const rng = new Rng(0x91a1);
    const combo = combination(OFFICIAL_CAPA);
    const iv = messageIv(combo, PACKET_NO);
    const pieces = [Buffer.alloc(0), Buffer.from([0]), Buffer.from('\0\0'), INVALID_UTF8, INVALID_GBK, Buffer.from('0:a.txt:10:5f000000:1:\x07'), Buffer.from(':::\x07\x07'), Buffer.from('中文'), Buffer.from('\0ffffffffffffffffffff:zz:-1:\x07')];
    let decrypted = 0;
    for (let i = 0; i < 600; i++) {
      const parts: Buffer[] = [];
      for (let n = rng.below(6); n > 0; n--) parts.push(rng.below(2) === 0 ? rng.pick(pieces) : rng.bytes(rng.below(rng.below(20) === 0 ? 20_000 : 200)));
      const plaintext = Buffer.concat(parts);
      const sessionKey = rng.bytes(32);
      const cipher = createCipheriv('aes-256-cbc', sessionKey, iv);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const signature = rng.below(2) === 0 ? sign('sha256', plaintext, alice.privateKey) : rng.bytes(256);
      const text = encodeEnvelope({ combination: combo, key: rsaEncrypt(bob.publicKey, sessionKey), body, signature });
      for (const extended of [false, true]) {
        try {
          const message = decryptMessage({ body: text, packetNo: PACKET_NO, ownKeys: bobKeys, senderPublicKey: alice.publicKey, extended });
          assert.equal(typeof message.text, 'string');
          assert.ok(['verified', 'bad'].includes(message.signature), message.signature);
          decrypted++;
        } catch (error) {
          assert.ok(error instanceof IpmsgError, `case ${i}: ${String(error)}`);
        }
      }
    }
    assert.ok(decrypted > 0, 'some hostile plaintexts decode (a text without NUL, say)');
  });
  test('random bodies never escape IpmsgError', () => {
    for (let i = 0; i < 200; i++) {
      const junk = `41900004:${randomBytes(256).toString('base64')}:${randomBytes(16 * (1 + (i % 4))).toString('base64')}:${randomBytes(256).toString('base64')}`;
      assert.throws(() => decrypt(junk), generic);
    }
  });
});
