// src/state/paths.cts
// Where persistent state lives, per platform (the env-paths convention): settings and keys in the
// config folder, run state (packet numbers, plain-peer marks) in the state folder, the launcher's
// code caches in the cache folder.
//   linux and others: $XDG_CONFIG_HOME/ipmsg, $XDG_STATE_HOME/ipmsg, $XDG_CACHE_HOME/ipmsg
//   darwin: ~/Library/Application Support/ipmsg (config and state), ~/Library/Caches/ipmsg
//   win32: %APPDATA%\ipmsg (config), %LOCALAPPDATA%\ipmsg (state), %LOCALAPPDATA%\ipmsg\cache
// An absolute XDG_* variable wins on every platform. CommonJS because the launcher shares the
// rule and runs before the ESM code (Node 20 cannot require ESM).

import os = require('node:os');
import path = require('node:path');

// Types in a namespace merged with the export: a CommonJS module with `export =` has no other exports.
declare namespace statePaths {
  interface Paths {
    /** The JSON config file ($IPMSG_CONFIG, else `config.json` in the config folder). */
    readonly configFile: string;
    /** Our keys and the pinned peer keys (the config folder). */
    readonly keyDir: string;
    /** Packet counter and plain-peer marks. */
    readonly stateDir: string;
    /** Code caches: anything in it may be deleted at any time. */
    readonly cacheDir: string;
  }
}

/**
 * The folders for an environment (the CLI passes process.env) on `platform`; pure, so that every
 * platform's rule can be checked anywhere.
 */
function paths(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): statePaths.Paths {
  const p = platform === 'win32' ? path.win32 : path.posix;
  // Absolute paths only: a relative variable is ignored, as the XDG spec says.
  const absolute = (name: string): string | undefined => (p.isAbsolute(env[name] ?? '') ? env[name] : undefined);
  const base = platformBase(env, platform, p, absolute);
  const configHome = absolute('XDG_CONFIG_HOME');
  const configDir = configHome === undefined ? base.config : p.join(configHome, 'ipmsg');
  const stateHome = absolute('XDG_STATE_HOME');
  const cacheHome = absolute('XDG_CACHE_HOME');
  return {
    configFile: p.resolve(env['IPMSG_CONFIG'] || p.join(configDir, 'config.json')),
    keyDir: configDir,
    stateDir: stateHome === undefined ? base.state : p.join(stateHome, 'ipmsg'),
    cacheDir: cacheHome === undefined ? base.cache : p.join(cacheHome, 'ipmsg'),
  };
}

/** The platform's own folders, used where no XDG variable says otherwise. */
function platformBase(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  p: path.PlatformPath,
  absolute: (name: string) => string | undefined,
): { config: string; state: string; cache: string } {
  if (platform === 'win32') {
    const profile = p.resolve(absolute('USERPROFILE') ?? os.homedir());
    const roaming = absolute('APPDATA') ?? p.join(profile, 'AppData', 'Roaming');
    const local = p.join(absolute('LOCALAPPDATA') ?? p.join(profile, 'AppData', 'Local'), 'ipmsg');
    return { config: p.join(roaming, 'ipmsg'), state: local, cache: p.join(local, 'cache') };
  }
  const home = p.resolve(env['HOME'] || os.homedir());
  if (platform === 'darwin') {
    const support = p.join(home, 'Library', 'Application Support', 'ipmsg');
    return { config: support, state: support, cache: p.join(home, 'Library', 'Caches', 'ipmsg') };
  }
  return {
    config: p.join(home, '.config', 'ipmsg'),
    state: p.join(home, '.local', 'state', 'ipmsg'),
    cache: p.join(home, '.cache', 'ipmsg'),
  };
}

const statePaths = { paths };
export = statePaths;
