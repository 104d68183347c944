// src/cli/completion.ts
// ipmsg completion bash|zsh|fish: prints a completion script made from the program's own command
// definitions. The scripts call back `ipmsg completion --targets` (hidden) for the alias names and
// the peer names the last `list` heard: two local files, no network, no keys.

import { Argument, Command, Option } from 'commander';
import { IpmsgError } from '../errors.js';
import statePaths from '../state/paths.cjs';
import { isCompletableName, readPeerNames } from '../state/peer-names.js';
import { loadConfig } from './config.js';
import type { Context } from './context.js';
import { SHELLS, type Shell, completionScript } from './completion-scripts.js';
import { commandSpec } from './completion-spec.js';

/** Alias names, then cached peer names, each once; an unreadable config just offers no aliases. */
export function completionTargets(env: NodeJS.ProcessEnv): string[] {
  const where = statePaths.paths(env);
  let aliases: string[] = [];
  try {
    aliases = (loadConfig(where.configFile).aliases?.list() ?? []).map((a) => a.name).filter(isCompletableName);
  } catch {
    // a broken config file is reported by the commands that use it, not in the middle of a command line
  }
  return [...new Set([...aliases, ...readPeerNames(where.cacheDir)])];
}

/** `program` builds the whole program (every subcommand), which the script describes. */
export function makeCompletionCommand(ctx: Context, program: () => Command): Command {
  return new Command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('[shell]', 'the shell').choices(SHELLS))
    .addOption(new Option('--targets', 'print the alias names and cached peer names (what the scripts complete targets with)').hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  ipmsg completion bash > ~/.local/share/bash-completion/completions/ipmsg
  ipmsg completion zsh > ~/.zfunc/_ipmsg     # with fpath=(~/.zfunc $fpath) before compinit
  ipmsg completion fish > ~/.config/fish/completions/ipmsg.fish
  source <(ipmsg completion bash)            # this shell only

Targets complete with the config file's aliases and the names the last 'ipmsg list' heard.`,
    )
    .action((shell: Shell | undefined, flags: { targets?: boolean }) => {
      if (flags.targets) {
        for (const name of completionTargets(ctx.env)) ctx.stdout.write(`${name}\n`);
        return;
      }
      if (shell === undefined) throw new IpmsgError('IPMSG_ERR_USAGE', `Name a shell: ${SHELLS.join(', ')}`);
      ctx.stdout.write(completionScript(shell, commandSpec(program())));
    });
}
