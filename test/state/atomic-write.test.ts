// test/state/atomic-write.test.ts
// The one writer of state files: the new content appears whole or not at all, the private mode is
// honoured, exclusive creation has one winner, and a failed write leaves no temporary file.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import atomicWrite from '../../src/state/atomic-write.cjs';

const { writeFileAtomic } = atomicWrite;
const root = mkdtempSync(join(tmpdir(), 'ipmsg-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `case${++dirs}`);
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('writeFileAtomic', () => {
  test('makes the missing folders (0700) and writes the file 0600, also over a more open file', () => {
    const dir = join(freshDir(), 'a', 'ipmsg');
    const file = join(dir, 'rsa2048.pem');
    assert.equal(writeFileAtomic(file, 'one', { mode: 0o600, fsync: true }), true);
    assert.equal(mode(dir), '700');
    assert.equal(mode(file), '600');
    chmodSync(file, 0o644);
    writeFileAtomic(file, Buffer.from('two'), { mode: 0o600 });
    assert.equal(readFileSync(file, 'utf8'), 'two');
    assert.equal(mode(file), '600', 'the new file has the mode asked for, not the old one');
    assert.deepEqual(readdirSync(dir), ['rsa2048.pem'], 'no temporary file left');
  });

  test('exclusive: the first writer wins, the second gets false and changes nothing', () => {
    const dir = freshDir();
    const file = join(dir, 'key');
    assert.equal(writeFileAtomic(file, 'first', { exclusive: true }), true);
    assert.equal(writeFileAtomic(file, 'second', { exclusive: true }), false);
    assert.equal(readFileSync(file, 'utf8'), 'first');
    assert.deepEqual(readdirSync(dir), ['key']);
  });

  test('a write that fails midway (file size limit) leaves the old file whole and no temporary file', (t) => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'known-peers.json');
    writeFileSync(file, 'the old content');
    const helper = fileURLToPath(new URL('../../src/state/atomic-write.cjs', import.meta.url));
    const script = `try { require(${JSON.stringify(helper)}).writeFileAtomic(process.argv[1], Buffer.alloc(1 << 20, 120)); console.log('written'); } catch (e) { console.log(e.code); }`;
    // ulimit -f 1: writes past 512 bytes fail with EFBIG (Node ignores SIGXFSZ), after part of the data went out.
    const run = spawnSync('sh', ['-c', 'ulimit -f 1 && exec "$0" -e "$1" "$2"', process.execPath, script, file], { encoding: 'utf8' });
    if (run.status !== 0 || run.stdout.trim() === 'written') return t.skip(`no file size limit here (${run.stdout.trim()} ${run.stderr.trim()})`);
    assert.equal(run.stdout.trim(), 'EFBIG');
    assert.equal(readFileSync(file, 'utf8'), 'the old content');
    assert.deepEqual(readdirSync(dir), ['known-peers.json']);
  });

  test('a rename that fails (a folder has the name) throws and leaves no temporary file', () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'plain-peers.json'), { recursive: true });
    assert.throws(() => writeFileAtomic(join(dir, 'plain-peers.json'), '{}'), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
    assert.deepEqual(readdirSync(dir), ['plain-peers.json']);
  });
});
