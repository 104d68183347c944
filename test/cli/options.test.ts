// test/cli/options.test.ts
// Option parsers and the single exit path, run in-process with a captured context.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import type { Context } from '../../src/cli/context.js';
import { parseBindAddress, parseBroadcastAddress, parseCount, parseDuration, parsePort } from '../../src/cli/options.js';
import { makeOutput, oneLine } from '../../src/cli/output.js';
import { run } from '../../src/cli/program.js';
import { report } from '../../src/cli/report.js';
import { IpmsgError } from '../../src/errors.js';
import { systemClock } from '../../src/transport/clock.js';

function capture(): { ctx: Context; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  stdin.end();
  const ctx: Context = {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    stdin,
    env: { HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent/config', XDG_STATE_HOME: '/nonexistent/state' },
    clock: systemClock,
    signal: new AbortController().signal,
    version: '9.9.9',
  };
  return { ctx, out: () => out, err: () => err };
}

describe('parseDuration', () => {
  test('units and bare seconds', () => {
    assert.equal(parseDuration('1500ms'), 1500);
    assert.equal(parseDuration('3s'), 3000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('0.5'), 500);
    assert.equal(parseDuration('7'), 7000);
  });
  test('rejects what is not a duration', () => {
    for (const bad of ['', 'soon', '3 days', '-1s', '1e3', 's', '99999999h']) {
      assert.throws(() => parseDuration(bad), InvalidArgumentError, bad);
    }
  });
});

describe('other parsers', () => {
  test('ports, counts, addresses', () => {
    assert.equal(parsePort('2425'), 2425);
    assert.throws(() => parsePort('0'), InvalidArgumentError);
    assert.throws(() => parsePort('65536'), InvalidArgumentError);
    assert.throws(() => parsePort('24x'), InvalidArgumentError);
    assert.equal(parseCount('0'), 0);
    assert.throws(() => parseCount('-1'), InvalidArgumentError);
    assert.equal(parseBindAddress('10.0.0.255'), '10.0.0.255');
    assert.throws(() => parseBindAddress('10.0.0.256'), InvalidArgumentError);
    assert.equal(parseBindAddress('fd00::1'), 'fd00::1');
    assert.equal(parseBindAddress('fe80::1%eth0'), 'fe80::1%eth0');
    assert.equal(parseBindAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(parseBindAddress('10.0.0.1'), '10.0.0.1');
    for (const bad of ['ff15::979', 'fd00:::1', 'host.example']) assert.throws(() => parseBindAddress(bad), InvalidArgumentError, bad);
    assert.equal(parseBroadcastAddress('ff15::979'), 'ff15::979');
    assert.equal(parseBroadcastAddress('ff02::1%eth0'), 'ff02::1%eth0');
    assert.equal(parseBroadcastAddress('10.0.0.255'), '10.0.0.255');
    assert.throws(() => parseBroadcastAddress('ff15::979::1'), InvalidArgumentError);
  });
});

describe('run(): one exit path', () => {
  test('a bad option value is a usage error, 64, reported by commander on stderr', async () => {
    const c = capture();
    assert.equal(await run(['list', '--wait', 'later'], c.ctx), 64);
    assert.match(c.err(), /option '-w, --wait <duration>' argument 'later' is invalid/);
    assert.equal(c.out(), '');
  });
  test('an unknown subcommand is 64 with a suggestion', async () => {
    const c = capture();
    assert.equal(await run(['lsit'], c.ctx), 64);
    assert.match(c.err(), /unknown command 'lsit'[\s\S]*Did you mean list\?/);
  });
  test('--help exits 0 and lists every subcommand on stdout', async () => {
    const c = capture();
    assert.equal(await run(['--help'], c.ctx), 0);
    for (const name of ['send', 'list', 'recv', 'info', 'absence']) assert.match(c.out(), new RegExp(`^  ${name} `, 'm'));
    assert.match(c.out(), /Exit status: 0 ok, 64 usage/);
    assert.equal(c.err(), '');
  });
  test('--version prints the context version', async () => {
    const c = capture();
    assert.equal(await run(['--version'], c.ctx), 0);
    assert.equal(c.out(), '9.9.9\n');
  });
  test('send with no target and an empty stdin is a usage error', async () => {
    const c = capture();
    assert.equal(await run(['send'], c.ctx), 64);
    assert.equal(c.err(), 'ipmsg: No target: name one, use --to, or --all\n');
  });
  test('a config file that is not JSON is a usage error naming the file', async () => {
    const c = capture();
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ipmsg-cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, '{ nick: oops }');
    const ctx = { ...c.ctx, env: { ...c.ctx.env, IPMSG_CONFIG: file } };
    assert.equal(await run(['list', '--bind', '127.0.0.1', '--wait', '1ms'], ctx), 64);
    assert.match(c.err(), new RegExp(`Config file ${file.replace(/[/.]/g, '\\$&')} is not valid JSON`));
    rmSync(dir, { recursive: true });
  });
});

describe('report()', () => {
  test('IpmsgError: one line, its exit status; --debug adds the stack and cause', () => {
    let err = '';
    const stream = { write: (s: string) => ((err += s), true) };
    const error = new IpmsgError('IPMSG_ERR_NO_ACK', 'No acknowledgement', { cause: new Error('inner') });
    assert.equal(report(error, stream, false), 75);
    assert.equal(err, 'ipmsg: No acknowledgement\n');
    err = '';
    assert.equal(report(error, stream, true), 75);
    assert.match(err, /^ipmsg: No acknowledgement\nIpmsgError: No acknowledgement\n[\s\S]*caused by: Error: inner/);
  });
  test('anything else is an internal error, 70', () => {
    let err = '';
    assert.equal(report(new TypeError('boom'), { write: (s: string) => ((err += s), true) }, false), 70);
    assert.equal(err, 'ipmsg: internal error: boom (use --debug for details)\n');
  });
});

describe('diagnostics quote the LAN', () => {
  test('control characters in a peer name cannot split a line or reach the terminal', () => {
    assert.equal(oneLine('from a\nb\r\x1b[2J\x7f\x85 中文 (1.2.3.4)'), 'from a\\x0ab\\x0d\\x1b[2J\\x7f\\x85 中文 (1.2.3.4)');
    const { ctx, err } = capture();
    makeOutput(ctx, { json: false, quiet: false, verbose: true }).notice('dropped a message from x\ny');
    assert.equal(err(), 'ipmsg: dropped a message from x\\x0ay\n');
    let reported = '';
    report(new IpmsgError('IPMSG_ERR_PROTOCOL', 'bad name "a\nb"'), { write: (s: string) => ((reported += s), true) }, false);
    assert.equal(reported, 'ipmsg: bad name "a\\x0ab"\n');
  });
});
