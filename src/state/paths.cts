// src/state/paths.cts
// Where persistent state lives, by the XDG base-directory rules: settings and keys under
// $XDG_CONFIG_HOME/ipmsg, run state (packet numbers, plain-peer marks) under $XDG_STATE_HOME/ipmsg,
// the launcher's code caches under $XDG_CACHE_HOME/ipmsg. CommonJS because the launcher shares the
// rule and runs before the ESM code (Node 20 cannot require ESM).

import os = require('node:os');
import path = require('node:path');

// Types in a namespace merged with the export: a CommonJS module with `export =` has no other exports.
declare namespace statePaths {
  interface Paths {
    /** The JSON config file ($IPMSG_CONFIG, else `config.json` in the config folder). */
    readonly configFile: string;
    /** Our keys and the pinned peer keys (`$XDG_CONFIG_HOME/ipmsg`). */
    readonly keyDir: string;
    /** Packet counter and plain-peer marks (`$XDG_STATE_HOME/ipmsg`). */
    readonly stateDir: string;
    /** Code caches (`$XDG_CACHE_HOME/ipmsg`): anything in it may be deleted at any time. */
    readonly cacheDir: string;
  }
}

/** The folders for an environment (the CLI passes process.env). */
function paths(env: NodeJS.ProcessEnv): statePaths.Paths {
  // Absolute paths only: a relative XDG variable is ignored, as the XDG spec says.
  const xdg = (name: string): string | undefined => (path.isAbsolute(env[name] ?? '') ? env[name] : undefined);
  const home = path.resolve(env['HOME'] || os.homedir());
  const configHome = xdg('XDG_CONFIG_HOME') ?? path.join(home, '.config');
  return {
    configFile: path.resolve(env['IPMSG_CONFIG'] || path.join(configHome, 'ipmsg', 'config.json')),
    keyDir: path.join(configHome, 'ipmsg'),
    stateDir: path.join(xdg('XDG_STATE_HOME') ?? path.join(home, '.local', 'state'), 'ipmsg'),
    cacheDir: path.join(xdg('XDG_CACHE_HOME') ?? path.join(home, '.cache'), 'ipmsg'),
  };
}

const statePaths = { paths };
export = statePaths;
