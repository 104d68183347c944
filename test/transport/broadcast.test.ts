// test/transport/broadcast.test.ts
// Where entry packets go, computed from a fake interface table (§3.1), and the IPv4 helpers.

import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, it } from 'node:test';
import {
  type InterfaceTable,
  broadcastTargets,
  intToIpv4,
  ipv4ToInt,
  ipv6Interfaces,
  isIpv4,
  localAddresses,
} from '../../src/transport/broadcast.js';

function v4(address: string, netmask: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask, family: 'IPv4', mac: '02:00:00:00:00:01', internal, cidr: null };
}

function v6(address: string): NetworkInterfaceInfo {
  return { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: null, scopeid: 0 };
}

const TABLE: InterfaceTable = {
  lo: [v4('127.0.0.1', '255.0.0.0', true), { ...v6('::1'), internal: true }],
  eth0: [v4('10.0.0.7', '255.255.255.0'), v6('fe80::1')],
  wlan0: [v4('192.168.1.20', '255.255.252.0')],
  tun0: [v4('172.16.5.5', '255.255.255.255')],
  eth1: [v4('10.0.0.8', '255.255.255.0')],
  down: undefined,
};

describe('ipv4ToInt / intToIpv4', () => {
  it('converts both ways', () => {
    assert.equal(ipv4ToInt('0.0.0.0'), 0);
    assert.equal(ipv4ToInt('10.0.0.1'), 0x0a000001);
    assert.equal(ipv4ToInt('192.168.1.255'), 0xc0a801ff);
    assert.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
    assert.equal(intToIpv4(0x0a000001), '10.0.0.1');
    assert.equal(intToIpv4(0xffffffff), '255.255.255.255');
    assert.equal(intToIpv4(0), '0.0.0.0');
    for (const a of ['1.2.3.4', '172.31.255.254', '224.0.0.251']) assert.equal(intToIpv4(ipv4ToInt(a) ?? -1), a);
  });

  it('rejects what is not a dotted quad', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-4', 'a.b.c.d', '1.2.3.4 ', '1..2.3', '1234.1.1.1', '::1']) {
      assert.equal(ipv4ToInt(bad), undefined, bad);
      assert.equal(isIpv4(bad), false, bad);
    }
    assert.equal(isIpv4('10.0.0.255'), true);
  });
});

describe('broadcastTargets', () => {
  it('lists the directed broadcast of every up external IPv4 interface, then 255.255.255.255', () => {
    assert.deepEqual(broadcastTargets({ interfaces: TABLE }), ['10.0.0.255', '192.168.3.255', '255.255.255.255']);
  });

  it('skips internal interfaces, IPv6 and /32 masks, and removes duplicates', () => {
    const targets = broadcastTargets({ interfaces: TABLE });
    assert.ok(!targets.includes('127.255.255.255'), 'loopback is internal');
    assert.ok(!targets.includes('172.16.5.5'), 'a /32 has no broadcast');
    assert.equal(targets.filter((t) => t === '10.0.0.255').length, 1, 'eth0 and eth1 share a subnet');
    assert.ok(targets.every((t) => isIpv4(t)));
  });

  it('with `bind` uses only that interface and not the limited broadcast', () => {
    assert.deepEqual(broadcastTargets({ interfaces: TABLE, bind: '192.168.1.20' }), ['192.168.3.255']);
    assert.deepEqual(broadcastTargets({ interfaces: TABLE, bind: '127.0.0.1' }), ['127.255.255.255']);
    assert.deepEqual(broadcastTargets({ interfaces: TABLE, bind: '10.9.9.9' }), [], 'an address no interface has');
  });

  it('treats bind 0.0.0.0 as every interface', () => {
    assert.deepEqual(broadcastTargets({ interfaces: TABLE, bind: '0.0.0.0' }), broadcastTargets({ interfaces: TABLE }));
  });

  it('appends the extra targets, without duplicates', () => {
    assert.deepEqual(broadcastTargets({ interfaces: TABLE, extra: ['10.1.0.255', '10.0.0.255', '192.168.50.7'] }), [
      '10.0.0.255',
      '192.168.3.255',
      '255.255.255.255',
      '10.1.0.255',
      '192.168.50.7',
    ]);
    assert.deepEqual(broadcastTargets({ interfaces: TABLE, bind: '10.0.0.7', extra: ['10.1.0.255'] }), ['10.0.0.255', '10.1.0.255']);
  });

  it('gives only the limited broadcast when no interface is up', () => {
    assert.deepEqual(broadcastTargets({ interfaces: {} }), ['255.255.255.255']);
    assert.deepEqual(broadcastTargets({ interfaces: { lo: [v4('127.0.0.1', '255.0.0.0', true)] } }), ['255.255.255.255']);
  });

  it('computes other mask lengths', () => {
    const table: InterfaceTable = { a: [v4('172.20.130.9', '255.255.128.0')], b: [v4('10.200.3.4', '255.0.0.0')] };
    assert.deepEqual(broadcastTargets({ interfaces: table }), ['172.20.255.255', '10.255.255.255', '255.255.255.255']);
  });
});

