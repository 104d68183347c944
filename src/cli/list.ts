// src/cli/list.ts
// ipmsg list: announce, collect the answers, leave, print one line per peer.

import { Command, Option } from 'commander';
import { IpmsgError } from '../errors.js';
import { type Peer, groupPeers } from '../messenger/peers.js';
import { type FeiqVersion, parseFeiqVersion } from '../protocol/entry.js';
import { parseFingerprintName } from '../protocol/user-name.js';
import { writePeerNames } from '../state/peer-names.js';
import { compareAddresses, familyOf, formatEndpoint } from '../transport/address.js';
import type { Context } from './context.js';
import { addCommonOptions, addViaOption, addWaitOption, parseCount } from './options.js';
import { formatTable } from './output.js';
import { withSession } from './session.js';
import { startSpinner } from './spinner.js';

/** The official answers BR_ENTRY after a random delay of up to ~4.1 s on a large LAN (§3.2). */
export const DEFAULT_LIST_WAIT = 4500;

/** A peer heard over several addresses (IPv4 and IPv6) lists them all, the one used first. */
export function peerJson(peer: Peer, startedAt: number, addresses: readonly string[] = [peer.address]): object {
  return {
    address: peer.address,
    family: familyOf(peer.address) ?? null,
    addresses: addresses.map((address) => ({ address, family: familyOf(address) ?? null })),
    port: peer.port,
    user: peer.user,
    host: peer.host,
    nick: peer.nick,
    group: peer.group,
    absent: peer.absent,
    capabilities: peer.capabilities,
    client: peer.client ?? null,
    version: peer.version,
    ...feiqJson(peer.version),
    answeredAfterMs: Math.max(0, peer.seenAt - startedAt),
    // The peer whose host list named it; null when it answered us itself.
    via: peer.via ?? null,
  };
}

/** FeiQ's version fields (a MAC address among them) are data for scripts, not a client name. */
function feiqJson(version: string): { feiq?: FeiqVersion } {
  const feiq = parseFeiqVersion(version);
  return feiq ? { feiq } : {};
}

/** The table row of a peer (all its addresses); with `via`, a VIA column before the client. */
export function peerRow(p: Peer, via = false, addresses: readonly string[] = [p.address]): string[] {
  const row = [addresses.map((a) => formatEndpoint(a, p.port)).join(','), `${p.user}@${p.host}`, p.nick, p.group || '-', p.absent ? 'absent' : '-', can(p)];
  if (via) row.push(p.via ?? '-');
  row.push(p.client ?? '-');
  return row;
}

/** Every peer once: the ones that answered us first, then the ones only a host list named. */
export function mergePeers(answered: readonly Peer[], listed: readonly (readonly Peer[])[]): Peer[] {
  const out = new Map<string, Peer>();
  for (const peer of answered) out.set(`${peer.address}:${peer.port}`, peer);
  for (const list of listed) for (const peer of list) if (!out.has(`${peer.address}:${peer.port}`)) out.set(`${peer.address}:${peer.port}`, peer);
  return [...out.values()];
}

/** The names a peer answers to as a target (peers.match): user (without its key fingerprint), nick, host, user@host. */
function targetNames(peer: Peer): string[] {
  const user = parseFingerprintName(peer.user)?.base ?? peer.user;
  return [user, peer.nick, peer.host, `${user}@${peer.host}`].filter((n) => n.length > 0);
}

function can(peer: Peer): string {
  const c = peer.capabilities;
  const list = [c.utf8 ? 'utf8' : '', c.fileAttach ? 'files' : '', c.encrypt ? 'encrypt' : ''].filter(Boolean);
  return list.length > 0 ? list.join(',') : '-';
}

function byAddress(a: Peer, b: Peer): number {
  return compareAddresses(a.address, b.address) || a.port - b.port;
}

export function makeListCommand(ctx: Context): Command {
  const command = new Command('list')
    .description('list the IP Messenger users on the LAN')
    .addOption(new Option('-c, --count <n>', 'stop as soon as this many peers answered').argParser(parseCount));
  addWaitOption(
    command,
    `how long to wait for answers (default ${DEFAULT_LIST_WAIT / 1000}s, long enough for the official client's delayed replies; 1s is enough for iptux)`,
  );
  addViaOption(command, "also list the hosts this peer knows (GETLIST: hosts broadcasts do not reach; repeatable, comma-separated); VIA says which list named each");
  addCommonOptions(command);
  command.action(async (flags: { count?: number; wait?: number }, cmd: Command) => {
    await withSession(ctx, cmd, async ({ client, messenger, out, settings }) => {
      const wait = flags.wait ?? DEFAULT_LIST_WAIT;
      const startedAt = ctx.clock.now();
      const spinner = await startSpinner(ctx, `waiting ${wait / 1000}s for answers (--wait or --count to shorten)…`);
      let peers: Peer[];
      try {
        // The lists are asked while broadcasting runs: a peer that also answers us is listed as itself.
        const [answered, lists] = await Promise.all([
          messenger.discover({
            wait,
            ...(flags.count !== undefined ? { count: flags.count } : {}),
            signal: ctx.signal,
            onPeer: () => spinner.update(`${messenger.peers.size} found, waiting for more…`),
          }),
          client.hostLists({ signal: ctx.signal }),
        ]);
        peers = mergePeers(answered.filter((p) => p.via === undefined), lists.map((l) => l.peers));
      } finally {
        spinner.stop();
      }
      // For shell completion; a cache that cannot be written costs nothing but the completion.
      try {
        writePeerNames(settings.paths.cacheDir, peers.flatMap(targetNames));
      } catch (error) {
        out.verbose(`cannot cache the peer names for completion: ${(error as Error).message}`);
      }
      const via = settings.via.length > 0;
      const groups = groupPeers(peers).sort((a, b) => byAddress(a.peer, b.peer));
      const rows = groups.map((g) => peerRow(g.peer, via, g.addresses));
      const lines = formatTable([['ADDRESS', 'USER@HOST', 'NICK', 'GROUP', 'STATE', 'CAN', ...(via ? ['VIA'] : []), 'CLIENT'], ...rows]);
      groups.forEach(({ peer, addresses }, i) => {
        out.result(peerJson(peer, startedAt, addresses), i === 0 ? `${lines[0]}\n${lines[1]}` : lines[i + 1]);
      });
      if (groups.length === 0 && !settings.json && !settings.quiet) out.notice(`no peer answered within ${wait / 1000}s`);
      if (flags.count !== undefined && groups.length < flags.count) {
        throw new IpmsgError('IPMSG_ERR_TIMEOUT', `${groups.length} of ${flags.count} peers answered within ${wait / 1000}s`);
      }
    });
  });
  command.addHelpText('after', `\nExamples:\n  ipmsg list --wait 1s\n  ipmsg list --count 3 --wait 10s               # as soon as three peers answered\n  ipmsg list --json | jq -r 'select(.user) | .address'\n  ipmsg list --via 10.1.0.5                     # also the hosts on that peer's host list`);
  return command;
}
