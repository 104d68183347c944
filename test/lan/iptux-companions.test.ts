// test/lan/iptux-companions.test.ts
// The newer commands against a real iptux 0.8.3 (one instance for the whole file): recv --absence
// and recv --exec --reply answering a message iptux sends, ipmsg doctor on iptux, ipmsg run
// notifying iptux, a fleet send to iptux and two ipmsg peers, and --encrypt auto to iptux.
//
// iptux is a GUI: the one message it sends without a person is its shared-files list, a
// SENDMSG|FILEATTACHOPT|IPTUX_SHAREDOPT answering IPTUX_ASKSHARED (0xFF). That is the message
// from iptux the receiving tests answer.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeText } from '../../src/encoding/charset.js';
import { binPath, jsonLines, makeSandbox } from '../helpers/cli.js';
import { type IptuxPeer, askIptuxShared, iptuxUnavailableReason, startIptux } from '../helpers/iptux.js';
import { startLanRecv } from '../helpers/lan-recv.js';
import { type Lan, createLan } from '../helpers/netns.js';

const skip = iptuxUnavailableReason();
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

/** Our identity on node 0. */
const ALICE = ['--user', 'alice', '--host', 'alice-pc', '--nick', 'Alice'];
const ALICE_ADDRESS = '10.249.0.1';

interface Traffic {
  readonly dir: 'in' | 'out';
  /** The other side's address. */
  readonly address: string;
  readonly packetNo: number;
  readonly command: number;
  /** Bytes after the command field, as latin1. */
  readonly body: string;
}

/**
 * The UDP packets in iptux's debug log (-l DEBUG), in order: what it received is quoted (bytes
 * above 0x7e as \xNN), what it sent is hex-dumped.
 */
function traffic(debugLog: string): Traffic[] {
  const out: Traffic[] = [];
  const lines = debugLog.split('\n');
  lines.forEach((line, i) => {
    const m = /(received udp message from|send udp message to) ([\d.]+):\d+, size \d+$/.exec(line);
    if (!m) return;
    let raw: string;
    if (m[1] === 'send udp message to') {
      const hex: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        const row = /^[0-9a-f]{8} {2}((?:[0-9a-f]{2} {1,2})+)/.exec(lines[j] ?? '');
        if (!row) break;
        hex.push(...(row[1] ?? '').trim().split(/ +/));
      }
      raw = Buffer.from(hex.join(''), 'hex').toString('latin1');
    } else {
      const quoted = /^"(.*)"$/.exec(lines[i + 1] ?? '');
      if (!quoted) return;
      raw = (quoted[1] ?? '').replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    const [, packetNo = '', , , command = '', ...body] = raw.split(':');
    out.push({ dir: m[1] === 'send udp message to' ? 'out' : 'in', address: m[2] ?? '', packetNo: Number(packetNo), command: Number(command), body: body.join(':') });
  });
  return out;
}

/** Blocks of iptux's chat log whose text starts with `text`. */
const blocksWith = (log: string, text: string): number => log.split(`[STRING]${text}`).length - 1;

