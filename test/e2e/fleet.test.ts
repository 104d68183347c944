// test/e2e/fleet.test.ts
// The built CLI sending one message to 200 simulated peers on loopback (127.0.0.2, a port each),
// some of which never answer: a record or line per target, the exit status, the summary on stderr.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, jsonLines, makeSandbox, ndjson, runCli } from '../helpers/cli.js';
import { startAckSwarm } from '../helpers/peer-swarm.js';

const sandbox = makeSandbox();
after(() => sandbox.cleanup());

const PEERS = 200;
/** 13 of the 200 never answer (0, 16, …, 192). */
const silent = (i: number): boolean => i % 16 === 0;

async function send(targets: readonly string[], extra: readonly string[]) {
  const port = await freePort();
  return runCli(['send', '--bind', '127.0.0.1', '--port', String(port), '--timeout', '1s', '--retries', '1', '--to', targets.join(','), ...extra, 'to the fleet'], sandbox.env);
}

describe('send to a fleet of 200 peers', () => {
  test('--json: one record per target in order, the silent ones failed after every try; exit 75 and a bounded summary', async () => {
    const swarm = await startAckSwarm({ address: '127.0.0.2', peers: PEERS, silent });
    try {
      const run = await send(swarm.targets, ['--json', '--no-crypto']);
      assert.equal(run.code, 75, run.stderr);
      const records = jsonLines(run.stdout);
      assert.equal(records.length, PEERS);
      records.forEach((r, i) => {
        assert.equal(r['target'], swarm.targets[i]);
        if (silent(i)) {
          assert.equal(r['status'], 'failed');
          assert.equal(r['code'], 'IPMSG_ERR_NO_ACK');
          assert.equal(r['attempts'], 2);
          assert.equal(swarm.received[i], 2, `silent peer ${i} got both tries`);
        } else {
          assert.equal(r['status'], 'delivered', `peer ${i}: ${String(r['error'])}`);
        }
      });
      assert.equal(new Set(records.map((r) => r['packetNo'])).size, 1, 'one packet number');
      const end = ndjson(run.stdout).at(-1);
      assert.equal(end?.['exit'], 75);
      const named = swarm.targets.filter((_, i) => silent(i)).slice(0, 10).join(', ');
      assert.match(run.stderr, new RegExp(`^ipmsg: delivered to 187 of 200; not delivered: ${named.replace(/\./g, '\\.')} and 3 more \\(No acknowledgement from 127\\.0\\.0\\.2:\\d+ after 2 tries in 1s\\)\\n$`));
    } finally {
      await swarm.close();
    }
  });

  test('human output: a line per target, the failures with their reason', async () => {
    const swarm = await startAckSwarm({ address: '127.0.0.2', peers: PEERS, silent });
    try {
      const run = await send(swarm.targets, ['--no-crypto']);
      assert.equal(run.code, 75, run.stderr);
      const lines = run.stdout.trimEnd().split('\n');
      assert.equal(lines.length, PEERS);
      lines.forEach((line, i) => {
        assert.equal(line, silent(i) ? `not delivered to ${swarm.targets[i]} (no acknowledgement after 2 tries)` : `delivered to ${swarm.targets[i]}`);
      });
    } finally {
      await swarm.close();
    }
  });

  test('with keys (--encrypt auto): peers that send no key get plain text, all acknowledged, exit 0, no warning', async () => {
    const swarm = await startAckSwarm({ address: '127.0.0.2', peers: 100 });
    try {
      const run = await send(swarm.targets, ['--json']);
      assert.equal(run.code, 0, run.stderr);
      const records = jsonLines(run.stdout);
      assert.equal(records.length, 100);
      assert.ok(records.every((r) => r['status'] === 'delivered' && r['encrypted'] === false));
      assert.doesNotMatch(run.stderr, /MaxListeners|Warning/);
    } finally {
      await swarm.close();
    }
  });

  test('an alias that names all 200 peers (in two nested aliases) reaches each of them', async () => {
    const swarm = await startAckSwarm({ address: '127.0.0.2', peers: PEERS });
    try {
      const file = join(sandbox.dir, 'fleet-config.json');
      const half = PEERS / 2;
      writeFileSync(file, JSON.stringify({ aliases: { east: swarm.targets.slice(0, half).join(','), west: swarm.targets.slice(half).join(','), fleet: 'east,west' } }));
      const port = await freePort();
      const run = await runCli(['send', '--bind', '127.0.0.1', '--port', String(port), '--no-crypto', '--json', '--to', 'fleet', 'by alias'], { ...sandbox.env, IPMSG_CONFIG: file });
      assert.equal(run.code, 0, run.stderr);
      const records = jsonLines(run.stdout);
      assert.deepEqual(records.map((r) => r['target']), swarm.targets);
      assert.ok(records.every((r) => r['status'] === 'delivered'));
      assert.ok(swarm.received.every((n) => n >= 1));
    } finally {
      await swarm.close();
    }
  });

  test('more than 10,000 targets is a usage error (exit 64) before anything is sent', async () => {
    const chunks = Array.from({ length: 11 }, (_, c) => Array.from({ length: c === 10 ? 1 : 1000 }, (_, i) => `127.0.0.2:${1 + c * 1000 + i}`).join(','));
    const run = await runCli(['send', '--bind', '127.0.0.1', '--port', String(await freePort()), '--no-crypto', ...chunks.flatMap((c) => ['--to', c]), 'hi'], sandbox.env);
    assert.equal(run.code, 64, run.stderr);
    assert.equal(run.stderr, 'ipmsg: Too many targets: 10001 (one send takes at most 10000)\n');
  });
});
