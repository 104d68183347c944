// test/cli/config-charset.test.ts
// The code pages a run is given: --encoding forces one for every peer (none by default: each peer
// its own); the legacy code page comes from IPMSG_DECODE_ENCODING, a forced legacy --encoding, the
// locale, else GB18030.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import { resolveSettings } from '../../src/cli/config.js';
import { addCommonOptions } from '../../src/cli/options.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

function settings(args: readonly string[], env: NodeJS.ProcessEnv = {}, file?: object) {
  const config = join(root, String(Math.random()).slice(2));
  if (file) {
    mkdirSync(join(config, 'ipmsg'), { recursive: true });
    writeFileSync(join(config, 'ipmsg', 'config.json'), JSON.stringify(file));
  }
  const command = addCommonOptions(new Command('x')).exitOverride();
  command.parse(args, { from: 'user' });
  const { charset, fallbackCharset } = resolveSettings(command, { HOME: root, XDG_CONFIG_HOME: config, XDG_STATE_HOME: join(root, 'state'), ...env });
  return [charset, fallbackCharset];
}

describe('the code pages of a run', () => {
  test('by default no code page is forced, and the legacy one is GB18030', () => {
    assert.deepEqual(settings([]), [undefined, 'gb18030']);
  });
  test('the locale implies the legacy code page', () => {
    assert.deepEqual(settings([], { LANG: 'ja_JP.UTF-8' }), [undefined, 'cp932']);
    assert.deepEqual(settings([], { LANG: 'en_US.UTF-8', LC_ALL: 'zh_CN.GBK' }), [undefined, 'gbk']);
  });
  test('IPMSG_DECODE_ENCODING (or decodeEncoding) wins over the locale', () => {
    assert.deepEqual(settings([], { LANG: 'ja_JP.UTF-8', IPMSG_DECODE_ENCODING: 'big5' }), [undefined, 'big5']);
    assert.deepEqual(settings([], { LANG: 'ja_JP.UTF-8' }, { decodeEncoding: 'gbk' }), [undefined, 'gbk']);
  });
  test('--encoding (or the config file) forces one; a legacy one is also the legacy code page', () => {
    assert.deepEqual(settings(['--encoding', 'utf-8'], { LANG: 'ja_JP.UTF-8' }), ['utf-8', 'cp932']);
    assert.deepEqual(settings(['--encoding', 'gbk'], { LANG: 'ja_JP.UTF-8' }), ['gbk', 'gbk']);
    assert.deepEqual(settings(['--encoding', 'sjis']), ['cp932', 'cp932']);
    assert.deepEqual(settings([], {}, { encoding: 'big5' }), ['big5', 'big5']);
  });
});
