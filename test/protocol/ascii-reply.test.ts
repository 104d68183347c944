// test/protocol/ascii-reply.test.ts
// decodePacket's short path for all-ASCII replies (RECVMSG and its kind) must give exactly what the
// full decoder gives, and leave everything else (invalid, non-ASCII, sections, other kinds) to it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/protocol/limits.js';
import { type Packet, decodeAnyPacket, decodeAsciiReply, decodePacket } from '../../src/protocol/packet.js';

const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const full = (bytes: Uint8Array): Packet | string => {
  try {
    return decodeAnyPacket(bytes, { fallbackCharset: 'cp932' });
  } catch (error) {
    return (error as Error).message;
  }
};

/** Same fields, same values, same order (the packet is also written out as JSON). */
function assertSame(bytes: Uint8Array): void {
  const short = decodeAsciiReply(bytes, DEFAULT_LIMITS);
  if (short === undefined) return;
  assert.equal(JSON.stringify(short), JSON.stringify(full(bytes)), JSON.stringify(Buffer.from(bytes).toString('latin1')));
  assert.deepEqual(short, full(bytes));
}

describe('decodeAsciiReply', () => {
  test('takes well-formed replies of every reply kind and matches the full decoder', () => {
    for (const [mode, kind] of [[0x21, 'RECVMSG'], [0x30, 'READMSG'], [0x31, 'DELMSG'], [0x32, 'ANSREADMSG'], [0x61, 'RELEASEFILES']] as const) {
      for (const command of [mode, mode | 0x00800000, mode | 0x00200000]) {
        const bytes = latin1(`1:42:alice:host-1:${command}:1796618178\0`);
        const short = decodeAsciiReply(bytes, DEFAULT_LIMITS);
        assert.equal(short?.kind, kind);
        assert.equal(short?.ref, 1796618178);
        assertSame(bytes);
        assert.deepEqual(decodePacket(bytes, { fallbackCharset: 'cp932' }), full(bytes));
      }
    }
  });

  test('matches the full decoder on the forms real clients write', () => {
    for (const text of [
      '1:42:a:b:33:7',
      '1:42:a:b:33:7\0\0\0\0',
      '1:0042:a:b:33:7\0',
      '01:42:a:b:33:7\0',
      '1_iptux 0.8.3:42:a:b:33: 7 \0',
      '1:42:a:b:33:\0',
      '1:42:a:b:33\0',
      '1:42:::33:x:y:z\0',
      '1:42:a:b:33:0x10\0',
      '1:9007199254740991:a:b:4294967073:9007199254740991\0',
      `1${'x'.repeat(69)}:42:a:b:33:7\0`,
      `1:42:${'u'.repeat(DEFAULT_LIMITS.maxNameBytes)}:b:33:7\0`,
    ]) {
      const bytes = latin1(text);
      assert.notEqual(decodeAsciiReply(bytes, DEFAULT_LIMITS), undefined, JSON.stringify(text));
      assertSame(bytes);
    }
  });

  test('leaves invalid, non-ASCII, sectioned and other packets to the full decoder', () => {
    for (const text of [
      '2:42:a:b:33:7\0',
      'IP2:42:a:b:33:7\0',
      '1:x:a:b:33:7\0',
      '1:42:a:b:33x:7\0',
      '1:42:a:b:4294967296:7\0',
      '1:42:a:b\0',
      '1:42:a:b:32:hello\0',
      '1:42:a:b:1:nick\0group\0',
      '1:42:a:b:33:7\0extra\0',
      '1:42:\xe9:b:33:7\0',
      '1:42:a:b:33:7\0\x80',
      `1:42:${'u'.repeat(DEFAULT_LIMITS.maxNameBytes + 1)}:b:33:7\0`,
      `1:42:a:b:33:7\0${'\0'.repeat(DEFAULT_LIMITS.maxDatagram)}`,
    ]) {
      assert.equal(decodeAsciiReply(latin1(text), DEFAULT_LIMITS), undefined, JSON.stringify(text));
    }
  });

  test('random ASCII replies: the short path gives what the full decoder gives', () => {
    let seed = 1234567;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = '0123456789:\0 \tab.IP-_\x7f';
    let taken = 0;
    for (let i = 0; i < 20000; i++) {
      const base = `1:${random(1000)}:u${random(10)}:h:${[0x21, 0x30, 0x32, 0x800021][random(4)]}:${random(100000)}\0`.split('');
      for (let m = random(4); m > 0; m--) base.splice(random(base.length + 1), random(2), alphabet[random(alphabet.length)] ?? '');
      const bytes = latin1(base.join(''));
      if (decodeAsciiReply(bytes, DEFAULT_LIMITS) !== undefined) taken++;
      assertSame(bytes);
    }
    assert.ok(taken > 1000, `only ${taken} took the short path`);
  });
});
