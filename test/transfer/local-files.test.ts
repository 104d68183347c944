// test/transfer/local-files.test.ts
// prepareOffer on a folder with everything a listing can meet: files and sub-folders are listed in
// name order with their sizes and times; links (to files and to folders) and special files are
// skipped, never followed; names a folder stream cannot carry are skipped with the reason.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type FileNode, type FolderNode, prepareOffer } from '../../src/transfer/local-files.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-local-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('prepareOffer', () => {
  test('lists files and folders in order with sizes and times; skips links, special files and unsendable names', () => {
    const outside = join(root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'not offered');
    const top = join(root, 'top');
    mkdirSync(join(top, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(top, 'b.txt'), 'bb');
    writeFileSync(join(top, 'a.txt'), 'a');
    writeFileSync(join(top, 'Z.txt'), 'zzz'); // upper case sorts first (UTF-16 order)
    writeFileSync(join(top, 'sub', 'c.bin'), Buffer.alloc(1000));
    writeFileSync(join(top, 'sub', 'deeper', 'd.txt'), 'dddd');
    writeFileSync(join(top, 'ab:cd'), 'colon');
    writeFileSync(join(top, 'tab\there'), 'control');
    symlinkSync(join(outside, 'secret.txt'), join(top, 'link-to-file'));
    symlinkSync(outside, join(top, 'link-to-folder'));
    const fifo = spawnSync('mkfifo', [join(top, 'pipe')]).status === 0;
    utimesSync(join(top, 'sub', 'c.bin'), 1_700_000_000, 1_700_000_000);
    utimesSync(join(top, 'sub'), 1_600_000_000, 1_600_000_000);

    const [offered] = prepareOffer([top]);
    assert.ok(offered && offered.kind === 'dir' && offered.tree);
    assert.equal(offered.size, 3 + 1 + 2 + 1000 + 4, 'only regular files count');
    const tree = offered.tree;
    assert.deepEqual(tree.entries.map((e) => e.name), ['Z.txt', 'a.txt', 'b.txt', 'sub']);
    const sub = tree.entries[3] as FolderNode;
    assert.equal(sub.kind, 'dir');
    assert.equal(sub.mtime, 1_600_000_000);
    const c = sub.entries[0] as FileNode;
    assert.deepEqual({ name: c.name, size: c.size, mtime: c.mtime, path: c.path }, { name: 'c.bin', size: 1000, mtime: 1_700_000_000, path: join(top, 'sub', 'c.bin') });
    assert.deepEqual((sub.entries[1] as FolderNode).entries.map((e) => e.name), ['d.txt']);

    const reasons = new Map((offered.skipped ?? []).map((s) => [s.path.slice(top.length + 1), s.reason]));
    assert.match(reasons.get('link-to-file') ?? '', /symbolic link/);
    assert.match(reasons.get('link-to-folder') ?? '', /symbolic link/);
    assert.match(reasons.get('ab:cd') ?? '', /cannot be sent.*':'/);
    assert.match(reasons.get('tab\there') ?? '', /cannot be sent.*control character/);
    if (fifo) assert.match(reasons.get('pipe') ?? '', /not a regular file/);
    assert.equal(reasons.size, fifo ? 5 : 4);
  });

  test('a link given is offered under its own name, so that two links to one file do not collide', () => {
    const target = join(root, 'target.txt');
    writeFileSync(target, 'same');
    symlinkSync(target, join(root, 'first.txt'));
    symlinkSync(target, join(root, 'second.txt'));
    const offered = prepareOffer([join(root, 'first.txt'), join(root, 'second.txt'), `${root}/.`]);
    assert.deepEqual(offered.map((f) => [f.name, f.path]), [
      ['first.txt', target],
      ['second.txt', target],
      [root.split('/').pop(), root],
    ]);
  });
});
