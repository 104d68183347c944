// test/cli/config.test.ts
// The config file: unknown keys are warned about with the nearest known key; every bad value is 64.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import { loadConfig, nearest, resolveSettings } from '../../src/cli/config.js';
import { addCommonOptions, addViaOption } from '../../src/cli/options.js';
import { isIpmsgError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmsg-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(data: unknown): { config: ReturnType<typeof loadConfig>; warnings: string[] } {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(data));
  const warnings: string[] = [];
  return { config: loadConfig(file, (m) => warnings.push(m)), warnings };
}

describe('config file', () => {
  test('an unknown key is a warning naming it and the nearest known key', () => {
    const { config, warnings } = load({ prot: 2425, nick: 'bot', Broadcasts: [], decodeEncodng: 'gbk' });
    assert.deepEqual(config, { nick: 'bot' });
    assert.equal(warnings.length, 3);
    assert.match(warnings[0] ?? '', /unknown key "prot" ignored \(did you mean "port"\?\)/);
    assert.match(warnings[1] ?? '', /"Broadcasts".*"broadcast"/);
    assert.match(warnings[2] ?? '', /"decodeEncodng".*"decodeEncoding"/);
  });

  test('nearest is by edit distance', () => {
    assert.equal(nearest('hots', ['host', 'user', 'port']), 'host');
    assert.equal(nearest('gruop', ['group', 'port']), 'group');
    assert.equal(nearest('bnid', ['bind', 'nick']), 'bind');
  });

  test('good values of every key are taken', () => {
    const all = { user: 'u', host: 'h', nick: 'n', group: 'g', encoding: 'GBK', decodeEncoding: 'cp932', port: 2426, bind: '10.0.0.2', broadcast: ['10.0.0.255', '10.1.0.255'], via: ['10.1.0.5', '10.2.0.5:2426', 'gateway'] };
    const { config, warnings } = load(all);
    assert.deepEqual(warnings, []);
    assert.equal(config.port, 2426);
    assert.deepEqual(config.broadcast, all.broadcast);
    assert.equal(config.bind, '10.0.0.2');
    assert.deepEqual(config.via, all.via);
  });

  for (const [key, value] of [
    ['user', 42],
    ['nick', null],
    ['group', ['a']],
    ['encoding', 'klingon'],
    ['decodeEncoding', 7],
    ['port', '2425'],
    ['port', 0],
    ['port', 65536],
    ['port', 24.5],
    ['bind', 'localhost'],
    ['bind', '10.0.0.256'],
    ['broadcast', '10.0.0.255'],
    ['broadcast', [10]],
    ['broadcast', ['10.0.0.255', 'everyone']],
    ['via', '10.1.0.5'],
    ['via', [5]],
    ['via', ['10.1.0.5:99999']],
    ['via', ['']],
    ['aliases', ['desk']],
    ['aliases', 'desk=10.0.0.7'],
    ['aliases', { '10.0.0.7': 'desk' }],
    ['aliases', { desk: '' }],
    ['aliases', { a: 'b', b: 'a' }],
  ] as const) {
    test(`${key}: ${JSON.stringify(value)} is a usage error (64) naming the key`, () => {
      assert.throws(
        () => load({ [key]: value }),
        (error: unknown) => isIpmsgError(error, 'IPMSG_ERR_USAGE') && error.exitStatus === 64 && error.message.includes(`"${key}"`),
      );
    });
  }
});

describe('aliases', () => {
  test('are checked and expanded when the file is read', () => {
    const { config, warnings } = load({ aliases: { desk: '10.0.0.7', team: ['alice', 'desk'] } });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.aliases?.list(), [
      { name: 'desk', targets: ['10.0.0.7'] },
      { name: 'team', targets: ['alice', '10.0.0.7'] },
    ]);
  });
  test('a cycle is one line naming the file and the cycle', () => {
    assert.throws(() => load({ aliases: { a: 'b', b: 'a' } }), (error: unknown) => isIpmsgError(error, 'IPMSG_ERR_USAGE') && /config\.json: bad "aliases": alias cycle: a → b → a$/.test(error.message));
  });
});

describe('via: --via, then IPMSG_VIA, then the config file', () => {
  function settingsOf(args: string[], env: Record<string, string>, file: unknown): readonly string[] {
    const configFile = join(dir, 'via.json');
    writeFileSync(configFile, JSON.stringify(file));
    const saved = process.env['IPMSG_VIA'];
    // commander reads an option's environment variable from process.env.
    if (env['IPMSG_VIA'] === undefined) delete process.env['IPMSG_VIA'];
    else process.env['IPMSG_VIA'] = env['IPMSG_VIA'];
    try {
      const command = addCommonOptions(addViaOption(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }), 'via'));
      command.parse(args, { from: 'user' });
      return resolveSettings(command, { IPMSG_CONFIG: configFile, HOME: dir }).via;
    } finally {
      if (saved === undefined) delete process.env['IPMSG_VIA'];
      else process.env['IPMSG_VIA'] = saved;
    }
  }
  test('several --via, comma-separated or repeated, win over the rest', () => {
    assert.deepEqual(settingsOf(['--via', '10.1.0.5,10.2.0.5:2426', '--via', 'gw'], { IPMSG_VIA: '10.9.0.9' }, { via: ['10.8.0.8'] }), ['10.1.0.5', '10.2.0.5:2426', 'gw']);
  });
  test('IPMSG_VIA, comma-separated, wins over the config file', () => {
    assert.deepEqual(settingsOf([], { IPMSG_VIA: '10.9.0.9, 10.9.0.10' }, { via: ['10.8.0.8'] }), ['10.9.0.9', '10.9.0.10']);
  });
  test('the config file names them for every run; none by default', () => {
    assert.deepEqual(settingsOf([], {}, { via: ['10.8.0.8'] }), ['10.8.0.8']);
    assert.deepEqual(settingsOf([], {}, {}), []);
  });
  test('a bad --via is a usage error', () => {
    assert.throws(() => settingsOf(['--via', '10.1.0.5:0'], {}, {}), /Invalid port/);
  });
});
