// test/state/busy-retry.test.ts
// Windows file semantics: a rename refused because another program has the file open (EPERM,
// EACCES, EBUSY) is tried again with growing waits, then fails saying so; elsewhere such an error
// fails at once. writeFileAtomic uses it (a fake fs refuses the rename twice); the packet-counter
// lock treats Windows' "delete pending" refusal as a held lock.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import atomicWrite from '../../src/state/atomic-write.cjs';
import busyRetry from '../../src/state/busy-retry.cjs';
import { lockHeld } from '../../src/state/packet-counter.js';

const { retryWhileBusy, BUSY_TRIES } = busyRetry;
const root = mkdtempSync(join(tmpdir(), 'ipmsg-busy-'));
after(() => rmSync(root, { recursive: true, force: true }));

const refusal = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: operation not permitted, rename 'a' -> 'b'`), { code });

/** An action that throws `code` the first `failures` times, then returns 'done'. */
function failing(code: string, failures: number) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    action: (): string => {
      if (++calls <= failures) throw refusal(code);
      return 'done';
    },
  };
}

describe('retryWhileBusy', () => {
  for (const code of ['EPERM', 'EACCES', 'EBUSY']) {
    test(`win32: ${code} twice, then success after waits of 10 and 20 ms`, () => {
      const waits: number[] = [];
      const op = failing(code, 2);
      assert.equal(retryWhileBusy(op.action, { platform: 'win32', sleep: (ms) => waits.push(ms) }), 'done');
      assert.equal(op.calls, 3);
      assert.deepEqual(waits, [10, 20]);
    });
  }

  test('win32: still refused after every try: an error that says so and keeps the code', () => {
    const waits: number[] = [];
    const op = failing('EPERM', 100);
    assert.throws(
      () => retryWhileBusy(op.action, { platform: 'win32', sleep: (ms) => waits.push(ms) }),
      (error: NodeJS.ErrnoException) => error.code === 'EPERM' && /still refused after 6 tries: another program may have the file open/.test(error.message),
    );
    assert.equal(op.calls, BUSY_TRIES);
    assert.deepEqual(waits, [10, 20, 40, 80, 160]);
  });

  test('win32: other errors fail at once', () => {
    const op = failing('ENOENT', 1);
    assert.throws(() => retryWhileBusy(op.action, { platform: 'win32', sleep: () => assert.fail('no wait') }), { code: 'ENOENT' });
    assert.equal(op.calls, 1);
  });

  test('linux: EPERM is a real permission problem and fails at once, unchanged', () => {
    const op = failing('EPERM', 1);
    assert.throws(() => retryWhileBusy(op.action, { platform: 'linux', sleep: () => assert.fail('no wait') }), (error: Error) => error.message === "EPERM: operation not permitted, rename 'a' -> 'b'");
    assert.equal(op.calls, 1);
  });
});

describe('writeFileAtomic on Windows', () => {
  /** The real fs, but renameSync refuses `failures` times first with EPERM. */
  function busyFs(failures: number) {
    let refused = 0;
    return {
      fake: {
        ...fs,
        renameSync: (from: fs.PathLike, to: fs.PathLike): void => {
          if (refused++ < failures) throw refusal('EPERM');
          fs.renameSync(from, to);
        },
      },
      get refused() {
        return refused;
      },
    };
  }

  test('a rename refused twice (the file open elsewhere) succeeds on the third try', () => {
    const file = join(root, 'twice', 'state.json');
    atomicWrite.writeFileAtomic(file, 'old');
    const waits: number[] = [];
    const io = busyFs(2);
    assert.equal(atomicWrite.writeFileAtomic(file, 'new', { platform: 'win32', fs: io.fake, sleep: (ms) => waits.push(ms) }), true);
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.deepEqual(waits, [10, 20]);
    assert.deepEqual(readdirSync(join(root, 'twice')), ['state.json'], 'no temporary file left');
  });

  test('a rename refused every time fails clearly, the old file intact and no temporary file left', () => {
    const file = join(root, 'always', 'state.json');
    atomicWrite.writeFileAtomic(file, 'old');
    assert.throws(() => atomicWrite.writeFileAtomic(file, 'new', { platform: 'win32', fs: busyFs(100).fake, sleep: () => undefined }), /still refused after 6 tries/);
    assert.equal(readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(readdirSync(join(root, 'always')), ['state.json']);
  });

  test('on Linux the same refusal fails at once', () => {
    const file = join(root, 'linux', 'state.json');
    const io = busyFs(1);
    assert.throws(() => atomicWrite.writeFileAtomic(file, 'new', { platform: 'linux', fs: io.fake, sleep: () => assert.fail('no wait') }), { code: 'EPERM' });
    assert.equal(io.refused, 1);
  });
});

describe('the packet-counter lock', () => {
  test("EEXIST means held everywhere; EPERM and EACCES only on Windows (a lock file deleted while looked at)", () => {
    assert.equal(lockHeld('EEXIST', 'linux'), true);
    assert.equal(lockHeld('EEXIST', 'win32'), true);
    assert.equal(lockHeld('EPERM', 'win32'), true);
    assert.equal(lockHeld('EACCES', 'win32'), true);
    assert.equal(lockHeld('EPERM', 'linux'), false);
    assert.equal(lockHeld('EACCES', 'darwin'), false);
    assert.equal(lockHeld('ENOENT', 'win32'), false);
  });
});
