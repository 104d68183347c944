// test/transfer/fetch-folder.test.ts
// fetchFolder in-process against a one-shot TCP server: files land where the stream says, with
// their mtimes, also for a relative target folder; the process working directory is never changed
// (a library must not: other code in the process resolves relative paths against it).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { IPMSG_FILE_DIR, IPMSG_FILE_REGULAR, IPMSG_FILE_RETPARENT } from '../../src/protocol/file-attr.js';
import { encodeDirHeader } from '../../src/transfer/dir-header.js';
import { MAX_ENTRY_CANDIDATES, fetchFolder } from '../../src/transfer/fetch-folder.js';
import { windowsSafeName } from '../../src/transfer/windows-name.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-fetch-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

const name = (text: string): Uint8Array => Buffer.from(text);
const dir = (text: string, mtime: number): Uint8Array => encodeDirHeader({ name: name(text), size: 0, attr: IPMSG_FILE_DIR, mtime });
const up = (): Uint8Array => encodeDirHeader({ name: name('.'), size: 0, attr: IPMSG_FILE_RETPARENT });
const file = (text: string, content: string, mtime: number): Uint8Array[] => [
  encodeDirHeader({ name: name(text), size: Buffer.byteLength(content), attr: IPMSG_FILE_REGULAR, mtime }),
  Buffer.from(content),
];

