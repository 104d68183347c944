// test/helpers/shell-completion.ts
// Runs a completion script in its own shell and returns what it offers for a command line: fish's
// `complete -C`, and zsh's completion system driven from a terminal (zpty), with compadd wrapped to
// print the matches zsh accepted for the word under the cursor.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const inCi = process.env['CI'] === 'true' || process.env['CI'] === '1';

/**
 * The `skip` option of a test that needs `shell`: the reason when it is missing here. In CI the
 * test runs anyway (and fails with the reason, see requireShell): install-test-deps.sh installs it there.
 */
export function skipWithout(shell: string): string | false {
  return inCi || shellPresent(shell) ? false : `${shell} is not installed (scripts/install-test-deps.sh installs it)`;
}

export function shellPresent(shell: string): boolean {
  return spawnSync(shell, ['-c', 'true']).status === 0;
}

/** Sorted, each once, a directory's trailing slash dropped (fish adds it, zsh shows it apart). */
function candidates(lines: readonly string[]): string[] {
  return [...new Set(lines.map((l) => l.replace(/\/$/, '')).filter((l) => l.length > 0))].sort();
}

/** What fish offers for `line` (the cursor at its end) with `script` sourced; `lines` with their descriptions. */
export function fishComplete(script: string, line: string, env: NodeJS.ProcessEnv, cwd: string): { offered: string[]; lines: string[]; stderr: string } {
  const run = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; and complete -C $argv[2]', script, line], { env, cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`fish exited ${String(run.status)}: ${run.stderr}`);
  const lines = run.stdout.split('\n').filter((l) => l !== '');
  return { offered: candidates(lines.map((l) => l.split('\t')[0] ?? '')), lines, stderr: run.stderr };
}

// Sourced by the interactive zsh in the terminal: compinit from a private fpath (no dump file),
// TAB completes, compadd prints what zsh accepted (with the prefix compset moved aside), and after
// the completion the shell prints an end mark and exits. With IPMSG_TEST_FALLBACK set, a second
// completer offers FALLBACK: zsh tries it only when _ipmsg reports that it offered nothing. With
// IPMSG_TEST_SOURCE set, that file is sourced after compinit (the other way to install the script).
const ZSH_INIT = `PS1= RPROMPT=
fpath=("$IPMSG_TEST_FPATH" $fpath)
autoload -Uz compinit
compinit -u -D
[[ -n $IPMSG_TEST_SOURCE ]] && source "$IPMSG_TEST_SOURCE"
bindkey '^I' complete-word
zstyle ':completion:*' insert-tab false
_test_fallback() { compadd FALLBACK }
[[ -n $IPMSG_TEST_FALLBACK ]] && zstyle ':completion:*' completer _complete _test_fallback
_test_end() { print -r -- '<<END>>'; exit }
comppostfuncs=(_test_end)
compadd() {
  # calls that only collect matches (-O, -A, -D) add none
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return; fi
  local -a _test_hits
  local -A _test_opts
  zparseopts -E -A _test_opts P: p:
  builtin compadd -A _test_hits "$@"
  local hit
  for hit in $_test_hits; do print -r -- "<<HIT>>$IPREFIX\${_test_opts[-P]}\${_test_opts[-p]}$hit"; done
}
print -r -- '<<READY>>'
`;

// Types the line and TAB into an interactive zsh -f on a pseudo-terminal, and prints what it wrote.
const ZSH_DRIVER = `zmodload zsh/zpty
zpty shell zsh -f -i
zpty -w shell "source \${(q)IPMSG_TEST_INIT}"
zpty -r shell out '*<<READY>>*'
zpty -w -n shell "$1"$'\\t'
zpty -r shell out '*<<END>>*'
print -r -- "$out"
zpty -d shell
`;

/**
 * Writes what zshComplete needs into `dir`: the script as `_ipmsg` in an fpath folder, as from
 * `ipmsg completion zsh > ~/.zfunc/_ipmsg`, or, `sourced`, a file sourced after compinit.
 */
export function zshSetup(dir: string, script: string, sourced = false): { fpath: string; init: string; driver: string; source: string } {
  const fpath = join(dir, 'zfunc');
  mkdirSync(fpath, { recursive: true });
  const source = sourced ? join(dir, 'ipmsg.zsh') : '';
  writeFileSync(sourced ? source : join(fpath, '_ipmsg'), script);
  const init = join(dir, 'init.zsh');
  writeFileSync(init, ZSH_INIT);
  const driver = join(dir, 'driver.zsh');
  writeFileSync(driver, ZSH_DRIVER);
  return { fpath, init, driver, source };
}

/** What zsh's completion system offers for `line` (the cursor at its end); `errors`: lines a function complained with. */
export function zshComplete(setup: ReturnType<typeof zshSetup>, line: string, env: NodeJS.ProcessEnv, cwd: string, fallback = false): { offered: string[]; errors: string[] } {
  const run = spawnSync('zsh', ['-f', setup.driver, line], {
    env: { ...env, ZDOTDIR: cwd, IPMSG_TEST_FPATH: setup.fpath, IPMSG_TEST_INIT: setup.init, IPMSG_TEST_FALLBACK: fallback ? '1' : '', IPMSG_TEST_SOURCE: setup.source },
    cwd,
    encoding: 'utf8',
    // only a safety net for a driver that never sees its end mark
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`zsh exited ${String(run.status)} ${String(run.signal)}: ${run.stderr}${run.stdout}`);
  const text = run.stdout.replace(/\r/g, '');
  return {
    offered: candidates([...text.matchAll(/<<HIT>>([^\n]*)/g)].map((m) => m[1] ?? '')),
    errors: text.split('\n').filter((l) => /_ipmsg\w*:\d+:|command not found/.test(l)),
  };
}
