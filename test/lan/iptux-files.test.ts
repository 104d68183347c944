// test/lan/iptux-files.test.ts
// Fetching files and a folder from a real iptux 0.8.3: iptux shares them (its "shared files"),
// we ask for the list with its private IPTUX_ASKSHARED (0xFF), and `recv --save` fetches every
// offered item over TCP (GETFILEDATA for files, GETDIRFILES for the folder).

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { binPath, jsonLines, makeSandbox } from '../helpers/cli.js';
import { type IptuxPeer, askIptuxShared, iptuxUnavailableReason, startIptux } from '../helpers/iptux.js';
import { type Lan, createLan } from '../helpers/netns.js';

const skip = iptuxUnavailableReason();
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

/** Fixed, distinct mtimes for the shared items (whole seconds), to see which times arrive; folders last. */
const T = (iso: string): number => Date.parse(iso) / 1000;
const MTIMES: Record<string, number> = {
  'hello.txt': T('2021-03-04T05:06:07Z'),
  'random.bin': T('2021-03-04T05:06:08Z'),
  'tree/top.txt': T('2022-01-01T00:00:01Z'),
  'tree/empty.txt': T('2022-01-01T00:00:02Z'),
  'tree/中文.txt': T('2022-01-01T00:00:03Z'),
  'tree/sub/deeper/data.bin': T('2022-01-01T00:00:04Z'),
  'tree/sub/note.md': T('2022-01-01T00:00:05Z'),
  'tree/sub/empty-dir': T('2023-06-01T00:00:01Z'),
  'tree/sub/deeper': T('2023-06-01T00:00:02Z'),
  'tree/sub': T('2023-06-01T00:00:03Z'),
  'tree': T('2023-06-01T00:00:04Z'),
};

interface Entry {
  readonly path: string;
  readonly type: 'file' | 'dir';
  readonly size: number;
  readonly sha256: string;
  readonly mtime: number;
}

/** Every entry under `root` (relative paths, sorted), with size, content hash and mtime (s). */
function walk(root: string, rel = ''): Entry[] {
  const out: Entry[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = statSync(join(root, path));
    if (st.isDirectory()) {
      out.push({ path, type: 'dir', size: 0, sha256: '', mtime: Math.floor(st.mtimeMs / 1000) });
      out.push(...walk(root, path));
    } else {
      const sha256 = createHash('sha256').update(readFileSync(join(root, path))).digest('hex');
      out.push({ path, type: 'file', size: st.size, sha256, mtime: Math.floor(st.mtimeMs / 1000) });
    }
  }
  return out;
}

const withoutMtime = (entries: readonly Entry[]): Omit<Entry, 'mtime'>[] => entries.map(({ mtime: _, ...rest }) => rest);

