#!/usr/bin/env node
// scripts/bench.js
// `npm run bench`: start-up and round-trip figures as ratios against baselines measured in the same
// run, on loopback; as root, also a file copy between two network namespaces of its own over a
// link shaped to 1 Gbit/s. Prints a table; nothing here is a test.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cipherInPlace, createFileStreamCipher } from '../dist/crypto/file-crypto.js';
import { encodeHostList } from '../dist/protocol/host-list.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'ipmsg.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const FILE_ROUNDS = Number(process.env.BENCH_FILE_ROUNDS ?? 3);
/** BENCH_ONLY=small-files runs only the 10,000-small-files row (to compare two builds quickly). */
const ONLY_SMALL_FILES = process.env.BENCH_ONLY === 'small-files';
/** BENCH_ONLY=list runs only the `list` rows with 1,000 simulated peers (IPv4 and IPv6). */
const ONLY_LIST = process.env.BENCH_ONLY === 'list';
/** BENCH_ONLY=fleet runs only the row of one `send` to 1,000 simulated peers. */
const ONLY_FLEET = process.env.BENCH_ONLY === 'fleet';
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

/**
 * `list` against `peers` simulated peers that all answer BR_ENTRY at once: on 127.0.0.2, or over
 * IPv6 on ::1 (one loopback address: list finds the port taken by the peers' listener, binds a
 * free one and still sends its BR_ENTRY to that port).
 */
