// test/protocol/packet-no.test.ts
// Packet numbers: Unix seconds, +1 per packet, never going back (§2.3, §15 item 2).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_PACKET_NO, asPacketNo, nextPacketNo, parsePacketNo } from '../../src/protocol/packet-no.js';

describe('nextPacketNo', () => {
  test('the current second when the clock is ahead of the last number', () => {
    assert.equal(nextPacketNo(0, 1_700_000_000_999), 1_700_000_000);
    assert.equal(nextPacketNo(1_699_999_000, 1_700_000_000_000), 1_700_000_000);
  });
  test('last + 1 within the same second (two quick runs must still increase)', () => {
    assert.equal(nextPacketNo(1_700_000_000, 1_700_000_000_500), 1_700_000_001);
    assert.equal(nextPacketNo(1_700_000_001, 1_700_000_000_900), 1_700_000_002);
  });
  test('last + 1 when the clock went backwards', () => {
    assert.equal(nextPacketNo(1_700_000_005, 1_600_000_000_000), 1_700_000_006);
  });
  test('starting from a clock before 1970 (negative) still gives last + 1', () => {
    assert.equal(nextPacketNo(0, -5_000), 1);
  });
  test('never goes back and never repeats over a random walk of the clock', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
      return seed % n;
    };
    let now = 1_700_000_000_000;
    let last = 0;
    for (let i = 0; i < 10_000; i++) {
      // mostly small steps forward, sometimes jumps back (NTP), sometimes far forward
      const step = rand(10) === 0 ? -rand(10_000_000) : rand(10) === 0 ? rand(100_000_000) : rand(2_000);
      now += step;
      const next = nextPacketNo(last, now);
      assert.ok(next > last, `step ${i}: ${next} after ${last}`);
      assert.ok(next >= Math.floor(now / 1000), `step ${i}: ${next} behind the clock ${now}`);
      assert.ok(Number.isSafeInteger(next));
      last = next;
    }
  });
  test('past the largest packet number it throws rather than wrap', () => {
    assert.throws(() => nextPacketNo(MAX_PACKET_NO, 0), RangeError);
  });
});

describe('parsePacketNo', () => {
  test('decimal numbers', () => {
    assert.equal(parsePacketNo('0'), 0);
    assert.equal(parsePacketNo('1700000005'), 1700000005);
    assert.equal(parsePacketNo('0001'), 1);
    assert.equal(parsePacketNo('4294967296'), 2 ** 32); // above 32 bits is fine (ipmsg.js uses milliseconds)
  });
  test('the limit: 2^53 - 1 in, 2^53 out', () => {
    assert.equal(MAX_PACKET_NO, Number.MAX_SAFE_INTEGER);
    assert.equal(parsePacketNo('9007199254740991'), Number.MAX_SAFE_INTEGER);
    assert.equal(parsePacketNo('9007199254740992'), undefined);
    assert.equal(parsePacketNo('99999999999999999'), undefined); // 17 digits
    assert.equal(parsePacketNo('18446744073709551616'), undefined); // 2^64
  });
  test('anything that is not plain decimal digits', () => {
    for (const text of ['', ' ', '-1', '+1', '1.5', '1e5', '0x10', ' 1', '1 ', '１２３', 'abc', '12a']) {
      assert.equal(parsePacketNo(text), undefined, JSON.stringify(text));
    }
  });
});

describe('asPacketNo', () => {
  test('accepts safe non-negative integers', () => {
    assert.equal(asPacketNo(0), 0);
    assert.equal(asPacketNo(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  });
  test('refuses the rest', () => {
    for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => asPacketNo(value), RangeError, String(value));
    }
  });
});
