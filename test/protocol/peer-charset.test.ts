// test/protocol/peer-charset.test.ts
// What an entry says a peer reads, and the charset each peer is sent (§7).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPMSG_ANSENTRY, IPMSG_BR_ENTRY, IPMSG_CAPUTF8OPT, IPMSG_ENCRYPTOPT } from '../../src/protocol/command.js';
import { type PeerReads, asPeerReads, chooseCharset, dialectCharset, peerReads } from '../../src/protocol/peer-charset.js';
import { feiqBrEntry } from '../vectors/packets.js';
import { decodePacket } from '../../src/protocol/packet.js';

const plain = { nick: 'n', group: 'g' };

describe('dialectCharset', () => {
  test('FeiQ version fields imply GB18030', () => {
    assert.equal(dialectCharset('1_lbt4_10#128#0024816275AB#0#0#0'), 'gb18030');
    assert.equal(dialectCharset('1_lbt6_0#128#0024816275AB#0#0#0#4001#9'), 'gb18030');
  });
  test('others imply nothing', () => {
    for (const version of ['1', '1_iptux 0.8.3', 'lbt4', '']) assert.equal(dialectCharset(version), undefined, version);
  });
});

describe('peerReads', () => {
  test('CAPUTF8OPT: UTF-8', () => {
    assert.deepEqual(peerReads(IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT | IPMSG_ENCRYPTOPT, '1', plain), { kind: 'utf8' });
  });
  test('CAPUTF8OPT wins over a dialect', () => {
    assert.deepEqual(peerReads(IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT, '1_lbt4_10#128#0#0#0#0', plain), { kind: 'utf8' });
  });
  test('FeiQ without CAPUTF8OPT: its dialect', () => {
    assert.deepEqual(peerReads(IPMSG_BR_ENTRY, '1_lbt4_10#128#0024816275AB#0#0#0', plain), { kind: 'dialect', charset: 'gb18030' });
  });
  test('no CAPUTF8OPT, no dialect: legacy', () => {
    assert.deepEqual(peerReads(IPMSG_ANSENTRY, '1', plain), { kind: 'legacy' });
  });
  test("iptux: its announced encoding; one we do not know is UTF-8 (iptux tries UTF-8 first)", () => {
    const entry = (encoding: string) => ({ ...plain, iptux: { icon: 'icon-tux.png', encoding } });
    assert.deepEqual(peerReads(IPMSG_ANSENTRY, '1_iptux 0.8.3', entry('utf-8')), { kind: 'iptux', charset: 'utf-8' });
    assert.deepEqual(peerReads(IPMSG_ANSENTRY, '1_iptux 0.8.3', entry('GB2312')), { kind: 'iptux', charset: 'gbk' });
    assert.deepEqual(peerReads(IPMSG_ANSENTRY, '1_iptux 0.8.3', entry('utf-16')), { kind: 'iptux', charset: 'utf-8' });
  });
});

describe('the FeiQ entry vector', () => {
  test('says its sender reads GB18030', () => {
    const entry = decodePacket(feiqBrEntry.bytes, { fallbackCharset: feiqBrEntry.fallbackCharset });
    assert.ok(entry.kind === 'BR_ENTRY');
    assert.deepEqual(peerReads(entry.command, entry.version, entry.entry), { kind: 'dialect', charset: 'gb18030' });
  });
});

describe('chooseCharset', () => {
  const cases: [string, Parameters<typeof chooseCharset>, ReturnType<typeof chooseCharset>][] = [
    ['forced wins over everything', ['cp932', { kind: 'utf8' }, 'gb18030'], { charset: 'cp932', reason: 'forced' }],
    ['forced UTF-8 for FeiQ too', ['utf-8', { kind: 'dialect', charset: 'gb18030' }, 'gb18030'], { charset: 'utf-8', reason: 'forced' }],
    ['unknown peer: UTF-8', [undefined, undefined, 'cp932'], { charset: 'utf-8', reason: 'peer-unknown' }],
    ['CAPUTF8OPT: UTF-8', [undefined, { kind: 'utf8' }, 'cp932'], { charset: 'utf-8', reason: 'peer-utf8' }],
    ['iptux: announced', [undefined, { kind: 'iptux', charset: 'big5' }, 'cp932'], { charset: 'big5', reason: 'peer-iptux' }],
    ['FeiQ: GB18030 whatever the legacy code page', [undefined, { kind: 'dialect', charset: 'gb18030' }, 'cp932'], { charset: 'gb18030', reason: 'peer-dialect' }],
    ['no CAPUTF8OPT: the legacy code page', [undefined, { kind: 'legacy' }, 'cp932'], { charset: 'cp932', reason: 'peer-legacy' }],
  ];
  for (const [name, args, expected] of cases) test(name, () => assert.deepEqual(chooseCharset(...args), expected));
});

describe('asPeerReads (read back from the state file)', () => {
  const good: PeerReads[] = [{ kind: 'utf8' }, { kind: 'legacy' }, { kind: 'iptux', charset: 'utf-8' }, { kind: 'dialect', charset: 'gb18030' }];
  for (const reads of good) test(`keeps ${JSON.stringify(reads)}`, () => assert.deepEqual(asPeerReads({ ...reads, until: 5 }), reads));
  for (const bad of [null, 7, 'utf8', {}, { kind: 'iptux' }, { kind: 'dialect', charset: 'koi8-r' }, { kind: '__proto__' }, []]) {
    test(`drops ${JSON.stringify(bad)}`, () => assert.equal(asPeerReads(bad), undefined));
  }
});
