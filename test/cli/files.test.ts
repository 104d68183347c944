// test/cli/files.test.ts
// What serving an offer shows on a terminal: the waiting spinner gives way to the progress bars for
// good (both draw on stderr's last lines), and lines are held while bars show.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { Settings } from '../../src/cli/config.js';
import type { Context } from '../../src/cli/context.js';
import { serveOutput } from '../../src/cli/files.js';
import { makeOutput } from '../../src/cli/output.js';
import type { Spinner } from '../../src/cli/spinner.js';
import { systemClock } from '../../src/transport/clock.js';
import type { Destination } from '../../src/messenger/target.js';

function terminal() {
  let out = '';
  let err = '';
  const ctx: Context = {
    stdout: { write: (c) => ((out += c), true), isTTY: true, columns: 100 },
    stderr: { write: (c) => ((err += c), true), isTTY: true, columns: 100 },
    stdin: new PassThrough(),
    env: {},
    clock: systemClock,
    signal: new AbortController().signal,
    version: '0.0.0',
  };
  const settings = { json: false, quiet: false, verbose: false } as Settings;
  return { session: { ctx, settings, out: makeOutput(ctx, settings) }, out: () => out, err: () => err };
}

/** A spinner factory that records what happens to the spinners it makes; `release` lets one start. */
function fakeSpinners() {
  const made: { stopped: boolean; cancel: AbortSignal | undefined }[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const spin = async (_ctx: Context, _text: string, cancel?: AbortSignal): Promise<Spinner> => {
    const record = { stopped: false, cancel };
    made.push(record);
    await gate;
    return { update: () => undefined, stop: () => (record.stopped = true) };
  };
  return { spin, made, release };
}

const waiting = { kind: 'waiting', recipients: [{ text: 'bob' } as Destination] } as const;

describe('serveOutput on a terminal', () => {
  test('the spinner stops when a transfer starts', async () => {
    const t = terminal();
    const f = fakeSpinners();
    const shown = serveOutput(t.session, f.spin);
    shown.onEvent(waiting);
    f.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(f.made[0]?.stopped, false);
    const item = shown.progress.start('big.bin → 127.0.0.1', 100);
    assert.equal(f.made[0]?.stopped, true);
    item.update(50);
    item.finish();
    shown.stop();
  });

  test('a spinner still loading when a transfer starts never shows', async () => {
    const t = terminal();
    const f = fakeSpinners();
    const shown = serveOutput(t.session, f.spin);
    shown.onEvent(waiting);
    shown.progress.start('big.bin → 127.0.0.1', 100).finish();
    assert.equal(f.made[0]?.cancel?.aborted, true);
    f.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(f.made[0]?.stopped, true);
    shown.stop();
  });

  test('a fetched line comes after the bars, not under them', () => {
    const t = terminal();
    const f = fakeSpinners();
    const shown = serveOutput(t.session, f.spin);
    const item = shown.progress.start('a.txt → 127.0.0.1', 10);
    item.update(10);
    item.finish();
    shown.onEvent({ kind: 'fetched', name: 'a.txt', fileId: 0, address: '127.0.0.1', bytes: 10, security: 'plain' });
    assert.equal(t.out(), '');
    shown.stop();
    assert.equal(t.out(), 'a.txt fetched by 127.0.0.1\n');
  });
});