describe('broadcastTargets with IPv6 (§8)', () => {
  const table: InterfaceTable = {
    lo: [v4('127.0.0.1', '255.0.0.0', true), { ...v6('::1'), internal: true }],
    eth0: [v4('10.0.0.7', '255.255.255.0'), v6('fd00::7'), v6('fe80::1')],
    eth1: [v6('fd01::7')],
  };

  it('adds ff15::979 and ff02::1 on every external IPv6 interface when the socket speaks IPv6', () => {
    assert.deepEqual(broadcastTargets({ interfaces: table, families: ['IPv6', 'IPv4'] }), [
      '10.0.0.255',
      'ff15::979%eth0',
      'ff02::1%eth0',
      'ff15::979%eth1',
      'ff02::1%eth1',
      '255.255.255.255',
    ]);
  });

  it('keeps to one family when the socket does', () => {
    assert.deepEqual(broadcastTargets({ interfaces: table, families: ['IPv6'] }), ['ff15::979%eth0', 'ff02::1%eth0', 'ff15::979%eth1', 'ff02::1%eth1']);
    assert.deepEqual(broadcastTargets({ interfaces: table }), ['10.0.0.255', '255.255.255.255']);
  });

  it('with an IPv6 `bind` uses only that interface; :: is every interface', () => {
    assert.deepEqual(broadcastTargets({ interfaces: table, families: ['IPv6'], bind: 'fd01::7' }), ['ff15::979%eth1', 'ff02::1%eth1']);
    assert.deepEqual(broadcastTargets({ interfaces: table, families: ['IPv6'], bind: '::1' }), []);
    assert.deepEqual(broadcastTargets({ interfaces: table, families: ['IPv6'], bind: '::' }), broadcastTargets({ interfaces: table, families: ['IPv6'] }));
  });

  it('names the interfaces where the group is joined', () => {
    assert.deepEqual(ipv6Interfaces(table), ['eth0', 'eth1']);
    assert.deepEqual(ipv6Interfaces(table, 'fd01::7'), ['eth1']);
    assert.deepEqual(ipv6Interfaces(table, '10.0.0.7'), []);
  });
});

describe('localAddresses', () => {
  it('holds loopback and every address, internal or not, IPv6 ones without their zone', () => {
    assert.deepEqual(
      [...localAddresses(TABLE)].sort(),
      ['10.0.0.7', '10.0.0.8', '127.0.0.1', '172.16.5.5', '192.168.1.20', '::1', 'fe80::1'],
    );
    assert.deepEqual([...localAddresses({ eth0: [v6('fe80::1%eth0')] })].sort(), ['127.0.0.1', '::1', 'fe80::1']);
    assert.deepEqual([...localAddresses({})], ['127.0.0.1', '::1']);
  });
});
