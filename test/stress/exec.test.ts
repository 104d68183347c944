// test/stress/exec.test.ts
// `recv --exec` and `recv --absence` against spoofed senders on loopback (each its own 127.0.0.x
// address, port and user@host): a flood while handlers are slow must keep the handlers at --jobs,
// the waiting messages at their cap, refuse (not acknowledge) what does not fit, and end every
// acknowledged message in exactly one `handled` or `unhandled` record; hostile message content must
// reach the handler as data; away mode must answer each sender once, never a broadcast or an
// auto-reply, and a flood of made-up names only within its budget.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, startCli } from '../helpers/cli.js';
import { AUTO_REPLY_BUDGET } from '../../src/messenger/absence.js';
import { DISPATCH_LIMITS } from '../../src/workflows/dispatch.js';
import { ENV_VALUE_LIMIT } from '../../src/workflows/exec.js';
import { MAX_UDP_PAYLOAD } from '../helpers/fuzz-datagrams.js';
import { AUTORETOPT, BROADCASTOPT, SENDCHECKOPT, SENDMSG, Spoofed, UTF8OPT, childrenOf, sendMsg } from './hostile-peers.js';
import { jsonLines, pool, record, rssKiB, sleep, stressWorkspace } from './support.js';

const { sandbox, root } = stressWorkspace('ipmsg-exec-');
const RSS_LIMIT_KIB = 200 * 1024;
const MESSAGE = SENDMSG | SENDCHECKOPT | UTF8OPT;

const opened: Spoofed[] = [];
after(() => opened.forEach((s) => s.close()));
async function spoofed(address: string, user: string, host: string): Promise<Spoofed> {
  const s = await Spoofed.open(address, user, host);
  opened.push(s);
  return s;
}

