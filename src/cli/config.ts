// src/cli/config.ts
// Settings from flags > IPMSG_* environment > config file > defaults; the paths come from state/paths.cts.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { IpmsgError } from '../errors.js';
import { type Charset, legacyCharset, parseCharset } from '../encoding/charset.js';
import type { Identity } from '../messenger/packets.js';
import { IPMSG_DEFAULT_PORT } from '../protocol/command.js';
import statePaths from '../state/paths.cjs';
import { makeIdentity } from '../workflows/identity.js';

/** What the config file may hold (README "Configuration"). */
export interface FileConfig {
  user?: string;
  host?: string;
  nick?: string;
  group?: string;
  encoding?: string;
  decodeEncoding?: string;
  port?: number;
  bind?: string;
  broadcast?: string[];
}

const STRING_KEYS = ['user', 'host', 'nick', 'group', 'encoding', 'decodeEncoding', 'bind'] as const;

/**
 * Reads the JSON config file; a missing file is an empty config.
 * @throws IpmsgError IPMSG_ERR_USAGE for a file that is not valid
 */
export function loadConfig(file: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new IpmsgError('IPMSG_ERR_USAGE', `Cannot read config file ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new IpmsgError('IPMSG_ERR_USAGE', `Config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new IpmsgError('IPMSG_ERR_USAGE', `Config file ${file} must hold a JSON object`);
  }
  const record = data as Record<string, unknown>;
  const config: FileConfig = {};
  const bad = (key: string): IpmsgError => new IpmsgError('IPMSG_ERR_USAGE', `Config file ${file}: bad value for "${key}"`);
  for (const key of STRING_KEYS) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw bad(key);
    config[key] = value;
  }
  if (record['port'] !== undefined) {
    const port = record['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw bad('port');
    config.port = port;
  }
  if (record['broadcast'] !== undefined) {
    const list = record['broadcast'];
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw bad('broadcast');
    config.broadcast = list as string[];
  }
  return config;
}

export interface Settings {
  readonly identity: Identity;
  readonly port: number;
  readonly bind: string | undefined;
  readonly broadcast: readonly string[];
  readonly portFallback: boolean;
  /** --encoding: one code page for every peer; undefined: each peer its own. */
  readonly charset: Charset | undefined;
  /** The legacy code page (decodeEncoding, a forced legacy encoding, the locale, GB18030). */
  readonly fallbackCharset: Charset;
  readonly lossy: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly debug: boolean;
  readonly paths: statePaths.Paths;
  /** Keys, ENCRYPTOPT and the fingerprinted user name (off with --no-crypto). */
  readonly crypto: boolean;
  /** Also RSA-1024 + Blowfish-128 (--legacy-crypto). */
  readonly legacyCrypto: boolean;
}

/** Resolves the common options of a parsed subcommand against the config file and defaults. */
export function resolveSettings(command: Command, env: NodeJS.ProcessEnv): Settings {
  const opts = command.opts<Record<string, unknown>>();
  const where = statePaths.paths(env);
  const file = loadConfig(where.configFile);
  const pick = <T>(key: string, fromFile: T | undefined): T | undefined => (opts[key] as T | undefined) ?? fromFile;
  const charsetFrom = (value: string | undefined, key: string): Charset | undefined => {
    if (value === undefined) return undefined;
    const charset = parseCharset(value);
    if (!charset) throw new IpmsgError('IPMSG_ERR_USAGE', `Unsupported ${key} ${JSON.stringify(value)}`);
    return charset;
  };
  const given = { user: pick<string>('user', file.user), host: pick<string>('host', file.host), nick: pick<string>('nick', file.nick), group: pick<string>('group', file.group) };
  const charset = charsetFrom(pick<string>('encoding', file.encoding), 'encoding');
  const decode = charsetFrom(env['IPMSG_DECODE_ENCODING'] ?? file.decodeEncoding, 'decodeEncoding');
  return {
    identity: makeIdentity(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))),
    port: pick<number>('port', file.port) ?? IPMSG_DEFAULT_PORT,
    bind: pick<string>('bind', file.bind),
    broadcast: pick<string[]>('broadcast', file.broadcast) ?? [],
    portFallback: opts['strictPort'] !== true,
    charset,
    // A forced legacy code page is also the best guess for unflagged, non-UTF-8 text.
    fallbackCharset: decode ?? legacyCharset(charset, env),
    lossy: opts['lossy'] === true,
    json: opts['json'] === true,
    quiet: opts['quiet'] === true,
    verbose: opts['verbose'] === true,
    debug: opts['debug'] === true,
    paths: where,
    crypto: opts['crypto'] !== false,
    legacyCrypto: opts['legacyCrypto'] === true,
  };
}
