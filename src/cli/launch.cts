// src/cli/launch.cts
// What bin/ipmsg.js runs. `--version` is answered without loading anything else (scripts call it in
// loops). Everything else runs the bundled CLI (dist/bundle/ipmsg.cjs) with a V8 code cache, as
// Node 22's compile cache would: without it a one-shot command spends ~15 ms compiling the same
// functions on every run. The cache lives in $XDG_CACHE_HOME/ipmsg (default ~/.cache/ipmsg), one
// file per subcommand (each compiles different functions; `send` and `recv` have others for runs
// that move files, and any subcommand one for runs without keys), keyed by the Node version and the
// bundle; it is written when missing or rejected, and anything wrong with it only costs time.
// IPMSG_NO_COMPILE_CACHE=1 turns it off.

import fs = require('node:fs');
import os = require('node:os');
import path = require('node:path');
import vm = require('node:vm');

const bundle = path.join(__dirname, '..', 'bundle', 'ipmsg.cjs');

function printVersion(): void {
  const packageJson = path.join(__dirname, '..', '..', 'package.json');
  const { version } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string };
  fs.writeSync(1, `${version}\n`);
}

function cachePath(command: string): string | undefined {
  const name = command.replace(/^-+/, '');
  if (process.env['IPMSG_NO_COMPILE_CACHE'] || !/^[A-Za-z][A-Za-z-]{0,20}$/.test(name)) return undefined;
  try {
    const { size, mtimeMs } = fs.statSync(bundle);
    const base = process.env['XDG_CACHE_HOME'] || path.join(process.env['HOME'] || os.homedir(), '.cache');
    const key = `${process.version}-${process.arch}-${size}-${Math.floor(mtimeMs)}-${name}`;
    return path.join(base, 'ipmsg', `compile-${key}.cache`);
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

/** At exit, so that the cache also holds the functions this run compiled lazily. */
function writeCacheAtExit(script: vm.Script, file: string): void {
  process.once('exit', () => {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, script.createCachedData());
      fs.renameSync(temporary, file);
      removeStaleCaches(file);
    } catch {
      // No cache: the next run compiles again.
    }
  });
}

/** Caches of the same subcommand for another bundle or Node version: nothing will read them again. */
function removeStaleCaches(current: string): void {
  const dir = path.dirname(current);
  const command = /^compile-[^-]+-[^-]+-\d+-\d+-([A-Za-z-]+)\.cache$/.exec(path.basename(current))?.[1];
  for (const name of fs.readdirSync(dir)) {
    const other = /^compile-[^-]+-[^-]+-\d+-\d+-([A-Za-z-]+)\.cache$/.exec(name);
    if (other !== null && other[1] === command && path.join(dir, name) !== current) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** The bundle runs as a function of these, CommonJS's five and an import() it can use. */
const PARAMETERS = 'exports, require, module, __filename, __dirname, __ipmsgImport';

/** Options that make a run transfer files: its functions differ from a message run's. */
const FILE_OPTIONS = /^--(?:file|as-file|save)(?:=|$)/;

/** A run without keys (--no-crypto, or send --encrypt never): it never compiles the crypto code. */
function runsPlain(argv: readonly string[]): boolean {
  if (process.env['IPMSG_NO_CRYPTO'] !== undefined) return true;
  return argv.some((arg, i) => arg === '--no-crypto' || arg === '--encrypt=never' || (arg === '--encrypt' && argv[i + 1] === 'never'));
}

/**
 * The cache profile of a run: the subcommand, plus `-files` when `send` or `recv` moves files and
 * `-plain` when it runs without keys. A cache holds the functions its first run compiled, so one
 * written by `send hello` would leave a `send --file` of 10,000 small files compiling its transfer
 * code on every run (~10 ms), and one written by `send --encrypt never` every encrypted send
 * compiling its crypto code.
 */
function cacheProfile(argv: readonly string[]): string {
  const command = argv[0] ?? '';
  return `${command}${argv.some((arg) => FILE_OPTIONS.test(arg)) ? '-files' : ''}${runsPlain(argv) ? '-plain' : ''}`;
}

function runBundle(command: string): void {
  const cacheFile = cachePath(command);
  const cachedData = readCache(cacheFile);
  const source = `(function (${PARAMETERS}) {${fs.readFileSync(bundle, 'utf8')}\n})`;
  const script = new vm.Script(source, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)) writeCacheAtExit(script, cacheFile);
  const bundleModule = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const load = (specifier: string): Promise<unknown> => import(specifier);
  run.call(bundleModule.exports, bundleModule.exports, require, bundleModule, bundle, path.dirname(bundle), load);
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) printVersion();
else runBundle(cacheProfile(argv));
