// test/stress/scale.test.ts
// Load: `list` against 1,000 simulated peers answering at once (on 127.0.0.x, and on ::1), and `serve-dir`
// serving one folder to 20 recipients that all download it at the same time (21 namespaces on a
// private bridge).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binPath, freePort, runCli } from '../helpers/cli.js';
import { LAN_SUBNET, createLan, netnsUnavailableReason } from '../helpers/netns.js';
import { startSwarm } from '../helpers/peer-swarm.js';
import { jsonLines, record, skipUnless, startIn, stressWorkspace, treeDigest } from './support.js';

const { sandbox, root } = stressWorkspace('ipmsg-scale-');

const PEERS = 1000;

describe(`list against ${PEERS} simulated peers answering at once`, () => {
  test(`all ${PEERS} listed, none twice, also when every peer answers both BR_ENTRYs`, async (t) => {
    const swarm = await startSwarm({ address: '127.0.0.2', port: await freePort(), peers: PEERS });
    t.after(() => swarm.close());
    const args = ['list', '--bind', '127.0.0.1', '--port', String(swarm.port), '--broadcast', '127.0.0.2', '--json'];

    // As the bench measures it: until the 1000th answer.
    const started = process.hrtime.bigint();
    const counted = await runCli([...args, '--count', String(PEERS), '--wait', '20s'], sandbox.env);
    const countMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(counted.code, 0, counted.stderr);

    // A full wait of 3 s: list sends a second BR_ENTRY after 1 s, and all 1,000 answer again.
    const entriesBefore = swarm.entries;
    const waited = await runCli([...args, '--wait', '3s'], sandbox.env);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(swarm.entries - entriesBefore, 2, 'list sends BR_ENTRY twice when it waits over 2 s');

    const figures: Record<string, unknown> = { countModeMs: Math.round(countMs) };
    for (const [mode, run] of [['count', counted], ['wait3s', waited]] as const) {
      const peers = jsonLines(run.stdout).filter((p) => p['event'] === undefined); // not the end record
      const keys = peers.map((p) => `${String(p['address'])}:${String(p['port'])}`);
      const users = new Set(peers.map((p) => p['user']));
      assert.equal(peers.length, PEERS, `${mode}: ${peers.length} lines`);
      assert.equal(new Set(keys).size, PEERS, `${mode}: a peer listed twice`);
      assert.equal(users.size, PEERS, `${mode}: ${users.size} distinct users`);
      figures[`${mode}Listed`] = peers.length;
      figures[`${mode}LastAnswerMs`] = Math.max(...peers.map((p) => Number(p['answeredAfterMs'])));
    }
    record(import.meta.url, { list1000: figures });
  });
});

describe(`list against ${PEERS} simulated peers answering at once over IPv6`, () => {
  test(`all ${PEERS} listed once, each of family IPv6`, async (t) => {
    // One IPv6 loopback address: list finds the swarm's port taken, binds a free one and still
    // sends its BR_ENTRY to that port.
    const swarm = await startSwarm({ address: '::1', port: await freePort(), peers: PEERS });
    t.after(() => swarm.close());
    const run = await runCli(['list', '--bind', '::1', '--port', String(swarm.port), '--broadcast', '::1', '--json', '--count', String(PEERS), '--wait', '20s'], sandbox.env);
    assert.equal(run.code, 0, run.stderr);
    const peers = jsonLines(run.stdout).filter((p) => p['event'] === undefined);
    assert.equal(peers.length, PEERS);
    assert.equal(new Set(peers.map((p) => `${String(p['address'])}:${String(p['port'])}`)).size, PEERS, 'a peer listed twice');
    assert.deepEqual([...new Set(peers.map((p) => `${String(p['address'])} ${String(p['family'])}`))], ['::1 IPv6']);
  });
});

/** A folder of 200 files in nested folders, from empty to 2 MB, about 8 MB in all. */
function makeFolder(dir: string): void {
  for (let i = 0; i < 200; i++) {
    const sub = join(dir, `d${i % 7}`, `e${i % 3}`);
    mkdirSync(sub, { recursive: true });
    const size = i === 0 ? 0 : i % 50 === 0 ? 2_000_000 : (i * 7919) % 40_000;
    writeFileSync(join(sub, `file ${i}.bin`), randomBytes(size));
  }
  mkdirSync(join(dir, 'empty'));
}

const skipLan = skipUnless(netnsUnavailableReason());
const RECIPIENTS = 20;

describe(`serve-dir to ${RECIPIENTS} recipients downloading at once`, { skip: skipLan }, () => {
  test(`all ${RECIPIENTS} copies byte-identical`, async (t) => {
    const lan = await createLan(RECIPIENTS + 1);
    t.after(() => lan.destroy());
    const src = join(root, 'shared');
    makeFolder(src);
    const expected = treeDigest(src);
    const receivers = Array.from({ length: RECIPIENTS }, (_, i) => {
      const dir = join(root, `copy${i + 1}`);
      mkdirSync(dir);
      return { dir, run: startIn(lan, i + 1, ['recv', '--user', `r${i + 1}`, '--save', dir, '--json', '-v', '--timeout', '2m'], sandbox.env) };
    });
    await Promise.all(receivers.map((r) => r.run.waitFor('listening on UDP port 2425', 30_000)));
    const targets = receivers.map((_, i) => `${LAN_SUBNET}.${i + 2}`);
    const started = Date.now();
    const serve = await lan.run(0, process.execPath, [binPath, 'serve-dir', src, 'for everybody', '--to', targets.join(','), '--timeout', '2m', '--json', '--user', 'server'], {
      env: sandbox.env,
      timeoutMs: 180_000,
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(serve.code, 0, serve.stderr);
    const fetched = jsonLines(serve.stdout).filter((e) => e['event'] === 'fetched');
    assert.deepEqual(fetched.map((e) => e['by']).sort(), [...targets].sort());
    for (const r of receivers) {
      const done = await r.run.done;
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual(readdirSync(r.dir), ['shared']);
      assert.deepEqual(treeDigest(join(r.dir, 'shared')), expected, `${r.dir} differs`);
    }
    const bytes = fetched.reduce((n, e) => n + Number(e['bytes']), 0);
    record(import.meta.url, { serveDir20: { recipients: RECIPIENTS, identical: RECIPIENTS, files: 200, bytesServed: bytes, seconds: Number(seconds.toFixed(1)) } });
  });
});
