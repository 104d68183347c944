// src/cli/get-file.ts
// ipmsg get-file: fetch one offered file or folder, by the packet number and file id that
// `recv --json` prints.

import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { IpmsgError, isIpmsgError } from '../errors.js';
import { IPMSG_FILE_DIR, IPMSG_FILE_REGULAR } from '../protocol/file-attr.js';
import { CONFLICT_POLICIES, type ConflictPolicy } from '../transfer/save.js';
import type { Context } from './context.js';
import { DEFAULT_STALL_TIMEOUT, saveAttachment } from '../workflows/save-offer.js';
import { makeProgress } from './progress.js';
import { addCommonOptions, addResolveOptions, parseCount, parseDuration, resolveFlags } from './options.js';
import { DEFAULT_RESOLVE_WAIT } from './send.js';
import { withSession } from './session.js';

function parseDecimal(what: string) {
  return (text: string): number => {
    if (!/^\d{1,15}$/.test(text)) throw new InvalidArgumentError(`${what} must be a decimal number (as recv --json prints it)`);
    return Number(text);
  };
}

interface GetFileFlags {
  output?: string;
  name?: string;
  dir?: boolean;
  resume?: boolean;
  size?: number;
  onConflict: ConflictPolicy;
  stallTimeout?: number;
  utf8: boolean;
  encryptBody: boolean;
  wait?: number;
  dns: boolean;
}

export function makeGetFileCommand(ctx: Context): Command {
  const command = new Command('get-file')
    .description('fetch one offered file or folder (ids as printed by recv --json)')
    .argument('<target>', 'the peer that offered it')
    .argument('<packetNo>', "the offer's packet number", parseDecimal('packetNo'))
    .argument('<fileId>', 'the file id in the offer', parseDecimal('fileId'))
    .addOption(new Option('-o, --output <path>', 'where to save: a new name, or an existing folder (default: the current folder)'))
    .addOption(new Option('--name <name>', 'the offered name (recv --json prints it): saved under it unless -o names a file (default: <packetNo>-<fileId>)'))
    .addOption(new Option('--dir', 'the item is a folder (GETDIRFILES)'))
    .addOption(new Option('--resume', 'continue a .part file left by an earlier attempt'))
    .addOption(new Option('--size <bytes>', 'the announced size (recv --json prints it): checks the transfer').argParser(parseCount))
    .addOption(new Option('--on-conflict <policy>', 'when the name exists').choices(CONFLICT_POLICIES).default('rename'))
    .addOption(new Option('--stall-timeout <duration>', `give up when nothing arrives for this long (default ${DEFAULT_STALL_TIMEOUT / 1000}s)`).argParser(parseDuration))
    .addOption(new Option('--no-utf8', 'ask without UTF8OPT (for an offer that did not carry it)'))
    .addOption(new Option('--no-encrypt-body', 'with a peer that takes encrypted requests: sign the request, but let the data come unencrypted (faster)'));
  addResolveOptions(command, `how long to look for a target given by name (default ${DEFAULT_RESOLVE_WAIT / 1000}s)`);
  addCommonOptions(command);
  command.action(async (target: string, packetNo: number, fileId: number, flags: GetFileFlags, cmd: Command) => {
    await withSession(ctx, cmd, async (session) => {
      const { messenger, settings, out } = session;
      const [destination] = await session.client.resolve(target, resolveFlags(flags, ctx.signal));
      if (!destination) return;
      const output = resolve(flags.output ?? '.');
      const isFolder = (() => {
        try {
          return statSync(output).isDirectory();
        } catch {
          return false;
        }
      })();
      // A request carries no name, and nothing asks a peer what it offered: the name comes from --name.
      const intoFolder = flags.output === undefined || isFolder;
      const dir = intoFolder ? output : dirname(output);
      const name = intoFolder ? (flags.name ?? `${packetNo}-${fileId}`) : basename(output);
      await messenger.announceTo(destination); // iptux serves only peers it has heard an entry from
      const progress = makeProgress(ctx, settings);
      const saved = await saveAttachment(
        messenger,
        destination,
        packetNo,
        { fileId, name, attr: flags.dir ? IPMSG_FILE_DIR : IPMSG_FILE_REGULAR, size: flags.size },
        {
          dir,
          name,
          policy: flags.onConflict,
          resume: flags.resume === true,
          oldPart: 'fail',
          stallTimeout: flags.stallTimeout ?? DEFAULT_STALL_TIMEOUT,
          utf8: flags.utf8,
          encryptBody: flags.encryptBody,
          fallbackCharset: settings.fallbackCharset,
          ...(settings.bind ? { localAddress: settings.bind } : {}),
          signal: ctx.signal,
          progress,
          onNotice: out.notice,
        },
      )
        .catch((error: unknown) => {
          // A file's .part is kept and can be continued; a folder starts over.
          if (!flags.dir && isIpmsgError(error, 'IPMSG_ERR_TRANSFER')) {
            throw new IpmsgError('IPMSG_ERR_TRANSFER', `${error.message} (the .part stays: run the same command with --resume to continue)`, { cause: error });
          }
          throw error;
        })
        .finally(() => progress.stop());
      if (saved.status === 'skipped') throw new IpmsgError('IPMSG_ERR_CANT_CREATE', `not saved: ${saved.reason}`);
      out.result(saved, `saved ${saved.path} (${saved.bytes} bytes)`);
    });
  });
  command.addHelpText('after', `\nExamples:\n  ipmsg get-file 10.0.0.7 1796619243 0 -o report.pdf\n  ipmsg get-file 10.0.0.7 1796619243 0 -o report.pdf --resume   # continue report.pdf.part\n  ipmsg get-file bob 1796619243 1 --dir --name logs -o downloads/`);
  return command;
}
