// test/transport/address.test.ts
// Address literals of both families: family, mapped addresses, zones, [addr]:port and the order.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareAddresses, familyOf, formatEndpoint, isLinkLocalIpv6, isMulticastIpv6, unmapped, withoutScope } from '../../src/transport/address.js';

describe('addresses', () => {
  it('tells the family, zones included', () => {
    assert.equal(familyOf('10.0.0.1'), 'IPv4');
    assert.equal(familyOf('fd53::1'), 'IPv6');
    assert.equal(familyOf('fe80::1%eth0'), 'IPv6');
    assert.equal(familyOf('fd53:'), undefined);
    assert.equal(familyOf('alice'), undefined);
  });

  it('shows IPv4-mapped addresses as IPv4 and nothing else', () => {
    assert.equal(unmapped('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(unmapped('::FFFF:10.0.0.1'), '10.0.0.1');
    assert.equal(unmapped('::ffff:a00:1'), '::ffff:a00:1');
    assert.equal(unmapped('fd53::1'), 'fd53::1');
  });

  it('writes IPv6 endpoints in brackets', () => {
    assert.equal(formatEndpoint('10.0.0.1', 2425), '10.0.0.1:2425');
    assert.equal(formatEndpoint('fd53::1', 2425), '[fd53::1]:2425');
    assert.equal(formatEndpoint('fe80::1%eth0', 1), '[fe80::1%eth0]:1');
  });

  it('knows zones, link-local and multicast', () => {
    assert.equal(withoutScope('fe80::1%eth0'), 'fe80::1');
    assert.equal(withoutScope('10.0.0.1'), '10.0.0.1');
    assert.equal(isLinkLocalIpv6('fe80::1%eth0'), true);
    assert.equal(isLinkLocalIpv6('fd00::1'), false);
    assert.equal(isMulticastIpv6('ff15::979'), true);
    assert.equal(isMulticastIpv6('ff02::1%eth0'), true);
    assert.equal(isMulticastIpv6('fd00::1'), false);
  });

  it('orders IPv4 by value first, then IPv6 by value', () => {
    const sorted = ['fd00::10', '10.0.0.10', 'fd00::2', '10.0.0.9', 'fe80::1%eth0', '::ffff:1.2.3.4', 'fd00:0::3'].sort(compareAddresses);
    assert.deepEqual(sorted, ['10.0.0.9', '10.0.0.10', '::ffff:1.2.3.4', 'fd00::2', 'fd00:0::3', 'fd00::10', 'fe80::1%eth0']);
  });
});
