// test/e2e/windows-names.test.ts
// Receiving with Windows' name rules (the library's `platform: 'win32'`) from the real binary on
// 127.0.0.1: a file and a folder whose names Windows cannot hold arrive under safe names, with a
// notice each and the offered name in the saved record; the same offer under Linux' rules keeps
// the names. The real Windows run is the Wine lane's.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Saved, openMessenger } from '../../src/index.js';
import { freePort, makeSandbox, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const root = mkdtempSync(join(tmpdir(), 'ipmsg-windows-names-'));
after(() => {
  sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

// What a Linux peer may offer: names Linux holds and Windows does not.
const offered = join(root, 'offered');
mkdirSync(join(offered, 'AUX'), { recursive: true });
writeFileSync(join(offered, 'CON.txt'), 'con');
writeFileSync(join(offered, 'AUX', 'what?.txt'), 'what');
writeFileSync(join(offered, 'AUX', 'lpt1'), 'lpt');

/** Receives one message offering CON.txt and the folder AUX, saving into `dir` under `platform`'s rules. */
async function receiveOffer(dir: string, platform: NodeJS.Platform): Promise<{ saved: readonly Saved[]; notices: string[] }> {
  const port = await freePort();
  const notices: string[] = [];
  const client = await openMessenger({ port, bind: '127.0.0.1', crypto: false, stateDir: join(root, 'state'), env: sandbox.env });
  let saved: readonly Saved[] = [];
  try {
    const receiving = client.receive({
      count: 1,
      signal: AbortSignal.timeout(20_000),
      save: { dir, platform },
      onNotice: (message) => notices.push(message),
      onMessage: (_message, items) => {
        saved = items ?? [];
      },
    });
    const args = ['send', '--no-crypto', '--bind', '127.0.0.1', '--port', String(await freePort()), '--file', join(offered, 'CON.txt'), '--file', join(offered, 'AUX'), `127.0.0.1:${port}`];
    const sent = await startCli(args, sandbox.env).done;
    assert.equal(sent.code, 0, sent.stderr);
    await receiving;
  } finally {
    await client.close();
  }
  return { saved, notices };
}

describe("Windows' names for what arrives", () => {
  test('win32: CON.txt is saved as CON_.txt, AUX as AUX_ with its entries made safe; notices and offeredName say so', async () => {
    const dir = join(root, 'win32');
    const { saved, notices } = await receiveOffer(dir, 'win32');
    assert.deepEqual(
      saved.map((s) => [s.name, s.offeredName, s.path, s.status]),
      [
        ['CON_.txt', 'CON.txt', join(dir, 'CON_.txt'), 'saved'],
        ['AUX_', 'AUX', join(dir, 'AUX_'), 'saved'],
      ],
    );
    assert.deepEqual(readdirSync(dir).sort(), ['AUX_', 'CON_.txt']);
    assert.deepEqual(readdirSync(join(dir, 'AUX_')).sort(), ['lpt1_', 'what_.txt']);
    assert.equal(readFileSync(join(dir, 'CON_.txt'), 'utf8'), 'con');
    assert.equal(readFileSync(join(dir, 'AUX_', 'what_.txt'), 'utf8'), 'what');
    assert.deepEqual(notices.sort(), [
      'saved "AUX" as "AUX_" (not a valid Windows file name)',
      'saved "AUX/lpt1" as "AUX_/lpt1_" (not a valid Windows file name)',
      'saved "AUX/what?.txt" as "AUX_/what_.txt" (not a valid Windows file name)',
      'saved "CON.txt" as "CON_.txt" (not a valid Windows file name)',
    ]);
  });

  test('linux: the names are kept, with no notice and no offeredName', async () => {
    const dir = join(root, 'linux');
    const { saved, notices } = await receiveOffer(dir, 'linux');
    assert.deepEqual(
      saved.map((s) => [s.name, 'offeredName' in s, s.status]),
      [
        ['CON.txt', false, 'saved'],
        ['AUX', false, 'saved'],
      ],
    );
    assert.deepEqual(readdirSync(join(dir, 'AUX')).sort(), ['lpt1', 'what?.txt']);
    assert.deepEqual(notices, []);
  });
});
