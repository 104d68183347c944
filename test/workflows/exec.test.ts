// test/workflows/exec.test.ts
// A handler's environment holds what a peer sent: a NUL byte, or text that decodes to more than the
// kernel takes in one variable, must not keep the handler from running or its end from being told.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../src/transport/clock.js';
import { ENV_VALUE_LIMIT, envValue, runHandler } from '../../src/workflows/exec.js';

const sink = { write: () => true };

test('envValue leaves out NUL and cuts at the limit, at a character', () => {
  assert.equal(envValue('a\0b=c\nd'), 'ab=c\nd');
  const long = envValue('\ufffd'.repeat(ENV_VALUE_LIMIT));
  assert.ok(Buffer.byteLength(long) <= ENV_VALUE_LIMIT);
  assert.ok(Buffer.byteLength(long) > ENV_VALUE_LIMIT - 3);
  assert.ok(!long.includes('\0') && /^\ufffd+$/.test(long), 'no broken character at the cut');
  const short = 'x'.repeat(ENV_VALUE_LIMIT);
  assert.equal(envValue(short), short);
});

test('runHandler resolves with the reason when the system refuses to start it (a 192 KiB variable: E2BIG)', { skip: process.platform !== 'linux' && 'E2BIG is the Linux per-variable limit' }, async () => {
  const exit = await runHandler('true', { input: '', env: { IPMSG_TEXT: '\ufffd'.repeat(65_000) }, signal: new AbortController().signal, capture: true, output: sink, clock: systemClock });
  assert.equal(exit.exit, null);
  assert.match(exit.error ?? '', /E2BIG/);
});

test('runHandler runs a handler whose variables went through envValue, with what the peer sent', async () => {
  const sent = `${'\ufffd'.repeat(65_000)}`;
  const exit = await runHandler('printf %s "$IPMSG_FROM_USER"; printf %s "$IPMSG_TEXT" | wc -c', {
    input: '',
    env: { IPMSG_FROM_USER: envValue('a=b\nc\0d;$(x)'), IPMSG_TEXT: envValue(sent) },
    signal: new AbortController().signal,
    capture: true,
    output: sink,
    clock: systemClock,
  });
  assert.equal(exit.error, undefined);
  assert.equal(exit.exit, 0);
  const expected = 'a=b\ncd;$(x)';
  const [user, bytes] = [(exit.stdout ?? '').slice(0, expected.length), Number((exit.stdout ?? '').slice(expected.length).trim())];
  assert.equal(user, expected);
  assert.ok(bytes <= ENV_VALUE_LIMIT && bytes > ENV_VALUE_LIMIT - 3);
});

test('runHandler passes on a character cut at the end of the handler stderr (as U+FFFD), not dropped', async () => {
  let written = '';
  const exit = await runHandler("printf 'a\\342\\202' >&2", { input: '', env: {}, signal: new AbortController().signal, capture: true, output: { write: (text: string) => ((written += text), true) }, clock: systemClock });
  assert.equal(exit.exit, 0);
  assert.equal(written, 'a\ufffd');
});
