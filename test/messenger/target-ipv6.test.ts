// test/messenger/target-ipv6.test.ts
// IPv6 targets: bare, scoped link-local, [ADDR]:PORT, IPv4-mapped; malformed literals are usage errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { parseTarget } from '../../src/messenger/target.js';

const usage = (error: unknown): boolean => isIpmsgError(error, 'IPMSG_ERR_USAGE');

describe('parseTarget with IPv6', () => {
  it('takes a bare IPv6 address with the default port', () => {
    assert.deepEqual(parseTarget('fd53::1', 2425), { kind: 'address', text: 'fd53::1', address: 'fd53::1', port: 2425 });
    assert.deepEqual(parseTarget('::1', 2500), { kind: 'address', text: '::1', address: '::1', port: 2500 });
    assert.deepEqual(parseTarget('2001:db8:0:0:0:0:0:1', 2425).kind, 'address');
  });

  it('takes a scoped link-local address, zone kept', () => {
    assert.deepEqual(parseTarget('fe80::1%eth0', 2425), { kind: 'address', text: 'fe80::1%eth0', address: 'fe80::1%eth0', port: 2425 });
  });

  it('takes [ADDR] and [ADDR]:PORT', () => {
    assert.deepEqual(parseTarget('[fd53::1]:2426', 2425), { kind: 'address', text: '[fd53::1]:2426', address: 'fd53::1', port: 2426 });
    assert.deepEqual(parseTarget('[fd53::1]', 2425), { kind: 'address', text: '[fd53::1]', address: 'fd53::1', port: 2425 });
    assert.deepEqual(parseTarget('[fe80::1%eth0]:9', 2425), { kind: 'address', text: '[fe80::1%eth0]:9', address: 'fe80::1%eth0', port: 9 });
  });

  it('shows an IPv4-mapped address as plain IPv4', () => {
    assert.deepEqual(parseTarget('::ffff:10.0.0.2', 2425), { kind: 'address', text: '::ffff:10.0.0.2', address: '10.0.0.2', port: 2425 });
  });

  it('refuses malformed literals at once, never taking them for names', () => {
    for (const bad of ['fd53:::1', 'fd53::1::2', 'fd53::g', '[fd53::1', '[fd53::1]x', '[fd53::1]:', '[fd53::1]:0', '[fd53::1]:65536', '[]', '[alice]:2425', '1:2:3:4:5:6:7:8:9', 'fd53::1:']) {
      assert.throws(() => parseTarget(bad, 2425), usage, bad);
    }
  });

  it('keeps names and IPv4 as they were', () => {
    assert.deepEqual(parseTarget('alice:2426', 2425), { kind: 'name', text: 'alice:2426', name: 'alice', port: 2426 });
    assert.equal(parseTarget('10.0.0.2:2426', 2425).kind, 'address');
  });
});
