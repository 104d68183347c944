// src/cli/keys.ts
// ipmsg keys: our fingerprint and where the keys live; the peers' keys we pinned (list, trust,
// forget), as ssh does with known_hosts.

import { join } from 'node:path';
import { Command } from 'commander';
import { IpmsgError } from '../errors.js';
import type { Context } from './context.js';
import { formatTable } from './output.js';
import { addCommonOptions, addResolveOptions, addRetryOptions, resolveFlags } from './options.js';
import { DEFAULT_RESOLVE_WAIT, DEFAULT_RETRIES, DEFAULT_TIMEOUT } from './send.js';
import { openSecurity } from '../workflows/client.js';
import { openSettings, withSession } from './session.js';

interface TrustFlags {
  timeout?: number;
  retries?: number;
  wait?: number;
  dns: boolean;
}

async function security(ctx: Context, cmd: Command) {
  const { settings, out } = openSettings(ctx, cmd);
  if (!settings.crypto) throw new IpmsgError('IPMSG_ERR_USAGE', 'ipmsg keys does not work with --no-crypto');
  const found = await openSecurity(settings.paths.keyDir, settings.legacyCrypto, (bits, dir) => out.notice(`made our RSA-${bits} key in ${dir} (once: it identifies us from now on)`));
  // Loaded with the keys, not at start-up.
  const [{ KEY_FILE_NAMES }, { KNOWN_PEERS_FILE }] = await Promise.all([import('../state/own-keys.js'), import('../state/known-peers.js')]);
  return { security: found, settings, out, KEY_FILE_NAMES, KNOWN_PEERS_FILE };
}

export function makeKeysCommand(ctx: Context): Command {
  const keys = new Command('keys').description('our key fingerprint, and the peer keys we know (list, trust, forget)').enablePositionalOptions();
  addCommonOptions(keys);
  keys.action(async (_flags: unknown, cmd: Command) => {
    const { security: s, settings, out, KEY_FILE_NAMES, KNOWN_PEERS_FILE } = await security(ctx, cmd);
    const dir = settings.paths.keyDir;
    const files = [join(dir, KEY_FILE_NAMES[2048]), ...(settings.legacyCrypto ? [join(dir, KEY_FILE_NAMES[1024])] : [])];
    out.result(
      { fingerprint: s.fingerprint, user: s.userName(settings.identity.user), keys: files, knownPeers: join(dir, KNOWN_PEERS_FILE), capa: s.capa.toString(16) },
      formatTable([
        ['fingerprint', s.fingerprint],
        ['user name', s.userName(settings.identity.user)],
        ['keys', files.join(', ')],
        ['known peers', join(dir, KNOWN_PEERS_FILE)],
      ]).join('\n'),
    );
  });

  const list = new Command('list').description('the peers whose keys we pinned');
  addCommonOptions(list);
  list.action(async (_flags: unknown, cmd: Command) => {
    const { security: s, out } = await security(ctx, cmd);
    const peers = s.known.list();
    const lines = formatTable(peers.map((peer) => [peer.id, peer.fingerprint, `since ${peer.firstSeen}`]));
    peers.forEach((peer, i) => out.result({ peer: peer.id, fingerprint: peer.fingerprint, firstSeen: peer.firstSeen }, lines[i]));
  });

  const forget = new Command('forget').description('forget the key pinned for a peer (base@host, as `keys list` shows)').argument('<peer>', 'base@host');
  addCommonOptions(forget);
  forget.action(async (peer: string, _flags: unknown, cmd: Command) => {
    const { security: s, out } = await security(ctx, cmd);
    if (!(await s.known.forget(peer))) throw new IpmsgError('IPMSG_ERR_UNKNOWN_TARGET', `No key is pinned for ${peer} (see ipmsg keys list)`);
    out.result({ peer, forgotten: true }, `forgot the key of ${peer}`);
  });

  const trust = new Command('trust')
    .description("ask a peer for its key now and pin it, replacing the one we knew")
    .argument('<target>', 'user@host (as the changed-key error names it), an address, or a name on the LAN');
  addRetryOptions(trust, `total time to wait for the key (default ${DEFAULT_TIMEOUT / 1000}s)`);
  addResolveOptions(trust, `how long to look for a target given by name (default ${DEFAULT_RESOLVE_WAIT / 1000}s)`);
  addCommonOptions(trust);
  trust.action(async (target: string, flags: TrustFlags, cmd: Command) => {
    await withSession(ctx, cmd, async ({ client, messenger, out }) => {
      const s = messenger.security;
      if (!s) throw new IpmsgError('IPMSG_ERR_USAGE', 'ipmsg keys trust does not work with --no-crypto');
      const [destination] = await client.resolve(target, resolveFlags(flags, ctx.signal));
      if (!destination) return;
      const tries = (flags.retries ?? DEFAULT_RETRIES) + 1;
      const answer = await messenger.publicKey(destination, { tries, interval: Math.floor((flags.timeout ?? DEFAULT_TIMEOUT) / tries), signal: ctx.signal });
      const { peerId } = await import('../crypto/peer-id.js');
      const id = peerId(answer);
      const before = s.known.get(id)?.fingerprint;
      await s.known.trust(answer, answer.key);
      const now = s.known.get(id)?.fingerprint;
      out.result({ peer: id, fingerprint: now, previous: before ?? null }, before && before !== now ? `trusted the new key of ${id}: ${now} (was ${before})` : `trusted the key of ${id}: ${now}`);
    });
  });

  keys.addHelpText(
    'after',
    `
Examples:
  ipmsg keys                     # our key fingerprint
  ipmsg keys list                # the peers' pinned keys
  ipmsg keys trust bob           # pin bob's key again after it changed (exit 67 until then)
  ipmsg keys forget bob@bob-pc`,
  );
  return keys.addCommand(list).addCommand(forget).addCommand(trust);
}