describe('recv --exec against a flood of spoofed senders', () => {
  test('handlers stay at --jobs, waiting messages at their cap, and every acknowledged message ends in one record', async () => {
    const JOBS = 3;
    const ADDRESSES = 8;
    const PER_ADDRESS = 6;
    const EACH = 3;
    const port = await freePort();
    const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(port), '--count', '0', '--json', '-v', '--exec', 'cat >/dev/null; sleep 0.3', '--jobs', String(JOBS)], sandbox.env);
    await recv.waitFor('listening');
    const pid = recv.child.pid as number;
    const senders: Spoofed[] = [];
    for (let a = 0; a < ADDRESSES; a++) {
      for (let p = 0; p < PER_ADDRESS; p++) senders.push(await spoofed(`127.0.0.${11 + a}`, `user${a}_${p}`, `host${a}`));
    }
    const recorded = (): Map<number, string[]> => {
      const m = new Map<number, string[]>();
      for (const r of jsonLines(recv.stdout())) {
        if (r['event'] !== 'handled' && r['event'] !== 'unhandled') continue;
        const list = m.get(r['packetNo'] as number) ?? [];
        m.set(r['packetNo'] as number, [...list, r['event'] as string]);
      }
      return m;
    };
    const ackedOf = (s: Spoofed): number[] => [...s.acks.keys()];
    const peak = { children: 0, outstanding: 0, perAddress: 0, rssKiB: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak.children = Math.max(peak.children, childrenOf(pid));
        peak.rssKiB = Math.max(peak.rssKiB, rssKiB(pid) ?? 0);
        const done = recorded();
        const open = senders.map((s) => ({ address: s.address.address, open: ackedOf(s).filter((n) => !done.has(n)).length }));
        peak.outstanding = Math.max(peak.outstanding, open.reduce((sum, o) => sum + o.open, 0));
        const byAddress = new Map<string, number>();
        for (const o of open) byAddress.set(o.address, (byAddress.get(o.address) ?? 0) + o.open);
        peak.perAddress = Math.max(peak.perAddress, ...byAddress.values());
        await sleep(20);
      }
    })();
    const stop = new AbortController();
    const tries = await Promise.all(
      senders.map(async (s, i) => {
        let sent = 0;
        for (let k = 0; k < EACH; k++) {
          const packetNo = 1000 + i * 10 + k;
          sent += await s.sendUntilAcked(sendMsg(packetNo, s.user, s.host, MESSAGE, `flood ${i}.${k}`), packetNo, port, 250, stop.signal);
        }
        return sent;
      }),
    );
    // Every message acknowledged; stop while the queue is still full: the waiting ones must be reported unhandled.
    recv.child.kill('SIGTERM');
    const end = await recv.done;
    sampling = false;
    await sampler;
    const records = recorded();
    const acked = senders.flatMap(ackedOf);
    assert.equal(acked.length, senders.length * EACH, 'every message was acknowledged in the end');
    for (const n of acked) assert.equal(records.get(n)?.length, 1, `message ${n}: exactly one record, got ${JSON.stringify(records.get(n))}`);
    assert.equal(records.size, acked.length, 'no record of a message that was not acknowledged');
    const unhandled = [...records.values()].filter((r) => r[0] === 'unhandled').length;
    const datagrams = tries.reduce((a, b) => a + b, 0);
    assert.ok(peak.children <= JOBS, `at most ${JOBS} handlers at once, saw ${peak.children}`);
    assert.ok(peak.outstanding <= JOBS + DISPATCH_LIMITS.queue, `acknowledged and not yet ended: at most ${JOBS + DISPATCH_LIMITS.queue}, saw ${peak.outstanding}`);
    assert.ok(peak.perAddress <= DISPATCH_LIMITS.perKey, `one address holds at most ${DISPATCH_LIMITS.perKey}, saw ${peak.perAddress}`);
    assert.ok(datagrams > acked.length, 'messages beyond the cap were refused and sent again');
    assert.ok(peak.rssKiB < RSS_LIMIT_KIB, `VmRSS ${peak.rssKiB} KiB`);
    assert.equal(end.signal, null, `recv ended by itself on SIGTERM: ${end.stderr.slice(-500)}`);
    assert.doesNotMatch(end.stderr, /TypeError|RangeError|ERR_|at .*\.js:\d+/);
    record(import.meta.url, {
      execFloodSenders: senders.length,
      execFloodMessages: acked.length,
      execFloodDatagrams: datagrams,
      execFloodPeakHandlers: peak.children,
      execFloodPeakOutstanding: peak.outstanding,
      execFloodPeakPerAddress: peak.perAddress,
      execFloodUnhandledAtStop: unhandled,
      execFloodPeakRssKiB: peak.rssKiB,
      execFloodExit: end.code,
    });
  });

  test('hostile content reaches the handler as data: huge invalid text, NUL, metacharacters, = and newlines in names', async () => {
    const port = await freePort();
    const out = join(root, 'handled');
    const mark = join(root, 'pwned');
    const handler = 'd="$OUT/$IPMSG_PACKET_NO"; mkdir -p "$d"; printf %s "$IPMSG_FROM_USER" > "$d/user"; printf %s "$IPMSG_FROM_HOST" > "$d/host"; printf %s "$IPMSG_TEXT" > "$d/text"; cat > "$d/json"';
    const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(port), '--count', '0', '--json', '-v', '--exec', handler, '--jobs', '2'], { ...sandbox.env, OUT: out });
    await recv.waitFor('listening');
    const header = 60; // room for the header of the largest case
    const cases: { name: string; packetNo: number; user: Buffer | string; host: Buffer | string; text: Buffer | string }[] = [
      { name: 'a datagram of invalid UTF-8', packetNo: 501, user: 'big', host: 'h', text: Buffer.alloc(MAX_UDP_PAYLOAD - header, 0xff) },
      { name: 'a datagram of text', packetNo: 502, user: 'big', host: 'h', text: 'x'.repeat(MAX_UDP_PAYLOAD - header) },
      { name: 'shell metacharacters', packetNo: 503, user: `$(touch ${mark})`, host: `\`touch ${mark}\``, text: `$(touch ${mark}); touch ${mark} | touch ${mark} && "'\\` },
      { name: '= and newlines in names', packetNo: 504, user: 'a=b\nPATH=/nowhere', host: 'h\nLD_PRELOAD=/x.so', text: 'x=y\n' },
      { name: 'invalid UTF-8 in names', packetNo: 506, user: Buffer.from([0x61, 0xff, 0xfe]), host: Buffer.from([0xc0, 0xaf]), text: Buffer.from([0x80, 0x81]) },
      { name: 'escape sequences', packetNo: 507, user: '\x1b]0;title\x07', host: '\x1b[2J', text: '\x1b[31mred\r\x08' },
    ];
    const sender = await spoofed('127.0.0.2', 'unused', 'unused');
    const stop = AbortSignal.timeout(30_000);
    // A NUL in a header field: the decoder refuses the datagram (a warning; not acknowledged). Sent
    // first from the same socket, so it has been read once the cases after it are acknowledged.
    sender.send(sendMsg(505, Buffer.from('nu\0ll'), Buffer.from('ho\0st'), MESSAGE, 'NUL names'), port);
    for (const c of cases) await sender.sendUntilAcked(sendMsg(c.packetNo, c.user, c.host, MESSAGE, c.text), c.packetNo, port, 300, stop);
    const handled = (): Record<string, unknown>[] => jsonLines(recv.stdout()).filter((r) => r['event'] === 'handled');
    while (handled().length < cases.length && !stop.aborted) await sleep(50);
    recv.child.kill('SIGTERM');
    const end = await recv.done;
    for (const c of cases) assert.ok(sender.acks.has(c.packetNo), `${c.name}: acknowledged`);
    const byNo = new Map(handled().map((r) => [r['packetNo'], r]));
    for (const c of cases) {
      const r = byNo.get(c.packetNo);
      assert.equal(r?.['exit'], 0, `${c.name}: handled, exit 0 (${JSON.stringify(r)})`);
      const d = join(out, String(c.packetNo));
      const json = JSON.parse(readFileSync(join(d, 'json'), 'utf8')) as { text: string; from: { user: string } };
      assert.ok(Buffer.byteLength(readFileSync(join(d, 'text'))) <= ENV_VALUE_LIMIT, `${c.name}: IPMSG_TEXT within the limit`);
      if (typeof c.text === 'string' && c.text.length < 60_000) assert.equal(readFileSync(join(d, 'text'), 'utf8'), json.text, `${c.name}: IPMSG_TEXT is the text`);
      if (typeof c.user === 'string') assert.equal(readFileSync(join(d, 'user'), 'utf8'), json.from.user, `${c.name}: IPMSG_FROM_USER is the user`);
      assert.ok(!readFileSync(join(d, 'user'), 'latin1').includes('\0'));
    }
    const huge = JSON.parse(readFileSync(join(out, '501', 'json'), 'utf8')) as { text: string };
    assert.ok(huge.text.length >= MAX_UDP_PAYLOAD - header - 1, 'the whole text is on stdin');
    assert.equal(existsSync(mark), false, 'nothing the peer sent was run');
    assert.equal(sender.acks.has(505), false, 'NUL in a header field: refused');
    assert.match(end.stderr, /ipmsg: ignored/, 'with a warning');
    assert.equal(end.signal, null);
    record(import.meta.url, { execHostileCases: cases.length, execHostileHandled: byNo.size });
  });
});

