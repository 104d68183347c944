// src/workflows/doctor/index.ts
// `ipmsg doctor` as a library: checks why this PC cannot see another one — interfaces and
// broadcast routes, the port, the firewall, who answers BR_ENTRY — and, given a target, whether
// a send to it would work. It changes nothing on the machine: no key is made or pinned, no state
// file written (packet numbers are kept in memory); it only binds the port for a moment, says
// BR_ENTRY (and to a target GETINFO and GETPUBKEY) and leaves with BR_EXIT.

import { type Charset, legacyCharset } from '../../encoding/charset.js';
import { IpmsgError } from '../../errors.js';
import { localCapa } from '../../crypto/capability.js';
import { Messenger } from '../../messenger/index.js';
import { schedule } from '../../messenger/options.js';
import type { Identity } from '../../messenger/packets.js';
import { IPMSG_DEFAULT_PORT, IPMSG_LIMITED_BROADCAST } from '../../protocol/command.js';
import { MemoryPacketCounter } from '../../state/packet-counter.js';
import type { Family } from '../../transport/address.js';
import type { InterfaceTable } from '../../transport/broadcast.js';
import { type Clock, systemClock } from '../../transport/clock.js';
import { type Aliases, AliasTable } from '../aliases.js';
import { Client, clientVersion } from '../client.js';
import { makeIdentity } from '../identity.js';
import { type CheckResult, type DoctorSummary, check, summarize } from './check.js';
import { checkFirewall } from './firewall.js';
import { checkInterfaces, interfaceUses } from './interfaces.js';
import { type BindProbe, checkPort } from './ports.js';
import { probeEntry } from './probe.js';
import { checkDirectedBroadcasts, checkLimitedBroadcast } from './routes.js';
import { type DoctorSystem, nodeSystem } from './system.js';
import { type TcpProbe, checkTarget } from './target.js';

export interface DoctorOptions extends Partial<Identity> {
  readonly port?: number;
  readonly bind?: string;
  readonly family?: Family;
  readonly strictPort?: boolean;
  /** Extra broadcast addresses (--broadcast). */
  readonly broadcast?: readonly string[];
  /** How long to wait for answers to BR_ENTRY (ms). */
  readonly wait: number;
  /** A peer to check as a send would reach it. */
  readonly target?: string;
  /** Names for targets, as openMessenger() takes them. */
  readonly aliases?: Aliases | AliasTable;
  /** Total time for each of the target's answers (ms). */
  readonly timeout: number;
  readonly retries: number;
  /** How long the target's TCP connect may take (ms). */
  readonly connectTimeout: number;
  /** How long to look for a target given by name (ms). */
  readonly resolveWait?: number;
  readonly dns?: boolean;
  /** One code page for every peer (as --encoding): what our entries are written in, and how legacy answers are read. */
  readonly encoding?: Charset;
  /** How text neither flagged nor valid UTF-8 is read (default: from `encoding`, else the locale's). */
  readonly fallbackEncoding?: Charset;
  /** '?' for characters of our names the code page cannot hold, instead of failing. */
  readonly lossy?: boolean;
  /** False (--no-crypto): the target's key is not asked for, as sends then never encrypt. */
  readonly crypto?: boolean;
  /** Ask for the target's key offering RSA-1024 too (--legacy-crypto), as such a send would. */
  readonly legacyCrypto?: boolean;
  /** Where the known peers are read from (never written). */
  readonly keyDir: string;
  readonly version?: string;
  /** Where the locale (for the legacy code page) is read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  readonly signal: AbortSignal;
  /** Each result as soon as it is known. */
  readonly onResult?: (result: CheckResult) => void;
  readonly onWarning?: (message: string) => void;
  readonly system?: DoctorSystem;
  readonly bindProbe?: BindProbe;
  readonly tcpProbe?: TcpProbe;
}

export interface DoctorReport {
  readonly results: readonly CheckResult[];
  readonly summary: DoctorSummary;
}

