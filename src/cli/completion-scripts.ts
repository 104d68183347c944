// src/cli/completion-scripts.ts
// The bash, zsh and fish completion scripts, written from a CommandSpec. bash and zsh share the
// tables (case statements mean the same in both); each has its own walk over the words typed.
// Targets (aliases, cached peer names) come from `ipmsg completion --targets`, which reads two
// local files and never the network. Peer names reach the shell only as data: bash compares them
// with [[ == ]] and never passes them to compgen -W, which would expand them.

import { type CommandSpec, type ValueKind, allCommands } from './completion-spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** A shell word in single quotes (bash, zsh). */
function q(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A description on one line, not too long for a completion menu. */
function brief(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

const pathKey = (path: readonly string[]): string => path.join('/');

/** `kind` and `choices` of a value, as the tables set them. */
function valueCode(value: ValueKind | undefined): string {
  if (value === undefined) return '_ipmsg_k=none; _ipmsg_r=()';
  return value.kind === 'choices' ? `_ipmsg_k=choices; _ipmsg_r=(${value.choices.join(' ')})` : `_ipmsg_k=${value.kind}; _ipmsg_r=()`;
}

/** The case-statement tables bash and zsh share; `described` adds zsh's `name:description` entries. */
function tables(spec: CommandSpec, described: boolean): string {
  const commands = allCommands(spec);
  const word = (name: string, description: string): string => (described ? q(`${name}:${brief(description)}`) : name);
  const out: string[] = [];
  out.push('# _ipmsg_child PATH WORD: _ipmsg_k is the path of the subcommand WORD names, or empty', '_ipmsg_child() {', '  case "$1/$2" in');
  for (const c of commands) for (const sub of c.subcommands) out.push(`    ${sub.names.map((n) => q(`${pathKey(c.path)}/${n}`)).join('|')}) _ipmsg_k=${q(pathKey(sub.path))} ;;`);
  out.push('    *) _ipmsg_k= ;;', '  esac', '}');
  out.push('# _ipmsg_subs PATH / _ipmsg_opts PATH: _ipmsg_r lists its subcommands / options', '_ipmsg_subs() {', '  case "$1" in');
  for (const c of commands) {
    if (c.subcommands.length === 0) continue;
    out.push(`    ${q(pathKey(c.path))}) _ipmsg_r=(${c.subcommands.flatMap((s) => s.names.map((n) => word(n, s.description))).join(' ')}) ;;`);
  }
  out.push('    *) _ipmsg_r=() ;;', '  esac', '}', '_ipmsg_opts() {', '  case "$1" in');
  for (const c of commands) out.push(`    ${q(pathKey(c.path))}) _ipmsg_r=(${c.options.flatMap((o) => o.names.map((n) => word(n, o.description))).join(' ')}) ;;`);
  out.push('    *) _ipmsg_r=() ;;', '  esac', '}');
  out.push('# _ipmsg_value PATH OPTION / _ipmsg_arg PATH N: _ipmsg_k is what the value is (none: a flag), _ipmsg_r its choices', '_ipmsg_value() {', '  case "$1 $2" in');
  for (const c of commands) {
    for (const o of c.options) if (o.value) out.push(`    ${o.names.map((n) => q(`${pathKey(c.path)} ${n}`)).join('|')}) ${valueCode(o.value)} ;;`);
  }
  out.push(`    *) ${valueCode(undefined)} ;;`, '  esac', '}', '_ipmsg_arg() {', '  case "$1 $2" in');
  for (const c of commands) {
    c.args.forEach((arg, i) => {
      const last = i === c.args.length - 1 && c.variadic;
      out.push(`    ${q(`${pathKey(c.path)} `)}${last ? '*' : String(i)}) ${valueCode(arg)} ;;`);
    });
  }
  out.push(`    *) ${valueCode(undefined)} ;;`, '  esac', '}');
  out.push("# _ipmsg_fills PATH OPTION: whether OPTION takes the first argument's place", '_ipmsg_fills() {', '  case "$1 $2" in');
  for (const c of commands) if (c.firstArgOptions.length > 0) out.push(`    ${c.firstArgOptions.map((n) => q(`${pathKey(c.path)} ${n}`)).join('|')}) return 0 ;;`);
  out.push('    *) return 1 ;;', '  esac', '}');
  return out.join('\n');
}

/**
 * The walk over the words before the cursor, the same in bash and zsh but for how the words are
 * reached: sets `cmdpath` (the subcommand being typed), `n` (the argument under the cursor, from 0),
 * and `expect`/`opt` when the word under the cursor is the value of option `opt`.
 */
function walk(first: string, last: string, word: string): string {
  return `  local filled=0
  for (( i = ${first}; i < ${last}; i++ )); do
    word=${word}
    [[ $word == '=' ]] && continue # bash splits --opt=value at the '=' (quoted: zsh would expand a bare =)
    if [[ -n $expect ]]; then expect=; continue; fi
    if [[ $word == -* ]]; then
      _ipmsg_fills "$cmdpath" "\${word%%=*}" && filled=1
      [[ $word == *=* ]] && continue
      _ipmsg_value "$cmdpath" "$word"
      if [[ $_ipmsg_k != none ]]; then expect=1; opt=$word; fi
      continue
    fi
    if (( n == 0 )); then
      _ipmsg_child "$cmdpath" "$word"
      if [[ -n $_ipmsg_k ]]; then cmdpath=$_ipmsg_k; continue; fi
    fi
    n=$(( n + 1 ))
  done
  n=$(( n + filled ))`;
}

function bash(spec: CommandSpec): string {
  return `# bash completion for ipmsg, generated by \`ipmsg completion bash\` (see ipmsg(1)).
${tables(spec, false)}
# The value under the cursor, of the kind in _ipmsg_k.
_ipmsg_complete_value() {
  local IFS=$'\\n' name head= part=$cur
  case $_ipmsg_k in
    choices) COMPREPLY+=($(compgen -W "\${_ipmsg_r[*]}" -- "$cur")) ;;
    files) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur")) ;;
    dirs) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- "$cur")) ;;
    targets)
      # The last of a comma-separated list is completed.
      if [[ $cur == *,* ]]; then head=\${cur%,*},; part=\${cur##*,}; fi
      while IFS= read -r name; do
        [[ -n $name && $name == "$part"* ]] && COMPREPLY+=("$head$name")
      done < <(command ipmsg completion --targets 2>/dev/null)
      ;;
  esac
}
_ipmsg() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath= word opt= expect= n=0 i _ipmsg_k
  local -a _ipmsg_r
  COMPREPLY=()
${walk('1', 'COMP_CWORD', '${COMP_WORDS[i]}')}
  [[ $cur == '=' ]] && cur=
  if [[ -n $expect ]]; then
    _ipmsg_value "$cmdpath" "$opt"
  elif [[ $cur == -* ]]; then
    _ipmsg_opts "$cmdpath"
    COMPREPLY=($(compgen -W "\${_ipmsg_r[*]}" -- "$cur"))
    return 0
  else
    if (( n == 0 )); then
      _ipmsg_subs "$cmdpath"
      COMPREPLY=($(compgen -W "\${_ipmsg_r[*]}" -- "$cur"))
    fi
    _ipmsg_arg "$cmdpath" "$n"
  fi
  _ipmsg_complete_value
  return 0
}
complete -F _ipmsg ipmsg
`;
}

function zsh(spec: CommandSpec): string {
  return `#compdef ipmsg
# zsh completion for ipmsg, generated by \`ipmsg completion zsh\` (see ipmsg(1)).
${tables(spec, true)}
_ipmsg_complete_value() {
  local -a names
  case $_ipmsg_k in
    choices) compadd -- "\${_ipmsg_r[@]}" ;;
    files) _files ;;
    dirs) _files -/ ;;
    targets)
      compset -P '*,'
      names=(\${(f)"$(command ipmsg completion --targets 2>/dev/null)"})
      compadd -- "\${names[@]}"
      ;;
  esac
}
_ipmsg() {
  local cur=\${words[CURRENT]} cmdpath= word opt= expect= n=0 i _ipmsg_k before=$compstate[nmatches]
  local -a _ipmsg_r
${walk('2', 'CURRENT', '${words[i]}')}
  if [[ -z $expect && $cur == -*=* ]]; then
    opt=\${cur%%=*}
    compset -P '*='
    expect=1
  fi
  if [[ -n $expect ]]; then
    _ipmsg_value "$cmdpath" "$opt"
  elif [[ $cur == -* ]]; then
    _ipmsg_opts "$cmdpath"
    _describe -t options option _ipmsg_r
    return
  else
    if (( n == 0 )); then
      _ipmsg_subs "$cmdpath"
      (( \${#_ipmsg_r} )) && _describe -t commands command _ipmsg_r
    fi
    _ipmsg_arg "$cmdpath" "$n"
  fi
  _ipmsg_complete_value
  # Status 0 only when something was offered: zsh then tries no other completer.
  (( compstate[nmatches] > before ))
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _ipmsg "$@"
else
  compdef _ipmsg ipmsg
fi
`;
}

/** A word in fish single quotes. */
function fq(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function fishValue(value: ValueKind): string {
  switch (value.kind) {
    case 'choices':
      // Each choice with an empty description of its own: fish would show the option's beside every one.
      return ` -x -a ${fq(value.choices.map((c) => `${c}\\t`).join(' '))}`;
    case 'targets':
      return " -x -a '(__ipmsg_targets)'";
    case 'files':
      return ' -r -F';
    case 'dirs':
      return " -x -a '(__fish_complete_directories)'";
    case 'any':
      return ' -x';
  }
}

function fish(spec: CommandSpec): string {
  const commands = allCommands(spec);
  const children = commands.flatMap((c) => c.subcommands.map((s) => `        case ${s.names.map((n) => fq(`${pathKey(c.path)}/${n}`)).join(' ')}\n            echo ${fq(pathKey(s.path))}`));
  const valued = commands.flatMap((c) => c.options.filter((o) => o.value).flatMap((o) => o.names.map((n) => fq(`${pathKey(c.path)} ${n}`))));
  const fills = commands.flatMap((c) => c.firstArgOptions.map((n) => fq(`${pathKey(c.path)} ${n}`)));
  const lines: string[] = [];
  for (const c of commands) {
    // Paths are plain words (completion-spec.ts checks): only the program's, empty, needs quotes.
    const path = c.path.length > 0 ? pathKey(c.path) : "''";
    const at = `complete -c ipmsg -n ${fq(`__ipmsg_at ${path}`)}`;
    for (const s of c.subcommands) for (const name of s.names) lines.push(`${at} -a ${name} -d ${fq(brief(s.description))}`);
    for (const o of c.options) {
      const names = o.names.map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(' ');
      lines.push(`${at} ${names}${o.value ? fishValue(o.value) : ''} -d ${fq(brief(o.description))}`);
    }
    c.args.forEach((value, i) => {
      const position = i === c.args.length - 1 && c.variadic ? `${i}+` : String(i);
      if (value.kind !== 'any') lines.push(`complete -c ipmsg -n ${fq(`__ipmsg_arg ${path} ${position}`)}${fishValue(value).replace(/ -[xr]/, '')}`);
    });
  }
  return `# fish completion for ipmsg, generated by \`ipmsg completion fish\` (see ipmsg(1)).
function __ipmsg_child --description 'the path of the subcommand $argv[2] of $argv[1]'
    switch "$argv[1]/$argv[2]"
${children.join('\n')}
    end
end
function __ipmsg_state --description 'the argument under the cursor (from 0), whether it is an option value (1), the subcommand being typed'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l expect 0
    set -l n 0
    set -l filled 0
    for word in $tokens
        if test $expect = 1
            set expect 0
            continue
        end
        switch $word
            case '-*'
                set -l name (string replace -r '=.*' '' -- $word)
                contains -- "$cmdpath $name" ${fills.join(' ')}; and set filled 1
                test "$name" = "$word"; and contains -- "$cmdpath $word" ${valued.join(' ')}; and set expect 1
                continue
        end
        if test $n = 0
            set -l child (__ipmsg_child "$cmdpath" $word)
            if test -n "$child"
                set cmdpath $child
                continue
            end
        end
        set n (math $n + 1)
    end
    math $n + $filled
    echo $expect
    echo $cmdpath
end
function __ipmsg_at --description 'whether the subcommand being typed is $argv[1]'
    set -l state (__ipmsg_state)
    test "$state[3]" = "$argv[1]"
end
function __ipmsg_arg --description 'whether the word under the cursor is argument $argv[2] (from 0; N+: N or later) of $argv[1]'
    set -l state (__ipmsg_state)
    test "$state[3]" = "$argv[1]"; and test $state[2] = 0; or return 1
    switch $argv[2]
        case '*+'
            test $state[1] -ge (string trim -r -c + -- $argv[2])
        case '*'
            test $state[1] = $argv[2]
    end
end
function __ipmsg_targets --description 'aliases and the peer names the last list heard'
    set -l head (string replace -r '[^,]*$' '' -- (commandline -ct))
    for name in (command ipmsg completion --targets 2>/dev/null)
        echo "$head$name"
    end
end
complete -c ipmsg -f
${lines.join('\n')}
`;
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, spec: CommandSpec): string {
  switch (shell) {
    case 'bash':
      return bash(spec);
    case 'zsh':
      return zsh(spec);
    case 'fish':
      return fish(spec);
  }
}