describe('recv --absence against spoofed senders', () => {
  test('one auto-reply per sender, none to a broadcast or an auto-reply, a flood of made-up names held to the budget; reply bytes measured', async () => {
    const port = await freePort();
    const away = 'Away until Monday';
    const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(port), '--count', '0', '--json', '-v', '--absence', away], sandbox.env);
    await recv.waitFor('listening');
    const isAutoReply = (h: { command: number; body: string }): boolean => (h.command & 0xff) === SENDMSG && (h.command & AUTORETOPT) !== 0;
    const SENDERS = 60;
    const senders = await pool(Array.from({ length: SENDERS }, (_, i) => i), 20, (i) => spoofed(`127.0.0.${30 + (i % 30)}`, `away${i}`, `h${i}`));
    const stop = AbortSignal.timeout(60_000);
    // Each sends two messages, the first one twice (a resend): one auto-reply each.
    await Promise.all(
      senders.map(async (s, i) => {
        const first = sendMsg(2000 + i, s.user, s.host, MESSAGE, 'hi');
        await s.sendUntilAcked(first, 2000 + i, port, 300, stop);
        s.send(first, port);
        await s.sendUntilAcked(sendMsg(5000 + i, s.user, s.host, MESSAGE, 'again'), 5000 + i, port, 300, stop);
      }),
    );
    // Broadcasts and auto-replies from others: never answered.
    const quiet = await spoofed('127.0.0.90', 'x', 'y');
    for (let i = 0; i < 50; i++) {
      quiet.send(sendMsg(8000 + i, `bc${i}`, 'h', SENDMSG | BROADCASTOPT | UTF8OPT, 'to all'), port);
      quiet.send(sendMsg(9000 + i, `ar${i}`, 'h', SENDMSG | SENDCHECKOPT | AUTORETOPT | UTF8OPT, 'I am away too'), port);
    }
    // A flood of made-up names from one address: every message acknowledged (a RECVMSG is about twice
    // a minimal SENDMSG: our name carries the key fingerprint), auto-replies held to their budget.
    const names = await spoofed('127.0.0.91', 'x', 'y');
    const NAMES = 1100;
    const floodStart = Date.now();
    for (let i = 0; i < NAMES; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => names.sendUntilAcked(sendMsg(20_000 + i + j, `n${i + j}`, 'h', MESSAGE, '.'), 20_000 + i + j, port, 300, stop)));
    }
    const floodS = (Date.now() - floodStart) / 1000;
    await senders[0]?.sendUntilAcked(sendMsg(7000, 'away0', 'h0', MESSAGE, 'much later'), 7000, port, 300, stop);
    await sleep(300);
    const rss = rssKiB(recv.child.pid as number) ?? 0;
    recv.child.kill('SIGTERM');
    await recv.done;
    const replies = senders.map((s) => s.heard.filter(isAutoReply));
    for (const [i, r] of replies.entries()) assert.equal(r.length, 1, `sender ${i}: one auto-reply for 3 messages and a resend`);
    for (const r of replies) assert.ok(r.every((h) => h.body === away));
    assert.equal(quiet.heard.filter(isAutoReply).length, 0, 'no auto-reply to a broadcast or an auto-reply');
    assert.equal(names.acks.size, NAMES, 'every message of the flood acknowledged');
    const floodReplies = names.heard.filter(isAutoReply).length;
    const allowed = AUTO_REPLY_BUDGET.perAddress.burst + Math.ceil(floodS * AUTO_REPLY_BUDGET.perAddress.perSecond) + 1;
    assert.ok(floodReplies >= 1 && floodReplies <= allowed, `${floodReplies} auto-replies to ${NAMES} made-up names in ${floodS.toFixed(1)} s (at most ${allowed})`);
    const one = senders[1] as Spoofed;
    const factor = one.receivedBytes / one.sentBytes;
    const floodFactor = names.receivedBytes / names.sentBytes;
    assert.ok(factor < 4, `reply bytes ${one.receivedBytes} for ${one.sentBytes} sent`);
    assert.ok(floodFactor < 3, `flood: reply bytes ${names.receivedBytes} for ${names.sentBytes} sent`);
    assert.ok(rss < RSS_LIMIT_KIB);
    record(import.meta.url, {
      absenceSenders: SENDERS,
      absenceBytesSentBySender: one.sentBytes,
      absenceBytesReceivedBySender: one.receivedBytes,
      absenceAmplification: Number(factor.toFixed(2)),
      absenceFloodNames: NAMES,
      absenceFloodSeconds: Number(floodS.toFixed(1)),
      absenceFloodAutoReplies: floodReplies,
      absenceFloodAmplification: Number(floodFactor.toFixed(2)),
      absenceRssKiB: rss,
    });
  });
});
