// test/cli/recv-exec.test.ts
// Every message recv --exec takes ends in one `handled` record with the same fields, a handler
// that threw included (exit null, its error).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execReceiveOptions } from '../../src/cli/recv-exec.js';
import type { Context } from '../../src/cli/context.js';
import type { Output } from '../../src/cli/output.js';
import type { Messenger, ReceivedMessage } from '../../src/messenger/index.js';
import { IPMSG_SENDMSG } from '../../src/protocol/command.js';
import type { SendMsgPacket } from '../../src/protocol/packet.js';
import { systemClock } from '../../src/transport/clock.js';

test('a handler that threw gets a handled record with every field of the others', async () => {
  const packet = { command: IPMSG_SENDMSG, packetNo: 42, user: 'bob', host: 'pc2', text: 'hi', charset: 'utf-8' } as unknown as SendMsgPacket;
  const message = { packet, from: { address: '127.0.0.1', port: 2425 }, peer: undefined, receivedAt: 0, encrypted: false, signature: 'none' } as unknown as ReceivedMessage;
  const records: Record<string, unknown>[] = [];
  const out: Output = {
    result: (json) => {
      // The first report fails, so the handler throws to the pool.
      if (records.push(json as Record<string, unknown>) === 1) throw new Error('cannot report');
    },
    results: () => undefined,
    notice: () => undefined,
    verbose: () => undefined,
  };
  const ctx = { stderr: { write: () => true }, clock: systemClock, env: process.env } as unknown as Context;
  const options = execReceiveOptions(ctx, {} as Messenger, out, { exec: 'true' }, true);
  const signal = new AbortController().signal;
  await options.handle(message, undefined, signal).catch((error: unknown) => options.onError?.(message, error));
  const last = records.at(-1);
  assert.equal(records.length, 2);
  assert.deepEqual(Object.keys(last ?? {}).sort(), [...Object.keys(records[0] ?? {}), 'error'].sort());
  assert.deepEqual({ ...last, durationMs: 0 }, { event: 'handled', packetNo: 42, exit: null, signal: null, durationMs: 0, timedOut: false, stopped: false, replied: false, error: 'cannot report' });
});
