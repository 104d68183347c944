// test/transfer/file-server-crypto.loopback.test.ts
// Encrypted file requests (§5.6) against the file server on 127.0.0.1, opened by the messenger's
// openFileRequest with real keys: a signed request is served (AES-256-CTR, or clear with
// NOENC_FILEBODY), and a tampered signature, a replay, a request for the wrong key, another
// signer, or a plain request where a signed one is required gets nothing.

import assert from 'node:assert/strict';
import { type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { localCapa, selectCombination } from '../../src/crypto/capability.js';
import { createFileStreamCipher } from '../../src/crypto/file-crypto.js';
import { KnownPeers } from '../../src/state/known-peers.js';
import { encryptMessage } from '../../src/crypto/message.js';
import { openFileRequest } from '../../src/messenger/file-security.js';
import { Messenger } from '../../src/messenger/index.js';
import { Security } from '../../src/messenger/security.js';
import { IPMSG_ENCFILEOPT, IPMSG_ENCRYPTOPT, IPMSG_GETDIRFILES, IPMSG_GETFILEDATA } from '../../src/protocol/command.js';
import { systemClock } from '../../src/transport/clock.js';
import { MemoryPacketCounter } from '../../src/state/packet-counter.js';
import { FileServer } from '../../src/transfer/file-server.js';
import { prepareOffer } from '../../src/transfer/local-files.js';
import { encodeEncryptedRequest } from '../../src/transfer/request.js';
import { fixtureKey } from '../helpers/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmsg-fsc-'));
const content = randomBytes(300_000);
writeFileSync(join(dir, 'data.bin'), content);
utimesSync(join(dir, 'data.bin'), 1_600_000_000, 1_600_000_000);

const server = fixtureKey('bob-rsa2048'); // the file server's own key
const alice = fixtureKey('alice-rsa2048'); // a recipient, pinned as alice@pcA
const carol = fixtureKey('carol-rsa2048'); // pinned as carol@pcC, not a recipient of offer 300

let messenger: Messenger;
let files: FileServer;
const warnings: string[] = [];
const served: string[] = [];

before(async () => {
  const known = await KnownPeers.open(dir);
  await known.trust({ user: 'alice', host: 'pcA' }, alice.publicKey);
  await known.trust({ user: 'carol', host: 'pcC' }, carol.publicKey);
  const security = new Security({ keys: { rsa2048: { bits: 2048, ...server }, rsa1024: undefined }, legacy: false, known });
  messenger = await Messenger.open({
    identity: { user: 'bob', host: 'pcB', nick: 'bob', group: '' },
    port: 0,
    bind: '127.0.0.1',
    portFallback: false,
    broadcast: [],
    charset: 'utf-8',
    fallbackCharset: 'gb18030',
    lossy: false,
    clientVersion: 'test',
    clock: systemClock,
    packetNumbers: new MemoryPacketCounter(systemClock),
    onWarning: (m) => warnings.push(m),
    onNotice: (m) => warnings.push(m),
    security,
  });
  files = await FileServer.listen({
    port: 0,
    address: '127.0.0.1',
    charset: 'utf-8',
    fallbackCharset: 'gb18030',
    requestTimeout: 2000,
    downloadsPerRecipient: 100, // only the checks under test refuse
    onWarning: (m) => warnings.push(m),
    onDone: (e) => served.push(`${e.fileId}/${e.security}`),
    openRequest: (packet, address) => openFileRequest({ messenger, security, clock: systemClock }, packet, address),
  });
  const offer = prepareOffer([join(dir, 'data.bin')]);
  files.addOffer(100, offer, ['127.0.0.1']); // went out plain: plain requests are fine
  files.addOffer(200, offer, ['127.0.0.2']);
  files.addOffer(300, offer, ['127.0.0.1']);
  files.requireSigned(300, '127.0.0.1', 'alice@pcA'); // went out encrypted for alice
});
after(async () => {
  await files.close();
  await messenger.close();
  rmSync(dir, { recursive: true, force: true });
});

function ask(request: Uint8Array | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port: files.port, host: '127.0.0.1' }, () => socket.write(request));
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

let nextPacket = 5000;

interface Made {
  readonly bytes: Buffer;
  readonly packetNo: number;
  readonly key: Buffer;
}

/** An encrypted request as the official StartRecvFile makes it: `plaintext` encrypted for `recipient`, signed by `signer`. */
function request(options: {
  offer: number;
  kind?: 'file' | 'dir';
  offset?: number;
  user?: string;
  host?: string;
  signer?: KeyObject;
  recipient?: KeyObject;
  clear?: boolean;
  packetNo?: number;
  tamper?: (body: string) => string;
}): Made {
  const packetNo = options.packetNo ?? nextPacket++;
  const key = randomBytes(32);
  const kind = options.kind ?? 'file';
  const plaintext = encodeEncryptedRequest(kind, options.offer, 0, options.offset ?? 0, options.clear ? { kind: 'clear', packetNo } : { kind: 'aes-256-ctr', key, packetNo });
  const combination = selectCombination(localCapa(), localCapa());
  assert.ok(combination);
  let body = encryptMessage({
    parts: { text: plaintext },
    packetNo: String(packetNo),
    combination,
    peerPublicKey: options.recipient ?? server.publicKey,
    ownPrivateKey: options.signer ?? alice.privateKey,
  });
  if (options.tamper) body = options.tamper(body);
  const command = (kind === 'file' ? IPMSG_GETFILEDATA : IPMSG_GETDIRFILES) | IPMSG_ENCRYPTOPT | IPMSG_ENCFILEOPT;
  return { bytes: Buffer.from(`1:${packetNo}:${options.user ?? 'alice'}:${options.host ?? 'pcA'}:${command}:${body}\0`, 'latin1'), packetNo, key };
}

