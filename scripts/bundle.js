#!/usr/bin/env node
// scripts/bundle.js
// Bundles the compiled CLI (dist/cli/main.js) into one CommonJS file, dist/bundle/ipmsg.cjs, which
// bin/ipmsg.js runs (through dist/cli/launch.cjs). Start-up is the product: Node 20's ESM loader
// loads modules one by one, asynchronously, and builds facades of built-ins that read every export;
// a CommonJS bundle avoids that. ora, cli-progress and iconv-lite stay in node_modules and are
// loaded only when a command needs them.

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// node:child_process loads net and streams. commander requires it at load time, for executable
// subcommands, which we do not have, and only `run`, `recv --exec` and the doctor spawn anything:
// every importer gets the module on first touch instead.
const CHILD_PROCESS_EXPORTS = ['ChildProcess', 'exec', 'execFile', 'execFileSync', 'execSync', 'fork', 'spawn', 'spawnSync'];
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.namespace === 'lazy' ? { path: 'node:child_process', external: true } : { path: args.path, namespace: 'lazy' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      // Getters, not a Proxy: esbuild's ESM interop copies an importee's own keys when it loads.
      contents: `for (const name of ${JSON.stringify(CHILD_PROCESS_EXPORTS)}) {
  Object.defineProperty(exports, name, { enumerable: true, get: () => require('node:child_process')[name] });
}`,
      loader: 'js',
    }));
  },
};
rmSync(`${root}/dist/bundle`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/bundle/ipmsg.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['ora', 'cli-progress', 'iconv-lite'],
  // The sources are ESM and locate package.json and node_modules from import.meta.url.
  define: { 'import.meta.url': '__ipmsgModuleUrl' },
  banner: { js: "'use strict';\nconst __ipmsgModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [lazyChildProcess],
  logLevel: 'warning',
});
