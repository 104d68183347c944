// src/state/paths.ts
// Where ipmsg keeps what outlives a run: the config file, keys and known peers, and state.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface Paths {
  readonly configFile: string;
  /** Our keys and known peers (`$XDG_CONFIG_HOME/ipmsg`). */
  readonly keyDir: string;
  /** The packet counter and plain-peer marks (`$XDG_STATE_HOME/ipmsg`). */
  readonly stateDir: string;
}

export function paths(env: NodeJS.ProcessEnv): Paths {
  // A relative XDG variable is ignored, as the XDG spec says.
  const xdg = (name: string): string | undefined => (isAbsolute(env[name] ?? '') ? env[name] : undefined);
  const home = resolve(env['HOME'] || homedir());
  const configHome = xdg('XDG_CONFIG_HOME') ?? join(home, '.config');
  const stateHome = xdg('XDG_STATE_HOME') ?? join(home, '.local', 'state');
  return {
    configFile: resolve(env['IPMSG_CONFIG'] || join(configHome, 'ipmsg', 'config.json')),
    keyDir: join(configHome, 'ipmsg'),
    stateDir: join(stateHome, 'ipmsg'),
  };
}
