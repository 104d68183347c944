// test/stress/run-output.test.ts
// `ipmsg run` wrapping commands whose output is hostile to a tail: one 1 GiB line without a line
// end, a torrent of carriage-return redraws, random bytes (invalid UTF-8, escape sequences), and a
// command that closes its stdout early and keeps running. run's memory must stay bounded (it keeps
// a 16 KiB tail), and the message it sends must be well-formed: valid UTF-8, no control characters
// but the tab and the line end, within one datagram, saying how the command ended.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { binPath } from '../helpers/cli.js';
import { MAX_UDP_PAYLOAD } from '../helpers/fuzz-datagrams.js';
import { bindUdpSocket } from '../helpers/udp-relay.js';
import { DEFAULT_TAIL_BYTES } from '../../src/workflows/output-tail.js';
import { RECVMSG, SENDMSG } from './hostile-peers.js';
import { record, rssKiB, sleep, stressWorkspace } from './support.js';

const { sandbox } = stressWorkspace('ipmsg-run-');
/** A Node process of ~50 MB; a run that kept its output would pass 1 GiB. */
const RSS_LIMIT_KIB = 150 * 1024;

/** A peer on 127.0.0.1 that acknowledges every message and keeps its raw bytes. */
async function inbox(): Promise<{ socket: Socket; messages: Buffer[] }> {
  const socket = await bindUdpSocket('127.0.0.1', 0);
  const messages: Buffer[] = [];
  socket.on('message', (msg, from) => {
    const fields = msg.toString('latin1').split(':');
    if ((Number(fields[4]) & 0xff) !== SENDMSG) return;
    messages.push(msg);
    socket.send(Buffer.from(`1:1:inbox:ibhost:${RECVMSG}:${fields[1]}\0`), from.port, from.address);
  });
  return { socket, messages };
}

/** run with its output thrown away (a 1 GiB line is not for this process to hold); its peak VmRSS. */
async function wrap(port: number, script: string): Promise<{ code: number | null; stderr: string; peakKiB: number }> {
  const child = spawn(process.execPath, [binPath, 'run', '--no-crypto', '--to', `127.0.0.1:${port}`, '--', 'sh', '-c', script], { env: sandbox.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 64 * 1024)));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let over = false;
  void done.then(() => (over = true));
  let peakKiB = 0;
  while (!over) {
    peakKiB = Math.max(peakKiB, rssKiB(child.pid as number) ?? 0);
    await sleep(50);
  }
  return { code: await done, stderr, peakKiB };
}

/** The text of a SENDMSG: between the fifth colon and the NUL. */
function textOf(datagram: Buffer): Buffer {
  let colons = 0;
  let start = 0;
  for (let i = 0; i < datagram.length && colons < 5; i++) if (datagram[i] === 0x3a && ++colons === 5) start = i + 1;
  const end = datagram.indexOf(0, start);
  return datagram.subarray(start, end < 0 ? datagram.length : end);
}

const sockets: Socket[] = [];
after(() => sockets.forEach((s) => s.close()));

describe('ipmsg run with output hostile to its tail', () => {
  const cases = [
    { name: 'one 1 GiB line without a line end', key: 'gibLine', script: "head -c 1073741824 /dev/zero | tr '\\0' a", exit: 0, shows: /aaaa/ },
    { name: 'two million carriage-return redraws', key: 'redraws', script: "awk 'BEGIN { for (i = 0; i < 2000000; i++) printf \"\\rprogress %d\", i }'", exit: 0, shows: /progress 1999999/ },
    { name: '64 MiB of random bytes (invalid UTF-8, escape sequences)', key: 'random', script: 'head -c 67108864 /dev/urandom; exit 4', exit: 4, shows: /4/ },
    { name: 'stdout closed early, still running', key: 'closedEarly', script: 'echo first; exec 1>&-; sleep 1; echo still here >&2; exit 3', exit: 3, shows: /3/ },
  ];
  for (const c of cases) {
    test(`${c.name}: bounded memory, a well-formed message`, async () => {
      const box = await inbox();
      sockets.push(box.socket);
      const run = await wrap(box.socket.address().port, c.script);
      assert.equal(run.code, c.exit, `run exits with the command's status: ${run.stderr.slice(-500)}`);
      assert.equal(box.messages.length >= 1, true, 'the message arrived');
      const datagram = box.messages[0] as Buffer;
      const text = textOf(datagram);
      assert.ok(datagram.length <= MAX_UDP_PAYLOAD);
      const decoded = new TextDecoder('utf-8', { fatal: true }).decode(text); // throws on invalid UTF-8
      assert.doesNotMatch(decoded, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control characters but tab and line end');
      assert.match(decoded, c.shows);
      assert.ok(run.peakKiB < RSS_LIMIT_KIB, `VmRSS peak ${run.peakKiB} KiB`);
      if (c.key === 'closedEarly') assert.match(run.stderr, /still here/, 'run waited for the command to end');
      record(import.meta.url, { [`run_${c.key}`]: { peakRssKiB: run.peakKiB, messageBytes: datagram.length, tailBytes: DEFAULT_TAIL_BYTES } });
    });
  }
});