describe('iptux shared files', { skip: skip ?? false }, () => {
  let lan: Lan;
  let iptux: IptuxPeer;
  let work: string;
  let shared: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ipmsg-iptux-files-'));
    shared = join(work, 'shared');
    mkdirSync(join(shared, 'tree', 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(shared, 'tree', 'sub', 'empty-dir'), { recursive: true });
    writeFileSync(join(shared, 'hello.txt'), 'Hello from iptux!\nSecond line, ünïcödé, 你好.\n');
    writeFileSync(join(shared, 'random.bin'), randomBytes(2 * 1024 * 1024 + 12345));
    writeFileSync(join(shared, 'tree', 'top.txt'), 'top of the tree\n');
    writeFileSync(join(shared, 'tree', 'empty.txt'), '');
    writeFileSync(join(shared, 'tree', '中文.txt'), '中文内容：飞鸽传书\n');
    writeFileSync(join(shared, 'tree', 'sub', 'deeper', 'data.bin'), randomBytes(300_000));
    writeFileSync(join(shared, 'tree', 'sub', 'note.md'), '# note\n');
    // Deepest first: setting a time does not touch the parent's.
    for (const [path, mtime] of Object.entries(MTIMES)) utimesSync(join(shared, path), mtime, mtime);
    lan = await createLan(2);
    iptux = await startIptux(lan, 1, {
      nick: 'iptux-peer',
      group: 'lab',
      sharedFiles: ['hello.txt', 'random.bin', 'tree'].map((n) => join(shared, n)),
    });
  });
  after(async () => {
    await iptux?.stop();
    await lan?.destroy(); // also kills a recv still running
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('recv --save fetches the shared files and the folder tree byte for byte', { timeout: 60_000 }, async () => {
    const startedAt = Math.floor(Date.now() / 1000);
    const dst = join(work, 'received');
    mkdirSync(dst);
    const child = lan.spawn(
      0,
      process.execPath,
      [binPath, 'recv', '--save', dst, '--count', '1', '--json', '-v', '--timeout', '20s', '--user', 'alice', '--host', 'alice-pc', '--nick', 'Alice'],
      { env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const deadline = Date.now() + 10_000;
    while (!stderr.includes('listening on UDP port 2425')) {
      assert.ok(child.exitCode === null, `recv exited early: ${stderr}`);
      assert.ok(Date.now() < deadline, `recv did not start listening: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    // Above any packet number recv used (≈ seconds since the epoch, §15: iptux drops numbers that
    // do not grow), below 2^32.
    await askIptuxShared(lan, 0, iptux, Math.floor(Date.now() / 1000) + 1000);

    const code = await exited;
    const debug = code === 0 ? '' : `\n--- iptux log tail ---\n${(await iptux.readDebugLog()).slice(-6000)}`;
    assert.equal(code, 0, `recv failed: ${stderr}\nstdout: ${stdout}${debug}`);
    const lines = jsonLines(stdout);
    assert.equal(lines.length, 1, stdout);
    const message = lines[0] as unknown as {
      from: { address: string; port: number; user: string; host: string };
      text: string;
      attachments: unknown[];
      saved: unknown[];
    };

    // The offer: SENDMSG|FILEATTACHOPT|IPTUX_SHAREDOPT, empty text, iptux's public ids 1..N,
    // mtime 0, the folder with the total size of its files.
    const source = walk(shared);
    const sizeOf = (path: string): number => source.find((e) => e.path === path)?.size ?? -1;
    const treeBytes = source.filter((e) => e.type === 'file' && e.path.startsWith('tree/')).reduce((n, e) => n + e.size, 0);
    assert.equal(treeBytes, 16 + 0 + 28 + 300_000 + 7);
    assert.deepEqual(message.from, { address: iptux.address, port: 2425, user: iptux.user, host: iptux.hostname, nick: 'iptux-peer', group: 'lab' });
    assert.equal(message.text, '');
    assert.deepEqual(message.attachments, [
      { fileId: 1, name: 'hello.txt', size: sizeOf('hello.txt'), mtime: 0, kind: 'file', attr: 1 },
      { fileId: 2, name: 'random.bin', size: sizeOf('random.bin'), mtime: 0, kind: 'file', attr: 1 },
      { fileId: 3, name: 'tree', size: treeBytes, mtime: 0, kind: 'dir', attr: 2 },
    ]);
    assert.deepEqual(message.saved, [
      { fileId: 1, name: 'hello.txt', kind: 'file', path: join(dst, 'hello.txt'), bytes: sizeOf('hello.txt'), status: 'saved', security: 'plain' },
      { fileId: 2, name: 'random.bin', kind: 'file', path: join(dst, 'random.bin'), bytes: sizeOf('random.bin'), status: 'saved', security: 'plain' },
      { fileId: 3, name: 'tree', kind: 'dir', path: join(dst, 'tree'), bytes: treeBytes, status: 'saved', security: 'plain' },
    ]);

    // The same tree: names (UTF-8 中文.txt), types, sizes, bytes; no .part leftovers.
    const received = walk(dst);
    assert.deepEqual(withoutMtime(received), withoutMtime(source));

    // Times: inside the folder every file and folder has its source mtime (GETDIRFILES headers carry
    // 14=st_mtime; the folder's own header, not iptux's RETPARENT, which repeats the last entry's).
    // The top-level files were offered with mtime 0, so they keep the time they were written.
    const mtimeOf = (entries: readonly Entry[], path: string): number | undefined => entries.find((e) => e.path === path)?.mtime;
    for (const e of source.filter((x) => x.path === 'tree' || x.path.startsWith('tree/'))) {
      assert.equal(mtimeOf(received, e.path), e.mtime, `mtime of ${e.path}`);
    }
    for (const path of ['hello.txt', 'random.bin']) {
      assert.ok((mtimeOf(received, path) ?? 0) >= startedAt - 1, `${path}: mtime 0 from the offer must not be applied`);
    }

    // iptux saw the request and sent all three completely.
    const log = await iptux.waitForDebugLog(/Send the directory "[^"]*\/tree" to .* successfully/, 5000);
    assert.match(log, /command NO\.: \[0xff\] ASKSHARED/);
    assert.match(log, /Send the file "[^"]*\/hello\.txt" to .* successfully/);
    assert.match(log, /Send the file "[^"]*\/random\.bin" to .* successfully/);
  });
});
