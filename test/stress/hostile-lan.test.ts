// test/stress/hostile-lan.test.ts
// A hostile LAN on loopback (sockets on many 127.0.0.x addresses and ports) against `doctor` and a
// fleet `send`: thousands of answers to BR_ENTRY from distinct names and ports, oversized and
// malformed ones, answers that never stop; acknowledgements from the wrong address or port,
// forged for other packet numbers, and a thousand for each message. Output and memory must stay
// bounded, the run must end on time with a documented status, and no target may be marked
// delivered by an acknowledgement that is not its own.

import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { freePort, startCli } from '../helpers/cli.js';
import { MAX_UDP_PAYLOAD } from '../helpers/fuzz-datagrams.js';
import { bindUdpSocket } from '../helpers/udp-relay.js';
import { EXIT_STATUSES } from '../../src/cli/report.js';
import { PEER_LIMIT } from '../../src/messenger/peers.js';
import { PROBE_LIMITS } from '../../src/workflows/doctor/probe.js';
import { RECVMSG, SENDMSG } from './hostile-peers.js';
import { jsonLines, pool, record, rssKiB, sleep, stressWorkspace } from './support.js';

const { sandbox } = stressWorkspace('ipmsg-hostile-lan-');
const RSS_LIMIT_KIB = 200 * 1024;

const sockets: Socket[] = [];
after(() => sockets.forEach((s) => s.close()));
async function bind(address: string, port = 0): Promise<Socket> {
  const s = await bindUdpSocket(address, port);
  sockets.push(s);
  return s;
}

/** Peak VmRSS of a running process, sampled until `done` settles. */
async function peakRss(pid: number, done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let over = false;
  void done.finally(() => (over = true));
  while (!over) {
    peak = Math.max(peak, rssKiB(pid) ?? 0);
    await sleep(50);
  }
  return peak;
}

describe('doctor on a LAN that answers BR_ENTRY without end', () => {
  test('thousands of answers, oversized and malformed ones, a stream that never stops: bounded output and memory, on time', async () => {
    const ADDRESSES = 30;
    const PER_ADDRESS = 200; // more answering address:port pairs than doctor lists, fewer than the peer table keeps
    const port = await freePort();
    const listener = await bind('127.0.0.2', port);
    const answering = await pool(
      Array.from({ length: ADDRESSES * PER_ADDRESS }, (_, i) => i),
      64,
      (i) => bind(`127.0.0.${10 + Math.floor(i / PER_ADDRESS)}`),
    );
    let sent = 0;
    let streaming = true;
    const entry = (i: number, round: number): Buffer => {
      if (i % 97 === 0) return Buffer.concat([Buffer.from(`1:${round}${i}:big${i}:h:3:`), Buffer.alloc(MAX_UDP_PAYLOAD - 40, 0x41), Buffer.from('\0g\0')]);
      if (i % 89 === 0) return Buffer.from(`1:x:${i}:::3\0\0\0::`, 'latin1'); // malformed
      return Buffer.from(`1:${round * 100_000 + i}:u${i}r${round}:host${i}:3:nick ${i}\0group\0`, 'latin1');
    };
    const blast = (round: number): void => {
      answering.forEach((s, i) => {
        sent++;
        s.send(entry(i, round), port, '127.0.0.1');
      });
    };
    let heard = 0;
    listener.on('message', (msg) => {
      if ((Number(msg.toString('latin1').split(':')[4]) & 0xff) !== 0x01) return; // BR_ENTRY
      heard++;
      blast(heard);
    });
    // Answers that never stop: a new round of renamed entries every 200 ms, whether asked or not.
    const stream = (async () => {
      for (let round = 1000; streaming; round++) {
        blast(round);
        await sleep(200);
      }
    })();
    const waitMs = 2000;
    const started = Date.now();
    const doctor = startCli(['doctor', '--bind', '127.0.0.1', '--port', String(port), '--broadcast', '127.0.0.2', '-4', '--wait', `${waitMs}ms`, '--json'], sandbox.env);
    const peak = await peakRss(doctor.child.pid as number, doctor.done);
    const end = await doctor.done;
    const elapsedMs = Date.now() - started;
    streaming = false;
    await stream;
    const answers = jsonLines(end.stdout).find((r) => r['id'] === 'answers') as { status: string; summary: string; details: { peers: unknown[]; unlisted?: number } } | undefined;
    assert.ok(heard >= 1, 'doctor sent BR_ENTRY');
    // The stream never stops: doctor must end by its --wait anyway (the bound is generous for the checks before the probe).
    assert.ok(elapsedMs < waitMs + 30_000, `ended after ${elapsedMs} ms`);
    assert.ok(answers, `an answers check: ${end.stdout.slice(0, 500)} ${end.stderr.slice(-500)}`);
    assert.equal(answers.status, 'ok');
    assert.equal(answers.details.peers.length, PROBE_LIMITS.listed, 'the first answering peers listed, no more');
    assert.ok((answers.details.unlisted ?? 0) > 0, 'the others counted');
    assert.match(answers.summary, /more answered/);
    assert.ok(Buffer.byteLength(end.stdout) < 1024 * 1024, `stdout ${Buffer.byteLength(end.stdout)} bytes`);
    assert.ok(Buffer.byteLength(end.stderr) < 64 * 1024, `stderr ${Buffer.byteLength(end.stderr)} bytes`);
    assert.ok(peak < RSS_LIMIT_KIB, `VmRSS peak ${peak} KiB`);
    assert.ok(end.code !== null && String(end.code) in EXIT_STATUSES, `a documented exit status, got ${end.code}`);
    assert.doesNotMatch(end.stderr, /TypeError|RangeError|at .*\.js:\d+/);
    record(import.meta.url, {
      doctorAnsweringSockets: answering.length,
      doctorDatagramsSent: sent,
      doctorWaitMs: waitMs,
      doctorElapsedMs: elapsedMs,
      doctorListed: answers.details.peers.length,
      doctorUnlisted: answers.details.unlisted,
      doctorStdoutBytes: Buffer.byteLength(end.stdout),
      doctorPeakRssKiB: peak,
      doctorExit: end.code,
      peerLimit: PEER_LIMIT,
    });
  });
});

