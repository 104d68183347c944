#!/usr/bin/env node
// scripts/bench.js
// `npm run bench`: start-up and round-trip figures as ratios against baselines measured in the same
// run, on loopback only. Prints a table; nothing here is a test.

import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'ipmsg.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const home = mkdtempSync(join(tmpdir(), 'ipmsg-bench-'));
const env = { PATH: process.env.PATH, HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CONFIG_HOME: join(home, 'config') };

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timeRun(args, extraEnv = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

/** Runs each command RUNS times, interleaved, after one warm-up each; returns medians. */
function interleaved(commands, extraEnv) {
  for (const args of commands) timeRun(args, extraEnv);
  const samples = commands.map(() => []);
  for (let i = 0; i < RUNS; i++) commands.forEach((args, j) => samples[j].push(timeRun(args, extraEnv)));
  return samples.map(median);
}

async function freePort() {
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

function startReceiver(port) {
  const child = spawn(process.execPath, [bin, 'recv', '--bind', '127.0.0.1', '--port', String(port), '--count', '0', '-q', '-v'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('listening on UDP port')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`recv exited ${code}: ${stderr}`)));
  });
}

/** `list` against `peers` simulated peers on 127.0.0.2 that all answer BR_ENTRY at once. */
async function listBurst(peers) {
  const port = await freePort();
  const listener = createSocket('udp4');
  await new Promise((resolve) => listener.bind(port, '127.0.0.2', resolve));
  const answerers = [];
  for (let i = 0; i < peers; i++) {
    const s = createSocket('udp4');
    await new Promise((resolve) => s.bind(0, '127.0.0.2', resolve));
    answerers.push(s);
  }
  listener.on('message', (msg, from) => {
    if (!msg.toString('latin1').split(':')[4]?.match(/^\d+$/) || (Number(msg.toString('latin1').split(':')[4]) & 0xff) !== 1) return;
    answerers.forEach((s, i) => {
      const body = Buffer.from(`1:${i + 1}:peer${i}:simhost${i}:3:Peer ${i}\0bench\0`, 'latin1');
      s.send(body, from.port, from.address);
    });
  });
  const start = process.hrtime.bigint();
  // Not spawnSync: the simulated peers live in this process and must answer while list runs.
  const child = spawn(
    process.execPath,
    [bin, 'list', '--bind', '127.0.0.1', '--port', String(port), '--broadcast', '127.0.0.2', '--count', String(peers), '--wait', '10s', '--json'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const status = await new Promise((resolve) => child.on('close', resolve));
  const result = { stdout, status };
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  listener.close();
  for (const s of answerers) s.close();
  const listed = new Set(result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).port)).size;
  return { ms, listed, status: result.status };
}

const rows = [];
const node0 = ['-e', '0'];

const [baseVersion, version] = interleaved([node0, [bin, '--version']]);
rows.push(['ipmsg --version (cold)', version, 'node -e 0', baseVersion, 1.3]);

const port = await freePort();
const receiver = await startReceiver(port);
try {
  const from = await freePort();
  const sendArgs = [bin, 'send', '--bind', '127.0.0.1', '--port', String(from), `127.0.0.1:${port}`, 'bench message'];
  const [baseSend, send] = interleaved([node0, sendArgs]);
  rows.push(['ipmsg send + ack (cold)', send, 'node -e 0', baseSend, 2.0]);
  // The same without the V8 code cache that the launcher keeps (what a first run costs).
  const [baseFirst, first] = interleaved([node0, sendArgs], { IPMSG_NO_COMPILE_CACHE: '1' });
  rows.push(['ipmsg send + ack (cold, no compile cache)', first, 'node -e 0', baseFirst, 2.0]);
} finally {
  receiver.kill('SIGINT');
}

const burst = await listBurst(1000);

console.log(`ipmsg bench: medians of ${RUNS} interleaved runs, Node ${process.version}\n`);
console.log('| what | ms | baseline | ms | ratio | target |');
console.log('|---|---|---|---|---|---|');
for (const [what, ms, base, baseMs, target] of rows) {
  const ratio = ms / baseMs;
  console.log(`| ${what} | ${ms.toFixed(1)} | ${base} | ${baseMs.toFixed(1)} | ${ratio.toFixed(2)}× | ≤ ${target}× ${ratio <= target ? '✔' : '✘'} |`);
}
console.log(`\nlist with 1000 simulated peers answering at once: ${burst.listed} of 1000 listed in ${burst.ms.toFixed(0)} ms (exit ${burst.status})`);
rmSync(home, { recursive: true, force: true });
