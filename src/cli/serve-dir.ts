// src/cli/serve-dir.ts
// ipmsg serve-dir: offer a folder (or each entry of it) to a target and serve it until fetched.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { IpmsgError } from '../errors.js';
import { prepareOffer } from '../transfer/local-files.js';
import type { Context } from './context.js';
import { DEFAULT_SERVE_TIMEOUT, serveOffer } from '../workflows/serve-offer.js';
import { serveOutput } from './files.js';
import { addCommonOptions, addResolveOptions, parseCount, parseDuration, resolveFlags } from './options.js';
import { DEFAULT_RESOLVE_WAIT, DEFAULT_RETRIES, DEFAULT_TIMEOUT } from './send.js';
import { withSession } from './session.js';

interface ServeDirFlags {
  to?: string[];
  each?: boolean;
  maxDownloads?: number;
  timeout?: number;
  wait?: number;
  dns: boolean;
}

export function makeServeDirCommand(ctx: Context): Command {
  const command = new Command('serve-dir')
    .description('offer a folder to a peer and serve it until fetched')
    .argument('<dir>', 'the folder')
    .argument('[message...]', 'text sent with the offer')
    .addOption(new Option('--to <target>', 'who may fetch it (repeatable, comma-separated)').makeOptionMandatory().argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--each', 'offer every entry of the folder instead of the folder itself'))
    .addOption(new Option('--max-downloads <n>', 'serve until this many complete downloads (each recipient may fetch again)').argParser(parseCount))
    .addOption(new Option('-t, --timeout <duration>', `stop serving after this long (default ${DEFAULT_SERVE_TIMEOUT / 60_000}m)`).argParser(parseDuration));
  addResolveOptions(command, `how long to look for a target given by name (default ${DEFAULT_RESOLVE_WAIT / 1000}s)`);
  addCommonOptions(command);
  command.action(async (dir: string, words: string[], flags: ServeDirFlags, cmd: Command) => {
    let paths = [dir];
    if (flags.each) {
      try {
        paths = readdirSync(dir).sort().map((name) => join(dir, name));
      } catch (error) {
        throw new IpmsgError('IPMSG_ERR_NO_INPUT', `Cannot read ${dir}: ${(error as Error).message}`);
      }
      if (paths.length === 0) throw new IpmsgError('IPMSG_ERR_INPUT', `${dir} is empty`);
    }
    const files = prepareOffer(paths);
    if (!flags.each && files[0]?.kind !== 'dir') throw new IpmsgError('IPMSG_ERR_INPUT', `${dir} is not a folder`);
    if (flags.maxDownloads === 0) throw new IpmsgError('IPMSG_ERR_USAGE', '--max-downloads must be at least 1');
    await withSession(ctx, cmd, async (session) => {
      const { messenger, settings, out } = session;
      const destinations = await session.client.resolve(flags.to ?? [], resolveFlags(flags, ctx.signal));
      const shown = serveOutput(session);
      try {
        await serveOffer(messenger, destinations, words.join(' '), files, {
          send: { check: true, seal: false, waitRead: false, readTimeout: undefined, timeout: DEFAULT_TIMEOUT, retries: DEFAULT_RETRIES },
          signal: ctx.signal,
          clock: ctx.clock,
          serveTimeout: flags.timeout ?? DEFAULT_SERVE_TIMEOUT,
          downloadsPerRecipient: flags.maxDownloads ?? 1,
          ...(flags.maxDownloads !== undefined ? { maxDownloads: flags.maxDownloads } : {}),
          charset: settings.charset,
          fallbackCharset: settings.fallbackCharset,
          ...(settings.bind ? { localAddress: settings.bind } : {}),
          progress: shown.progress,
          onEvent: shown.onEvent,
          onWarning: out.verbose,
        });
      } finally {
        shown.stop();
      }
    });
  });
  command.addHelpText('after', `\nExamples:\n  ipmsg serve-dir ./build --to bob "the build"\n  ipmsg serve-dir ./photos --each --to alice,bob --max-downloads 2`);
  return command;
}
