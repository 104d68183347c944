// test/state/code-cache.test.ts
// The launcher's code-cache rules: which profile a command line runs as, and where its cache lives
// (the cache folder of paths.cts). The launcher's own behaviour is tested end to end in
// test/e2e/loopback.test.ts.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import codeCache from '../../src/state/code-cache.cjs';
import statePaths from '../../src/state/paths.cjs';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-code-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));
const bundle = join(root, 'ipmsg.cjs');
writeFileSync(bundle, '// a bundle');

describe('code-cache rules', () => {
  test('the profile: the subcommand, -files when it moves files, -plain without keys, -clear for a send with keys that encrypts nothing', () => {
    const profile = (argv: string[], env: NodeJS.ProcessEnv = {}): string => codeCache.cacheProfile(argv, env);
    assert.equal(profile(['send', 'bob', 'hi']), 'send');
    assert.equal(profile(['send', 'bob', '--file', 'a.txt']), 'send-files');
    assert.equal(profile(['recv', '--save=/tmp']), 'recv-files');
    assert.equal(profile(['send', 'bob', 'hi', '--encrypt', 'never']), 'send-clear');
    assert.equal(profile(['send', 'bob', '--file', 'a', '--encrypt=never']), 'send-files-clear');
    assert.equal(profile(['send', 'bob', 'hi'], { IPMSG_ENCRYPT: 'never' }), 'send-clear');
    assert.equal(profile(['send', 'bob', 'hi', '--encrypt', 'auto'], { IPMSG_ENCRYPT: 'never' }), 'send');
    assert.equal(profile(['recv'], { IPMSG_ENCRYPT: 'never' }), 'recv');
    assert.equal(profile(['send', 'bob', 'hi', '--encrypt', 'never', '--no-crypto']), 'send-plain');
    assert.equal(profile(['recv', '--save', '.', '--no-crypto']), 'recv-files-plain');
    assert.equal(profile(['list'], { IPMSG_NO_CRYPTO: '1' }), 'list-plain');
    assert.equal(profile(['--help']), 'help');
  });

  test('the file is in paths().cacheDir, keyed by Node version and bundle; off with IPMSG_NO_COMPILE_CACHE or an odd profile', () => {
    const env = { HOME: '/h', XDG_CACHE_HOME: join(root, 'cache') };
    const file = codeCache.cacheFile(bundle, 'list', env) ?? '';
    assert.equal(dirname(file), statePaths.paths(env).cacheDir);
    assert.match(basename(file), new RegExp(`^compile-${process.version.replace(/\./g, '\\.')}-${process.arch}-\\d+-\\d+-list\\.cache$`));
    assert.equal(codeCache.cacheFile(bundle, 'list', { ...env, IPMSG_NO_COMPILE_CACHE: '1' }), undefined);
    assert.equal(codeCache.cacheFile(bundle, '../x', env), undefined);
    assert.equal(codeCache.cacheFile(join(root, 'missing.cjs'), 'list', env), undefined);
  });

  test('writing a cache removes the same profile\'s caches for other bundles, not other profiles', () => {
    const env = { HOME: '/h', XDG_CACHE_HOME: join(root, 'write') };
    const file = codeCache.cacheFile(bundle, 'list', env) ?? '';
    codeCache.writeCache(file, Buffer.from('v8'));
    const dir = dirname(file);
    const stale = basename(file).replace(/-\d+-\d+-list\.cache$/, '-1-2-list.cache');
    const other = stale.replace('-list.cache', '-send.cache');
    writeFileSync(join(dir, stale), 'old');
    writeFileSync(join(dir, other), 'old');
    codeCache.writeCache(file, Buffer.from('v8 again'));
    assert.deepEqual(readdirSync(dir).sort(), [basename(file), other].sort());
    assert.equal(codeCache.readCache(file)?.toString(), 'v8 again');
    assert.equal(codeCache.readCache(join(dir, 'none')), undefined);
  });
});
