// test/cli/recv.test.ts
// How recv prints a message that is not from the key pinned for its sender: the human line, the
// --json fields (signature, keys with both fingerprints) and the stderr notice.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messageJson, messageNotice, messageText } from '../../src/cli/recv.js';
import type { ReceivedMessage } from '../../src/messenger/index.js';
import { IPMSG_SECRETOPT, IPMSG_SENDMSG } from '../../src/protocol/command.js';
import type { SendMsgPacket } from '../../src/protocol/packet.js';

const packet = { command: IPMSG_SENDMSG | IPMSG_SECRETOPT, packetNo: 42, user: 'carol-<8a54fddfaccbfbc6>', host: 'pc3', text: 'hello', charset: 'utf-8' } as unknown as SendMsgPacket;
const base = { packet, from: { address: '10.0.0.3', port: 2425 }, peer: undefined, receivedAt: 0 };

describe('recv: messages not from the pinned key', () => {
  const changed: ReceivedMessage = { ...base, encrypted: true, signature: 'key-changed', keys: { known: '180139d376d5063d', seen: '8a54fddfaccbfbc6' } };
  const missing: ReceivedMessage = { ...base, packet: { ...packet, user: 'carol' }, encrypted: false, signature: 'missing', keys: { known: '180139d376d5063d' } };

  test('a changed key: "key-changed" and both fingerprints in JSON; the line and the notice say so, with the command that trusts it', () => {
    const json = messageJson(changed) as Record<string, unknown>;
    assert.equal(json['signature'], 'key-changed');
    assert.deepEqual(json['keys'], { known: '180139d376d5063d', seen: '8a54fddfaccbfbc6' });
    assert.equal(json['text'], 'hello');
    assert.equal(json['sealed'], true);
    const text = messageText(changed);
    assert.match(text, /\(sealed, encrypted, KEY CHANGED: carol@pc3 has key 180139d376d5063d pinned, this message comes with 8a54fddfaccbfbc6\)\nhello\n/);
    assert.match(messageNotice(changed) ?? '', /not come from the key pinned for carol@pc3: known 180139d376d5063d, now 8a54fddfaccbfbc6.*ipmsg keys trust carol@pc3$/);
  });

  test('a plain message claiming a sender with a pinned key: "missing" and the pinned fingerprint in JSON; the line and the notice say so', () => {
    const json = messageJson(missing) as Record<string, unknown>;
    assert.equal(json['signature'], 'missing');
    assert.deepEqual(json['keys'], { known: '180139d376d5063d' });
    assert.match(messageText(missing), /\(sealed, NOT SIGNED, although carol@pc3 has key 180139d376d5063d pinned: anybody can send this in its name\)/);
    assert.match(messageNotice(missing) ?? '', /^message 42 from carol@pc3 \(10\.0\.0\.3:2425\) is not signed, although carol@pc3 has key 180139d376d5063d pinned/);
  });

  test('other messages: no keys field, no notice', () => {
    const plain: ReceivedMessage = { ...base, encrypted: false, signature: 'none' };
    const verified: ReceivedMessage = { ...base, encrypted: true, signature: 'verified' };
    for (const m of [plain, verified]) {
      assert.equal('keys' in (messageJson(m) as object), false);
      assert.equal(messageNotice(m), undefined);
    }
    assert.match(messageText(verified), /\(sealed, encrypted, signature verified\)/);
    assert.match(messageText(plain), /\(sealed\)/);
  });
});
