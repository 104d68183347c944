// test/e2e/crypto.test.ts
// Encryption between real processes of the CLI on 127.0.0.1 (§6): keys made once per user, send
// encrypts for peers that can, recv decrypts and reports the signature; a changed key, a peer
// without crypto, a tampered ciphertext and a tampered signature each get their documented outcome.

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { selectCombination, localCapa } from '../../src/crypto/capability.js';
import { KnownPeers } from '../../src/state/known-peers.js';
import { encryptMessage } from '../../src/crypto/message.js';
import { DECRYPT_FAILED_REPLY } from '../../src/messenger/index.js';
import {
  IPMSG_ANSENTRY,
  IPMSG_AUTORETOPT,
  IPMSG_BR_ENTRY,
  IPMSG_ENCRYPTOPT,
  IPMSG_NOLOGOPT,
  IPMSG_RECVMSG,
  IPMSG_SENDCHECKOPT,
  IPMSG_SENDMSG,
  IPMSG_UTF8OPT,
} from '../../src/protocol/command.js';
import { freePort, jsonLines, local, makeSandbox, runCli, type Running, startCli } from '../helpers/cli.js';
import { fixtureKey } from '../helpers/keys.js';

const alice = makeSandbox();
const bob = makeSandbox();
alice.env['IPMSG_USER'] = 'alice';
bob.env['IPMSG_USER'] = 'bob';
after(() => {
  alice.cleanup();
  bob.cleanup();
});

async function startRecv(extra: readonly string[] = []): Promise<{ port: number; recv: Running }> {
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', '--timeout', '10s', ...extra], bob.env);
  await recv.waitFor('listening on UDP port');
  return { port, recv };
}


const keyDir = (sandbox: { dir: string }): string => join(sandbox.dir, 'config', 'ipmsg');

describe('encrypted send ↔ recv', () => {
  test('the first run makes a key once; the user name carries its fingerprint', async () => {
    const first = await runCli(['keys', '--json'], alice.env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /made our RSA-2048 key/);
    const again = await runCli(['keys', '--json'], alice.env);
    assert.equal(again.stderr, '');
    const [a, b] = [jsonLines(first.stdout)[0], jsonLines(again.stdout)[0]];
    assert.equal(a?.['fingerprint'], b?.['fingerprint']);
    assert.equal(a?.['user'], `alice-<${String(a?.['fingerprint'])}>`);
    assert.equal((readFileSync(join(keyDir(alice), 'rsa2048.pem')).length > 0), true);
  });

  test('a message is encrypted, decrypted and its signature verified; both sides pin the other key', async () => {
    const { port, recv } = await startRecv();
    const text = 'secret 飞鸽传书\nline two';
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, text, '--json'], alice.env);
    assert.equal(send.code, 0, send.stderr);
    const [result] = jsonLines(send.stdout);
    assert.equal(result?.['encrypted'], true);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    assert.equal(message?.['text'], text);
    assert.equal(message?.['encrypted'], true);
    assert.equal(message?.['signature'], 'verified');
    const aliceKnows = (await KnownPeers.open(keyDir(alice))).list().map((p) => p.id);
    const bobKnows = (await KnownPeers.open(keyDir(bob))).list().map((p) => p.id);
    assert.deepEqual(aliceKnows, ['bob@testhost']);
    assert.deepEqual(bobKnows, ['alice@testhost']);
  });

  test('--encrypt never sends plain text, reported as such: from a sender whose key is pinned, marked as not signed by it', async () => {
    const { port, recv } = await startRecv();
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'in the clear', '--encrypt', 'never', '--json'], alice.env);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(jsonLines(send.stdout)[0]?.['encrypted'], false);
    const done = await recv.done;
    const [message] = jsonLines(done.stdout);
    assert.equal(message?.['encrypted'], false);
    const pinned = (await KnownPeers.open(keyDir(bob))).get('alice@testhost')?.fingerprint;
    assert.equal(message?.['signature'], 'missing');
    assert.deepEqual(message?.['keys'], { known: pinned });
    assert.match(done.stderr, new RegExp(`from alice@testhost .* is not signed, although alice@testhost has key ${pinned} pinned`));
  });
});

describe('send --encrypt never keeps the run\'s identity (§16)', () => {
  test('its entry answer carries the fingerprinted user name; the plain message goes under the base name', async () => {
    const keys = await runCli(['keys', '--json'], alice.env);
    const fingerprint = String(jsonLines(keys.stdout)[0]?.['fingerprint']);
    // A raw peer: answers the message with a BR_ENTRY (the sender answers ANSENTRY), then acknowledges it.
    const peer = createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    after(() => peer.close());
    const seen: { command: number; user: string }[] = [];
    let answered: (user: string) => void = () => undefined;
    const entryAnswer = new Promise<string>((resolve) => (answered = resolve));
    peer.on('message', (datagram, rinfo) => {
      const [, packetNo = '', user = '', , command = '0'] = datagram.toString('utf8').split(':');
      seen.push({ command: Number(command) & 0xff, user });
      if ((Number(command) & 0xff) === IPMSG_ANSENTRY) answered(user);
      if ((Number(command) & 0xff) !== IPMSG_SENDMSG) return;
      peer.send(Buffer.from(`1:7001:peer:peerhost:${IPMSG_BR_ENTRY}:peer\0\0`), rinfo.port, rinfo.address);
      peer.send(Buffer.from(`1:7002:peer:peerhost:${IPMSG_RECVMSG}:${packetNo}\0`), rinfo.port, rinfo.address);
    });
    const port = (peer.address() as { port: number }).port;
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'in the clear', '--encrypt', 'never', '--json'], alice.env);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(jsonLines(send.stdout)[0]?.['encrypted'], false);
    assert.deepEqual(seen.filter((p) => p.command === IPMSG_SENDMSG).map((p) => p.user), ['alice']);
    assert.equal(await entryAnswer, `alice-<${fingerprint}>`);
  });
});

