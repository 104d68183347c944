// src/cli/query.ts
// ipmsg info / ipmsg absence: ask one peer a question that is answered in one packet.

import { Command } from 'commander';
import type { Context } from './context.js';
import { addCommonOptions, addRetryOptions, addResolveOptions, resolveFlags } from './options.js';
import { DEFAULT_RESOLVE_WAIT, DEFAULT_RETRIES, DEFAULT_TIMEOUT } from './send.js';
import { withSession } from './session.js';

interface QueryFlags {
  timeout?: number;
  retries?: number;
  wait?: number;
  dns: boolean;
}

function makeQueryCommand(
  ctx: Context,
  name: 'info' | 'absence',
  kind: 'GETINFO' | 'GETABSENCEINFO',
  description: string,
  field: 'version' | 'absence',
): Command {
  const command = new Command(name).description(description).argument('<target>', 'IPv4 address, ADDR:PORT, host name, or a name on the LAN');
  addRetryOptions(command, `total time to wait for the answer (default ${DEFAULT_TIMEOUT / 1000}s)`);
  addResolveOptions(command, `how long to look for a target given by name (default ${DEFAULT_RESOLVE_WAIT / 1000}s)`);
  addCommonOptions(command);
  command.addHelpText('after', `\nExamples:\n  ipmsg ${name} 192.168.1.20\n  ipmsg ${name} bob --json`);
  command.action(async (target: string, flags: QueryFlags, cmd: Command) => {
    await withSession(ctx, cmd, async ({ client, messenger, out }) => {
      const [destination] = await client.resolve(target, resolveFlags(flags, ctx.signal));
      if (!destination) return;
      const text = await messenger.query(destination, kind, {
        timeout: flags.timeout ?? DEFAULT_TIMEOUT,
        retries: flags.retries ?? DEFAULT_RETRIES,
        signal: ctx.signal,
      });
      out.result({ target: destination.text, address: destination.address, port: destination.port, [field]: text }, text);
    });
  });
  return command;
}

export function makeInfoCommand(ctx: Context): Command {
  return makeQueryCommand(ctx, 'info', 'GETINFO', "ask a peer for its client version (GETINFO; iptux never answers)", 'version');
}

export function makeAbsenceCommand(ctx: Context): Command {
  return makeQueryCommand(ctx, 'absence', 'GETABSENCEINFO', "ask a peer for its absence message (GETABSENCEINFO; iptux never answers)", 'absence');
}
