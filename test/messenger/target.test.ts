// test/messenger/target.test.ts
// What a user may name as a target, and comma-separated target lists.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { parsePort, parseTarget, splitTargets } from '../../src/messenger/target.js';

const usage = (error: unknown): boolean => isIpmsgError(error, 'IPMSG_ERR_USAGE');

describe('parseTarget', () => {
  it('takes an IPv4 address with the default port', () => {
    assert.deepEqual(parseTarget('10.0.0.2', 2425), { kind: 'address', text: '10.0.0.2', address: '10.0.0.2', port: 2425 });
    assert.deepEqual(parseTarget('  192.168.1.255 ', 2500), {
      kind: 'address',
      text: '192.168.1.255',
      address: '192.168.1.255',
      port: 2500,
    });
  });

  it('takes ADDR:PORT', () => {
    assert.deepEqual(parseTarget('10.0.0.2:2426', 2425), { kind: 'address', text: '10.0.0.2:2426', address: '10.0.0.2', port: 2426 });
    assert.deepEqual(parseTarget('127.0.0.1:1', 2425), { kind: 'address', text: '127.0.0.1:1', address: '127.0.0.1', port: 1 });
    assert.equal(parseTarget('127.0.0.1:65535', 2425).port, 65535);
  });

  it('takes user, nick and host names, user@host and dotted host names, without a port unless given', () => {
    assert.deepEqual(parseTarget('alice', 2425), { kind: 'name', text: 'alice', name: 'alice', port: undefined });
    assert.deepEqual(parseTarget('alice@pc1', 2425), { kind: 'name', text: 'alice@pc1', name: 'alice@pc1', port: undefined });
    assert.deepEqual(parseTarget('张三', 2425), { kind: 'name', text: '张三', name: '张三', port: undefined });
    assert.deepEqual(parseTarget('printer.example.lan', 2425), {
      kind: 'name',
      text: 'printer.example.lan',
      name: 'printer.example.lan',
      port: undefined,
    });
  });

  it('takes name:port', () => {
    assert.deepEqual(parseTarget('alice:2426', 2425), { kind: 'name', text: 'alice:2426', name: 'alice', port: 2426 });
    assert.deepEqual(parseTarget('bob@pc2:3000', 2425), { kind: 'name', text: 'bob@pc2:3000', name: 'bob@pc2', port: 3000 });
  });

  it('treats what is not a dotted quad as a name', () => {
    for (const text of ['10.0.0', '10.0.0.256', '1.2.3.4.5']) assert.equal(parseTarget(text, 2425).kind, 'name', text);
  });

  it('rejects bad ports with IPMSG_ERR_USAGE', () => {
    for (const bad of ['alice:', 'alice:0', 'alice:65536', 'alice:99999', 'alice:abc', 'alice:-1', 'alice:24 25', '10.0.0.2:', '10.0.0.2:70000', '10.0.0.2:0x10', 'alice:123456']) {
      assert.throws(() => parseTarget(bad, 2425), usage, bad);
    }
  });

  it('rejects an empty target with IPMSG_ERR_USAGE', () => {
    for (const bad of ['', '   ', ':2425', '  :2426']) assert.throws(() => parseTarget(bad, 2425), usage, JSON.stringify(bad));
  });

  it('names the bad target in the message', () => {
    assert.throws(() => parseTarget('bob:99999', 2425), /Invalid port in target "bob:99999"/);
  });
});

describe('parsePort', () => {
  it('accepts 1–65535 in decimal only', () => {
    assert.equal(parsePort('1'), 1);
    assert.equal(parsePort('2425'), 2425);
    assert.equal(parsePort('65535'), 65535);
    for (const bad of ['', '0', '65536', '+1', '1e3', ' 1', '123456', '0x1f']) assert.equal(parsePort(bad), undefined, bad);
  });
});

describe('splitTargets', () => {
  it('splits on commas, trims, drops empties, keeps the order', () => {
    assert.deepEqual(splitTargets(['a,b', ' c ', ',,', 'd, e,', '10.0.0.2:2426']), ['a', 'b', 'c', 'd', 'e', '10.0.0.2:2426']);
    assert.deepEqual(splitTargets([]), []);
    assert.deepEqual(splitTargets([' , ']), []);
  });
});
