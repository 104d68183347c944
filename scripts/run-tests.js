#!/usr/bin/env node
// scripts/run-tests.js
// Runs every compiled test file (.test-build/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.js [substring...]  — only files whose path contains a substring.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, '.test-build', 'test');

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = find(testRoot)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found; run `npm test` (it builds them first)');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=300000', ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
