// src/cli/session.ts
// Opens the library's client from a subcommand's resolved settings, and always closes it (saying
// BR_EXIT when it announced itself).

import type { Command } from 'commander';
import type { Messenger } from '../messenger/index.js';
import { type Client, clientVersion, openMessenger } from '../workflows/client.js';
import { type Settings, resolveSettings } from './config.js';
import type { Context } from './context.js';
import { type Output, makeOutput, oneLine } from './output.js';

export interface Session {
  readonly settings: Settings;
  readonly out: Output;
  readonly client: Client;
  readonly messenger: Messenger;
  readonly ctx: Context;
}

export function openSettings(ctx: Context, command: Command): { settings: Settings; out: Output } {
  const settings = resolveSettings(command, ctx.env, (message) => void ctx.stderr.write(`ipmsg: ${oneLine(message)}\n`));
  return { settings, out: makeOutput(ctx, settings) };
}

/**
 * A run has keys unless --no-crypto says otherwise, whatever its messages' encryption: its entries
 * carry one fingerprinted user name, so the official does not list it as a second user (§16).
 */
export async function withSession<T>(ctx: Context, command: Command, work: (session: Session) => Promise<T>): Promise<T> {
  const { settings, out } = openSettings(ctx, command);
  const client = await openMessenger({
    ...settings.identity,
    port: settings.port,
    strictPort: !settings.portFallback,
    ...(settings.bind ? { bind: settings.bind } : {}),
    broadcast: settings.broadcast,
    via: settings.via,
    aliases: settings.aliases,
    ...(settings.family ? { family: settings.family } : {}),
    encoding: settings.charset,
    fallbackEncoding: settings.fallbackCharset,
    lossy: settings.lossy,
    crypto: settings.crypto,
    legacyCrypto: settings.legacyCrypto,
    keyDir: settings.paths.keyDir,
    stateDir: settings.paths.stateDir,
    clientVersion: clientVersion(ctx.version),
    clock: ctx.clock,
    onKeyCreated: (bits, dir) => out.notice(`made our RSA-${bits} key in ${dir} (once: it identifies us from now on)`),
    onWarning: out.verbose,
    onNotice: out.notice,
  });
  try {
    return await work({ settings, out, client, messenger: client.messenger, ctx });
  } finally {
    await client.close();
  }
}