async function listBurst(peers, family = 'IPv4') {
  const v6 = family === 'IPv6';
  const peerAddress = v6 ? '::1' : '127.0.0.2';
  const port = await freePort();
  const listener = createSocket(v6 ? 'udp6' : 'udp4');
  await new Promise((resolve) => listener.bind(port, peerAddress, resolve));
  const answerers = [];
  for (let i = 0; i < peers; i++) {
    const s = createSocket(v6 ? 'udp6' : 'udp4');
    await new Promise((resolve) => s.bind(0, peerAddress, resolve));
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
    [bin, 'list', '--bind', v6 ? '::1' : '127.0.0.1', '--port', String(port), '--broadcast', peerAddress, '--count', String(peers), '--wait', '10s', '--json'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const status = await new Promise((resolve) => child.on('close', resolve));
  const result = { stdout, status };
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  listener.close();
  for (const s of answerers) s.close();
  // Every line is one peer (but the end record every --json run closes with): all `peers` must be there, none twice.
  const lines = result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((p) => p.event === undefined);
  const listed = new Set(lines.map((p) => `${p.address}:${p.port}`)).size;
  const families = new Set(lines.map((p) => p.family));
  return { family, ms, lines: lines.length, listed, twice: lines.length - listed, status: result.status, familyOk: families.size === 1 && families.has(family) };
}

/**
 * Simulated peers on 127.0.0.2, each on a port of its own, that acknowledge every SENDMSG with
 * RECVMSG from that port (as a real peer answers from its one socket).
 */
async function ackingPeers(count) {
  const sockets = [];
  const state = { messages: 0 };
  for (let i = 0; i < count; i++) {
    const s = createSocket('udp4');
    await new Promise((resolve) => s.bind(0, '127.0.0.2', resolve));
    s.on('message', (msg, from) => {
      const fields = msg.toString('latin1').split(':');
      if ((Number(fields[4]) & 0xff) !== 0x20) return; // SENDMSG
      state.messages++;
      s.send(Buffer.from(`1:${i + 1}:peer${i}:simhost${i}:33:${fields[1]}\0`, 'latin1'), from.port, from.address);
    });
    sockets.push(s);
  }
  return {
    targets: sockets.map((s) => `127.0.0.2:${s.address().port}`),
    get messages() {
      return state.messages;
    },
    close: () => Promise.all(sockets.map((s) => new Promise((resolve) => s.close(resolve)))),
  };
}

/** Spawns `args` (the peers answer in this process meanwhile); its time, exit status and --json records. */
async function timeSpawned(args) {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const status = await new Promise((resolve) => child.on('close', resolve));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const records = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.event === undefined);
  return { ms, status, records, stderr };
}

/**
 * One `send --to` 1,000 simulated peers against one `send` to one of them, interleaved, RUNS times
 * each after a warm-up (plain, --no-crypto, as the send + ack row). All must acknowledge every time.
 */
async function fleetSend(count) {
  const peers = await ackingPeers(count);
  const port = await freePort();
  const send = (targets) => [bin, 'send', '--bind', '127.0.0.1', '--port', String(port), '--no-crypto', '--json', '--to', targets.join(','), 'bench message'];
  const one = send(peers.targets.slice(0, 1));
  const all = send(peers.targets);
  const times = { one: [], all: [] };
  let acknowledged = count;
  let runs = 0;
  try {
    for (let i = 0; i <= RUNS; i++) {
      for (const [kind, args] of [['one', one], ['all', all]]) {
        const run = await timeSpawned(args);
        const delivered = run.records.filter((r) => r.status === 'delivered').length;
        if (kind === 'all') acknowledged = Math.min(acknowledged, run.status === 0 ? delivered : Math.min(delivered, count - 1));
        if (run.status !== 0 && kind === 'one') throw new Error(`send exited ${run.status}: ${run.stderr}`);
        if (i > 0) times[kind].push(run.ms); // the first round warms up
      }
      runs++;
    }
  } finally {
    await peers.close();
  }
  return { count, ms: median(times.all), baseMs: median(times.one), acknowledged, runs: runs - 1 };
}

/**
 * `list --via` a simulated peer on 127.0.0.2 whose host list holds `hosts` hosts (on 127.1.x.y,
 * never sent to), served `perPage` to an ANSLIST as the official pages it (§3.4).
 */
async function listVia(hosts, perPage) {
  const port = await freePort();
  const lister = createSocket('udp4');
  await new Promise((resolve) => lister.bind(0, '127.0.0.2', resolve));
  const entries = Array.from({ length: hosts }, (_, i) => ({
    user: `user${i}`, host: `host${i}`, status: 0x01200000, address: `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 2425, nick: `Nick ${i}`, group: 'bench',
  }));
  let pages = 0;
  lister.on('message', (msg, from) => {
    const fields = msg.toString('latin1').split('\0')[0].split(':');
    if ((Number(fields[4]) & 0xff) !== 0x12) return; // GETLIST
    pages++;
    const start = Number(fields[5] || 0);
    const next = start + perPage < hosts ? start + perPage : 0;
    const body = encodeHostList({ next, hosts: entries.slice(start, start + perPage) });
    lister.send(Buffer.from(`1:${pages}:lister:LISTHOST:19:${body}\0`, 'utf8'), from.port, from.address);
  });
  const start = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [bin, 'list', '--bind', '127.0.0.1', '--port', String(port), '--broadcast', '127.0.0.2', '--via', `127.0.0.2:${lister.address().port}`, '--wait', '1s', '--json'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const status = await new Promise((resolve) => child.on('close', resolve));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  lister.close();
  const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((p) => typeof p.via === 'string');
  const listed = new Set(lines.map((p) => `${p.address}:${p.port}`)).size;
  return { ms, listed, twice: lines.length - listed, pages, status };
}

/** /usr/bin/time's format for usage(): peak RSS in kB, then user and system CPU seconds. */
const USAGE_FORMAT = '%M %U %S';

/** The peak RSS (MB) and CPU seconds (user + system) that USAGE_FORMAT left on the last line of `stderr`. */
function usage(stderr) {
  const [kb, user, system] = stderr.trim().split('\n').pop().split(' ').map(Number);
  return { rssMb: kb / 1024, cpu: user + system };
}

/** `[command, args]` for spawn() from one argument list. */
function commandOf(list) {
  return [list[0], list.slice(1)];
}

/**
 * Runs `command` under /usr/bin/time (after the `run` prefix, such as `ip netns exec NS`); resolves
 * with its end time, peak RSS and CPU seconds.
 */
function timed(command, args, options = {}, run = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(...commandOf([...run, '/usr/bin/time', '-f', USAGE_FORMAT, command, ...args]), { env, stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ end: process.hrtime.bigint(), ...usage(stderr) });
    });
  });
}

function waitForPort(port) {
  return new Promise((resolve) => {
    const attempt = () => {
      const s = connectTcp({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => setTimeout(attempt, 20));
    };
    attempt();
  });
}

async function ncCopy(sendShell, receiveShell) {
  const port = await freePort();
  const receiver = timed('sh', ['-c', receiveShell(port)]);
  await new Promise((r) => setTimeout(r, 200));
  const start = process.hrtime.bigint();
  await timed('sh', ['-c', sendShell(port)]);
  const { end } = await receiver;
  return Number(end - start) / 1e6;
}

/** Both ends on loopback, each on a free port. */
async function loopback() {
  return { sender: { run: [], address: '127.0.0.1', port: await freePort() }, receiver: { run: [], address: '127.0.0.1', port: await freePort() } };
}

/**
 * `encrypted`: both ends with keys (the default), §5.6; otherwise the sender runs --no-crypto
 * (no keys, plain requests). `ends`: where each end runs (`run`: a command prefix) and listens.
 */
async function ipmsgCopy(path, into, encrypted = false, ends = undefined) {
  const { sender: from, receiver: to } = ends ?? (await loopback());
  // --linger 0: the copy is timed until recv exits, and the 2 s it waits for resends is no transfer.
  const recvArgs = ['/usr/bin/time', '-f', USAGE_FORMAT, process.execPath, bin, 'recv', '--bind', to.address, '--port', String(to.port), '--save', into, '-q', '-v', '--timeout', '10m', '--linger', '0'];
  const receiver = spawn(...commandOf([...to.run, ...recvArgs]), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let recvErr = '';
  const ready = new Promise((resolve) => receiver.stderr.on('data', (d) => { recvErr += d; if (recvErr.includes('listening')) resolve(); }));
  const recvDone = new Promise((resolve) => receiver.on('close', (code) => resolve({ code, end: process.hrtime.bigint(), ...usage(recvErr) })));
  await ready;
  const start = process.hrtime.bigint();
  // Plain rows (issue 3) send with --no-crypto: the sender has no keys and the stream goes in clear.
  const sendArgs = [bin, 'send', '--bind', from.address, '--port', String(from.port), `${to.address}:${to.port}`, '--file', path, '-q', ...(encrypted ? [] : ['--no-crypto'])];
  const sender = await timed(process.execPath, sendArgs, {}, from.run);
  const received = await recvDone;
  if (received.code !== 0) throw new Error(`recv exited ${received.code}: ${recvErr}`);
  return {
    ms: Number((received.end > sender.end ? received.end : sender.end) - start) / 1e6,
    rss: `${sender.rssMb.toFixed(0)} / ${received.rssMb.toFixed(0)} MB`,
    cpu: sender.cpu + received.cpu,
  };
}

/**
 * Two network namespaces joined by a veth pair shaped to 1 Gbit/s each way, addresses only they
 * have (10.249.0.1 and .2): a copy at LAN speed, where each end's limit is the link and not the
 * other end's CPU. Needs root and iproute2; `{ reason }` without them.
 */
function gigabitLink() {
  const names = [`ipmsg-bench-${process.pid}-a`, `ipmsg-bench-${process.pid}-b`];
  const run = (command, ...args) => execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const remove = () => {
    for (const name of names) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  };
  try {
    for (const name of names) run('ip', 'netns', 'add', name);
    run('ip', '-n', names[0], 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', names[1]);
    names.forEach((name, i) => {
      run('ip', '-n', name, 'addr', 'add', `10.249.0.${i + 1}/24`, 'dev', `v${i}`);
      run('ip', '-n', name, 'link', 'set', 'lo', 'up');
      run('ip', '-n', name, 'link', 'set', `v${i}`, 'up');
      run('tc', '-n', name, 'qdisc', 'add', 'dev', `v${i}`, 'root', 'tbf', 'rate', '1gbit', 'burst', '256kb', 'latency', '10ms');
    });
  } catch (error) {
    remove();
    return { reason: String(error.stderr || error.message).trim().split('\n')[0] };
  }
  const end = (i) => ({ run: ['ip', 'netns', 'exec', names[i]], address: `10.249.0.${i + 1}`, port: 2425 });
  return { ends: { sender: end(0), receiver: end(1) }, remove };
}

/** Received copies go to a tmpfs when there is one: the disk's writeback timing would otherwise decide the ratios. */
function outputRoot() {
  try {
    return mkdtempSync(join('/dev/shm', 'ipmsg-bench-'));
  } catch {
    return mkdtempSync(join(tmpdir(), 'ipmsg-bench-out-'));
  }
}

/**
 * CPU seconds that ipmsg's AES-256-CTR (cipherInPlace: node:crypto's Cipher.update in slices)
 * takes for 1 GiB held in a 1 MiB buffer, as each end of a transfer does; median of 3.
 */
function cipherCpuPerGiB() {
  const buffer = randomFillSync(Buffer.alloc(1 << 20));
  const runs = [];
  for (let run = 0; run < 3; run++) {
    const cipher = createFileStreamCipher(randomBytes(32), 1);
    const before = process.cpuUsage();
    for (let mib = 0; mib < 1024; mib++) cipherInPlace(cipher, buffer);
    const used = process.cpuUsage(before);
    runs.push((used.user + used.system) / 1e6);
  }
  return median(runs);
}

async function fileBenches() {
  const work = mkdtempSync(join(tmpdir(), 'ipmsg-bench-files-'));
  const outputs = outputRoot();
  const out = [];
  try {
    if (!ONLY_SMALL_FILES) out.push(...(await bigFileBenches(work, outputs)));
    out.push(await smallFilesBench(work, outputs));
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(outputs, { recursive: true, force: true });
  }
  return out;
}

async function bigFileBenches(work, outputs) {
  const out = [];
  // One 1 GiB file of random bytes.
  const big = join(work, 'big.bin');
  const fd = openSync(big, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < 1024; i++) writeSync(fd, randomFillSync(block));
  closeSync(fd);
  spawnSync('sync');
  const ncTimes = [];
  const ourTimes = [];
  const encryptedTimes = [];
  const ourCpu = [];
  const encryptedCpu = [];
  let rss = '';
  let encryptedRss = '';
  for (let round = 0; round < FILE_ROUNDS; round++) {
    const ncDir = join(outputs, `nc-${round}`);
    mkdirSync(ncDir);
    ncTimes.push(await ncCopy((p) => `nc -N 127.0.0.1 ${p} < ${big}`, (p) => `nc -l 127.0.0.1 ${p} > ${join(ncDir, 'big.bin')}`));
    rmSync(ncDir, { recursive: true });
    const into = join(outputs, `ipmsg-${round}`);
    mkdirSync(into);
    const ours = await ipmsgCopy(big, into);
    ourTimes.push(ours.ms);
    ourCpu.push(ours.cpu);
    rss = ours.rss;
    rmSync(into, { recursive: true });
    const encryptedInto = join(outputs, `ipmsg-enc-${round}`);
    mkdirSync(encryptedInto);
    const encrypted = await ipmsgCopy(big, encryptedInto, true);
    encryptedTimes.push(encrypted.ms);
    encryptedCpu.push(encrypted.cpu);
    encryptedRss = encrypted.rss;
    rmSync(encryptedInto, { recursive: true });
  }
  out.push({ what: `one 1 GiB file, send --file → recv --save, plain (median of ${FILE_ROUNDS})`, ms: median(ourTimes), base: 'nc → file', baseMs: median(ncTimes), target: 1.2, rss });
  // Encrypted (§5.6): signed request, AES-256-CTR stream. Throughput ≥ 0.7× plain ⇔ time ≤ 1/0.7 = 1.43× plain.
  out.push({
    what: `the same, encrypted (AES-256-CTR; median of ${FILE_ROUNDS})`,
    ms: median(encryptedTimes),
    base: 'the same, plain',
    baseMs: median(ourTimes),
    target: 1.43,
    rss: encryptedRss,
    cpu: { plain: median(ourCpu), encrypted: median(encryptedCpu), cipher: cipherCpuPerGiB() },
  });
  const link = gigabitLink();
  if (link.ends) {
    const rounds = Math.min(FILE_ROUNDS, 3);
    const times = { plain: [], encrypted: [] };
    try {
      for (let round = 0; round < rounds; round++) {
        for (const kind of ['plain', 'encrypted']) {
          const into = join(outputs, `link-${kind}-${round}`);
          mkdirSync(into);
          times[kind].push((await ipmsgCopy(big, into, kind === 'encrypted', link.ends)).ms);
          rmSync(into, { recursive: true });
        }
      }
    } finally {
      link.remove();
    }
    out.push({ what: `the same over a 1 Gbit/s link (two network namespaces), encrypted (median of ${rounds})`, ms: median(times.encrypted), base: 'the same link, plain', baseMs: median(times.plain) });
  } else {
    console.error(`bench: no 1 Gbit/s link row (${link.reason})`);
  }
  rmSync(big);
  rmSync(outputs, { recursive: true, force: true });
  mkdirSync(outputs);
  return out;
}

async function smallFilesBench(work, outputs) {
  // 10,000 files of 4 KiB in 20 folders.
  const tree = join(work, 'tree');
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(tree, `d${d}`), { recursive: true });
    for (let f = 0; f < 500; f++) writeFileSync(join(tree, `d${d}`, `f${f}.dat`), randomFillSync(Buffer.alloc(4096)));
  }
  spawnSync('sync');
  const tarTimes = [];
  const treeTimes = [];
  let treeRss = '';
  for (let round = 0; round < FILE_ROUNDS; round++) {
    const tarDir = join(outputs, `tar-${round}`);
    mkdirSync(tarDir);
    tarTimes.push(await ncCopy((p) => `tar cf - -C ${work} tree | nc -N 127.0.0.1 ${p}`, (p) => `nc -l 127.0.0.1 ${p} | tar xf - -C ${tarDir}`));
    const into = join(outputs, `tree-${round}`);
    mkdirSync(into);
    const ours = await ipmsgCopy(tree, into);
    treeTimes.push(ours.ms);
    treeRss = ours.rss;
  }
  return { what: `10,000 × 4 KiB files in 20 folders, plain (median of ${FILE_ROUNDS})`, ms: median(treeTimes), base: 'tar → nc → tar', baseMs: median(tarTimes), target: 2.0, rss: treeRss };
}

const rows = [];
const node0 = ['-e', '0'];
let via;
const bursts = [];
let fleet;
if (ONLY_LIST) bursts.push(await listBurst(1000), await listBurst(1000, 'IPv6'));
else if (ONLY_FLEET) fleet = await fleetSend(1000);
else if (!ONLY_SMALL_FILES) {
  const [baseVersion, version] = interleaved([node0, [bin, '--version']]);
  rows.push(['ipmsg --version (cold)', version, 'node -e 0', baseVersion, 1.3]);

  const port = await freePort();
  const receiver = await startReceiver(port);
  try {
    const from = await freePort();
    const sendArgs = [bin, 'send', '--bind', '127.0.0.1', '--port', String(from), `127.0.0.1:${port}`, 'bench message', '--no-crypto'];
    const [baseSend, send] = interleaved([node0, sendArgs]);
    rows.push(['ipmsg send + ack, plain (--no-crypto, cold)', send, 'node -e 0', baseSend, 2.0]);
    // Encrypted (the default): GETPUBKEY/ANSPUBKEY, RSA-2048 + AES-256 + SHA-256 signature, decrypt
    // and verify at the receiver. Keys exist already (made once, by the receiver's first run).
    const encryptedArgs = sendArgs.slice(0, -1);
    const [plainAgain, encrypted] = interleaved([sendArgs, encryptedArgs]);
    rows.push(['ipmsg send + ack, encrypted (default, cold)', encrypted, 'the same, plain', plainAgain, 1.3]);
    // The same without the V8 code cache that the launcher keeps (what a first run costs).
    const [baseFirst, first] = interleaved([node0, sendArgs], { IPMSG_NO_COMPILE_CACHE: '1' });
    // No target: what a first run costs, for comparison only.
    rows.push(['ipmsg send + ack (cold, no compile cache)', first, 'node -e 0', baseFirst, undefined]);
  } finally {
    receiver.kill('SIGINT');
  }
  bursts.push(await listBurst(1000), await listBurst(1000, 'IPv6'));
  via = await listVia(1000, 300);
  fleet = await fleetSend(1000);
}
const transfers = process.env.BENCH_SKIP_FILES || ONLY_LIST || ONLY_FLEET ? [] : await fileBenches();

console.log(`ipmsg bench: medians of ${RUNS} interleaved runs, Node ${process.version}\n`);
console.log('| what | ms | baseline | ms | ratio | target |');
console.log('|---|---|---|---|---|---|');
for (const [what, ms, base, baseMs, target] of rows) {
  const ratio = ms / baseMs;
  const verdict = target === undefined ? '' : `≤ ${target}× ${ratio <= target ? '✔' : '✘'}`;
  console.log(`| ${what} | ${ms.toFixed(1)} | ${base} | ${baseMs.toFixed(1)} | ${ratio.toFixed(2)}× | ${verdict} |`);
}
for (const burst of bursts) console.log(
  `${burst === bursts[0] ? '\n' : ''}list with 1000 simulated peers answering at once over ${burst.family}: ${burst.listed} of 1000 listed, ${burst.twice} twice, in ${burst.ms.toFixed(0)} ms (exit ${burst.status}) ${burst.listed === 1000 && burst.twice === 0 && burst.status === 0 && burst.familyOk ? '✔' : '✘'}`,
);
if (via) console.log(
  `list --via a peer whose host list holds 1000 hosts (${via.pages} pages): ${via.listed} of 1000 listed, ${via.twice} twice, in ${via.ms.toFixed(0)} ms with --wait 1s (exit ${via.status}) ${via.listed === 1000 && via.twice === 0 && via.status === 0 ? '✔' : '✘'}`,
);
if (fleet) {
  const ratio = fleet.ms / fleet.baseMs;
  const all = fleet.acknowledged === fleet.count;
  console.log(
    `send to ${fleet.count} simulated peers (all acked), plain: ${fleet.ms.toFixed(0)} ms against ${fleet.baseMs.toFixed(0)} ms for one send + ack (medians of ${fleet.runs}): ` +
      `${ratio.toFixed(2)}× (target ≤ 3×), ${all ? `all ${fleet.count} acknowledged every time` : `only ${fleet.acknowledged} of ${fleet.count} acknowledged in the worst run`} ${ratio <= 3 && all ? '✔' : '✘'}`,
  );
}
if (transfers.length > 0) {
  console.log('\n| file transfer (loopback unless said) | ipmsg ms | baseline | baseline ms | ratio | target | peak RSS send / recv |');
  console.log('|---|---|---|---|---|---|---|');
  for (const t of transfers) {
    const ratio = t.ms / t.baseMs;
    const verdict = t.target === undefined ? '' : `≤ ${t.target}× ${ratio <= t.target ? '✔' : '✘'}`;
    console.log(`| ${t.what} | ${t.ms.toFixed(0)} | ${t.base} | ${t.baseMs.toFixed(0)} | ${ratio.toFixed(2)}× | ${verdict} | ${t.rss ?? ''} |`);
  }
  const [plain, encrypted] = [transfers[0], transfers[1]];
  const link = transfers.find((t) => t.base === 'the same link, plain');
  if (plain && encrypted) {
    console.log(`\nencrypted file throughput: ${(plain.ms / encrypted.ms).toFixed(2)}× plain (target ≥ 0.7×)`);
    // Both processes share this machine's cores, so the transfers are bound by their total CPU time:
    // the encrypted one needs at least the plain one's plus the cipher on each side.
    const { plain: p, encrypted: e, cipher: c } = encrypted.cpu;
    const cores = availableParallelism();
    console.log(
      `CPU seconds, both processes: plain ${p.toFixed(2)}, encrypted ${e.toFixed(2)}; the cipher alone ${c.toFixed(2)} per GiB and side.` +
        ` So an encrypted copy needs at least ${(p + 2 * c).toFixed(2)} CPU-seconds: ${(p / (p + 2 * c)).toFixed(2)}× plain at the plain run's use of the cores,` +
        ` at best ${(plain.ms / 1000 / ((p + 2 * c) / cores)).toFixed(2)}× with all ${cores} busy throughout`,
    );
  }
  if (link) console.log(`over a 1 Gbit/s link: ${(link.baseMs / link.ms).toFixed(2)}× plain`);
}
rmSync(home, { recursive: true, force: true });
