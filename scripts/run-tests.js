#!/usr/bin/env node
// scripts/run-tests.js
// Runs every compiled test file (.test-build/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.js [--stress | --windows] [substring...]  — only files whose path
// contains a substring. The reliability battery (test/stress/) runs only with --stress
// (`npm run test:stress`), one file at a time; the figures its tests record are printed at the end
// and kept in .test-build/stress-summary.json. The Windows lane (test/windows/) runs only with
// --windows, one file at a time (they share one Wine prefix), from scripts/test-windows.sh
// (`npm run test:windows`), which sets Wine up.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, '.test-build', 'test');
const stressRoot = join(testRoot, 'stress') + sep;
const windowsRoot = join(testRoot, 'windows') + sep;

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const args = process.argv.slice(2);
const stress = args.includes('--stress');
const windows = args.includes('--windows');
const filters = args.filter((a) => a !== '--stress' && a !== '--windows');
const files = find(testRoot)
  .filter((f) => f.startsWith(stressRoot) === stress && f.startsWith(windowsRoot) === windows)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort();
if (files.length === 0) {
  const lane = stress ? 'stress' : windows ? 'windows' : undefined;
  console.error(`no ${lane ? `${lane} ` : ''}test files found; run \`npm ${lane ? `run test:${lane}` : 'test'}\` (it builds them first)`);
  process.exit(1);
}
const env = { ...process.env };
const summaryDir = stress ? mkdtempSync(join(tmpdir(), 'ipmsg-stress-summary-')) : undefined;
if (summaryDir) env['IPMSG_STRESS_SUMMARY_DIR'] = summaryDir;
const runnerArgs = ['--test', '--test-reporter=spec', '--test-timeout=300000', ...(stress || windows ? ['--test-concurrency=1'] : []), ...files];
const started = Date.now();
const result = spawnSync(process.execPath, runnerArgs, { stdio: 'inherit', cwd: root, env });
if (summaryDir) {
  const summary = { finishedAt: new Date().toISOString(), durationS: Math.round((Date.now() - started) / 1000), node: process.version, figures: {} };
  for (const name of readdirSync(summaryDir).sort()) {
    Object.assign(summary.figures, JSON.parse(readFileSync(join(summaryDir, name), 'utf8')));
  }
  rmSync(summaryDir, { recursive: true, force: true });
  const text = JSON.stringify(summary, null, 2);
  writeFileSync(join(root, '.test-build', 'stress-summary.json'), `${text}\n`);
  console.log(`\nstress figures (also in .test-build/stress-summary.json):\n${text}`);
}
process.exit(result.status ?? 1);
