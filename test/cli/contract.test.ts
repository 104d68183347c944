// test/cli/contract.test.ts
// The JSON and exit-status contract, run in process through run(): every --json run ends with one
// end record on stdout; --help lists every exit status; the man page documents every option.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import type { Command } from 'commander';
import { makeProgram, run } from '../../src/cli/program.js';
import type { Context } from '../../src/cli/context.js';
import { ERROR_CODES } from '../../src/errors.js';
import { systemClock } from '../../src/transport/clock.js';
import { freePort, ndjson, makeSandbox, repoRoot } from '../helpers/cli.js';

const sandbox = makeSandbox();
after(() => sandbox.cleanup());

interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

function context(env: NodeJS.ProcessEnv = sandbox.env): { ctx: Context; out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  const ctx: Context = {
    stdout: { write: (s: string) => ((stdout += s), true) },
    stderr: { write: (s: string) => ((stderr += s), true) },
    stdin: Readable.from([]),
    env,
    clock: systemClock,
    signal: new AbortController().signal,
    version: '0.0.0-test',
  };
  return { ctx, out: () => stdout, err: () => stderr };
}

async function runIn(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<Captured> {
  const { ctx, out, err } = context(env);
  const status = await run(argv, ctx);
  return { status, stdout: out(), stderr: err() };
}

async function local(): Promise<string[]> {
  return ['--bind', '127.0.0.1', '--port', String(await freePort())];
}

/** Every stdout line is JSON, and the last one is the end record. */
function endOf(result: Captured): Record<string, unknown> {
  const lines = ndjson(result.stdout);
  const last = lines.at(-1);
  assert.ok(last, `no JSON on stdout; stderr=${result.stderr}`);
  assert.equal(last['event'], 'end', result.stdout);
  assert.equal(lines.filter((l) => l['event'] === 'end').length, 1);
  return last;
}

describe('--json ends with one end record', () => {
  test('an unknown name (68) prints its code and message', async () => {
    const result = await runIn(['send', ...(await local()), 'nobody-by-this-name', 'x', '--wait', '100ms', '--no-dns', '--json']);
    assert.equal(result.status, 68);
    const end = endOf(result);
    assert.deepEqual({ ...end, error: typeof end['error'] }, { event: 'end', ok: false, exit: 68, code: 'IPMSG_ERR_UNKNOWN_TARGET', error: 'string' });
    assert.match(String(end['error']), /Unknown target "nobody-by-this-name"/);
  });

  test('list with nobody answering ends ok', async () => {
    const result = await runIn(['list', ...(await local()), '--wait', '50ms', '--json']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(endOf(result), { event: 'end', ok: true, exit: 0 });
  });

  test('list --count that is not reached ends with 75', async () => {
    const result = await runIn(['list', ...(await local()), '--wait', '50ms', '--count', '1', '--json']);
    assert.equal(result.status, 75);
    assert.equal(endOf(result)['code'], 'IPMSG_ERR_TIMEOUT');
  });

  test('recv that times out ends with 75', async () => {
    const result = await runIn(['recv', ...(await local()), '--no-announce', '--timeout', '50ms', '--json']);
    assert.equal(result.status, 75);
    assert.deepEqual({ ...endOf(result), error: undefined }, { event: 'end', ok: false, exit: 75, code: 'IPMSG_ERR_TIMEOUT', error: undefined });
  });

  test('a usage error commander finds, once --json was parsed', async () => {
    const result = await runIn(['send', '--json', '--no-such-option']);
    assert.equal(result.status, 64);
    assert.equal(endOf(result)['code'], 'IPMSG_ERR_USAGE');
    assert.match(result.stderr, /unknown option/);
  });

  test('a usage error of our own (no target)', async () => {
    const result = await runIn(['send', '--json']);
    assert.equal(result.status, 64);
    assert.equal(endOf(result)['code'], 'IPMSG_ERR_USAGE');
  });

  test('keys list --json prints JSON, not text', async () => {
    const keyDir = join(String(sandbox.env['XDG_CONFIG_HOME']), 'ipmsg');
    mkdirSync(keyDir, { recursive: true });
    const spki = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' });
    const peer = { fingerprint: 'ab'.repeat(32), publicKey: spki.toString('base64'), firstSeen: '2026-12-01T00:00:00.000Z' };
    writeFileSync(join(keyDir, 'known-peers.json'), JSON.stringify({ version: 1, peers: { 'alice@PC1': peer } }));
    const result = await runIn(['keys', 'list', '--json']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(ndjson(result.stdout), [
      { peer: 'alice@PC1', fingerprint: peer.fingerprint, firstSeen: peer.firstSeen },
      { event: 'end', ok: true, exit: 0 },
    ]);
  });

  test('a config file: an unknown key is warned about on stderr, a bad value is 64', async () => {
    const file = join(sandbox.dir, 'contract-config.json');
    const env = { ...sandbox.env, IPMSG_CONFIG: file };
    writeFileSync(file, JSON.stringify({ prot: 2425 }));
    const warned = await runIn(['keys', '--json'], env);
    assert.equal(warned.status, 0, warned.stderr);
    assert.match(warned.stderr, /unknown key "prot" ignored \(did you mean "port"\?\)/);
    writeFileSync(file, JSON.stringify({ broadcast: ['10.0.0.255', 'everyone'] }));
    const bad = await runIn(['keys', '--json'], env);
    assert.equal(bad.status, 64);
    assert.match(String(endOf(bad)['error']), /bad value for "broadcast"/);
  });

  test('send --all lists only the broadcasts that went out; a refused one is failed, and said without -v', async () => {
    // Bound to loopback, the kernel refuses (EINVAL) to send to 192.0.2.1 (TEST-NET-1): nothing leaves.
    const result = await runIn(['send', '--all', ...(await local()), '--broadcast', '127.0.0.1,192.0.2.1', 'hello', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const [sent] = ndjson(result.stdout);
    assert.ok(Array.isArray(sent?.['broadcast']));
    assert.ok((sent['broadcast'] as string[]).includes('127.0.0.1'));
    assert.ok(!(sent['broadcast'] as string[]).includes('192.0.2.1'), result.stdout);
    assert.deepEqual((sent['failed'] as { address: string }[]).map((f) => f.address), ['192.0.2.1']);
    assert.match(result.stderr, /broadcast to 192\.0\.2\.1 failed/);
    assert.deepEqual(endOf(result), { event: 'end', ok: true, exit: 0 });
  });

  test('without --json there is no end record', async () => {
    const result = await runIn(['send', '--no-such-option']);
    assert.equal(result.stdout, '');
  });

  test('--help with --json prints the help only', async () => {
    const result = await runIn(['send', '--json', '--help']);
    assert.equal(result.status, 0);
    assert.doesNotMatch(result.stdout, /"event":"end"/);
  });
});

describe('documentation of the contract', () => {
  const exits = [0, ...new Set(Object.values(ERROR_CODES))].sort((a, b) => a - b);

  test("every subcommand's --help ends with examples of itself", async () => {
    const { stdout } = await runIn(['--help']);
    const names = [...stdout.slice(stdout.indexOf('Commands:'), stdout.indexOf('Examples:')).matchAll(/^  ([a-z-]+) /gm)].map((m) => m[1] ?? '').filter((n) => n !== 'help');
    assert.ok(names.length >= 12, names.join(' '));
    for (const name of names) {
      const help = (await runIn([name, '--help'])).stdout;
      const examples = help.slice(help.indexOf('\nExamples:\n'));
      assert.ok(help.includes('\nExamples:\n'), `${name} --help has no examples`);
      assert.match(examples, new RegExp(`^  (.*\\| )?ipmsg ${name}\\b`, 'm'), `${name}'s examples do not show it`);
    }
  });

  test('ipmsg --help lists every exit status the program uses', async () => {
    const { stdout } = await runIn(['--help']);
    const help = stdout.slice(stdout.indexOf('Exit status:'));
    for (const status of exits) assert.match(help, new RegExp(`\\b${status} [a-zA-Z]`), `exit status ${status} missing from --help`);
  });

  test('the man page documents every long option of every subcommand, and every exit status', () => {
    const man = readFileSync(join(repoRoot, 'man', 'ipmsg.1'), 'utf8').replaceAll('\\-', '-');
    // An option is documented where it is the tag of a .TP paragraph (OPTIONS), not just named in passing.
    const lines = man.split('\n');
    const tags = lines.filter((_, i) => lines[i - 1] === '.TP').join('\n');
    const missing: string[] = [];
    const walk = (command: Command, path: string): void => {
      for (const option of command.options) {
        const long = option.long;
        if (long && !new RegExp(`${long}(?![\\w-])`).test(tags)) missing.push(`${path} ${long}`);
      }
      for (const sub of command.commands) walk(sub, `${path} ${sub.name()}`);
    };
    walk(makeProgram(context().ctx), 'ipmsg');
    assert.deepEqual(missing, []);
    const section = man.slice(man.indexOf('.SH EXIT STATUS'));
    for (const status of exits) assert.match(section, new RegExp(`^\\.B ${status}$`, 'm'), `exit status ${status} missing from man EXIT STATUS`);
  });
});
