// test/messenger/duplicates.test.ts
// The memory of recent messages: a resend (same sender, same packet number) is seen, while the same
// packet number from another sender — another port of the same machine included — is a new message.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentPackets } from '../../src/messenger/duplicates.js';

const TX = { user: 'tx', host: 'tx-pc' };
const FROM = { address: '10.249.0.1', port: 40001 };

describe('RecentPackets', () => {
  it('a resend from the same address, port and name is a duplicate', () => {
    const recent = new RecentPackets();
    assert.equal(recent.has(1795358511, TX, FROM), false);
    assert.equal(recent.check(1795358511, TX, FROM), false, 'first time');
    assert.equal(recent.has(1795358511, TX, FROM), true);
    assert.equal(recent.check(1795358511, TX, { ...FROM }), true, 'the resend');
  });

  it('two processes of one user on one machine (same address and name, other ports) drawing the same number are two messages', () => {
    const recent = new RecentPackets();
    assert.equal(recent.check(1795358511, TX, FROM), false);
    assert.equal(recent.has(1795358511, TX, { address: FROM.address, port: 40002 }), false);
    assert.equal(recent.check(1795358511, TX, { address: FROM.address, port: 40002 }), false);
  });

  it('the same sender heard over IPv4 and IPv6 (a dual-stack broadcast) is one message', () => {
    const recent = new RecentPackets();
    recent.check(7, TX, FROM);
    assert.equal(recent.check(7, TX, { ...FROM, address: 'fe80::1%eth0' }), true);
  });

  it('another user or host with the same number is another message', () => {
    const recent = new RecentPackets();
    recent.check(7, TX, FROM);
    assert.equal(recent.check(7, { ...TX, user: 'ty' }, FROM), false);
    assert.equal(recent.check(7, { ...TX, host: 'ty-pc' }, FROM), false);
    assert.equal(recent.check(8, TX, FROM), false);
  });

  it('names that run together do not collide (user "a\\0b" at "c" is not user "a" at "b\\0c")', () => {
    const recent = new RecentPackets();
    recent.check(7, { user: 'a\0b', host: 'c' }, FROM);
    assert.equal(recent.check(7, { user: 'a', host: 'b\0c' }, FROM), false);
  });

  it('forgets the oldest beyond its capacity', () => {
    const recent = new RecentPackets(3);
    for (const n of [1, 2, 3, 4]) recent.check(n, TX, FROM);
    assert.equal(recent.has(1, TX, FROM), false, 'the oldest is forgotten');
    assert.deepEqual([2, 3, 4].map((n) => recent.has(n, TX, FROM)), [true, true, true]);
  });
});
