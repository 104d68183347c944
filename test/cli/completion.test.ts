// test/cli/completion.test.ts
// Shell completion: the spec read from the commander tree, and each script run in its real shell
// (bash, zsh, fish) against the real CLI (a stub `ipmsg` on PATH runs bin/ipmsg.js) with aliases
// and cached peer names.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { SHELLS, completionScript } from '../../src/cli/completion-scripts.js';
import { type CommandSpec, allCommands, commandSpec } from '../../src/cli/completion-spec.js';
import type { Context } from '../../src/cli/context.js';
import { makeProgram } from '../../src/cli/program.js';
import { PEER_NAMES_FILE } from '../../src/state/peer-names.js';
import { systemClock } from '../../src/transport/clock.js';
import { binPath, makeSandbox, runCli } from '../helpers/cli.js';
import { fishComplete, shellPresent, skipWithout, zshComplete, zshSetup } from '../helpers/shell-completion.js';

const sandbox = makeSandbox();
after(() => sandbox.cleanup());

const ctx: Context = {
  stdout: { write: () => true },
  stderr: { write: () => true },
  stdin: Readable.from([]),
  env: sandbox.env,
  clock: systemClock,
  signal: new AbortController().signal,
  version: '0.0.0-test',
};

function find(spec: CommandSpec, path: string): CommandSpec {
  const found = allCommands(spec).find((c) => c.path.join(' ') === path);
  assert.ok(found, `no command ${path}`);
  return found;
}

