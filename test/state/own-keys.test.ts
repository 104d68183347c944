// test/state/own-keys.test.ts
// Our keys on disk: private permissions, reused on every run, one key when two runs start at once
// (two async calls, and two real processes), a damaged file reported and left alone.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { fingerprint } from '../../src/crypto/fingerprint.js';
import type { RsaBits, RsaKeyPair } from '../../src/crypto/keys.js';
import { loadOwnKeys } from '../../src/state/own-keys.js';
import { isIpmsgError } from '../../src/errors.js';
import { type FixtureName, fixtureKey } from '../helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-keystore-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `run${++dirs}`, 'ipmsg');
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** A stand-in for key generation that hands out a fixture key after a pause (so racers overlap). */
function fixedGenerator(names: Record<RsaBits, FixtureName>): (bits: RsaBits) => Promise<RsaKeyPair> {
  return async (bits) => {
    await delay(20);
    const { privateKey, publicKey } = fixtureKey(names[bits]);
    return { bits, privateKey, publicKey };
  };
}
const asAlice = fixedGenerator({ 2048: 'alice-rsa2048', 1024: 'bob-rsa1024' });
const asCarol = fixedGenerator({ 2048: 'carol-rsa2048', 1024: 'bob-rsa1024' });
const ALICE = fingerprint(fixtureKey('alice-rsa2048').publicKey);
const CAROL = fingerprint(fixtureKey('carol-rsa2048').publicKey);

describe('loadOwnKeys', () => {
  test('two runs at once: one key, kept 0600 in a 0700 folder, and read again on the next run', async () => {
    const dir = freshDir();
    const [one, two] = await Promise.all([loadOwnKeys(dir, { generate: asAlice }), loadOwnKeys(dir, { generate: asCarol })]);
    const winner = fingerprint(one.rsa2048.publicKey);
    assert.ok(winner === ALICE || winner === CAROL);
    assert.equal(fingerprint(two.rsa2048.publicKey), winner, 'the loser uses the winner key');
    assert.deepEqual([...one.created, ...two.created], [2048], 'exactly one of them made it');
    assert.equal(mode(dir), '700');
    assert.equal(mode(join(dir, 'rsa2048.pem')), '600');
    assert.deepEqual(readdirSync(dir), ['rsa2048.pem'], 'no temporary file left');
    assert.match(readFileSync(join(dir, 'rsa2048.pem'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);

    const again = await loadOwnKeys(dir, { generate: () => assert.fail('must not generate again') });
    assert.equal(fingerprint(again.rsa2048.publicKey), winner);
    assert.deepEqual(again.created, []);
    assert.equal(again.rsa1024, undefined);
    assert.equal(again.rsa2048.privateKey.asymmetricKeyDetails?.publicExponent, 65537n);
  });

  test('legacy crypto adds rsa1024.pem beside it, once', async () => {
    const dir = freshDir();
    const first = await loadOwnKeys(dir, { legacy: true, generate: asAlice });
    assert.deepEqual(first.created, [2048, 1024]);
    assert.equal(first.rsa1024?.bits, 1024);
    assert.equal(mode(join(dir, 'rsa1024.pem')), '600');
    const again = await loadOwnKeys(dir, { legacy: true, generate: () => assert.fail('must not generate again') });
    assert.equal(again.rsa1024?.publicKey.export({ format: 'jwk' }).n, first.rsa1024?.publicKey.export({ format: 'jwk' }).n);
  });

  test('an existing folder keeps its permissions', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    await loadOwnKeys(dir, { generate: asAlice });
    assert.equal(mode(dir), '755');
  });

  test('a damaged key file is an error naming it, and stays as it was', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'rsa2048.pem');
    for (const content of ['garbage\n', readFileSync(fixtureKey('bob-rsa1024').pemPath, 'utf8'), '']) {
      writeFileSync(path, content);
      await assert.rejects(
        loadOwnKeys(dir, { generate: asAlice }),
        (e) => isIpmsgError(e, 'IPMSG_ERR_KEY_FILE') && e.message.includes(path) && e.exitStatus === 78,
      );
      assert.equal(readFileSync(path, 'utf8'), content);
    }
  });

  test('a key folder that is a file: an error, not a crash', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(dir, 'not a folder');
    await assert.rejects(loadOwnKeys(dir, { generate: asAlice }), (e) => isIpmsgError(e, 'IPMSG_ERR_KEY_FILE'));
  });

  test('two processes making their first key at once (real RSA-2048 generation) share one key', async () => {
    const dir = freshDir();
    const modules = ['state/own-keys', 'crypto/fingerprint'].map((m) => new URL(`../../src/${m}.js`, import.meta.url).href);
    const script = `
      const { loadOwnKeys } = await import(${JSON.stringify(modules[0])});
      const { fingerprint } = await import(${JSON.stringify(modules[1])});
      const keys = await loadOwnKeys(process.argv[1]);
      console.log(JSON.stringify({ fingerprint: fingerprint(keys.rsa2048.publicKey), created: keys.created }));`;
    const run = (): Promise<{ fingerprint: string; created: number[] }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`))));
      });
    const [one, two] = await Promise.all([run(), run()]);
    assert.equal(one.fingerprint, two.fingerprint);
    assert.match(one.fingerprint, /^[0-9a-f]{16}$/);
    assert.deepEqual([...one.created, ...two.created], [2048]);
    assert.equal(fingerprint((await loadOwnKeys(dir)).rsa2048.publicKey), one.fingerprint);
  });

  test('loading existing keys makes none', async () => {
    const dir = freshDir();
    const first = await loadOwnKeys(dir, { legacy: true, generate: asAlice });
    const again = await loadOwnKeys(dir, {
      legacy: true,
      generate: () => {
        throw new Error('a key was made although both exist');
      },
    });
    assert.deepEqual(again.created, []);
    assert.equal(fingerprint(again.rsa2048.publicKey), fingerprint(first.rsa2048.publicKey));
  });
});
