// test/transfer/save.test.ts
// Choosing names for what is saved: a name held by anything (a dangling symbolic link included)
// moves on to the next candidate, a name that cannot be had is a clear error, never a loop; an old
// `.part` is either avoided or named in the error.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isIpmsgError } from '../../src/errors.js';
import { availableName, candidates, partFileName, partName, placeCompleted } from '../../src/transfer/save.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-save-'));
after(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe('names held by dangling symbolic links', () => {
  test('availableName and partName pass over a dangling link', () => {
    const dir = folder('names');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'a.txt'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'a.txt.part'));
    assert.equal(availableName(dir, 'a.txt'), 'a (1).txt');
    assert.equal(partName(dir, 'a.txt', false), 'a.txt (1).part');
  });

  test('placeCompleted places a file next to a dangling link of its name, and leaves the link alone', () => {
    const dir = folder('place-file');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'report.txt'));
    writeFileSync(join(dir, 'report.txt.part'), 'new');
    const path = placeCompleted(join(dir, 'report.txt.part'), dir, 'report.txt', 'rename');
    assert.equal(path, join(dir, 'report (1).txt'));
    assert.equal(readFileSync(join(dir, 'report (1).txt'), 'utf8'), 'new');
    assert.equal(readlinkSync(join(dir, 'report.txt')), join(dir, 'nowhere'));
  });

  test('placeCompleted places a folder next to a dangling link of its name', () => {
    const dir = folder('place-dir');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'tree'));
    mkdirSync(join(dir, 'tree.part'));
    assert.equal(placeCompleted(join(dir, 'tree.part'), dir, 'tree', 'rename'), join(dir, 'tree (1)'));
  });

  test('a dangling link counts as existing for the fail, skip and overwrite policies', () => {
    const dir = folder('policies');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'x.bin'));
    writeFileSync(join(dir, 'x.bin.part'), 'x');
    assert.throws(() => placeCompleted(join(dir, 'x.bin.part'), dir, 'x.bin', 'fail'), (e) => isIpmsgError(e, 'IPMSG_ERR_CANT_CREATE'));
    assert.equal(placeCompleted(join(dir, 'x.bin.part'), dir, 'x.bin', 'overwrite'), join(dir, 'x.bin'));
    assert.equal(readFileSync(join(dir, 'x.bin'), 'utf8'), 'x');
  });
});

describe('an old .part', () => {
  test("under 'fail' partName names it and says to resume", () => {
    const dir = folder('old-part');
    writeFileSync(join(dir, 'big.iso.part'), 'half');
    assert.throws(
      () => partName(dir, 'big.iso', false, 'fail'),
      (e) => isIpmsgError(e, 'IPMSG_ERR_CANT_CREATE') && e.message.includes(join(dir, 'big.iso.part')) && e.message.includes('--resume'),
    );
    assert.equal(partName(dir, 'big.iso', true, 'fail'), 'big.iso.part');
    assert.equal(partName(dir, 'big.iso', false), 'big.iso (1).part');
  });
});

describe('a name that cannot be placed', () => {
  test('is a clear error that keeps the .part, not a loop', () => {
    const dir = folder('unplaceable');
    writeFileSync(join(dir, 'f.part'), 'f');
    // A name longer than the file system allows cannot be created under any candidate.
    const name = `${'n'.repeat(300)}.txt`;
    assert.throws(
      () => placeCompleted(join(dir, 'f.part'), dir, name, 'rename'),
      (e) => isIpmsgError(e, 'IPMSG_ERR_CANT_CREATE') && e.message.includes('name too long'),
    );
    assert.equal(readFileSync(join(dir, 'f.part'), 'utf8'), 'f');
  });
});

describe('names near the 255 limit', () => {
  const bytes = (name: string): number => Buffer.byteLength(name);
  test('a 255-byte name gets a .part name a file system takes, and is saved under its own name', () => {
    const dir = folder('long');
    const name = `${'é'.repeat(123)}x.txt`; // 246 + 1 + 4 = 251 bytes: its .part would be 256
    assert.equal(bytes(name), 251);
    const part = partName(dir, name, false);
    assert.ok(bytes(part) <= 255 && part.endsWith('.part'), part);
    writeFileSync(join(dir, part), 'data');
    assert.equal(placeCompleted(join(dir, part), dir, name, 'rename'), join(dir, name));
    assert.equal(readFileSync(join(dir, name), 'utf8'), 'data');
    // The next one with the same name is numbered, still within the limit, keeping its extension.
    const next = availableName(dir, name);
    assert.ok(bytes(next) <= 255 && next.endsWith(' (1).txt'), next);
    writeFileSync(join(dir, next), 'again');
  });
  test('shortening keeps whole code points, and resume finds the same .part', () => {
    const name = '飞'.repeat(85); // 255 bytes
    const part = partFileName(name, 'linux');
    assert.equal(part, `${'飞'.repeat(83)}.part`);
    assert.equal(partFileName(name, 'linux'), part);
    const [first, second] = candidates(name, 'linux');
    assert.equal(first, name);
    assert.equal(second, `${'飞'.repeat(83)} (1)`);
  });
  test('Windows counts UTF-16 code units, not bytes', () => {
    const name = '飞'.repeat(240);
    assert.equal(partFileName(name, 'win32'), `${name}.part`);
    assert.equal(partFileName('a'.repeat(255), 'win32'), `${'a'.repeat(250)}.part`);
  });
  test('an extension too long to keep beside a number is cut like the rest', () => {
    const name = `a.${'b'.repeat(253)}`;
    const second = [...candidates(name, 'linux')][1] ?? '';
    assert.ok(bytes(second) <= 255 && second.endsWith(' (1)'), second);
  });
});
