// src/cli/completion-spec.ts
// What shell completion needs of the commander definitions: every command path, its subcommands,
// its options (which take a value, and what kind), and its positional arguments. Read from the
// Command tree itself, so a new subcommand or option completes without touching the scripts.

import type { Argument, Command, Option } from 'commander';
import { CHARSETS } from '../encoding/charset.js';

/** What a value is completed with: fixed choices, targets (aliases and cached peer names), files, folders, or nothing. */
export type ValueKind = { readonly kind: 'choices'; readonly choices: readonly string[] } | { readonly kind: 'targets' | 'files' | 'dirs' | 'any' };

export interface OptionSpec {
  /** Long and short spellings (`--timeout`, `-t`). */
  readonly names: readonly string[];
  readonly description: string;
  /** Undefined for a flag. */
  readonly value: ValueKind | undefined;
}

export interface CommandSpec {
  /** Names from the program down, without the program's: [] is the program, ['keys', 'list'] a nested one. */
  readonly path: readonly string[];
  /** The name and its aliases. */
  readonly names: readonly string[];
  readonly description: string;
  readonly options: readonly OptionSpec[];
  /** One per declared argument; a variadic last one repeats. */
  readonly args: readonly ValueKind[];
  readonly variadic: boolean;
  /** Options that take the first argument's place (`send --to bob hi`: `hi` is the message), by every name. */
  readonly firstArgOptions: readonly string[];
  readonly subcommands: readonly CommandSpec[];
}

/** Words that reach a shell script unquoted: they must mean nothing to bash, zsh or fish. */
const PLAIN_WORD = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;

function plain(word: string): string {
  if (!PLAIN_WORD.test(word)) throw new Error(`completion: ${JSON.stringify(word)} is not a plain word`);
  return word;
}

/** The kind of a value by its placeholder's name (`<target>`, `<path>`, `<dir>`) or its choices. */
function kindOf(placeholder: string, choices: readonly string[] | undefined): ValueKind {
  if (choices) return { kind: 'choices', choices: choices.map(plain) };
  // --encoding checks its value itself (it takes aliases such as sjis), so it has no commander choices.
  if (placeholder === 'charset') return { kind: 'choices', choices: CHARSETS.map(plain) };
  if (/^targets?$/.test(placeholder)) return { kind: 'targets' };
  if (/^(path|file)s?$/.test(placeholder)) return { kind: 'files' };
  if (/^(dir|folder)s?$/.test(placeholder)) return { kind: 'dirs' };
  return { kind: 'any' };
}

function optionSpec(option: Option): OptionSpec {
  const names = [option.long, option.short].filter((n): n is string => n !== undefined);
  for (const name of names) plain(name.replace(/^-+/, ''));
  const placeholder = /[<[]([^>\]]*)[>\]]/.exec(option.flags)?.[1] ?? '';
  return { names, description: option.description, value: option.required || option.optional ? kindOf(placeholder.replace(/\.\.\.$/, ''), option.argChoices) : undefined };
}

function argumentSpec(argument: Argument): ValueKind {
  return kindOf(argument.name(), argument.argChoices);
}

/** `--to`, where an optional first argument is a target too: then the arguments that follow are the rest. */
function firstArgOptions(options: readonly OptionSpec[], args: readonly Argument[]): string[] {
  const first = args[0];
  if (first === undefined || first.required || argumentSpec(first).kind !== 'targets') return [];
  return options.filter((o) => o.names.includes('--to') && o.value?.kind === 'targets').flatMap((o) => o.names);
}

/** The completion view of `command` and everything under it. */
export function commandSpec(command: Command, parent: readonly string[] = []): CommandSpec {
  const isProgram = command.parent === null;
  const path = isProgram ? [] : [...parent, plain(command.name())];
  const options = command.options.filter((o) => !o.hidden).map(optionSpec);
  options.push({ names: ['--help', '-h'], description: 'show help', value: undefined });
  const args = command.registeredArguments;
  return {
    path,
    names: [command.name(), ...command.aliases()].map(plain),
    description: command.description(),
    options,
    args: args.map(argumentSpec),
    variadic: args.at(-1)?.variadic === true,
    firstArgOptions: firstArgOptions(options, args),
    subcommands: command.commands.map((c) => commandSpec(c, path)),
  };
}

/** Every command of the tree, the program first. */
export function allCommands(spec: CommandSpec): CommandSpec[] {
  return [spec, ...spec.subcommands.flatMap(allCommands)];
}