const decrypt = (made: Made, bytes: Buffer): Buffer => createFileStreamCipher(made.key, made.packetNo).update(bytes);

async function refused(made: Made, reason: RegExp): Promise<void> {
  const before = warnings.length;
  assert.equal((await ask(made.bytes)).length, 0, 'nothing is served');
  assert.ok(warnings.slice(before).some((w) => reason.test(w)), `${reason} in ${JSON.stringify(warnings.slice(before))}`);
}

describe('encrypted requests (§5.6)', () => {
  test('a signed request gets the file as AES-256-CTR from its offset; the wire bytes are not the file', async () => {
    const made = request({ offer: 300, offset: 1000 });
    const wire = await ask(made.bytes);
    assert.equal(wire.length, content.length - 1000);
    assert.ok(!wire.equals(content.subarray(1000)), 'ciphertext on the wire');
    assert.ok(decrypt(made, wire).equals(content.subarray(1000)));
    assert.equal(served.at(-1), '0/encrypted');
  });

  test('NOENC_FILEBODY: a signed request, the file in clear', async () => {
    const made = request({ offer: 300, clear: true });
    assert.ok((await ask(made.bytes)).equals(content));
    assert.equal(served.at(-1), '0/signed');
  });

  test('GETDIRFILES for a file (what the official asks) gets a one-entry folder stream', async () => {
    const made = request({ offer: 300, kind: 'dir' });
    const stream = decrypt(made, await ask(made.bytes));
    const headerSize = Number.parseInt(stream.subarray(0, 4).toString('latin1'), 16);
    const [, name, size, attr, mtime] = stream.subarray(0, headerSize).toString('utf8').split(':');
    assert.deepEqual([name, Number.parseInt(size ?? '', 16), attr, mtime], ['data.bin', content.length, '1', `14=${(1_600_000_000).toString(16)}`]);
    assert.ok(stream.subarray(headerSize).equals(content), 'the file, and no RETPARENT after it');
  });

  test('a replayed request (the same bytes, or an older packet number) gets nothing', async () => {
    const made = request({ offer: 300 });
    assert.equal((await ask(made.bytes)).length, content.length);
    await refused(made, /replayed request: packet \d+ of alice@pcA is not after its last/);
    await refused(request({ offer: 300, packetNo: made.packetNo - 1 }), /replayed request/);
  });

  test('a tampered signature gets nothing', async () => {
    const flip = (body: string): string => {
      const at = body.lastIndexOf(':') + 10;
      return body.slice(0, at) + (body[at] === 'A' ? 'B' : 'A') + body.slice(at + 1);
    };
    await refused(request({ offer: 300, tamper: flip }), /its signature does not verify with the key of alice@pcA/);
  });

  test('a request encrypted for another key than ours gets nothing', async () => {
    await refused(request({ offer: 300, recipient: carol.publicKey }), /cannot decrypt the request of alice@pcA/);
  });

  test('signed with another key than the one pinned for its name gets nothing', async () => {
    await refused(request({ offer: 300, signer: carol.privateKey }), /its signature does not verify with the key of alice@pcA/);
  });

  test('a name whose key we do not know gets nothing', async () => {
    await refused(request({ offer: 100, user: 'mallory', host: 'pcM' }), /signed by mallory@pcM, whose key we do not know/);
  });

  test('a recipient the offer went to encrypted must sign as the peer it went to', async () => {
    await refused(request({ offer: 300, user: 'carol', host: 'pcC', signer: carol.privateKey }), /signed by carol@pcC, but the offer went to alice@pcA/);
    const plain = `1:${nextPacket++}:alice:pcA:${IPMSG_GETFILEDATA}:12c:0:0:\0`;
    const before = warnings.length;
    assert.equal((await ask(plain)).length, 0);
    assert.ok(warnings.slice(before).some((w) => /the offer went to 127\.0\.0\.1 encrypted: a plain request is not accepted/.test(w)));
  });

  test('plain requests still work for offers that went out plain; signed ones too', async () => {
    assert.ok((await ask(`1:${nextPacket++}:alice:pcA:${IPMSG_GETFILEDATA}:64:0:0:\0`)).equals(content));
    assert.equal(served.at(-1), '0/plain');
    const made = request({ offer: 100 });
    assert.ok(decrypt(made, await ask(made.bytes)).equals(content));
  });

  test('a signed request from an address that is not a recipient gets nothing', async () => {
    await refused(request({ offer: 200 }), /127\.0\.0\.1 is not a recipient of offer 200/);
  });
});
