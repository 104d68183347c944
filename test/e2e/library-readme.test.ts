// test/e2e/library-readme.test.ts
// Runs the README's Library examples, as written, against the real CLI on 127.0.0.1. The only
// changes made to them: the package name points at this build, the example address 10.0.0.7 is
// the peer the test started, the receiving example binds a free loopback port (it would otherwise
// take UDP 2425 on every interface), and its one-minute wait is a few seconds.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { type CliResult, freePort, jsonLines, makeSandbox, repoRoot, startCli, watchChild } from '../helpers/cli.js';

const sandbox = makeSandbox();
const work = mkdtempSync(join(tmpdir(), 'ipmsg-readme-'));
after(() => {
  sandbox.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** The ```js blocks of the README's "## Library" section, in order. */
function libraryExamples(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Library\n');
  const end = readme.indexOf('\n## ', start + 1);
  assert.ok(start >= 0, 'README has no ## Library section');
  return [...readme.slice(start, end).matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

function adapt(code: string, replacements: readonly [string, string][]): string {
  let out = code.replace("from 'ipmsg'", `from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'index.js')).href)}`);
  for (const [from, to] of replacements) {
    assert.ok(out.includes(from), `the example no longer contains ${from}`);
    out = out.replaceAll(from, to);
  }
  return out;
}

/** Runs an example as an ES module in `cwd`, with the sandbox's HOME (its keys and state). */
function runExample(code: string, cwd: string): ReturnType<typeof watchChild> {
  const file = join(cwd, `example-${Date.now()}.mjs`);
  writeFileSync(file, code);
  return watchChild(spawn(process.execPath, [file], { cwd, env: sandbox.env, stdio: ['pipe', 'pipe', 'pipe'] }));
}

const [sending, receiving, offering] = libraryExamples();

describe('the README Library examples', () => {
  test('there are three', () => {
    assert.ok(sending && receiving && offering);
  });

  test('sending a message: delivered, encrypted', async () => {
    const port = await freePort();
    const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(port), '--timeout', '20s', '--json', '-v'], sandbox.env);
    await recv.waitFor('listening on UDP port');
    const example = runExample(adapt(sending ?? '', [["'10.0.0.7'", `'127.0.0.1:${port}'`]]), work);
    const result: CliResult = await example.done;
    assert.equal(result.code, 0, result.stderr);
    // Encrypted unless the receiver's key answer missed the short probe (a loaded machine): what is printed must say which.
    const printed = /^delivered (true|false)\n$/.exec(result.stdout);
    assert.ok(printed, result.stdout);
    const [message] = jsonLines((await recv.done).stdout);
    assert.equal(message?.['text'], 'build 1234 passed');
    assert.equal(String(message?.['encrypted']), printed[1]);
  });

  test('receiving in a for-await loop, and saving what a message offers', async () => {
    const cwd = join(work, 'receiver');
    mkdirSync(cwd);
    const port = await freePort();
    const code = adapt(receiving ?? '', [
      ['openMessenger()', `openMessenger({ port: ${port}, bind: '127.0.0.1' })`],
      ['AbortSignal.timeout(60_000)', 'AbortSignal.timeout(6_000)'],
    ]);
    const example = runExample(code, cwd);
    const offered = join(work, 'report.txt');
    writeFileSync(offered, 'the report');
    // The example binds once it has its keys; resend until it takes the offer.
    let sent: CliResult | undefined;
    for (let i = 0; i < 20 && sent?.code !== 0; i++) {
      sent = await startCli(['send', '--bind', '127.0.0.1', '--port', String(await freePort()), '-t', '1s', '--file', offered, `127.0.0.1:${port}`, 'here it is'], sandbox.env).done;
    }
    assert.equal(sent?.code, 0, sent?.stderr);
    const result = await example.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^tester(-<[0-9a-f]{16}>)? here it is true verified\n\[ '.*report\.txt' \]\n$/);
    assert.equal(readFileSync(join(cwd, 'downloads', 'report.txt'), 'utf8'), 'the report');
  });

  test('offering files until they are fetched', async () => {
    const cwd = join(work, 'offerer');
    mkdirSync(join(cwd, 'reports'), { recursive: true });
    writeFileSync(join(cwd, 'build.log'), 'log lines');
    writeFileSync(join(cwd, 'reports', 'a.txt'), 'report a');
    const dst = join(work, 'saved');
    mkdirSync(dst);
    const port = await freePort();
    const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(port), '--save', dst, '--timeout', '20s', '--json'], sandbox.env);
    const example = runExample(adapt(offering ?? '', [["'10.0.0.7'", `'127.0.0.1:${port}'`]]), cwd);
    const result = await example.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /build\.log fetched by 127\.0\.0\.1\n/);
    assert.match(result.stdout, /reports fetched by 127\.0\.0\.1\n/);
    assert.match(result.stdout, /2 downloads\n$/);
    assert.equal((await recv.done).code, 0);
    assert.equal(readFileSync(join(dst, 'build.log'), 'utf8'), 'log lines');
    assert.equal(readFileSync(join(dst, 'reports', 'a.txt'), 'utf8'), 'report a');
  });
});
