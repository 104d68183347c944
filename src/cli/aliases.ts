// src/cli/aliases.ts
// ipmsg aliases [NAME...]: the config file's target aliases and what each expands to. Read-only:
// the aliases are edited in the config file, whose path is said when it holds none.

import { Command } from 'commander';
import { IpmsgError } from '../errors.js';
import type { Context } from './context.js';
import { addOutputOptions } from './options.js';
import { formatTable } from './output.js';
import { openSettings } from './session.js';

export function makeAliasesCommand(ctx: Context): Command {
  const command = new Command('aliases')
    .description('list the target aliases of the config file, expanded')
    .argument('[name...]', 'show only these aliases (exit 68 for one that is not an alias)')
    .addHelpText(
      'after',
      `
Aliases are set in the config file ("aliases": {"desk": "10.0.0.7", "team": "alice,bob,desk"}) and
work wherever a target does: send desk "hi", send --to team, info desk, recv --from team.

Examples:
  ipmsg aliases
  ipmsg aliases team --json`,
    );
  addOutputOptions(command);
  command.action((names: string[], _flags: unknown, cmd: Command) => {
    const { settings, out } = openSettings(ctx, cmd);
    const table = settings.aliases;
    const wanted = names.length > 0 ? names : table.list().map((a) => a.name);
    const unknown = wanted.filter((name) => table.get(name) === undefined);
    if (unknown.length > 0) {
      throw new IpmsgError('IPMSG_ERR_UNKNOWN_TARGET', `No alias ${unknown.map((n) => JSON.stringify(n)).join(', ')} in ${settings.paths.configFile}`);
    }
    if (table.size === 0) out.notice(`no aliases in ${settings.paths.configFile} (add an "aliases" object to it)`);
    const shown = table.list().filter((a) => wanted.some((w) => w.toLowerCase() === a.name.toLowerCase()));
    const lines = formatTable(shown.map((a) => [a.name, a.targets.join(',')]));
    shown.forEach((alias, i) => out.result({ event: 'alias', name: alias.name, targets: alias.targets }, lines[i]));
  });
  return command;
}
