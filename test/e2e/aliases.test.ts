// test/e2e/aliases.test.ts
// Aliases from the config file, end to end on 127.0.0.1: send by alias (nested, and in --to lists)
// reaches the real recv behind it, recv --from takes an alias, a cycle is exit 64 before any
// packet, and `ipmsg aliases` lists them.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, jsonLines, local, makeSandbox, ndjson, runCli, type Running, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
after(() => sandbox.cleanup());
let configs = 0;

/** The sandbox's environment with a config file holding `aliases`. */
function withAliases(aliases: unknown): NodeJS.ProcessEnv {
  const file = join(sandbox.dir, `config${++configs}.json`);
  writeFileSync(file, JSON.stringify({ aliases }));
  return { ...sandbox.env, IPMSG_CONFIG: file };
}

async function startRecv(env: NodeJS.ProcessEnv, extra: readonly string[] = []): Promise<{ port: number; recv: Running }> {
  const port = await freePort();
  const recv = startCli(['recv', ...local(port), '-v', '--json', '--timeout', '10s', ...extra], env);
  await recv.waitFor('listening on UDP port');
  return { port, recv };
}

describe('aliases on loopback', () => {
  test('send ALIAS reaches the receiver behind it; nested aliases too, each target once', async () => {
    const a = await startRecv(sandbox.env);
    const b = await startRecv(sandbox.env);
    const env = withAliases({ desk: `127.0.0.1:${a.port}`, team: ['desk', `127.0.0.1:${b.port}`], everyone: 'team,desk' });
    const send = await runCli(['send', ...local(await freePort()), 'desk', 'to the desk', '--json'], env);
    assert.equal(send.code, 0, send.stderr);
    assert.deepEqual(jsonLines(send.stdout).map((r) => [r['target'], r['status']]), [[`127.0.0.1:${a.port}`, 'delivered']]);
    const [first] = jsonLines((await a.recv.done).stdout);
    assert.equal(first?.['text'], 'to the desk');

    const a2 = await startRecv(sandbox.env, ['--port', String(a.port)]);
    const team = await runCli(['send', ...local(await freePort()), '--to', 'everyone', 'to all', '--json'], env);
    assert.equal(team.code, 0, team.stderr);
    assert.deepEqual(jsonLines(team.stdout).map((r) => r['port']), [a.port, b.port], 'desk once, though two aliases name it');
    assert.equal(jsonLines((await a2.recv.done).stdout)[0]?.['text'], 'to all');
    assert.equal(jsonLines((await b.recv.done).stdout)[0]?.['text'], 'to all');
  });

  test('recv --from ALIAS accepts that sender and no other', async () => {
    const trusted = await freePort();
    const env = withAliases({ boss: `127.0.0.1:${trusted}` });
    const { port, recv } = await startRecv(env, ['--from', 'boss', '--count', '1']);
    const stranger = await runCli(['send', ...local(await freePort()), `127.0.0.1:${port}`, 'let me in', '--timeout', '500ms', '--retries', '0'], env);
    assert.equal(stranger.code, 75, stranger.stderr);
    const boss = await runCli(['send', ...local(trusted), `127.0.0.1:${port}`, 'from the boss'], env);
    assert.equal(boss.code, 0, boss.stderr);
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(jsonLines(done.stdout).map((m) => m['text']), ['from the boss']);
  });

  test('a cycle is a one-line usage error (64) naming it, before anything is sent', async () => {
    const env = withAliases({ a: 'b', b: 'c', c: 'a' });
    const send = await runCli(['send', ...local(await freePort()), 'a', 'x', '--json'], env);
    assert.equal(send.code, 64);
    assert.match(send.stderr, /^ipmsg: Config file .*: bad "aliases": alias cycle: a → b → c → a\n$/);
    assert.equal(ndjson(send.stdout).at(-1)?.['exit'], 64);
  });

  test('ipmsg aliases lists every alias expanded; --json; NAME; 68 for an unknown one', async () => {
    const env = withAliases({ desk: '10.0.0.7', team: 'alice,desk,10.0.0.9' });
    const human = await runCli(['aliases'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, 'desk  10.0.0.7\nteam  alice,10.0.0.7,10.0.0.9\n');
    const json = await runCli(['aliases', '--json'], env);
    assert.deepEqual(ndjson(json.stdout), [
      { event: 'alias', name: 'desk', targets: ['10.0.0.7'] },
      { event: 'alias', name: 'team', targets: ['alice', '10.0.0.7', '10.0.0.9'] },
      { event: 'end', ok: true, exit: 0 },
    ]);
    const one = await runCli(['aliases', 'TEAM', '--json'], env);
    assert.deepEqual(jsonLines(one.stdout).map((r) => r['name']), ['team']);
    const unknown = await runCli(['aliases', 'nope'], env);
    assert.equal(unknown.code, 68);
    assert.match(unknown.stderr, /No alias "nope" in .*config\d+\.json/);
    const none = await runCli(['aliases'], withAliases({}));
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no aliases in .*config\d+\.json/);
  });

  test('ipmsg aliases takes only the output options: a network option is a usage error (64)', async () => {
    const env = withAliases({ desk: '10.0.0.7' });
    const quiet = await runCli(['aliases', '-v', '--debug', '--json'], env);
    assert.equal(quiet.code, 0, quiet.stderr);
    const port = await runCli(['aliases', '--port', '2425'], env);
    assert.equal(port.code, 64, port.stderr);
  });
});
