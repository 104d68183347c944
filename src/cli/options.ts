// src/cli/options.ts
// Option parsers shared by the subcommands, and the options every subcommand takes.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { CHARSETS, parseCharset } from '../encoding/charset.js';
import { parsePort as parsePortText, parseTarget } from '../messenger/target.js';
import { IPMSG_DEFAULT_PORT } from '../protocol/command.js';
import { familyOf, isMulticastIpv6, unmapped } from '../transport/address.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** '1500ms', '3s', '2m', '1h'; a bare number is seconds. Returns milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected a duration such as 500ms, 3s or 2m, got ${JSON.stringify(text)}`);
  const value = Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000);
  if (!Number.isFinite(value) || value > 2 ** 31 - 1) throw new InvalidArgumentError('duration too long');
  return Math.round(value);
}

export function parsePort(text: string): number {
  const port = parsePortText(text.trim());
  if (port === undefined) throw new InvalidArgumentError(`expected a port number 1-65535, got ${JSON.stringify(text)}`);
  return port;
}

export function parseCount(text: string): number {
  if (!/^\s*\d{1,9}\s*$/.test(text)) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseEncodingOption(text: string): string {
  const charset = parseCharset(text);
  if (!charset) throw new InvalidArgumentError(`supported encodings: ${CHARSETS.join(', ')}`);
  return charset;
}

/** An IPv4 or IPv6 address of this machine (an IPv6 one may carry its zone, `fe80::1%eth0`). */
export function parseBindAddress(text: string): string {
  const address = unmapped(text);
  if (familyOf(address) === undefined || isMulticastIpv6(address)) {
    throw new InvalidArgumentError(`expected an IPv4 or IPv6 address, got ${JSON.stringify(text)}`);
  }
  return address;
}

/** An IPv4 address (broadcast or a host), or an IPv6 multicast group or host (`ff15::979%eth0`). */
export function parseBroadcastAddress(text: string): string {
  const address = unmapped(text);
  if (familyOf(address) === undefined) throw new InvalidArgumentError(`expected an IPv4 address or an IPv6 multicast group, got ${JSON.stringify(text)}`);
  return address;
}

/** A peer to ask for its host list: an address, ADDR:PORT or a name, as a target is written. */
export function parseVia(text: string): string {
  try {
    return parseTarget(text, IPMSG_DEFAULT_PORT).text;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function collect(parse: (text: string) => string) {
  return (value: string, previous: string[] | undefined): string[] => [
    ...(previous ?? []),
    ...value.split(',').map((v) => parse(v.trim())),
  ];
}

/** The options every subcommand on the network takes (they are written after the subcommand name). */
export function addCommonOptions(command: Command): Command {
  command
    .addOption(new Option('-p, --port <port>', 'UDP port to use and to send to (default 2425)').env('IPMSG_PORT').argParser(parsePort))
    .addOption(new Option('--bind <address>', 'local IPv4 or IPv6 address (interface) to use').env('IPMSG_BIND').argParser(parseBindAddress))
    .addOption(
      new Option('--broadcast <address>', 'also broadcast to this address or IPv6 multicast group (repeatable, comma-separated)')
        .env('IPMSG_BROADCAST')
        .argParser(collect(parseBroadcastAddress)),
    )
    .addOption(new Option('-4, --ipv4', 'IPv4 only (default: IPv6 too where the machine has it)').conflicts('ipv6'))
    .addOption(new Option('-6, --ipv6', 'IPv6 only').conflicts('ipv4'))
    .addOption(new Option('--strict-port', 'fail instead of using a free port when the port is taken'))
    .addOption(new Option('--user <name>', 'user name to announce').env('IPMSG_USER'))
    .addOption(new Option('--host <name>', 'host name to announce').env('IPMSG_HOST'))
    .addOption(new Option('--nick <name>', 'nickname to announce').env('IPMSG_NICK'))
    .addOption(new Option('--group <name>', 'group name to announce').env('IPMSG_GROUP'))
    .addOption(
      new Option('--encoding <charset>', `send in this code page to every peer (${CHARSETS.join(', ')}); default: the one each peer reads`)
        .env('IPMSG_ENCODING')
        .argParser(parseEncodingOption),
    )
    .addOption(new Option('--no-crypto', 'no keys: no encryption, no ENCRYPTOPT, no key fingerprint in the user name').env('IPMSG_NO_CRYPTO'))
    .addOption(new Option('--legacy-crypto', 'also RSA-1024 + Blowfish-128, for old clients (weak)').env('IPMSG_LEGACY_CRYPTO'))
    .addOption(new Option('--lossy', "send a look-alike (√ for ✔) or '?' for characters the code page cannot hold instead of failing"));
  return addOutputOptions(command);
}

/** --json, -q, -v, --debug: for subcommands that use no network (aliases). */
export function addOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('--json', 'print one JSON object per line'))
    .addOption(new Option('-q, --quiet', 'print no results, only errors'))
    .addOption(new Option('-v, --verbose', 'report ignored packets and other details on stderr'))
    .addOption(new Option('--debug', 'show stack traces of errors'));
}

export function addRetryOptions(command: Command, timeoutHelp: string): Command {
  return command
    .addOption(new Option('-t, --timeout <duration>', timeoutHelp).env('IPMSG_TIMEOUT').argParser(parseDuration))
    .addOption(new Option('-r, --retries <n>', 'resends after the first try (default 4)').env('IPMSG_RETRIES').argParser(parseCount));
}

/** For subcommands that take a target: how to find a target given by name. */
export function addResolveOptions(command: Command, help: string): Command {
  return addViaOption(
    command
      .addOption(new Option('-w, --wait <duration>', help).env('IPMSG_WAIT').argParser(parseDuration))
      .addOption(new Option('--no-dns', 'find names only among the peers on the LAN, never with the system resolver')),
    'also look for names among the hosts this peer lists (GETLIST: hosts broadcasts do not reach; repeatable, comma-separated)',
  );
}

export function addViaOption(command: Command, help: string): Command {
  return command.addOption(new Option('--via <target>', help).env('IPMSG_VIA').argParser(collect(parseVia)));
}

/** The resolve options of a command that took addResolveOptions, for Client.resolve. */
export function resolveFlags(flags: { wait?: number; dns: boolean }, signal: AbortSignal): { wait?: number; dns: boolean; signal: AbortSignal } {
  return { ...(flags.wait !== undefined ? { wait: flags.wait } : {}), dns: flags.dns, signal };
}

export function addWaitOption(command: Command, help: string): Command {
  return command.addOption(new Option('-w, --wait <duration>', help).env('IPMSG_WAIT').argParser(parseDuration));
}
