// test/protocol/host-list.test.ts
// The ANSLIST body (§3.4): "%5d\a%5d\a" then user\ahost\astatus\aaddress\aport\anick\agroup\a per host.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type HostList,
  atol,
  decodeGetList,
  decodeHostList,
  encodeHostList,
  nextListStart,
  swapPort,
} from '../../src/protocol/host-list.js';
import { decodePacket } from '../../src/protocol/packet.js';
import { bytes, hex } from '../helpers/bytes.js';
import { Rng } from '../helpers/fuzz-datagrams.js';

const bob = {
  user: 'bob',
  host: 'PC2',
  status: 18874368, // FILEATTACHOPT|CAPUTF8OPT = 0x01200000, decimal
  address: '192.168.1.20',
  port: 2425,
  nick: 'Bob',
  group: '',
};

// PROTOCOL.md §14, field by field, with one correction: §14 (and §3.4) print the swapped port
// 2425 as 31001, but 31001 = 0x7919; htons(0x0979) read on x86 is 0x7909 = 30985.
const ONE_HOST = [
  '    0', // next start index, %5d: 0 = the list is complete
  '    1', // hosts in this packet, %5d
  'bob', // user
  'PC2', // host
  '18874368', // status
  '192.168.1.20', // address
  '30985', // port 2425 = 0x0979 written as htons(port) on x86: 0x7909 = 30985
  'Bob', // nickname
  '\b', // group: empty, written as HOSTLIST_DUMMY
  '', // the body ends with a separator
].join('\x07');

describe('the §14 ANSLIST vector', () => {
  const list: HostList = { next: 0, hosts: [bob] };
  test('decode', () => assert.deepStrictEqual(decodeHostList(ONE_HOST), list));
  test('encode', () => assert.equal(encodeHostList(list), ONE_HOST));
  test("§14's literal 31001 is port 0x1979 = 6521, not 2425", () => {
    assert.equal(decodeHostList(ONE_HOST.replace('30985', '31001'))?.hosts[0]?.port, 6521);
  });
});

describe('port byte swap', () => {
  test('2425 ↔ 30985', () => {
    assert.equal(swapPort(2425), 30985);
    assert.equal(swapPort(30985), 2425);
  });
  test('a few fixed values', () => {
    assert.equal(swapPort(0x0001), 0x0100);
    assert.equal(swapPort(0xff00), 0x00ff);
    assert.equal(swapPort(0x1234), 0x3412);
    assert.equal(swapPort(0), 0);
    assert.equal(swapPort(0xffff), 0xffff);
  });
  test('swapping twice gives the port back, for every port', () => {
    for (let port = 0; port <= 0xffff; port++) {
      const swapped = swapPort(port);
      assert.ok(swapped >= 0 && swapped <= 0xffff);
      if (swapPort(swapped) !== port) assert.fail(`port ${port}`);
    }
  });
});

describe('empty fields', () => {
  test('empty nick and group are written as \\b and read back as empty', () => {
    const list: HostList = { next: 0, hosts: [{ ...bob, nick: '', group: '' }] };
    const body = encodeHostList(list);
    assert.equal(body, '    0\x07    1\x07bob\x07PC2\x0718874368\x07192.168.1.20\x0730985\x07\b\x07\b\x07');
    assert.deepStrictEqual(decodeHostList(body), list);
  });
  test('"\\a\\a" runs are skipped like the official tokenizer does', () => {
    const body = '    0\x07\x07    1\x07bob\x07\x07PC2\x0718874368\x07192.168.1.20\x0730985\x07Bob\x07\b\x07';
    assert.deepStrictEqual(decodeHostList(body), { next: 0, hosts: [bob] });
  });
});

describe('pages and counts', () => {
  test('several hosts and a next page', () => {
    const carol = { user: 'carol', host: 'PC3', status: 0x01200100, address: '10.0.0.3', port: 2426, nick: 'キャロル', group: '開発' };
    const list: HostList = { next: 2, hosts: [bob, carol] };
    const body = encodeHostList(list);
    assert.ok(body.startsWith('    2\x07    2\x07'));
    assert.ok(body.includes('\x07' + String(swapPort(2426)) + '\x07'));
    assert.deepStrictEqual(decodeHostList(body), list);
  });
  test("libipmsg's left-aligned counts (%-5d)", () => {
    const body = ONE_HOST.replace('    0\x07    1\x07', '0    \x071    \x07');
    assert.deepStrictEqual(decodeHostList(body), { next: 0, hosts: [bob] });
  });
  test('status is read unsigned', () => {
    const body = ONE_HOST.replace('18874368', '4294967295');
    assert.equal(decodeHostList(body)?.hosts[0]?.status, 0xffffffff);
  });
  test('an empty list', () => {
    assert.equal(encodeHostList({ next: 0, hosts: [] }), '    0\x07    0\x07');
    assert.deepStrictEqual(decodeHostList('    0\x07    0\x07'), { next: 0, hosts: [] });
  });
});

describe('the status field is read as atol reads it (§16)', () => {
  test("the official's <n>-<n> is its first number", () => {
    assert.equal(decodeHostList(ONE_HOST.replace('18874368', '233046016-0'))?.hosts[0]?.status, 233046016);
    assert.equal(decodeHostList(ONE_HOST.replace('18874368', '0-0'))?.hosts[0]?.status, 0);
  });
  test('a status without digits is 0 (the host has left), not a malformed list', () => {
    assert.equal(decodeHostList(ONE_HOST.replace('18874368', 'online'))?.hosts[0]?.status, 0);
  });
  test('atol: blanks, sign, digits up to the first other character', () => {
    assert.equal(atol('  42abc'), 42);
    assert.equal(atol('-7-1'), -7);
    assert.equal(atol('+3'), 3);
    assert.equal(atol('x1'), 0);
    assert.equal(atol(''), 0);
  });
});