describe('a fleet send against forged acknowledgements', () => {
  test('no target is marked delivered by an acknowledgement from another address or port, or for another packet number', async () => {
    // Targets: two on one address (one silent, one answering a thousand times), one silent alone,
    // one genuine. Forgers: a socket on the shared address (another port), one on a non-target address.
    const silentShared = await bind('127.0.0.20');
    const loud = await bind('127.0.0.20');
    const silentAlone = await bind('127.0.0.21');
    const genuine = await bind('127.0.0.22');
    const forgerShared = await bind('127.0.0.20');
    const forgerElsewhere = await bind('127.0.0.23');
    const at = (s: Socket): string => `${s.address().address}:${s.address().port}`;
    const recvmsg = (ref: number): Buffer => Buffer.from(`1:${Math.floor(Math.random() * 1e9)}:forger:fh:${RECVMSG}:${ref}\0`, 'latin1');
    let forged = 0;
    const onSendMsg = (s: Socket, answer: (ref: number, to: { address: string; port: number }) => void): void => {
      s.on('message', (msg, from) => {
        const f = msg.toString('latin1').split(':');
        if ((Number(f[4]) & 0xff) === SENDMSG) answer(Number(f[1]), from);
      });
    };
    onSendMsg(genuine, (ref, to) => genuine.send(recvmsg(ref), to.port, to.address));
    onSendMsg(loud, (ref, to) => {
      for (let i = 0; i < 1000; i++) {
        loud.send(recvmsg(ref), to.port, to.address);
        forgerShared.send(recvmsg(ref), to.port, to.address);
        forgerElsewhere.send(recvmsg(ref), to.port, to.address);
        // …and for the packet numbers around it.
        forgerElsewhere.send(recvmsg(ref + 1 + (i % 8)), to.port, to.address);
        forged += 3;
      }
    });
    const targets = [silentShared, loud, silentAlone, genuine].map(at);
    const send = startCli(['send', '--no-crypto', '--json', '--bind', '127.0.0.1', '--port', String(await freePort()), '-t', '3s', '-r', '2', targets.join(','), 'hello'], sandbox.env);
    const peak = await peakRss(send.child.pid as number, send.done);
    const end = await send.done;
    const outcomes = new Map(jsonLines(end.stdout).filter((r) => r['target'] !== undefined).map((r) => [String(r['target']), r]));
    const delivered = (s: Socket): boolean => outcomes.get(at(s))?.['status'] === 'delivered';
    assert.equal(outcomes.size, 4, end.stdout + end.stderr);
    assert.equal(delivered(genuine), true, 'the genuine target');
    assert.equal(delivered(loud), true, 'the target that answers a thousand times, once');
    assert.equal(delivered(silentShared), false, 'not by its neighbour on the same address');
    assert.equal(delivered(silentAlone), false, 'not by a forger on another address');
    assert.equal(end.code, 75, 'a partial failure: no acknowledgement');
    assert.ok(peak < RSS_LIMIT_KIB);
    record(import.meta.url, { fleetForgedAcks: forged, fleetDelivered: [...outcomes.values()].filter((o) => o['status'] === 'delivered').length, fleetExit: end.code, fleetPeakRssKiB: peak });
  });
});
