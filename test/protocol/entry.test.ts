// test/protocol/entry.test.ts
// The UTF-8 extension lines of entry packets and the client description (§2.4).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type EntryExtension, describeClient, encodeExtension, parseExtension, parseFeiqVersion } from '../../src/protocol/entry.js';

describe('parseExtension', () => {
  test("the official's BR_ENTRY lines (a '\\n' before each line)", () => {
    assert.deepStrictEqual(parseExtension('\nUN:alice\nHN:PC1\nNN:Alice\nGN:Dev\nVS:00010002:4:99:103'), {
      UN: 'alice',
      HN: 'PC1',
      NN: 'Alice',
      GN: 'Dev',
      VS: '00010002:4:99:103', // colons inside a value are kept
    });
  });
  test("the spec text's form (a newline after each line)", () => {
    assert.deepStrictEqual(parseExtension('\nUN:alice\nHN:PC1\n'), { UN: 'alice', HN: 'PC1' });
  });
  test('empty values are values', () => {
    assert.deepStrictEqual(parseExtension('\nUN:alice\nGN:'), { UN: 'alice', GN: '' });
  });
  test('unknown keys (IP:, PL:) and malformed lines are ignored', () => {
    assert.deepStrictEqual(parseExtension('\nIP:AAAA\nPL:1\nUN:alice\nX:1\nABC:1\nNN\n:NN\nun:lower'), { UN: 'alice' });
  });
  test('the last of a repeated key wins', () => {
    assert.deepStrictEqual(parseExtension('\nNN:first\nNN:second'), { NN: 'second' });
  });
  test('non-ASCII values', () => {
    assert.deepStrictEqual(parseExtension('\nNN:山田太郎\nGN:研发部'), { NN: '山田太郎', GN: '研发部' });
  });
  test('nothing to parse', () => {
    assert.deepStrictEqual(parseExtension(''), {});
    assert.deepStrictEqual(parseExtension('\nrshost'), {});
  });
});

describe('encodeExtension', () => {
  test("the official's layout: '\\n' before each line, none after the last", () => {
    assert.equal(
      encodeExtension({ UN: 'alice', HN: 'PC1', NN: 'Alice', GN: 'Dev' }),
      '\nUN:alice\nHN:PC1\nNN:Alice\nGN:Dev',
    );
  });
  test('keys in UN, HN, NN, GN, VS order whatever the object order', () => {
    assert.equal(encodeExtension({ VS: '00010002:4:99:103', GN: 'g', UN: 'u' }), '\nUN:u\nGN:g\nVS:00010002:4:99:103');
  });
  test('empty values are written (the official always writes all four names)', () => {
    assert.equal(encodeExtension({ UN: 'u', GN: '' }), '\nUN:u\nGN:');
  });
  test('nothing to write', () => {
    assert.equal(encodeExtension({}), '');
  });
  test('round trip', () => {
    const samples: EntryExtension[] = [
      { UN: 'alice', HN: 'PC1', NN: 'Alice', GN: 'Dev' },
      { VS: '00010002:4:99:103' },
      { UN: '山田', NN: '', GN: 'a:b:c' },
    ];
    for (const ext of samples) assert.deepStrictEqual(parseExtension(encodeExtension(ext)), ext);
  });
});

describe('describeClient', () => {
  test('VS 00010002:4:99:103 → IP Messenger Win64 4.99r3', () => {
    assert.equal(describeClient('1', '00010002:4:99:103'), 'IP Messenger Win64 4.99r3');
  });
  test('the other version types and suffixes (r = rev - 100, b = rev - 50, a = rev; 100 is the plain release)', () => {
    assert.equal(describeClient('1', '00010001:3:42:0'), 'IP Messenger Win32 3.42');
    assert.equal(describeClient('1', '00020000:5:1:51'), 'IP Messenger Mac 5.1b1');
    assert.equal(describeClient('1', '00030000:1:2:7'), 'IP Messenger iOS 1.2a7');
    assert.equal(describeClient('1', '00040000:2:0:100'), 'IP Messenger Android 2.0');
    assert.equal(describeClient('1', '00010002:4:99:101'), 'IP Messenger Win64 4.99r1');
    assert.equal(describeClient('1', '0001000a:4:99:103'), 'IP Messenger type 0001000a 4.99r3');
  });
  test('4.0–4.99r2 revisions (10000 or 20000 a release, +1000 a beta): the official 4.11 is "4.11" (§16)', () => {
    assert.equal(describeClient('1', '00010001:4:11:10000'), 'IP Messenger Win32 4.11');
    assert.equal(describeClient('1', '00010002:4:11:20000'), 'IP Messenger Win64 4.11');
    assert.equal(describeClient('1', '00010001:4:10:11002'), 'IP Messenger Win32 4.10b2');
    assert.equal(describeClient('1', '00010001:4:99:10002'), 'IP Messenger Win32 4.99r2');
  });
  test('VS wins over the version field', () => {
    assert.equal(describeClient('1_iptux 0.8.3', '00010002:4:99:103'), 'IP Messenger Win64 4.99r3');
  });
  test('iptux: the version field after "1_"', () => {
    assert.equal(describeClient('1_iptux 0.8.3', undefined), 'iptux 0.8.3');
    assert.equal(describeClient('1_iptux 0.10.0', undefined), 'iptux 0.10.0');
  });
  test('FeiQ: 1_lbt… is "FeiQ", never its fields (one is a MAC address)', () => {
    assert.equal(describeClient('1_lbt4_10#128#002481627512#0#0#0', undefined), 'FeiQ');
    assert.equal(describeClient('1_lbt6_0#128#000C29D1A1B2#0#0#0#4001#9', undefined), 'FeiQ');
    assert.deepEqual(parseFeiqVersion('1_lbt4_10#128#002481627512#0#0#0'), { dialect: 'lbt4_10', fields: ['128', '002481627512', '0', '0', '0'] });
    assert.deepEqual(parseFeiqVersion('1_lbt4'), { dialect: 'lbt4', fields: [] });
    assert.equal(parseFeiqVersion('1_iptux 0.8.3'), undefined);
    assert.equal(parseFeiqVersion('1'), undefined);
  });
  test('a malformed VS falls back to the version field', () => {
    assert.equal(describeClient('1_iptux 0.8.3', 'garbage'), 'iptux 0.8.3');
    assert.equal(describeClient('1', '10002:4:99:103'), undefined); // type must be 8 hex digits
  });
  test('a plain "1" says nothing', () => {
    assert.equal(describeClient('1', undefined), undefined);
    assert.equal(describeClient('1_', undefined), undefined);
  });
  test('an unknown suffix is shown as it is', () => {
    assert.equal(describeClient('1_myclient 2.0', undefined), 'myclient 2.0');
  });
});
