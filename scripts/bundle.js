#!/usr/bin/env node
// scripts/bundle.js
// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/: Node's ESM loader costs ~1 ms per
// module file, which would double the start-up of a one-shot command. The entry stays tiny and
// loads the rest only when a subcommand runs; ora, cli-progress, node-forge and iconv-lite stay in
// node_modules and are loaded on demand.

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist/bundle`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ora', 'cli-progress', 'node-forge', 'iconv-lite'],
  // commander is CommonJS: its require() calls of node: built-ins need a real require in ESM.
  banner: { js: "import { createRequire as __ipmsgCreateRequire } from 'node:module'; const require = __ipmsgCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
