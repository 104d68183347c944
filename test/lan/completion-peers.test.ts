// test/lan/completion-peers.test.ts
// Two hosts on a private bridge (network namespaces made by the test): what `list` heard is what
// completion offers as targets (`ipmsg completion --targets`), next to the config file's aliases.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { lanCommands, lanIdentity as identity } from '../helpers/lan-recv.js';
import { type Lan, createLan, netnsUnavailableReason } from '../helpers/netns.js';

const skip = netnsUnavailableReason();
const sandbox = makeSandbox();
after(() => sandbox.cleanup());

describe('completion offers the peers the last list heard', { skip: skip ?? false }, () => {
  let lan: Lan;
  before(async () => {
    lan = await createLan(2);
  });
  after(async () => {
    await lan?.destroy();
  });

  const env = { ...sandbox.env, IPMSG_CONFIG: join(sandbox.dir, 'config.json') };
  const { ipmsg, startRecv } = lanCommands(() => lan, env);

  test('list caches the names bob answers to; completion lists them after the aliases', async () => {
    writeFileSync(env.IPMSG_CONFIG, JSON.stringify({ aliases: { desk: '10.249.0.2' } }));
    const before = await runCli(['completion', '--targets'], env);
    assert.equal(before.stdout, 'desk\n', 'no list yet: the aliases only');

    const bob = startRecv(1, 'bob', ['--count', '1', '--timeout', '20s']);
    await bob.ready;
    const list = await ipmsg(0, ['list', ...identity('alice'), '--wait', '1500ms']);
    assert.equal(list.code, 0, list.stderr);
    const targets = await runCli(['completion', '--targets'], env);
    assert.equal(targets.code, 0, targets.stderr);
    // bob's user name carries his key fingerprint; the base name is what a target is written as.
    assert.deepEqual(targets.stdout.split('\n'), ['desk', 'bob', 'BOB', 'bob-pc', 'bob@bob-pc', '']);

    const send = await ipmsg(0, ['send', ...identity('alice'), 'desk', 'by alias', '--json']);
    assert.equal(send.code, 0, send.stderr);
    assert.equal((await bob.done).code, 0);
  });
});