describe('a peer without crypto (recv --no-crypto, as iptux)', () => {
  test('auto sends plain text after one short probe, remembered for the next run; always exits 79', async () => {
    const plainPeers = join(alice.dir, 'state', 'ipmsg', 'plain-peers.json');
    rmSync(plainPeers, { force: true });
    const first = await startRecv(['--no-crypto']);
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${first.port}`, 'plain please', '--json'], alice.env);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(jsonLines(send.stdout)[0]?.['encrypted'], false);
    const [message] = jsonLines((await first.recv.done).stdout);
    assert.equal(message?.['text'], 'plain please');
    assert.equal(message?.['encrypted'], false);
    assert.ok(existsSync(plainPeers), 'the address is remembered as plain-only');
    assert.ok(`127.0.0.1:${first.port}` in (JSON.parse(readFileSync(plainPeers, 'utf8')) as object));

    const second = await startRecv(['--no-crypto', '--timeout', '3s']);
    const always = await runCli(['send', ...local(await freePort()), `127.0.0.1:${second.port}`, 'never in clear', '--encrypt', 'always', '--timeout', '1s'], alice.env);
    assert.equal(always.code, 79, always.stderr);
    assert.match(always.stderr, /Cannot encrypt for 127\.0\.0\.1:\d+/);
    const nothing = await second.recv.done;
    assert.equal(nothing.code, 75, 'nothing arrived');
    assert.doesNotMatch(nothing.stdout, /never in clear/);
  });
});

describe('a changed key', () => {
  test('is refused with both fingerprints (exit 67) until `ipmsg keys trust`', async () => {
    const peer = makeSandbox();
    peer.env['IPMSG_USER'] = 'carol';
    after(() => peer.cleanup());
    const startCarol = async (): Promise<{ port: number; recv: Running }> => {
      const port = await freePort();
      const recv = startCli(['recv', ...local(port), '-v', '--json', '--timeout', '10s'], peer.env);
      await recv.waitFor('listening on UDP port');
      return { port, recv };
    };
    const one = await startCarol();
    const first = await runCli(['send', ...local(await freePort()), `127.0.0.1:${one.port}`, 'hi carol'], alice.env);
    assert.equal(first.code, 0, first.stderr);
    await one.recv.done;
    rmSync(join(peer.dir, 'config'), { recursive: true, force: true }); // carol makes a new key
    const two = await startCarol();
    const refused = await runCli(['send', ...local(await freePort()), `127.0.0.1:${two.port}`, 'who are you'], alice.env);
    assert.equal(refused.code, 67, refused.stderr);
    assert.match(refused.stderr, /public key of carol@testhost has changed: known [0-9a-f]{16}, now [0-9a-f]{16}.*ipmsg keys trust carol@testhost/);
    const trusted = await runCli(['keys', 'trust', ...local(await freePort()), `127.0.0.1:${two.port}`], alice.env);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.match(trusted.stdout, /trusted the new key of carol@testhost/);
    const afterTrust = await runCli(['send', ...local(await freePort()), `127.0.0.1:${two.port}`, 'welcome back', '--json'], alice.env);
    assert.equal(afterTrust.code, 0, afterTrust.stderr);
    const [message] = jsonLines((await two.recv.done).stdout);
    assert.equal(message?.['text'], 'welcome back');
    assert.equal(message?.['signature'], 'verified');
  });
});

describe('tampered messages', () => {
  // A sender "mallory@pcM" whose key bob already knows (pinned), so no GETPUBKEY is needed.
  const mallory = fixtureKey('alice-rsa2048');

  async function encryptedFor(text: string, packetNo: number): Promise<string> {
    const bobKey = createPublicKey(createPrivateKey(readFileSync(join(keyDir(bob), 'rsa2048.pem'))));
    const combination = selectCombination(localCapa(), localCapa());
    assert.ok(combination);
    return encryptMessage({ parts: { text }, packetNo: String(packetNo), combination, peerPublicKey: bobKey, ownPrivateKey: mallory.privateKey });
  }

  /** Mallory's socket: sends datagrams to recv and keeps, in order, everything recv sends back. */
  async function mallorySocket(): Promise<{ deliver: (port: number, body: string, packetNo: number) => Promise<void>; settled: () => Promise<string[]>; close: () => void }> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const received: string[] = [];
    let marker: (() => void) | undefined;
    socket.on('message', (datagram) => {
      if (datagram.toString('latin1') === 'marker') return marker?.();
      received.push(datagram.toString('utf8'));
    });
    const send = (datagram: Buffer, port: number): Promise<void> =>
      new Promise<void>((resolve, reject) => socket.send(datagram, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    return {
      deliver: (port, body, packetNo) => {
        const command = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT | IPMSG_UTF8OPT | IPMSG_ENCRYPTOPT;
        return send(Buffer.from(`1:${packetNo}:mallory:pcM:${command}:${body}\0`), port);
      },
      // Loopback keeps order: once a datagram sent to ourselves now is back, everything recv sent before it is in.
      settled: async () => {
        const back = new Promise<void>((resolve) => (marker = resolve));
        await send(Buffer.from('marker', 'latin1'), (socket.address() as { port: number }).port);
        await back;
        return received;
      },
      close: () => socket.close(),
    };
  }

  test('a flipped ciphertext byte is dropped with one generic reason, and the sender told so; a flipped signature byte is shown as "bad"', async () => {
    const known = await KnownPeers.open(keyDir(bob));
    await known.trust({ user: 'mallory', host: 'pcM' }, mallory.publicKey);
    const flip = (text: string, at: number): string => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const fields = async (packetNo: number): Promise<[string, string, string, string]> =>
      (await encryptedFor('pay 100 to bob', packetNo)).split(':') as [string, string, string, string];
    const socket = await mallorySocket();
    after(() => socket.close());

    const { port, recv } = await startRecv(['--count', '1', '--timeout', '5s']);
    const [capa, key, cipher, signature] = await fields(4242);
    await socket.deliver(port, [capa, key, flip(cipher, 5), signature].join(':'), 4242);
    await recv.waitFor('dropped a message from mallory@pcM');
    assert.match(recv.stderr(), /Cannot decrypt the message/);
    assert.doesNotMatch(recv.stderr(), /padding|pkcs/i);
    // As the official: the acknowledgement, then an automatic reply (SENDMSG|NOLOGOPT|AUTORETOPT) saying it could not be read.
    const [ack, notice, ...more] = (await socket.settled()).map((datagram) => datagram.split(':'));
    assert.equal(Number(ack?.[4]) & 0xff, IPMSG_RECVMSG);
    assert.equal(ack?.[5], '4242\0');
    assert.equal(Number(notice?.[4]) & 0xff, IPMSG_SENDMSG);
    assert.equal(Number(notice?.[4]) & (IPMSG_NOLOGOPT | IPMSG_AUTORETOPT | IPMSG_SENDCHECKOPT | IPMSG_ENCRYPTOPT), IPMSG_NOLOGOPT | IPMSG_AUTORETOPT);
    assert.equal(notice?.slice(5).join(':'), `${DECRYPT_FAILED_REPLY}\0`);
    assert.deepEqual(more, []);

    const [capa2, key2, cipher2, signature2] = await fields(4243);
    await socket.deliver(port, [capa2, key2, cipher2, flip(signature2, 10)].join(':'), 4243);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const messages = jsonLines(done.stdout);
    assert.equal(messages.length, 1, 'the undecryptable message is not printed');
    assert.equal(messages[0]?.['text'], 'pay 100 to bob');
    assert.equal(messages[0]?.['signature'], 'bad');
    // A message that decrypts, whatever its signature, gets no such notice: its acknowledgement, and
    // GETPUBKEY (recv asks a known sender whose signature fails whether its key changed).
    const replies = (await socket.settled()).slice(2).map((datagram) => Number(datagram.split(':')[4]) & 0xff);
    assert.equal(replies[0], IPMSG_RECVMSG);
    assert.equal(replies.includes(IPMSG_SENDMSG), false, 'no automatic reply for a message that decrypted');
  });
});

describe('recv and a changed key', () => {
  test('the message is acknowledged and shown, marked "key-changed" with both fingerprints; the pinned key stays', async () => {
    const known = await KnownPeers.open(keyDir(bob));
    const aliceKey = createPublicKey(createPrivateKey(readFileSync(join(keyDir(alice), 'rsa2048.pem'))));
    await known.trust('alice@testhost', fixtureKey('carol-rsa2048').publicKey);
    after(() => known.trust('alice@testhost', aliceKey));
    const pinned = known.get('alice@testhost')?.fingerprint;
    const { port, recv } = await startRecv();
    const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'is it me?', '--json'], alice.env);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(jsonLines(send.stdout)[0]?.['status'], 'delivered');
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const [message] = jsonLines(done.stdout);
    const seen = String(jsonLines((await runCli(['keys', '--json'], alice.env)).stdout)[0]?.['fingerprint']);
    assert.equal(message?.['text'], 'is it me?');
    assert.equal(message?.['signature'], 'key-changed');
    assert.deepEqual(message?.['keys'], { known: pinned, seen });
    assert.match(done.stderr, new RegExp(`known ${pinned}, now ${seen}.*ipmsg keys trust alice@testhost`));
    assert.equal((await KnownPeers.open(keyDir(bob))).get('alice@testhost')?.fingerprint, pinned);
  });
});