describe('iptux and the newer commands', { skip: skip ?? false }, () => {
  let lan: Lan;
  let iptux: IptuxPeer;
  let work: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ipmsg-iptux-companions-'));
    // A Chinese name: iptux's list then shows which code page it writes (and reads) us in.
    writeFileSync(join(work, '共享.txt'), 'shared by iptux\n');
    lan = await createLan(4);
    iptux = await startIptux(lan, 1, { nick: 'iptux-peer', group: 'lab', sharedFiles: [join(work, '共享.txt')] });
  });
  after(async () => {
    await iptux?.stop();
    await lan?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const ipmsg = (node: number, args: readonly string[]) =>
    lan.run(node, process.execPath, [binPath, ...args, ...ALICE], { env: sandbox.env, timeoutMs: 30_000 });

  /** Makes iptux send its shared-files message to node 0. */
  const askShared = (): Promise<void> => askIptuxShared(lan, 0, iptux, Math.floor(Date.now() / 1000) + 100_000);

  /** recv on node 0 as Alice; resolves once it listens. */
  async function recvOnAlice(args: readonly string[]) {
    const recv = startLanRecv(lan, 0, sandbox.env, [...ALICE, '--timeout', '20s', ...args]);
    await recv.ready;
    return recv;
  }

  test('recv --absence: iptux gets one AUTORETOPT reply per absence, logs it, and sends nothing back', async () => {
    const away = 'Away until Monday — 周一回来';
    const recv = await recvOnAlice(['--absence', away, '--count', '2']);
    await askShared();
    await iptux.waitForLog(`[STRING]${away}\n`, 5000);
    await askShared();
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const messages = jsonLines(done.stdout).filter((r) => r['from'] !== undefined);
    assert.equal(messages.length, 2, done.stdout);
    assert.ok(messages.every((m) => (m['from'] as Record<string, unknown>)['address'] === iptux.address));
    const log = await iptux.readLog();
    assert.equal(blocksWith(log, away), 1, log);
    const seen = traffic(await iptux.readDebugLog()).filter((t) => t.address === ALICE_ADDRESS);
    const shown = JSON.stringify(seen);
    // Our entries said absent (BR_ENTRY|ABSENCEOPT); iptux answered with its usual ANSENTRY and
    // never asked GETABSENCEINFO (it has no such command).
    assert.ok(seen.some((t) => t.dir === 'in' && (t.command & 0xff) === 0x01 && (t.command & 0x100) !== 0), shown);
    assert.ok(seen.some((t) => t.dir === 'out' && t.command === 0x103), shown);
    assert.ok(!seen.some((t) => t.dir === 'out' && (t.command & 0xff) === 0x50), shown);
    // One auto-reply, as the official sends it: SENDMSG|AUTORETOPT (+UTF8OPT|CAPUTF8OPT), no
    // SENDCHECKOPT (so no RECVMSG comes back), no NOLOGOPT (iptux logs it anyway).
    const replies = seen.filter((t) => t.dir === 'in' && (t.command & 0xff) === 0x20);
    assert.deepEqual(replies.map((t) => t.command), [0x20 | 0x2000 | 0x800000 | 0x1000000], shown);
    // iptux answered nothing to it: the next packet it sent us answers the second ASKSHARED.
    const after = seen.slice(seen.indexOf(replies[0] as Traffic) + 1);
    const nextAsk = after.findIndex((t) => t.dir === 'in' && t.command === 0xff);
    assert.ok(nextAsk >= 0, shown);
    assert.deepEqual(after.slice(0, nextAsk).filter((t) => t.dir === 'out'), [], shown);
  });

  test('recv --exec --reply: the handler output reaches iptux, UTF-8 intact, multi-line', async () => {
    const recv = await recvOnAlice(['--exec', 'printf "handled by ipmsg: 已收到 ✓\\nline 2 für %s\\n" "$IPMSG_FROM_NICK"', '--reply', '--count', '1']);
    await askShared();
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    await iptux.waitForLog('[STRING]handled by ipmsg: 已收到 ✓\nline 2 für iptux-peer\n', 5000);
  });

  test('doctor on iptux: entry ✔, GETINFO ⚠ (never answered), TCP open, UTF-8 read, no key; exit 0', async () => {
    const run = await ipmsg(0, ['doctor', '-4', iptux.address, '--wait', '1s', '--timeout', '1s']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^✔ 10\.249\.0\.2:2425 answered BR_ENTRY after \d+ ms/m);
    assert.match(run.stdout, /^⚠ 10\.249\.0\.2:2425 did not answer GETINFO \(iptux never does\)/m);
    assert.match(run.stdout, /^✔ TCP 10\.249\.0\.2:2425 is open/m);
    assert.match(run.stdout, /^⚠ iptux 0\.8\.3 announces UTF-8 \(its encoding field\)\n {4}→ it lacks encryption \(messages go in plain text\)$/m);
    assert.match(run.stdout, /^– it has no key \(no encryption\)$/m);
    assert.match(run.stdout, /^a send would work: \d+ ✔, \d+ ⚠, 0 ✖, 1 –$/m);
  });

  test('run --to iptux: ✔ and the tail, multi-line UTF-8', async () => {
    const ok = await ipmsg(0, ['run', '--to', iptux.address, '--', 'sh', '-c', 'echo "build ok"; echo "第二行 ünï"']);
    assert.equal(ok.code, 0, ok.stderr);
    const log = await iptux.waitForLog('第二行 ünï', 5000);
    assert.match(log, /\[STRING\]✔ sh -c [^\n]*\nexit 0 · \d+ms · on [^\n]*\n\nbuild ok\n第二行 ünï\n-{37}\n/);
  });

  test('a fleet send to iptux and two ipmsg peers: all delivered', async () => {
    const bob = startLanRecv(lan, 2, sandbox.env, ['--user', 'bob', '--host', 'bob-pc', '--nick', 'Bob', '--timeout', '20s']);
    const carol = startLanRecv(lan, 3, sandbox.env, ['--user', 'carol', '--host', 'carol-pc', '--nick', 'Carol', '--timeout', '20s']);
    await Promise.all([bob.ready, carol.ready]);
    const sent = await ipmsg(0, ['send', '--json', '--to', `${iptux.address},10.249.0.3,10.249.0.4`, 'fleet: 全员 hello']);
    assert.equal(sent.code, 0, sent.stderr);
    const outcomes = jsonLines(sent.stdout).filter((r) => r['address'] !== undefined);
    assert.deepEqual(outcomes.map((o) => [o['address'], o['status']]).sort(), [[iptux.address, 'delivered'], ['10.249.0.3', 'delivered'], ['10.249.0.4', 'delivered']]);
    await iptux.waitForLog('[STRING]fleet: 全员 hello\n', 5000);
    for (const r of [bob, carol]) {
      const done = await r.done;
      assert.equal(done.code, 0, done.stderr);
      assert.equal(jsonLines(done.stdout)[0]?.['text'], 'fleet: 全员 hello');
    }
  });

  test('--encrypt auto to iptux: GETPUBKEY goes unanswered, the plain SENDMSG is accepted on the first try', async () => {
    // Forget that iptux took plain text (the earlier sends learnt it), so its key is asked for
    // again; the packet counter stays, as for a user's next run.
    const plainPeers = join(String(sandbox.env['XDG_STATE_HOME']), 'ipmsg', 'plain-peers.json');
    assert.ok(existsSync(plainPeers), 'the earlier sends remembered iptux as a peer without keys');
    rmSync(plainPeers);
    const sent = await ipmsg(0, ['send', '--json', '--encrypt', 'auto', iptux.address, 'after a key request']);
    assert.equal(sent.code, 0, sent.stderr);
    const [outcome] = jsonLines(sent.stdout);
    assert.equal(outcome?.['status'], 'delivered', sent.stdout);
    assert.equal(outcome?.['encrypted'], false);
    assert.equal(outcome?.['attempts'], 1, sent.stdout);
    await iptux.waitForLog('[STRING]after a key request\n', 5000);
    // What iptux received from us since: the GETPUBKEY (unknown to iptux) with a number above the
    // message's (drawn first), then the message once. iptux compares a SENDMSG's number only with the
    // previous SENDMSG's (UdpData::SomeoneSendmsg), so the order of the two does not matter to it.
    const received = traffic(await iptux.readDebugLog())
      .filter((t) => t.dir === 'in' && t.address === ALICE_ADDRESS)
      .map((t) => ({ packetNo: t.packetNo, mode: t.command & 0xff, body: t.body }));
    const at = received.findIndex((r) => r.mode === 0x20 && r.body.startsWith('after a key request'));
    assert.ok(at > 0, JSON.stringify(received));
    assert.equal(received.filter((r) => r.body.startsWith('after a key request')).length, 1, 'sent once');
    let first = at;
    while (first > 0 && received[first - 1]?.mode === 0x72) first--;
    const keyRequests = received.slice(first, at);
    assert.ok(keyRequests.length > 0, JSON.stringify(received));
    assert.ok(keyRequests.every((r) => r.packetNo > (received[at]?.packetNo ?? Infinity)), JSON.stringify(received));
  });

  // Last two: once a GBK message came from an address, iptux reads that address's next messages as
  // GB18030 first (UTF-8 Chinese then turns into mojibake) until an entry from it arrives.
  test('run --encoding gbk --to iptux: the failure mark and the tail arrive in GBK', async () => {
    const failed = await ipmsg(0, ['run', '--encoding', 'gbk', '--to', iptux.address, '--', 'sh', '-c', 'echo "步骤一"; echo "失败了" >&2; exit 3']);
    assert.equal(failed.code, 3, failed.stderr);
    const log = await iptux.waitForLog('失败了', 5000);
    assert.match(log, /\[STRING\]× sh -c [^\n]*\nexit 3 · \d+ms · on [^\n]*\n\n步骤一\n失败了\n-{37}\n/);
    // It went in GBK (× is A1 C1 there), not UTF-8.
    const gbk = Buffer.from(encodeText('× sh -c', 'gbk')).toString('latin1');
    assert.ok(traffic(await iptux.readDebugLog()).some((t) => t.dir === 'in' && t.address === ALICE_ADDRESS && t.body.startsWith(gbk)));
  });

  test('after that, recv --exec --reply (no entry of ours since) answers iptux in the GB18030 it now writes and reads', async () => {
    const recv = await recvOnAlice(['--no-announce', '--exec', 'printf "全员已收到 ✓\\n"', '--reply', '--count', '1']);
    await askShared();
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    // Its list came in GB18030 (共享.txt) ...
    assert.equal((jsonLines(done.stdout)[0]?.['attachments'] as { name: string }[] | undefined)?.[0]?.name, '共享.txt', done.stdout);
    const gb18030 = (text: string): string => Buffer.from(encodeText(text, 'gb18030')).toString('latin1');
    const seen = traffic(await iptux.readDebugLog()).filter((t) => t.address === ALICE_ADDRESS);
    assert.ok(seen.some((t) => t.dir === 'out' && t.body.includes(gb18030('共享.txt'))), 'iptux wrote the name in GB18030');
    // ... and the reply went back in GB18030, which iptux logged intact.
    assert.ok(seen.some((t) => t.dir === 'in' && t.body.startsWith(gb18030('全员已收到 ✓'))), 'our reply in GB18030');
    await iptux.waitForLog('[STRING]全员已收到 ✓\n', 5000);
  });
});
