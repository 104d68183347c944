// src/cli/launch.cts
// What bin/ipmsg.js runs. `--version` is answered without loading anything else (scripts call it in
// loops). Everything else runs the bundled CLI (dist/bundle/ipmsg.cjs) with a V8 code cache, as
// Node 22's compile cache would, so a one-shot command does not compile the same functions on
// every run; the cache rules live in state/code-cache.cts. The cache is written when missing or
// rejected. IPMSG_NO_COMPILE_CACHE=1 turns it off.

import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');

const bundle = path.join(__dirname, '..', 'bundle', 'ipmsg.cjs');

function printVersion(): void {
  const packageJson = path.join(__dirname, '..', '..', 'package.json');
  const { version } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string };
  fs.writeSync(1, `${version}\n`);
}

/** The bundle runs as a function of these, CommonJS's five and an import() it can use. */
const PARAMETERS = 'exports, require, module, __filename, __dirname, __ipmsgImport';

function runBundle(argv: readonly string[]): void {
  const codeCache = require('../state/code-cache.cjs') as typeof import('../state/code-cache.cjs');
  const cacheFile = codeCache.cacheFile(bundle, codeCache.cacheProfile(argv, process.env), process.env);
  const cachedData = codeCache.readCache(cacheFile);
  const source = `(function (${PARAMETERS}) {${fs.readFileSync(bundle, 'utf8')}\n})`;
  const script = new vm.Script(source, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    // At exit, so that the cache also holds the functions this run compiled lazily.
    process.once('exit', () => codeCache.writeCache(cacheFile, script.createCachedData()));
  }
  const bundleModule = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const load = (specifier: string): Promise<unknown> => import(specifier);
  run.call(bundleModule.exports, bundleModule.exports, require, bundleModule, bundle, path.dirname(bundle), load);
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) printVersion();
else runBundle(argv);
