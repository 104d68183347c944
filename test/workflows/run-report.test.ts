// test/workflows/run-report.test.ts
// The message `ipmsg run` sends: its lines, and how it is trimmed to fit one datagram.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RunReport, commandLine, composeReport, describeEnd, exitStatusOf, fitReport, formatDuration, shellQuote } from '../../src/workflows/run-report.js';

const base: RunReport = {
  argv: ['make', 'test'],
  end: { kind: 'exited', code: 0 },
  durationMs: 72_400,
  host: 'build1',
  tail: { lines: ['ok 1', 'ok 2'], cut: false },
};

describe('run report', () => {
  test('success: a check mark, the command, exit 0, duration, host, then the output', () => {
    assert.equal(composeReport(base), '✔ make test\nexit 0 · 1m12s · on build1\n\nok 1\nok 2');
  });

  test('failure, signal and a command that could not start say so and take a cross', () => {
    const failed = composeReport({ ...base, end: { kind: 'exited', code: 3 }, tail: { lines: [], cut: false } });
    assert.equal(failed, '✖ make test\nexit 3 · 1m12s · on build1');
    const killed = { kind: 'signaled', signal: 'SIGTERM', number: 15 } as const;
    assert.equal(describeEnd(killed), 'killed by SIGTERM (exit 143)');
    assert.equal(exitStatusOf(killed), 143);
    const missing = { kind: 'not-started', reason: 'nope: command not found', code: 127 } as const;
    assert.match(composeReport({ ...base, end: missing }), /^✖ make test\ncould not start: nope: command not found \(exit 127\)/);
    assert.equal(exitStatusOf(missing), 127);
  });

  test('cut output is marked with an ellipsis line', () => {
    assert.equal(composeReport({ ...base, tail: { lines: ['last'], cut: true } }).split('\n').slice(-2).join('|'), '…|last');
  });

  test('arguments are quoted as a shell would need them', () => {
    assert.equal(shellQuote('plain-arg_1.txt'), 'plain-arg_1.txt');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("it's here"), `'it'\\''s here'`);
    assert.equal(commandLine(['sh', '-c', 'echo $HOME; exit 3']), "sh -c 'echo $HOME; exit 3'");
  });

  test('durations', () => {
    assert.deepEqual([0, 850, 1000, 12_345, 59_999, 60_000, 245_000, 3_600_000, 7_380_000].map(formatDuration), ['0ms', '850ms', '1.0s', '12.3s', '59.9s', '1m00s', '4m05s', '1h00m', '2h03m']);
  });
});

describe('fitReport', () => {
  const within = (limit: number) => (text: string) => Buffer.byteLength(text) <= limit;
  const long: RunReport = { ...base, tail: { lines: Array.from({ length: 200 }, (_, i) => `line ${i} ${'é'.repeat(20)}`), cut: false } };

  test('a report that fits is sent whole', () => {
    assert.equal(fitReport(base, within(8000)), composeReport(base));
  });

  test('the oldest output goes first; the newest stays, and the head stays whole', () => {
    const text = fitReport(long, within(1000));
    assert.ok(Buffer.byteLength(text) <= 1000);
    assert.ok(Buffer.byteLength(text) > 900, `as much as fits: ${Buffer.byteLength(text)}`);
    assert.ok(text.startsWith('✔ make test\nexit 0 · 1m12s · on build1\n\n…'), text);
    assert.ok(text.endsWith(`line 199 ${'é'.repeat(20)}`));
    // Whole lines: the one after the mark is shown from its start.
    assert.match(text.split('\n')[4] ?? '', /^line \d+ é{20}$/);
  });

  test('a line longer than the whole datagram keeps its end', () => {
    const text = fitReport({ ...base, tail: { lines: [`start${'x'.repeat(10_000)}end`], cut: false } }, within(300));
    assert.ok(Buffer.byteLength(text) <= 300);
    assert.ok(text.endsWith('xend'));
  });

  test('a command line too long for the datagram is cut at its end, without output', () => {
    const argv = ['echo', ...Array.from({ length: 500 }, (_, i) => `argument-${i}`)];
    const text = fitReport({ ...long, argv }, within(400));
    assert.ok(Buffer.byteLength(text) <= 400);
    const [first, second] = text.split('\n');
    assert.match(first ?? '', /^✔ echo argument-0 argument-1 .*…$/);
    assert.equal(second, 'exit 0 · 1m12s · on build1');
    assert.equal(text.split('\n').length, 2);
  });
});
