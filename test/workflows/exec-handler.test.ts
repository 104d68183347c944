// test/workflows/exec-handler.test.ts
// recv --exec --reply never answers a broadcast or an automatic reply: two --reply bots (or a bot
// and an absent client) would otherwise answer each other forever. The handler still runs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Messenger, ReceivedMessage } from '../../src/messenger/index.js';
import { IPMSG_AUTORETOPT, IPMSG_BROADCASTOPT, IPMSG_SENDMSG } from '../../src/protocol/command.js';
import type { SendMsgPacket } from '../../src/protocol/packet.js';
import { type Handled, execHandler } from '../../src/workflows/exec-handler.js';

function message(command: number): ReceivedMessage {
  const packet = { command, packetNo: 42, user: 'bot2', host: 'pc2', text: 'ping', charset: 'utf-8' } as unknown as SendMsgPacket;
  return { packet, from: { address: '127.0.0.1', port: 2425 }, peer: undefined, receivedAt: 0, encrypted: false, signature: 'none' } as unknown as ReceivedMessage;
}

async function handle(command: number): Promise<{ sent: string[]; handled: Handled | undefined }> {
  const sent: string[] = [];
  const messenger = {
    messageFits: () => true,
    sendMessage: async (_to: unknown, text: string) => {
      sent.push(text);
      return [{ status: 'delivered' }];
    },
  } as unknown as Messenger;
  let handled: Handled | undefined;
  const run = execHandler(messenger, { command: 'echo pong', reply: true, output: { write: () => true }, onHandled: (_m, h) => (handled = h) });
  await run(message(command), undefined, new AbortController().signal);
  return { sent, handled };
}

test('a message gets the handler output back', async () => {
  const { sent, handled } = await handle(IPMSG_SENDMSG);
  assert.deepEqual(sent, ['pong']);
  assert.equal(handled?.replied, true);
  assert.equal(handled?.replySkipped, undefined);
});

test('an automatic reply (AUTORETOPT) runs the handler but gets no reply', async () => {
  const { sent, handled } = await handle(IPMSG_SENDMSG | IPMSG_AUTORETOPT);
  assert.deepEqual(sent, []);
  assert.equal(handled?.exit, 0, 'the handler ran');
  assert.equal(handled?.replied, false);
  assert.equal(handled?.replySkipped, 'auto-reply');
});

test('a broadcast runs the handler but gets no reply', async () => {
  const { sent, handled } = await handle(IPMSG_SENDMSG | IPMSG_BROADCASTOPT);
  assert.deepEqual(sent, []);
  assert.equal(handled?.replySkipped, 'broadcast');
});
