// test/state/paths.test.ts
// Where state lives: the XDG base directories, absolute only.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import statePaths from '../../src/state/paths.cjs';

const { paths } = statePaths;

describe('paths', () => {
  test('XDG folders are used when absolute; a relative one is ignored (XDG spec), and every path is absolute', () => {
    const absolute = paths({ HOME: '/h', XDG_CONFIG_HOME: '/c', XDG_STATE_HOME: '/s', XDG_CACHE_HOME: '/k' });
    assert.deepEqual(absolute, { configFile: '/c/ipmsg/config.json', keyDir: '/c/ipmsg', stateDir: '/s/ipmsg', cacheDir: '/k/ipmsg' });
    const relative = paths({ HOME: '/h', XDG_CONFIG_HOME: 'c', XDG_STATE_HOME: 's', XDG_CACHE_HOME: 'k', IPMSG_CONFIG: 'my.json' });
    assert.deepEqual(relative, { configFile: join(process.cwd(), 'my.json'), keyDir: '/h/.config/ipmsg', stateDir: '/h/.local/state/ipmsg', cacheDir: '/h/.cache/ipmsg' });
  });

  test('the library entry exports the same rule', async () => {
    const library = await import('../../src/index.js');
    assert.equal(library.paths, paths);
  });
});