describe('GETLIST body', () => {
  test('a decimal start index; empty or unreadable is 0', () => {
    assert.equal(decodeGetList('250'), 250);
    assert.equal(decodeGetList(''), 0);
    assert.equal(decodeGetList('abc'), 0);
    assert.equal(decodeGetList('-5'), 0);
    assert.equal(decodeGetList('9'.repeat(40)), 0);
  });
});

describe('paging bounds', () => {
  const page = (next: number, hosts = 1): HostList => ({ next, hosts: Array.from({ length: hosts }, () => bob) });
  test('the official: next start index, 0 when complete', () => {
    assert.equal(nextListStart(0, page(250)), 250);
    assert.equal(nextListStart(250, page(500)), 500);
    assert.equal(nextListStart(500, page(0)), undefined);
  });
  test("libipmsg's first field is the page's own start (§3.4): paging ends instead of looping", () => {
    assert.equal(nextListStart(0, page(0)), undefined);
    assert.equal(nextListStart(40, page(40)), undefined);
  });
  test('a next index that goes back, or a page without hosts, ends the paging', () => {
    assert.equal(nextListStart(500, page(10)), undefined);
    assert.equal(nextListStart(0, page(99999, 0)), undefined);
  });
});

describe('hostile bodies are bounded', () => {
  test('an absurd count is refused before the body is split into hosts', () => {
    assert.equal(decodeHostList('    0\x07999999999\x07' + 'x\x07'.repeat(100)), undefined);
  });
  test('32 KiB of garbage after a valid list is not read', () => {
    const body = ONE_HOST + '\x07'.repeat(16384) + 'g\x07'.repeat(8192);
    assert.deepStrictEqual(decodeHostList(body)?.hosts, [bob]);
  });
  test('32 KiB of random bytes never throws', () => {
    const rng = new Rng(16);
    for (let i = 0; i < 200; i++) {
      const text = rng.bytes(rng.below(32768)).toString('latin1');
      const list = decodeHostList(i % 2 === 0 ? `    0\x07    3\x07${text}` : text);
      if (list !== undefined) assert.ok(list.hosts.length <= 1000);
    }
  });
  test('random lists of separators, digits and names decode or are refused, never throw', () => {
    const rng = new Rng(1616);
    const pieces = ['\x07', '\x07\x07', '\b', '0', '30985', '65536', '-1', '1-0', '    2', 'bob', '10.0.0.1', 'fd53::2', '', '9999999999'];
    let decoded = 0;
    for (let i = 0; i < 5000; i++) {
      let body = '';
      for (let n = rng.below(40); n > 0; n--) body += rng.pick(pieces);
      const list = decodeHostList(body);
      if (list === undefined) continue;
      decoded++;
      for (const h of list.hosts) assert.ok(h.port >= 0 && h.port <= 0xffff && h.status >= 0 && h.status <= 0xffffffff);
    }
    assert.ok(decoded > 0);
  });
  test('a field longer than the limit refuses the list', () => {
    assert.equal(decodeHostList(ONE_HOST.replace('bob', 'b'.repeat(256))), undefined);
    assert.notEqual(decodeHostList(ONE_HOST.replace('bob', 'b'.repeat(255))), undefined);
  });
  test('IPv6 entries are kept as written', () => {
    assert.equal(decodeHostList(ONE_HOST.replace('192.168.1.20', 'fd53::2'))?.hosts[0]?.address, 'fd53::2');
  });
});

describe('malformed bodies are undefined', () => {
  const cases: [string, string][] = [
    ['empty', ''],
    ['next not a number', ONE_HOST.replace('    0', 'abc')],
    ['count not a number', ONE_HOST.replace('    1', 'x')],
    ['negative count', ONE_HOST.replace('    1', '   -1')],
    ['fractional next', ONE_HOST.replace('    0', '  0.5')],
    ['count larger than the hosts present', ONE_HOST.replace('    1', '    2')],
    ['port above 65535', ONE_HOST.replace('30985', '65536')],
    ['negative port', ONE_HOST.replace('30985', '-1')],
    ['truncated host entry', ONE_HOST.slice(0, ONE_HOST.indexOf('30985'))],
  ];
  for (const [name, body] of cases) test(name, () => assert.equal(decodeHostList(body), undefined));
  test('more hosts than maxHosts', () => {
    assert.notEqual(decodeHostList(ONE_HOST, 1), undefined);
    assert.equal(decodeHostList(ONE_HOST, 0), undefined);
  });
});

describe('the code page of an ANSLIST', () => {
  const names = (data: Uint8Array): string[] | undefined => {
    const p = decodePacket(data, { fallbackCharset: 'cp932' });
    return p.kind === 'ANSLIST' ? p.list?.hosts.map((h) => `${h.user}/${h.nick}/${h.group}`) : undefined;
  };
  test('UTF-8 when flagged (UTF8OPT: the answer to a GETLIST with CAPUTF8OPT)', () => {
    const data = bytes('1:7:w:W:8388627:    0\x07    1\x07taro\x07PC\x071\x0710.0.0.5\x0730985\x07山田\x07開発\x07\0');
    assert.deepEqual(names(data), ['taro/山田/開発']);
  });
  test('the legacy code page when not (the official to the official: ANSI)', () => {
    const data = bytes('1:7:w:W:19:    0\x07    1\x07taro\x07PC\x071\x0710.0.0.5\x0730985\x07', hex('8e 52 93 63'), '\x07', hex('8a 4a 94 ad'), '\x07\0');
    assert.deepEqual(names(data), ['taro/山田/開発']);
  });
});
