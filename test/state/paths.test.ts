// test/state/paths.test.ts
// Where state lives, per platform: XDG on Linux, Application Support on macOS, APPDATA and
// LOCALAPPDATA on Windows; an absolute XDG variable wins everywhere.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import statePaths from '../../src/state/paths.cjs';

const { paths } = statePaths;

describe('paths', () => {
  test('XDG folders are used when absolute; a relative one is ignored (XDG spec), and every path is absolute', () => {
    const absolute = paths({ HOME: '/h', XDG_CONFIG_HOME: '/c', XDG_STATE_HOME: '/s', XDG_CACHE_HOME: '/k' }, 'linux');
    assert.deepEqual(absolute, { configFile: '/c/ipmsg/config.json', keyDir: '/c/ipmsg', stateDir: '/s/ipmsg', cacheDir: '/k/ipmsg' });
    const relative = paths({ HOME: '/h', XDG_CONFIG_HOME: 'c', XDG_STATE_HOME: 's', XDG_CACHE_HOME: 'k', IPMSG_CONFIG: 'my.json' }, 'linux');
    assert.deepEqual(relative, { configFile: join(process.cwd(), 'my.json'), keyDir: '/h/.config/ipmsg', stateDir: '/h/.local/state/ipmsg', cacheDir: '/h/.cache/ipmsg' });
  });

  test('the platform defaults to the one running', () => {
    const env = { HOME: '/h', APPDATA: 'C:\\Users\\u\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' };
    assert.deepEqual(paths(env), paths(env, process.platform));
  });

  test('macOS: config, keys and state in Application Support, caches in Library/Caches', () => {
    assert.deepEqual(paths({ HOME: '/Users/u' }, 'darwin'), {
      configFile: '/Users/u/Library/Application Support/ipmsg/config.json',
      keyDir: '/Users/u/Library/Application Support/ipmsg',
      stateDir: '/Users/u/Library/Application Support/ipmsg',
      cacheDir: '/Users/u/Library/Caches/ipmsg',
    });
    const xdg = paths({ HOME: '/Users/u', XDG_CONFIG_HOME: '/c', XDG_STATE_HOME: 'relative' }, 'darwin');
    assert.deepEqual(xdg, { configFile: '/c/ipmsg/config.json', keyDir: '/c/ipmsg', stateDir: '/Users/u/Library/Application Support/ipmsg', cacheDir: '/Users/u/Library/Caches/ipmsg' });
  });

  describe('Windows', () => {
    const env = { APPDATA: 'C:\\Users\\u\\AppData\\Roaming', LOCALAPPDATA: 'D:\\Local', USERPROFILE: 'C:\\Users\\u', HOME: '/ignored' };

    test('config and keys in %APPDATA%\\ipmsg, state in %LOCALAPPDATA%\\ipmsg, caches in its cache folder', () => {
      assert.deepEqual(paths(env, 'win32'), {
        configFile: 'C:\\Users\\u\\AppData\\Roaming\\ipmsg\\config.json',
        keyDir: 'C:\\Users\\u\\AppData\\Roaming\\ipmsg',
        stateDir: 'D:\\Local\\ipmsg',
        cacheDir: 'D:\\Local\\ipmsg\\cache',
      });
    });

    test('without APPDATA and LOCALAPPDATA (or with relative ones): the folders under %USERPROFILE%\\AppData', () => {
      const expected = {
        configFile: 'C:\\Users\\u\\AppData\\Roaming\\ipmsg\\config.json',
        keyDir: 'C:\\Users\\u\\AppData\\Roaming\\ipmsg',
        stateDir: 'C:\\Users\\u\\AppData\\Local\\ipmsg',
        cacheDir: 'C:\\Users\\u\\AppData\\Local\\ipmsg\\cache',
      };
      assert.deepEqual(paths({ USERPROFILE: 'C:\\Users\\u' }, 'win32'), expected);
      assert.deepEqual(paths({ USERPROFILE: 'C:\\Users\\u', APPDATA: 'Roaming', LOCALAPPDATA: 'Local' }, 'win32'), expected);
    });

    test('absolute XDG variables and IPMSG_CONFIG win', () => {
      const xdg = { ...env, XDG_CONFIG_HOME: 'E:\\cfg', XDG_STATE_HOME: 'E:\\state', XDG_CACHE_HOME: 'E:\\cache', IPMSG_CONFIG: 'F:\\my.json' };
      assert.deepEqual(paths(xdg, 'win32'), { configFile: 'F:\\my.json', keyDir: 'E:\\cfg\\ipmsg', stateDir: 'E:\\state\\ipmsg', cacheDir: 'E:\\cache\\ipmsg' });
      assert.equal(paths({ ...env, XDG_CONFIG_HOME: 'cfg' }, 'win32').keyDir, 'C:\\Users\\u\\AppData\\Roaming\\ipmsg');
    });
  });

  test('the library entry exports the same rule', async () => {
    const library = await import('../../src/index.js');
    assert.equal(library.paths, paths);
  });
});
