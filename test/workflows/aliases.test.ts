// test/workflows/aliases.test.ts
// Target aliases: expansion (nested, deduplicated, in order), names that are refused, cycles and limits.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { ALIAS_LIMITS, AliasTable, expandAliases } from '../../src/workflows/aliases.js';
import { Client } from '../../src/workflows/client.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLan } from '../helpers/fake-lan.js';
import { PORT, openNode } from '../helpers/lan-node.js';

/** The IpmsgError `make` throws: its code is usage (64), its message is returned. */
function usageError(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    assert.ok(isIpmsgError(error, 'IPMSG_ERR_USAGE'), String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail('no error');
}

describe('expandAliases', () => {
  const aliases = { desk: '10.0.0.7', team: 'alice, bob,10.0.0.9', all: ['team', 'desk,carol'], laptop: ['[fe80::1%eth0]:2426'] };

  test('an alias becomes its targets; other targets stay as they are', () => {
    assert.deepEqual(expandAliases(['desk'], aliases), ['10.0.0.7']);
    assert.deepEqual(expandAliases(['dave', 'desk', '10.0.0.1:2426'], aliases), ['dave', '10.0.0.7', '10.0.0.1:2426']);
    assert.deepEqual(expandAliases(['laptop'], aliases), ['[fe80::1%eth0]:2426']);
  });

  test('comma-separated lists and arrays both work, and aliases may name aliases', () => {
    assert.deepEqual(expandAliases(['team'], aliases), ['alice', 'bob', '10.0.0.9']);
    assert.deepEqual(expandAliases(['all'], aliases), ['alice', 'bob', '10.0.0.9', '10.0.0.7', 'carol']);
    assert.deepEqual(expandAliases(['carol,desk'], aliases), ['carol', '10.0.0.7']);
  });

  test('a target named twice is kept once, where it first appeared', () => {
    assert.deepEqual(expandAliases(['bob', 'all', 'desk', '10.0.0.7'], aliases), ['bob', 'alice', '10.0.0.9', '10.0.0.7', 'carol']);
  });

  test('names match ignoring case, like LAN names; a name with a port is not the alias', () => {
    assert.deepEqual(expandAliases(['DESK'], aliases), ['10.0.0.7']);
    assert.deepEqual(expandAliases(['desk:2426'], aliases), ['desk:2426']);
  });

  test('the table lists every alias in the given order, expanded', () => {
    const table = new AliasTable(aliases);
    assert.equal(table.size, 4);
    assert.deepEqual(table.list().map((a) => a.name), ['desk', 'team', 'all', 'laptop']);
    assert.deepEqual(table.get('all'), ['alice', 'bob', '10.0.0.9', '10.0.0.7', 'carol']);
    assert.equal(table.get('carol'), undefined);
    assert.deepEqual(new AliasTable().expand(['a,b']), ['a', 'b']);
  });
});

describe('bad alias tables are usage errors', () => {
  test('a cycle is named, however long', () => {
    assert.match(usageError(() => new AliasTable({ a: 'b', b: 'c,10.0.0.1', c: 'a' })), /alias cycle: a → b → c → a/);
    assert.match(usageError(() => new AliasTable({ self: 'x,SELF' })), /alias cycle: self → self/);
  });

  test('a chain deeper than the limit', () => {
    const chain = Object.fromEntries(Array.from({ length: ALIAS_LIMITS.depth + 1 }, (_, i) => [`a${i}`, i === ALIAS_LIMITS.depth ? '10.0.0.1' : `a${i + 1}`]));
    assert.match(usageError(() => new AliasTable(chain)), /nested more than 16 deep: a0 → a1 → /);
    delete chain[`a0`];
    assert.deepEqual(new AliasTable(chain).get('a1'), ['10.0.0.1']);
  });

  test('an address, ADDR:PORT or an IPv6 literal is never an alias name', () => {
    for (const name of ['10.0.0.7', '10.0.0.7:2426', '::1', 'fe80::1', '[::1]:2425']) {
      assert.match(usageError(() => new AliasTable({ [name]: 'alice' })), new RegExp(`alias ${JSON.stringify(name).replace(/[[\].]/g, '\\$&')} is`));
    }
  });

  test('names with separators, blanks or a leading dash, empty or too long names', () => {
    for (const name of ['a,b', 'a b', 'a:b', '-x', '', 'x'.repeat(ALIAS_LIMITS.nameLength + 1)]) assert.match(usageError(() => new AliasTable({ [name]: 'alice' })), /alias .* is/);
    assert.equal(new AliasTable({ ['x'.repeat(ALIAS_LIMITS.nameLength)]: 'alice' }).size, 1);
  });

  test('empty or mistyped values, and bad targets inside them', () => {
    assert.match(usageError(() => new AliasTable({ none: ' , ' })), /alias "none" names no target/);
    assert.match(usageError(() => new AliasTable({ none: [] })), /names no target/);
    assert.match(usageError(() => new AliasTable({ n: 5 } as never)), /must be a string of comma-separated targets or an array/);
    assert.match(usageError(() => new AliasTable({ n: ['a', 5] } as never)), /must be a string/);
    assert.match(usageError(() => new AliasTable({ n: '10.0.0.1:99999' })), /Invalid port/);
  });

  test('two names that differ only in case', () => {
    assert.match(usageError(() => new AliasTable({ Desk: 'a', desk: 'b' })), /aliases "Desk" and "desk" differ only in case/);
  });

  test('too many aliases, or an expansion past the target limit', () => {
    const many = Object.fromEntries(Array.from({ length: ALIAS_LIMITS.entries + 1 }, (_, i) => [`n${i}`, 'x']));
    assert.match(usageError(() => new AliasTable(many)), /more than the 10000 allowed/);
    // Each level doubles the list: found while expanding, not after building it all.
    const half = Array.from({ length: ALIAS_LIMITS.targets / 2 + 1 }, (_, i) => `h${i}`);
    const big = { a: half.join(','), b: half.map((h) => `${h}b`).join(','), both: 'a,b' };
    assert.match(usageError(() => new AliasTable(big)), /alias "both" expands to more than 10000 targets/);
    const table = new AliasTable({ a: big.a, b: big.b });
    assert.match(usageError(() => table.expand(['a', 'b'])), /the targets expand to more than 10000/);
  });
});

describe('Client with aliases', () => {
  async function client(aliases: Record<string, string>) {
    const clock = new FakeClock();
    const node = await openNode(new FakeLan(clock), clock, '10.0.0.1');
    return new Client(node.messenger, { port: PORT, clock, charset: undefined, fallbackCharset: 'gb18030', via: [], aliases: new AliasTable(aliases), onNotice: () => undefined });
  }

  test('resolve expands aliases first: an alias of addresses needs no discovery, whatever the LAN calls itself', async () => {
    const c = await client({ desk: '10.0.0.7', team: 'desk,10.0.0.9:2426' });
    // No clock tick: a name looked for on the LAN would wait for answers and never settle here.
    const destinations = await c.resolve(['team', 'DESK'], { wait: 60_000 });
    assert.deepEqual(destinations.map((d) => [d.text, d.address, d.port]), [['10.0.0.7', '10.0.0.7', PORT], ['10.0.0.9:2426', '10.0.0.9', 2426]]);
    assert.deepEqual(c.expandTargets('team,bob'), ['10.0.0.7', '10.0.0.9:2426', 'bob']);
    await c.close();
  });
});
