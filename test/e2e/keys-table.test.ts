// test/e2e/keys-table.test.ts
// `ipmsg keys` and `keys list` print aligned columns, also with East Asian wide user names.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatTable } from '../../src/cli/output.js';
import { makeSandbox, runCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
after(() => sandbox.cleanup());

/** Terminal columns: CJK ideographs take two. */
function columns(text: string): number {
  return [...text].reduce((n, ch) => n + (/[\u3040-\u30ff\u4e00-\u9fff]/.test(ch) ? 2 : 1), 0);
}

describe('aligned key tables', () => {
  test('formatTable pads by terminal columns', () => {
    assert.deepEqual(formatTable([['山田@pc', 'x'], ['bob@pc', 'y']]), ['山田@pc  x', 'bob@pc   y']);
  });

  test('keys: every value starts in the same column', async () => {
    const run = await runCli(['keys'], sandbox.env);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    const starts = lines.map((l) => /^\S+(?: \S+)?\s+/.exec(l)?.[0].length);
    assert.deepEqual(new Set(starts).size, 1, run.stdout);
  });

  test('keys list: the fingerprints start in the same column, wide names included', async () => {
    const spki = (generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
    const dir = join(sandbox.env['XDG_CONFIG_HOME'] ?? '', 'ipmsg');
    mkdirSync(dir, { recursive: true });
    const peer = (fingerprint: string) => ({ fingerprint, publicKey: spki, firstSeen: '2026-01-01T00:00:00.000Z' });
    writeFileSync(join(dir, 'known-peers.json'), JSON.stringify({ version: 1, peers: { 'bob@pc': peer('aaaa'), '山田太郎@pc2': peer('bbbb'), 'x@h': peer('cccc') } }));
    const run = await runCli(['keys', 'list'], sandbox.env);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, run.stdout);
    const starts = lines.map((l) => columns(l.slice(0, l.search(/aaaa|bbbb|cccc/))));
    assert.equal(new Set(starts).size, 1, run.stdout);
  });
});