/** The doctor's socket: no keys, packet numbers in memory, no charset or plain-peer store — nothing written. */
function openQuiet(options: DoctorOptions, port: number, clock: Clock, interfaces: InterfaceTable, fallbackCharset: Charset, onWarning: (message: string) => void): Promise<Messenger> {
  return Messenger.open({
    identity: makeIdentity(options),
    port,
    bind: options.bind,
    portFallback: true, // a busy port is reported by the port check; the probes go on from a free one
    broadcast: options.broadcast ?? [],
    ...(options.family ? { family: options.family } : {}),
    charset: options.encoding,
    fallbackCharset,
    lossy: options.lossy === true,
    clientVersion: clientVersion(options.version ?? 'library'),
    clock,
    packetNumbers: new MemoryPacketCounter(clock),
    interfaces,
    onWarning,
    onNotice: onWarning,
  });
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const system = options.system ?? nodeSystem;
  const clock = options.clock ?? systemClock;
  const port = options.port ?? IPMSG_DEFAULT_PORT;
  const results: CheckResult[] = [];
  const emit = (...found: CheckResult[]): void => {
    for (const result of found) {
      results.push(result);
      options.onResult?.(result);
    }
  };
  const portOptions = { port, ...(options.bind ? { bind: options.bind } : {}), ...(options.family ? { family: options.family } : {}), strictPort: options.strictPort === true };
  // Before our own socket takes the port.
  const ports = [await checkPort(system, 'udp', portOptions, options.bindProbe), await checkPort(system, 'tcp', portOptions, options.bindProbe)];
  const interfaces = system.interfaces();
  const onWarning = options.onWarning ?? (() => undefined);
  const fallbackCharset = options.fallbackEncoding ?? legacyCharset(options.encoding, options.env ?? process.env);
  let messenger: Messenger;
  try {
    messenger = await openQuiet(options, port, clock, interfaces, fallbackCharset, onWarning);
  } catch (error) {
    if (!(error instanceof IpmsgError) || error.code !== 'IPMSG_ERR_UNAVAILABLE') throw error;
    // No socket, no probe: what was found about the port says why.
    emit(...ports, check('socket', 'fail', error.message, 'nothing can be sent or heard from this machine until a UDP port can be bound'));
    return { results, summary: summarize(results) };
  }
  const aliases = options.aliases instanceof AliasTable ? options.aliases : new AliasTable(options.aliases);
  const client = new Client(messenger, { port, clock, charset: options.encoding, fallbackCharset, via: [], aliases, onNotice: onWarning, ...(options.bind ? { bind: options.bind } : {}) });
  try {
    const targets = messenger.broadcastTargets();
    const uses = interfaceUses(interfaces, messenger.families, options.bind);
    emit(checkInterfaces(uses, targets));
    emit(await checkLimitedBroadcast(system, targets.includes(IPMSG_LIMITED_BROADCAST), options.signal));
    const directed = await checkDirectedBroadcasts(system, uses, targets, options.signal);
    if (directed) emit(directed);
    emit(...ports);
    emit(...(await checkFirewall(system, port, { families: messenger.families, interfaces: uses.map((u) => u.name) }, options.signal)));
    const probe = await probeEntry(messenger, { wait: options.wait, clock, interfaces, signal: options.signal });
    emit(...probe.results);
    if (options.target !== undefined) {
      emit(
        ...(await checkTarget(client, options.target, {
          timeout: options.timeout,
          retries: options.retries,
          connectTimeout: options.connectTimeout,
          ...(options.resolveWait !== undefined ? { wait: options.resolveWait } : {}),
          dns: options.dns !== false,
          clock,
          signal: options.signal,
          keyDir: options.keyDir,
          answered: probe.answers,
          ...(options.tcpProbe ? { tcp: options.tcpProbe } : {}),
          system,
          ...(options.crypto !== false ? { keys: { capa: localCapa({ legacy: options.legacyCrypto === true }), schedule: schedule({ timeout: options.timeout, retries: options.retries }) } } : {}),
        })),
      );
    }
  } finally {
    await client.close();
  }
  return { results, summary: summarize(results) };
}

export { type CheckResult, type CheckStatus, type DoctorSummary, summarize } from './check.js';
export type { DoctorSystem, CommandResult } from './system.js';
export type { TcpProbe, TcpState } from './target.js';
export type { BindProbe } from './ports.js';