describe('completion spec from the commander definitions', () => {
  const spec = commandSpec(makeProgram(ctx));

  test('every subcommand, nested ones included', () => {
    assert.deepEqual(spec.subcommands.map((c) => c.names[0]).sort(), [...makeProgram(ctx).commands.map((c) => c.name())].sort());
    assert.ok(spec.subcommands.length >= 10);
    assert.deepEqual(find(spec, 'keys').subcommands.map((c) => c.names[0]), ['list', 'forget', 'trust']);
  });

  test('options: long and short names, which take a value, of what kind', () => {
    const send = find(spec, 'send');
    const option = (name: string) => send.options.find((o) => o.names.includes(name));
    assert.deepEqual(option('--encrypt')?.value, { kind: 'choices', choices: ['auto', 'always', 'never'] });
    assert.deepEqual(option('--to')?.value, { kind: 'targets' });
    assert.deepEqual(option('-f')?.names, ['--file', '-f']);
    assert.deepEqual(option('--file')?.value, { kind: 'files' });
    assert.deepEqual(option('-t')?.value, { kind: 'any' });
    assert.equal(option('--seal')?.value, undefined);
    assert.deepEqual(option('--encoding')?.value, { kind: 'choices', choices: ['utf-8', 'cp932', 'gbk', 'gb18030', 'big5'] });
    assert.ok(option('--help'));
    assert.deepEqual(find(spec, 'recv').options.find((o) => o.names.includes('--save'))?.value, { kind: 'dirs' });
    assert.deepEqual(find(spec, 'recv').options.find((o) => o.names.includes('--from'))?.value, { kind: 'targets' });
  });

  test('positional arguments, a variadic last one marked', () => {
    assert.deepEqual(find(spec, 'send').args, [{ kind: 'targets' }, { kind: 'any' }]);
    assert.equal(find(spec, 'send').variadic, true);
    assert.deepEqual(find(spec, 'send').firstArgOptions, ['--to'], "send --to takes the target's place");
    assert.deepEqual(find(spec, 'serve-dir').firstArgOptions, [], "serve-dir's first argument is its folder");
    assert.deepEqual(find(spec, 'info').args, [{ kind: 'targets' }]);
    assert.deepEqual(find(spec, 'completion').args, [{ kind: 'choices', choices: [...SHELLS] }]);
    assert.equal(find(spec, 'completion').options.some((o) => o.names.includes('--targets')), false, 'the hidden option is not offered');
  });

  test('each script names every subcommand and option, and its shell marks', () => {
    for (const shell of SHELLS) {
      const script = completionScript(shell, spec);
      for (const c of allCommands(spec)) {
        for (const name of c.names) if (c.path.length > 0) assert.ok(script.includes(name), `${shell}: ${name}`);
        for (const o of c.options) for (const name of o.names) assert.ok(script.includes(shell === 'fish' ? name.replace(/^--?/, '') : name), `${shell}: ${name}`);
      }
      assert.ok(script.includes('ipmsg completion --targets'), shell);
    }
    assert.match(completionScript('bash', spec), /^complete -F _ipmsg ipmsg$/m);
    assert.match(completionScript('zsh', spec), /^#compdef ipmsg$/m);
    assert.match(completionScript('fish', spec), /^complete -c ipmsg -n '__ipmsg_at send' -l encrypt -x -a 'auto\\\\t always\\\\t never\\\\t' -d /m);
  });
});

describe('the scripts in real shells', () => {
  const bin = join(sandbox.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'ipmsg'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} "$@"\n`);
  chmodSync(join(bin, 'ipmsg'), 0o755);
  const config = join(sandbox.dir, 'aliases.json');
  const env = { ...sandbox.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, IPMSG_CONFIG: config };
  writeFileSync(config, JSON.stringify({ aliases: { desk: '10.0.0.7', team: 'alice,desk' } }));
  writeFileSync(join(sandbox.dir, 'notes.txt'), 'a file to attach\n');
  // As if written by hand: a name a shell would run must not be offered, nor run.
  mkdirSync(join(sandbox.dir, '.cache', 'ipmsg'), { recursive: true });
  writeFileSync(join(sandbox.dir, '.cache', 'ipmsg', PEER_NAMES_FILE), 'alice\nalice@pc1\n$(touch pwned)\nbob\n`touch pwned`\n');

  const scripts = async (shell: string): Promise<string> => {
    const result = await runCli(['completion', shell], env);
    assert.equal(result.code, 0, result.stderr);
    const file = join(sandbox.dir, `completion.${shell}`);
    writeFileSync(file, result.stdout);
    return file;
  };

  /** What bash's _ipmsg offers for `words`, the last being the one under the cursor. */
  function complete(script: string, words: readonly string[]): string[] {
    const run = spawnSync(
      'bash',
      ['--norc', '--noprofile', '-c', 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _ipmsg; printf "%s\\n" "${COMPREPLY[@]}"', 'bash', script, ...words],
      { env, cwd: sandbox.dir, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    return run.stdout.split('\n').filter((l) => l.length > 0).sort();
  }

  test('bash: subcommands, options, choices, targets, folders', async () => {
    const script = await scripts('bash');
    assert.deepEqual(complete(script, ['ipmsg', 'se']), ['send', 'serve-dir']);
    assert.deepEqual(complete(script, ['ipmsg', 'send', '--enc']), ['--encoding', '--encrypt']);
    assert.deepEqual(complete(script, ['ipmsg', 'send', '--encrypt', '']), ['always', 'auto', 'never']);
    assert.deepEqual(complete(script, ['ipmsg', 'send', '--encrypt', '=', 'al']), ['always'], '--encrypt=al, as bash splits it');
    assert.deepEqual(complete(script, ['ipmsg', 'send', '']), ['alice', 'alice@pc1', 'bob', 'desk', 'team']);
    assert.deepEqual(complete(script, ['ipmsg', 'send', '--to', 'bob,a']), ['bob,alice', 'bob,alice@pc1']);
    assert.deepEqual(complete(script, ['ipmsg', 'send', '-t', '5s', 'de']), ['desk'], 'a value is skipped, not counted as the target');
    assert.deepEqual(complete(script, ['ipmsg', 'send', 'desk', '']), [], 'the message is not completed');
    assert.deepEqual(complete(script, ['ipmsg', 'send', '--to', 'bob', '']), [], 'after --to the first argument is the message');
    assert.deepEqual(complete(script, ['ipmsg', 'send', '--to', '=', 'bob', '']), [], '--to=bob, as bash splits it');
    assert.deepEqual(complete(script, ['ipmsg', 'recv', '--from', 't']), ['team']);
    assert.deepEqual(complete(script, ['ipmsg', 'keys', 'trust', 'b']), ['bob']);
    assert.deepEqual(complete(script, ['ipmsg', 'keys', 'f']), ['forget']);
    assert.deepEqual(complete(script, ['ipmsg', 'keys', 'forget', '']), [], 'forget takes a pinned user@host, not a target');
    assert.deepEqual(complete(script, ['ipmsg', 'list', '--encoding', 'gb']), ['gb18030', 'gbk']);
    assert.deepEqual(complete(script, ['ipmsg', 'completion', '']), ['bash', 'fish', 'zsh']);
    assert.deepEqual(complete(script, ['ipmsg', 'recv', '--save', 'bi']), ['bin']);
    assert.ok(complete(script, ['ipmsg', '-']).includes('--version'));
    assert.equal(existsSync(join(sandbox.dir, 'pwned')), false);
  });

  /** The command line typed (cursor at its end) and what zsh and fish must offer, as bash does. */
  const cases: readonly (readonly [string, readonly string[]])[] = [
    ['ipmsg se', ['send', 'serve-dir']],
    ['ipmsg send --enc', ['--encoding', '--encrypt']],
    ['ipmsg send --encrypt ', ['always', 'auto', 'never']],
    ['ipmsg send --encrypt=al', ['--encrypt=always']],
    ['ipmsg send ', ['alice', 'alice@pc1', 'bob', 'desk', 'team']],
    ['ipmsg send --to bob,a', ['bob,alice', 'bob,alice@pc1']],
    ['ipmsg send --to=d', ['--to=desk']],
    ['ipmsg send -t 5s de', ['desk']],
    ['ipmsg send desk ', []],
    ['ipmsg send desk hello ', []],
    ['ipmsg send --to bob ', []],
    ['ipmsg send --to=bob ', []],
    ['ipmsg send -t ', []],
    ['ipmsg send -f no', ['notes.txt']],
    ['ipmsg info ', ['alice', 'alice@pc1', 'bob', 'desk', 'team']],
    ['ipmsg info bob ', []],
    ['ipmsg recv --from t', ['team']],
    ['ipmsg recv --save bi', ['bin']],
    ['ipmsg serve-dir bi', ['bin']],
    ['ipmsg serve-dir bin ', []],
    ['ipmsg keys f', ['forget']],
    ['ipmsg keys trust b', ['bob']],
    ['ipmsg keys forget ', []],
    ['ipmsg list --encoding gb', ['gb18030', 'gbk']],
    ['ipmsg completion ', ['bash', 'fish', 'zsh']],
  ];

  test('fish: subcommands, options, choices, targets at the target argument only, files, folders', { skip: skipWithout('fish') }, async () => {
    assert.ok(shellPresent('fish'), 'fish is not installed: scripts/install-test-deps.sh installs it');
    const script = await scripts('fish');
    for (const [line, expected] of cases) {
      const { offered, stderr } = fishComplete(script, line, env, sandbox.dir);
      assert.equal(stderr, '', line);
      assert.deepEqual(offered, expected, line);
    }
    assert.ok(fishComplete(script, 'ipmsg -', env, sandbox.dir).offered.includes('--version'));
    // A choice is shown alone, not beside the option's whole description.
    assert.deepEqual(fishComplete(script, 'ipmsg send --encrypt ', env, sandbox.dir).lines, ['always', 'auto', 'never']);
    assert.equal(existsSync(join(sandbox.dir, 'pwned')), false);
  });

  test('zsh: the same, through compinit and a completion typed on a terminal', { skip: skipWithout('zsh') }, async () => {
    assert.ok(shellPresent('zsh'), 'zsh is not installed: scripts/install-test-deps.sh installs it');
    const setup = zshSetup(join(sandbox.dir, 'zsh'), readFileSync(await scripts('zsh'), 'utf8'));
    for (const [line, expected] of cases) {
      const { offered, errors } = zshComplete(setup, line, env, sandbox.dir);
      assert.deepEqual(errors, [], line);
      assert.deepEqual(offered, expected, line);
    }
    assert.ok(zshComplete(setup, 'ipmsg -', env, sandbox.dir).offered.includes('--version'));
    // A completion function's status says whether it offered anything; the next completer runs only if not.
    assert.deepEqual(zshComplete(setup, 'ipmsg send desk ', env, sandbox.dir, true).offered, ['FALLBACK']);
    assert.deepEqual(zshComplete(setup, 'ipmsg se', env, sandbox.dir, true).offered, ['send', 'serve-dir']);
    // Installed the other way: source <(ipmsg completion zsh) after compinit.
    const sourced = zshSetup(join(sandbox.dir, 'zsh-sourced'), readFileSync(await scripts('zsh'), 'utf8'), true);
    for (const [line, expected] of cases.slice(0, 6)) assert.deepEqual(zshComplete(sourced, line, env, sandbox.dir), { offered: expected, errors: [] }, `sourced: ${line}`);
    assert.equal(existsSync(join(sandbox.dir, 'pwned')), false);
  });

  for (const shell of ['zsh', 'fish']) {
    test(`${shell}: the script parses (${shell} -n)`, { skip: skipWithout(shell) }, async () => {
      assert.ok(shellPresent(shell), `${shell} is not installed: scripts/install-test-deps.sh installs it`);
      const run = spawnSync(shell, ['-n', await scripts(shell)], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
    });
  }
});
