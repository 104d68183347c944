// src/cli/session.ts
// Opens the messenger a subcommand works with, from its resolved settings, and always closes it
// (saying BR_EXIT when it announced itself).

import { join } from 'node:path';
import type { Command } from 'commander';
import { Messenger } from '../messenger/index.js';
import type { Security } from '../messenger/security.js';
import { FilePlainPeers } from '../state/plain-peers.js';
import { FilePacketCounter, PACKET_COUNTER_FILE } from '../state/packet-counter.js';
import { type Settings, resolveSettings } from './config.js';
import type { Context } from './context.js';
import { type Output, makeOutput } from './output.js';

/** Our answer to GETINFO, in the official's "<edition>Ver<version>" shape (§4.4). */
export function clientVersion(version: string): string {
  return `ipmsg CLI (Node.js) Ver${version}`;
}

export interface Session {
  readonly settings: Settings;
  readonly out: Output;
  readonly messenger: Messenger;
  readonly ctx: Context;
}

export function openSettings(ctx: Context, command: Command): { settings: Settings; out: Output } {
  const settings = resolveSettings(command, ctx.env);
  return { settings, out: makeOutput(ctx, settings) };
}

/**
 * Our keys (made on the first run, with a notice) and the known peers; undefined with --no-crypto.
 * The crypto modules (and node:crypto, which starts OpenSSL) are loaded here, not at start-up, so
 * that a plain send does not pay for them.
 */
export async function openSecurity(settings: Settings, out: Output): Promise<Security | undefined> {
  if (!settings.crypto) return undefined;
  const [{ loadOwnKeys }, { KnownPeers }, { Security }] = await Promise.all([
    import('../state/own-keys.js'),
    import('../state/known-peers.js'),
    import('../messenger/security.js'),
  ]);
  const dir = settings.paths.keyDir;
  const [keys, known] = await Promise.all([loadOwnKeys(dir, { legacy: settings.legacyCrypto }), KnownPeers.open(dir)]);
  for (const bits of keys.created) out.notice(`made our RSA-${bits} key in ${dir} (once: it identifies us from now on)`);
  return new Security({ keys, legacy: settings.legacyCrypto, known });
}

/**
 * `noCrypto`: open without keys whatever the flags say (send --encrypt never: a fingerprinted user
 * name sending plain text is dropped by clients that can decrypt, §6.6).
 */
export async function withSession<T>(ctx: Context, command: Command, work: (session: Session) => Promise<T>, noCrypto = false): Promise<T> {
  const opened = openSettings(ctx, command);
  const { out } = opened;
  const settings = noCrypto ? { ...opened.settings, crypto: false } : opened.settings;
  const security = await openSecurity(settings, out);
  const messenger = await Messenger.open({
    identity: settings.identity,
    port: settings.port,
    bind: settings.bind,
    portFallback: settings.portFallback,
    broadcast: settings.broadcast,
    charset: settings.charset,
    fallbackCharset: settings.fallbackCharset,
    lossy: settings.lossy,
    clientVersion: clientVersion(ctx.version),
    clock: ctx.clock,
    packetNumbers: new FilePacketCounter(join(settings.paths.stateDir, PACKET_COUNTER_FILE), ctx.clock, out.notice),
    onWarning: out.verbose,
    onNotice: out.notice,
    ...(security ? { security, plainPeers: new FilePlainPeers(settings.paths.stateDir) } : {}),
  });
  try {
    return await work({ settings, out, messenger, ctx });
  } finally {
    await messenger.close();
  }
}
