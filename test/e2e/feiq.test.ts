// test/e2e/feiq.test.ts
// A fake FeiQ on 127.0.0.1 (a UDP socket announcing FeiQ's entry: GBK names, no CAPUTF8OPT) and
// the real CLI: recv answers its entry in GBK and reads its GBK message; the next run's send,
// remembering what FeiQ announced, sends it GBK bytes; --encoding utf-8 still forces UTF-8.

import assert from 'node:assert/strict';
import { type Socket, createSocket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { freePort, jsonLines, local, makeSandbox, runCli, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const env = { ...sandbox.env, IPMSG_NICK: '小明' };
after(() => sandbox.cleanup());

const BR_ENTRY = 0x1;
const ANSENTRY = 0x3;
const SENDMSG = 0x20;
const RECVMSG = 0x21;
const SENDCHECKOPT = 0x100;
const UTF8OPT = 0x00800000;
const CAPUTF8OPT = 0x01000000;
const FEIQ_VERSION = '1_lbt4_10#128#0024816275AB#0#0#0';
/** GBK bytes, checked against Python's codecs. */
const GBK = { 中文: 'd6d0cec4', 你好: 'c4e3bac3', 小明: 'd0a1c3f7', 飞秋用户: 'b7c9c7efd3c3bba7' } as const;
const gbk = (text: keyof typeof GBK): Buffer => Buffer.from(GBK[text], 'hex');

interface Datagram {
  readonly bytes: Buffer;
  readonly command: number;
  readonly port: number;
}

/** A UDP socket speaking as FeiQ: it acknowledges every SENDMSG|SENDCHECKOPT and records what came. */
class FakeFeiq {
  readonly received: Datagram[] = [];
  readonly #waiters = new Set<() => void>();
  readonly socket: Socket = createSocket('udp4');
  #packetNo = 100;

  async open(): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.socket.on('message', (bytes, rinfo) => {
      const fields = bytes.toString('latin1').split(':');
      const command = Number(fields[4]) >>> 0;
      this.received.push({ bytes, command, port: rinfo.port });
      if ((command & 0xff) === SENDMSG && (command & SENDCHECKOPT) !== 0) this.send(Buffer.from(`${RECVMSG}:${fields[1]}\0`), rinfo.port);
      for (const w of this.#waiters) w();
    });
    return this.socket.address().port;
  }

  /** `1_lbt…:pkt:feiq:FEIQ-PC:` + rest. */
  send(rest: Buffer, port: number): void {
    this.socket.send(Buffer.concat([Buffer.from(`${FEIQ_VERSION}:${this.#packetNo++}:feiq:FEIQ-PC:`), rest]), port, '127.0.0.1');
  }

  /** The first datagram of this command mode, waiting for it as long as `until` is pending. */
  next(mode: number, until: Promise<unknown>): Promise<Datagram | undefined> {
    return new Promise((resolve) => {
      const check = (): void => {
        const found = this.received.find((d) => (d.command & 0xff) === mode);
        if (found) {
          this.#waiters.delete(check);
          resolve(found);
        }
      };
      this.#waiters.add(check);
      void until.then(() => {
        this.#waiters.delete(check);
        resolve(this.received.find((d) => (d.command & 0xff) === mode));
      });
      check();
    });
  }

  close(): void {
    this.socket.close();
  }
}

describe('a GBK-only peer (FeiQ)', () => {
  test('recv answers its entry in GBK and reads its message; the next send goes out in GBK', async () => {
    const feiq = new FakeFeiq();
    const feiqPort = await feiq.open();
    try {
      const port = await freePort();
      const recv = startCli(['recv', ...local(port), '-v', '--json', '--count', '1', '--timeout', '10s'], env);
      await recv.waitFor('listening on UDP port');
      // BR_ENTRY: GBK nick, empty group, no CAPUTF8OPT.
      feiq.send(Buffer.concat([Buffer.from(`${BR_ENTRY}:`), gbk('飞秋用户'), Buffer.from('\0\0')]), port);
      const answer = await feiq.next(ANSENTRY, recv.done);
      assert.ok(answer, `no ANSENTRY; stderr=${recv.stderr()}`);
      assert.equal(answer.command & UTF8OPT, 0, 'no UTF8OPT to a peer without CAPUTF8OPT');
      assert.ok(answer.bytes.includes(Buffer.concat([Buffer.from(`:${answer.command}:`), gbk('小明'), Buffer.from([0])])), `nick in GBK: ${answer.bytes.toString('hex')}`);
      feiq.send(Buffer.concat([Buffer.from(`${SENDMSG | SENDCHECKOPT}:`), gbk('你好'), Buffer.from([0])]), port);
      const done = await recv.done;
      assert.equal(done.code, 0, done.stderr);
      const [message] = jsonLines(done.stdout);
      assert.deepEqual([message?.['text'], message?.['charset']], ['你好', 'gb18030']);

      // A later run: no entry from FeiQ now, but what it announced was remembered.
      const send = await runCli(['send', ...local(await freePort()), `127.0.0.1:${feiqPort}`, '中文', '--json'], env);
      assert.equal(send.code, 0, send.stderr);
      const [result] = jsonLines(send.stdout);
      assert.deepEqual([result?.['status'], result?.['charset'], result?.['charsetReason']], ['delivered', 'gb18030', 'peer-dialect']);
      const sent = feiq.received.filter((d) => (d.command & 0xff) === SENDMSG);
      assert.equal(sent.length, 1);
      const [msg] = sent;
      assert.ok(msg);
      assert.equal(msg.command & (UTF8OPT | CAPUTF8OPT), 0);
      assert.ok(msg.bytes.subarray(msg.bytes.indexOf(`:${msg.command}:`) + `:${msg.command}:`.length).equals(Buffer.concat([gbk('中文'), Buffer.from([0])])), msg.bytes.toString('hex'));

      const forced = await runCli(['send', ...local(await freePort()), `127.0.0.1:${feiqPort}`, '中文', '--json', '--encoding', 'utf-8'], env);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(jsonLines(forced.stdout).map((r) => [r['charset'], r['charsetReason']]), [['utf-8', 'forced']]);
      const last = feiq.received.filter((d) => (d.command & 0xff) === SENDMSG).at(-1);
      assert.ok(last && (last.command & UTF8OPT) !== 0 && last.bytes.includes(Buffer.from('中文', 'utf8')));
    } finally {
      feiq.close();
    }
  });

  test('text the peer\'s code page cannot hold is refused (exit 65) unless --lossy', async () => {
    const old = new FakeFeiq();
    const oldPort = await old.open();
    try {
      const port = await freePort();
      const recv = startCli(['recv', ...local(port), '-v', '--json', '--count', '1', '--timeout', '10s'], env);
      await recv.waitFor('listening on UDP port');
      // A plain version field: no dialect, so the legacy code page (IPMSG_DECODE_ENCODING) applies.
      old.socket.send(Buffer.from(`1:7:old:OLD-PC:${BR_ENTRY}:old\0\0`), port, '127.0.0.1');
      old.socket.send(Buffer.from(`1:8:old:OLD-PC:${SENDMSG | SENDCHECKOPT}:hi\0`), port, '127.0.0.1');
      assert.equal((await recv.done).code, 0);
      const cp932 = { ...env, IPMSG_DECODE_ENCODING: 'cp932' };
      const refused = await runCli(['send', ...local(await freePort()), `127.0.0.1:${oldPort}`, '中文 😀', '--no-crypto'], cp932);
      assert.equal(refused.code, 65, refused.stderr);
      assert.match(refused.stderr, /Cannot encode "😀" \(U\+1F600\) in cp932, the code page 127\.0\.0\.1:\d+ reads;/);
      assert.equal(old.received.filter((d) => (d.command & 0xff) === SENDMSG).length, 0, 'nothing sent');
      const lossy = await runCli(['send', ...local(await freePort()), `127.0.0.1:${oldPort}`, '中文 😀', '--no-crypto', '--lossy', '--json'], cp932);
      assert.equal(lossy.code, 0, lossy.stderr);
      assert.deepEqual(jsonLines(lossy.stdout).map((r) => [r['charset'], r['charsetReason']]), [['cp932', 'peer-legacy']]);
      const [msg] = old.received.filter((d) => (d.command & 0xff) === SENDMSG);
      assert.ok(msg?.bytes.includes(Buffer.from('928695b6203f00', 'hex')), msg?.bytes.toString('hex'));
    } finally {
      old.close();
    }
  });
});
