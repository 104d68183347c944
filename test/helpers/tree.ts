// test/helpers/tree.ts
// A folder tree to send (nested, empty and binary content, old mtimes) and a listing of one that
// compares names, mtimes and content at once.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** 2020-09-13: an mtime that cannot be "now". */
export const OLD = 1_600_000_000;

/** The tree, every mtime set to OLD; `binaryBytes` of random data in sub/bin.dat. */
export function makeTree(dir: string, binaryBytes: number): void {
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(dir, 'empty-folder'));
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'sub', 'bin.dat'), randomBytes(binaryBytes));
  writeFileSync(join(dir, 'sub', 'deeper', '中文 名字.txt'), '飞鸽传书');
  for (const p of ['a.txt', 'empty.txt', 'sub/bin.dat', 'sub/deeper/中文 名字.txt', 'sub/deeper', 'sub', 'empty-folder', '.']) {
    utimesSync(join(dir, p), OLD, OLD);
  }
}

/** One line per entry: relative name, mtime, and (for files) the content in base64. */
export function listTree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const path = join(dir, e.name);
      const rel = `${prefix}${e.name}`;
      if (e.isDirectory()) return [`${rel}/ ${statSync(path).mtimeMs / 1000}`, ...listTree(path, `${rel}/`)];
      return [`${rel} ${statSync(path).mtimeMs / 1000} ${readFileSync(path).toString('base64')}`];
    });
}
