// src/state/code-cache.cts
// The launcher's V8 code caches: where they live and which run reads which. One file per cache
// profile in the cache folder (paths.cts), keyed by the Node version and the bundle, so a cache is
// only ever offered to the code that wrote it. A cache holds the functions its first run compiled,
// so runs that execute different code keep different caches: each subcommand, plus `-files` when
// send or recv moves files, `-plain` when a run has no keys (it never compiles the crypto code) and
// `-clear` for a send that has keys but encrypts nothing (it loads the keys, never the ciphers).
// Anything wrong with a cache only costs compile time.

import fs = require('node:fs');
import path = require('node:path');
import xdg = require('./paths.cjs');

/** Options that make a run transfer files: its functions differ from a message run's. */
const FILE_OPTIONS = /^--(?:file|as-file|save)(?:=|$)/;
const CACHE_NAME = /^compile-[^-]+-[^-]+-\d+-\d+-([A-Za-z-]+)\.cache$/;

/** A run without keys (--no-crypto, IPMSG_NO_CRYPTO). */
function runsPlain(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return env['IPMSG_NO_CRYPTO'] !== undefined || argv.includes('--no-crypto');
}

/** A send that encrypts nothing (--encrypt never, or IPMSG_ENCRYPT=never without --encrypt): the last --encrypt wins. */
function sendsClear(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (argv[0] !== 'send') return false;
  let mode = env['IPMSG_ENCRYPT'];
  argv.forEach((arg, i) => {
    if (arg.startsWith('--encrypt=')) mode = arg.slice('--encrypt='.length);
    else if (arg === '--encrypt') mode = argv[i + 1];
  });
  return mode === 'never';
}

/** The cache profile of a command line (arguments after the script name). */
function cacheProfile(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const command = (argv[0] ?? '').replace(/^-+/, '');
  const keys = runsPlain(argv, env) ? '-plain' : sendsClear(argv, env) ? '-clear' : '';
  return `${command}${argv.some((arg) => FILE_OPTIONS.test(arg)) ? '-files' : ''}${keys}`;
}

/** The cache file for `bundle` run as `profile`; undefined when caching is off (IPMSG_NO_COMPILE_CACHE) or the profile is not a name. */
function cacheFile(bundle: string, profile: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env['IPMSG_NO_COMPILE_CACHE'] || !/^[A-Za-z][A-Za-z-]{0,20}$/.test(profile)) return undefined;
  try {
    const { size, mtimeMs } = fs.statSync(bundle);
    return path.join(xdg.paths(env).cacheDir, `compile-${process.version}-${process.arch}-${size}-${Math.floor(mtimeMs)}-${profile}.cache`);
  } catch {
    return undefined;
  }
}

function readCache(file: string | undefined): Buffer | undefined {
  try {
    return file === undefined ? undefined : fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the cache and removes the same profile's caches for other bundles or Node versions; never throws. */
function writeCache(file: string, data: Uint8Array): void {
  try {
    // Required here, not at the top: most runs read their cache and never write one.
    const atomic = require('./atomic-write.cjs') as typeof import('./atomic-write.cjs');
    atomic.writeFileAtomic(file, data); // no fsync: a lost cache is compiled again
    const dir = path.dirname(file);
    const profile = CACHE_NAME.exec(path.basename(file))?.[1];
    for (const name of fs.readdirSync(dir)) {
      if (CACHE_NAME.exec(name)?.[1] === profile && path.join(dir, name) !== file) fs.rmSync(path.join(dir, name), { force: true });
    }
  } catch {
    // No cache: the next run compiles again.
  }
}

export = { cacheProfile, cacheFile, readCache, writeCache };
