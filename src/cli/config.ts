// src/cli/config.ts
// Settings from flags > IPMSG_* environment > config file > defaults; the paths come from state/paths.cts.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { IpmsgError } from '../errors.js';
import { type Charset, legacyCharset, parseCharset } from '../encoding/charset.js';
import type { Identity } from '../messenger/packets.js';
import { IPMSG_DEFAULT_PORT } from '../protocol/command.js';
import statePaths from '../state/paths.cjs';
import { type Family, familyOf } from '../transport/address.js';
import { AliasTable } from '../workflows/aliases.js';
import { makeIdentity } from '../workflows/identity.js';
import { parseBindAddress, parseBroadcastAddress, parseEncodingOption, parseVia } from './options.js';

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
  via?: string[];
  aliases?: AliasTable;
}

const STRING_KEYS = ['user', 'host', 'nick', 'group'] as const;
const KNOWN_KEYS = [...STRING_KEYS, 'encoding', 'decodeEncoding', 'port', 'bind', 'broadcast', 'via', 'aliases'] as const satisfies readonly (keyof FileConfig)[];

/**
 * Reads the JSON config file; a missing file is an empty config. An unknown key is a warning that
 * names the nearest known one; every value is checked as its flag's would be.
 * @throws IpmsgError IPMSG_ERR_USAGE for a file that is not valid or a value that is not
 */
export function loadConfig(file: string, onWarning: (message: string) => void = () => undefined): FileConfig {
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
  for (const key of Object.keys(record)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      onWarning(`config file ${file}: unknown key ${JSON.stringify(key)} ignored (did you mean ${JSON.stringify(nearest(key, KNOWN_KEYS))}?)`);
    }
  }
  const config: FileConfig = {};
  const bad = (key: string, why: string): IpmsgError =>
    new IpmsgError('IPMSG_ERR_USAGE', `Config file ${file}: bad value for "${key}": ${why}, got ${JSON.stringify(record[key])}`);
  const checked = <T>(key: string, parse: (value: unknown) => T): T => {
    try {
      return parse(record[key]);
    } catch (error) {
      throw bad(key, (error as Error).message.replace(/, got .*$/, ''));
    }
  };
  const string = (value: unknown): string => {
    if (typeof value !== 'string') throw new Error('expected a string');
    return value;
  };
  for (const key of STRING_KEYS) if (record[key] !== undefined) config[key] = checked(key, string);
  for (const key of ['encoding', 'decodeEncoding'] as const) {
    if (record[key] !== undefined) config[key] = checked(key, (v) => parseEncodingOption(string(v)));
  }
  if (record['bind'] !== undefined) config.bind = checked('bind', (v) => parseBindAddress(string(v)));
  if (record['port'] !== undefined) {
    config.port = checked('port', (v) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new Error('expected a port number 1-65535');
      return v;
    });
  }
  if (record['broadcast'] !== undefined) {
    config.broadcast = checked('broadcast', (v) => {
      if (!Array.isArray(v)) throw new Error('expected an array of addresses');
      return v.map((address) => parseBroadcastAddress(string(address)));
    });
  }
  if (record['via'] !== undefined) {
    config.via = checked('via', (v) => {
      if (!Array.isArray(v)) throw new Error('expected an array of targets (addresses, ADDR:PORT or names)');
      return v.map((target) => parseVia(string(target)));
    });
  }
  if (record['aliases'] !== undefined) {
    const value = record['aliases'];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('aliases', 'expected an object of name → targets');
    try {
      config.aliases = new AliasTable(value as Record<string, string>);
    } catch (error) {
      // The value may be large: the error names the alias instead of quoting it all.
      throw new IpmsgError('IPMSG_ERR_USAGE', `Config file ${file}: bad "aliases": ${(error as Error).message}`);
    }
  }
  return config;
}

/** The candidate closest to `word` by edit distance (Levenshtein), ignoring case. */
export function nearest(word: string, candidates: readonly string[]): string {
  let best = candidates[0] ?? '';
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

export interface Settings {
  readonly identity: Identity;
  readonly port: number;
  readonly bind: string | undefined;
  readonly broadcast: readonly string[];
  /** Peers whose host lists are asked (--via, IPMSG_VIA, the config file's "via"). */
  readonly via: readonly string[];
  /** The config file's "aliases" (empty without). */
  readonly aliases: AliasTable;
  /** -4 / -6; both families when undefined. */
  readonly family: Family | undefined;
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
export function resolveSettings(command: Command, env: NodeJS.ProcessEnv, onWarning?: (message: string) => void): Settings {
  const opts = command.opts<Record<string, unknown>>();
  const where = statePaths.paths(env);
  const file = loadConfig(where.configFile, onWarning);
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
  const family: Family | undefined = opts['ipv4'] === true ? 'IPv4' : opts['ipv6'] === true ? 'IPv6' : undefined;
  const bind = pick<string>('bind', file.bind);
  if (family && bind && familyOf(bind) !== family) {
    throw new IpmsgError('IPMSG_ERR_USAGE', `--bind ${bind} is not an ${family} address (${family === 'IPv4' ? '-4' : '-6'})`);
  }
  return {
    identity: makeIdentity(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))),
    port: pick<number>('port', file.port) ?? IPMSG_DEFAULT_PORT,
    bind,
    broadcast: pick<string[]>('broadcast', file.broadcast) ?? [],
    via: pick<string[]>('via', file.via) ?? [],
    aliases: file.aliases ?? new AliasTable(),
    family,
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