/** A server that answers one connection with `stream` (in small pieces, so files span reads) and closes. */
async function serve(stream: Uint8Array): Promise<number> {
  const server = createServer((socket) => {
    socket.once('data', () => {
      for (let at = 0; at < stream.length; at += 7) socket.write(stream.subarray(at, at + 7));
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return (server.address() as AddressInfo).port;
}

function options(port: number, partDir: string) {
  return { address: '127.0.0.1', port, request: () => Buffer.from('1:1:a:b:0x62:x:0:\0'), stallTimeout: 5000, partDir, decodeName: (b: Uint8Array) => Buffer.from(b).toString('utf8'), maxTotalBytes: undefined };
}

/** Runs `work` with process.chdir recording its calls instead of changing anything. */
async function chdirCalls(work: () => Promise<unknown>): Promise<string[]> {
  const calls: string[] = [];
  const chdir = process.chdir;
  process.chdir = (dir: string): void => {
    calls.push(dir);
  };
  try {
    await work();
  } finally {
    process.chdir = chdir;
  }
  return calls;
}

describe('fetchFolder', () => {
  test('a nested folder arrives with its mtimes into a relative folder; the working directory is unchanged', async () => {
    const stream = Buffer.concat([
      dir('top', 1_000_000_000),
      ...file('a.txt', 'alpha', 1_100_000_000),
      dir('sub', 1_200_000_000),
      ...file('b.txt', 'bravo', 1_300_000_000),
      ...file('c.txt', '', 1_400_000_000),
      up(),
      ...file('d.txt', 'delta', 1_500_000_000),
      up(),
    ]);
    const before = process.cwd();
    const target = join(root, 'ok.part');
    const result = await fetchFolder(options(await serve(stream), relative(before, target)));
    assert.equal(process.cwd(), before);
    assert.deepEqual(result, { files: 4, folders: 2, bytes: 15 });
    assert.deepEqual(readdirSync(target).sort(), ['a.txt', 'd.txt', 'sub']);
    assert.deepEqual(readdirSync(join(target, 'sub')).sort(), ['b.txt', 'c.txt']);
    assert.equal(readFileSync(join(target, 'sub', 'b.txt'), 'utf8'), 'bravo');
    assert.equal(readFileSync(join(target, 'd.txt'), 'utf8'), 'delta');
    assert.equal(statSync(join(target, 'sub', 'b.txt')).mtimeMs, 1_300_000_000_000);
    assert.equal(statSync(join(target, 'sub')).mtimeMs, 1_200_000_000_000);
    assert.equal(statSync(target).mtimeMs, 1_000_000_000_000);
  });

  test('a failure after a folder was entered (a name sent twice): an error, the first copy stays, the working directory is unchanged', async () => {
    const stream = Buffer.concat([dir('top', 1_000_000_000), dir('sub', 1_000_000_000), ...file('twice.txt', 'first', 1_000_000_000), ...file('twice.txt', 'second', 1_000_000_000), up(), up()]);
    const before = process.cwd();
    const target = join(root, 'bad.part');
    await assert.rejects(fetchFolder(options(await serve(stream), target)), (error: Error & { code?: string }) => error.code === 'IPMSG_ERR_CANT_CREATE');
    assert.equal(process.cwd(), before);
    assert.equal(readFileSync(join(target, 'sub', 'twice.txt'), 'utf8'), 'first');
    assert.deepEqual(readdirSync(root).sort(), ['bad.part', 'ok.part']);
  });

  test('never changes the working directory while it creates the files', async () => {
    const stream = Buffer.concat([dir('top', 1_000_000_000), dir('sub', 1_000_000_000), ...file('x.txt', 'x', 1_000_000_000), up(), ...file('y.txt', 'y', 1_000_000_000), up()]);
    const target = join(root, 'cwd.part');
    const port = await serve(stream);
    const calls = await chdirCalls(() => fetchFolder(options(port, target)));
    assert.deepEqual(calls, []);
    assert.equal(readFileSync(join(target, 'sub', 'x.txt'), 'utf8'), 'x');
  });

  describe("with Windows' names (localName)", () => {
    test('every entry is saved under its safe name, each renaming is told, and names made the same are numbered', async () => {
      const stream = Buffer.concat([
        dir('top', 1_000_000_000),
        ...file('CON.txt', 'con', 1_000_000_000),
        ...file('a?b', 'first', 1_000_000_000),
        ...file('a*b', 'second', 1_000_000_000),
        dir('AUX', 1_000_000_000),
        ...file('ok.txt', 'ok', 1_000_000_000),
        ...file('x.', 'dot', 1_000_000_000),
        up(),
        up(),
      ]);
      const target = join(root, 'win.part');
      const renamed: [string, string][] = [];
      const result = await fetchFolder({ ...options(await serve(stream), target), localName: windowsSafeName, onRenamed: (offered, saved) => renamed.push([offered, saved]) });
      assert.deepEqual(result, { files: 5, folders: 2, bytes: 19 });
      assert.deepEqual(readdirSync(target).sort(), ['AUX_', 'CON_.txt', 'a_b', 'a_b (1)']);
      assert.deepEqual(readdirSync(join(target, 'AUX_')).sort(), ['ok.txt', 'x']);
      assert.equal(readFileSync(join(target, 'a_b'), 'utf8'), 'first');
      assert.equal(readFileSync(join(target, 'a_b (1)'), 'utf8'), 'second');
      assert.equal(readFileSync(join(target, 'AUX_', 'x'), 'utf8'), 'dot');
      assert.deepEqual(renamed, [
        ['top/CON.txt', 'top/CON_.txt'],
        ['top/a?b', 'top/a_b'],
        ['top/a*b', 'top/a_b (1)'],
        ['top/AUX', 'top/AUX_'],
        ['top/AUX/x.', 'top/AUX_/x'],
      ]);
    });

    test(`a name taken more than ${MAX_ENTRY_CANDIDATES} times is an error, not a long loop`, async () => {
      const copies = Array.from({ length: MAX_ENTRY_CANDIDATES + 1 }, () => file('same', '', 1_000_000_000)).flat();
      const stream = Buffer.concat([dir('top', 1_000_000_000), ...copies, up()]);
      const target = join(root, 'many.part');
      await assert.rejects(fetchFolder({ ...options(await serve(stream), target), localName: windowsSafeName }), (error: Error & { code?: string }) => error.code === 'IPMSG_ERR_CANT_CREATE');
      assert.equal(readdirSync(target).length, MAX_ENTRY_CANDIDATES);
    });
  });
});
