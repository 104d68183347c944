// src/workflows/doctor/target.ts
// One peer, as `ipmsg send` would reach it: found (like send finds it), answering BR_ENTRY and
// GETINFO over UDP, its TCP port open for files, what it can do, and whether the key it shows
// (GETPUBKEY) is the pinned one and the one its user name names.

import { connect } from 'node:net';
import { IpmsgError, isIpmsgError } from '../../errors.js';
import type { Messenger } from '../../messenger/index.js';
import type { Peer } from '../../messenger/peers.js';
import type { Destination } from '../../messenger/target.js';
import { checkNameFingerprint } from '../../crypto/fingerprint.js';
import { keyFingerprint, peerId } from '../../crypto/peer-id.js';
import type { AnsweredKey } from '../../messenger/key-exchange.js';
import type { CharsetChoice } from '../../protocol/peer-charset.js';
import type { Schedule } from '../../messenger/options.js';
import { parseFingerprintName } from '../../protocol/user-name.js';
import { KnownPeers } from '../../state/known-peers.js';
import { formatEndpoint } from '../../transport/address.js';
import { type Clock, sleep } from '../../transport/clock.js';
import type { Client, ResolveOptions } from '../client.js';
import { type CheckResult, check } from './check.js';
import { describeRoute, routeTo } from './ip-route.js';
import type { DoctorSystem } from './system.js';

export type TcpState = 'open' | 'refused' | 'timeout' | 'unreachable';

/** Connects to the peer's TCP port and closes at once: nothing is requested. */
export type TcpProbe = (address: string, port: number, timeout: number, signal: AbortSignal) => Promise<TcpState>;

export const tcpProbe: TcpProbe = (address, port, timeout, signal) =>
  new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout, signal });
    const done = (state: TcpState): void => {
      socket.destroy();
      resolve(state);
    };
    socket.once('connect', () => done('open'));
    socket.once('timeout', () => done('timeout'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable'));
  });

export interface TargetOptions extends ResolveOptions {
  readonly timeout: number;
  readonly retries: number;
  /** How long the TCP connect may take. */
  readonly connectTimeout: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Our keys folder: the known peers are read from it, never written. */
  readonly keyDir: string;
  /** The answers to the broadcast probe, and when it started. */
  readonly answered: readonly { readonly peer: Peer; readonly afterMs: number }[];
  readonly tcp?: TcpProbe;
  /** How to ask for the target's key; undefined: no keys (--no-crypto), its key is not checked. */
  readonly keys?: KeyAsk;
  /** Where the route to the target is asked (`ip route get`); no route check without it. */
  readonly system?: DoctorSystem;
}

/** The route a send to the target takes, policy rules included; undefined where `ip` cannot say. */
async function routeCheck(system: DoctorSystem, address: string, signal: AbortSignal): Promise<CheckResult | undefined> {
  if (system.platform !== 'linux') return undefined;
  const reading = await routeTo(system, address, signal);
  if (!reading) return undefined;
  const details = { ...reading.answer, ...(reading.rule ? { rule: reading.rule.text } : {}) };
  if (reading.answer.kind === 'refused') {
    return check('target-route', 'fail', `${address} ${describeRoute(reading)}`, 'nothing reaches it from this machine: fix the route or the policy rule (ip rule)', details);
  }
  return check('target-route', 'ok', `${address} is reached on ${describeRoute(reading)}`, undefined, details);
}

/** BR_ENTRY to the destination alone, and its ANSENTRY within `timeout`. */
async function askEntry(messenger: Messenger, to: Destination, options: TargetOptions): Promise<{ peer: Peer; afterMs: number } | undefined> {
  const heard = new AbortController();
  let found: Peer | undefined;
  const stop = messenger.peers.watch((peer) => {
    if (peer.address === to.address && peer.port === to.port) {
      found = peer;
      heard.abort();
    }
  });
  const startedAt = options.clock.now();
  try {
    await messenger.announceTo({ address: to.address, port: to.port });
    await sleep(options.clock, options.timeout, AbortSignal.any([heard.signal, options.signal])).catch(() => {
      if (options.signal.aborted) throw options.signal.reason;
    });
  } finally {
    stop();
  }
  return found && { peer: found, afterMs: options.clock.now() - startedAt };
}

function capabilities(peer: Peer, charset: CharsetChoice): CheckResult {
  const c = peer.capabilities;
  // iptux has no CAPUTF8OPT but names the encoding it reads in its entry (§15): UTF-8 as a rule.
  const utf8 = c.utf8 || (charset.reason === 'peer-iptux' && charset.charset === 'utf-8');
  const can = [utf8 ? (c.utf8 ? 'UTF-8' : 'UTF-8 (its encoding field)') : '', c.fileAttach ? 'files' : '', c.encrypt ? 'encryption' : '', c.fileEncrypt ? 'encrypted files' : ''].filter(Boolean);
  const lacks = [!utf8 ? 'UTF-8 (text goes in its legacy code page: --encoding)' : '', !c.encrypt ? 'encryption (messages go in plain text)' : ''].filter(Boolean);
  return check('target-capabilities', lacks.length > 0 ? 'warn' : 'ok', `${peer.client ?? 'its client'} announces ${can.length > 0 ? can.join(', ') : 'no extension'}`, lacks.length > 0 ? `it lacks ${lacks.join(' and ')}` : undefined, { ...c, charset: charset.charset, client: peer.client ?? null, version: peer.version });
}

/** How the doctor asks the target for its key: GETPUBKEY with our capability word, within the target's timeout. */
export interface KeyAsk {
  readonly capa: number;
  readonly schedule: Schedule;
}

function namedOnly(id: string, who: string, named: { fingerprint: string }, pinned: string | undefined, note = ''): CheckResult {
  const details = { peer: who, announced: named.fingerprint, pinned: pinned ?? null };
  if (pinned === undefined) return check(id, 'ok', `key ${named.fingerprint} of ${who} is not pinned yet${note}: the first encrypted send pins it`, undefined, details);
  if (pinned.toLowerCase() === named.fingerprint) return check(id, 'ok', `key ${named.fingerprint} of ${who} is the pinned one${note}`, undefined, details);
  return check(id, 'fail', `${who} announces key ${named.fingerprint}, but ${pinned} is pinned: encrypted sends refuse (67)`, `if it made a new key and you trust it, run: ipmsg keys trust ${who}`, details);
}

/**
 * The target's key against the pinned one. A peer that announces encryption is asked for its key
 * (GETPUBKEY, as a send asks), and the key it shows is compared with the pinned one and with the
 * fingerprint in its user name; otherwise only that fingerprint is compared. Nothing is pinned.
 */
async function keyCheck(messenger: Messenger, to: Destination, peer: Peer, options: TargetOptions): Promise<CheckResult> {
  const id = 'target-key';
  if (options.keys === undefined) return check(id, 'skip', 'no keys (--no-crypto): sends to it go in plain text, its key is not asked for');
  const named = parseFingerprintName(peer.user);
  const who = peerId(peer);
  let known: KnownPeers;
  try {
    known = await KnownPeers.open(options.keyDir);
  } catch (error) {
    return check(id, 'warn', (error as Error).message, 'fix or remove the known-peers file: sends refuse to run with it', { peer: who });
  }
  const pinned = known.fingerprint(who);
  if (!peer.capabilities.encrypt) return named ? namedOnly(id, who, named, pinned) : check(id, 'skip', 'it has no key (no encryption)');
  let shown: AnsweredKey;
  try {
    shown = await messenger.showPublicKey(to, { ...options.keys.schedule, signal: options.signal }, options.keys.capa);
  } catch (error) {
    if (!(error instanceof IpmsgError) || options.signal.aborted) throw error;
    const why = error.code === 'IPMSG_ERR_NO_ACK' ? `did not answer GETPUBKEY within ${options.timeout / 1000}s` : `answered GETPUBKEY with a key that cannot be used (${error.message})`;
    if (named && pinned !== undefined && pinned.toLowerCase() !== named.fingerprint) return namedOnly(id, who, named, pinned);
    return check(id, 'warn', `${who} announces encryption but ${why}`, 'sends to it go in plain text (--encrypt auto) or fail (79, --encrypt always)', { peer: who, announced: named?.fingerprint ?? null, pinned: pinned ?? null });
  }
  const key = keyFingerprint(shown.key);
  const details = { peer: who, key, announced: named?.fingerprint ?? null, pinned: pinned ?? null };
  if (named && checkNameFingerprint(peer.user, shown.key) === 'mismatch') {
    return check(
      id,
      'fail',
      `${who} answers GETPUBKEY with key ${key}, not the ${named.fingerprint} its user name names: encrypted sends refuse it (67)`,
      'someone else may be answering in its place: do not trust this key; check the other PC',
      details,
    );
  }
  const pin = known.check(peer, shown.key);
  if (typeof pin === 'object') {
    return check(id, 'fail', `${who} shows key ${key}, but ${pin.mismatch.known} is pinned: encrypted sends refuse (67)`, `if it made a new key and you trust it, run: ipmsg keys trust ${who}`, details);
  }
  const agrees = named ? ' (its user name agrees)' : '';
  if (pin === 'new') return check(id, 'ok', `key ${key} of ${who} is not pinned yet${agrees}: the first encrypted send pins it`, undefined, details);
  return check(id, 'ok', `key ${key} of ${who} is the pinned one${agrees}`, undefined, details);
}

const tcpResults: Record<TcpState, { status: 'ok' | 'warn'; text: string; advice?: string }> = {
  open: { status: 'ok', text: 'is open: files can be fetched from it' },
  refused: { status: 'warn', text: 'refuses connections', advice: 'fine for messages; it listens only while offering files (the official client always does: if it is one, allow TCP in its firewall)' },
  timeout: { status: 'warn', text: 'does not answer (a firewall drops it)', advice: 'messages still work; to fetch its files, allow TCP in its firewall' },
  unreachable: { status: 'warn', text: 'is unreachable', advice: 'check the route to it' },
};

export async function checkTarget(client: Client, target: string, options: TargetOptions): Promise<CheckResult[]> {
  const messenger = client.messenger;
  let destination: Destination | undefined;
  try {
    [destination] = await client.resolve(target, options);
  } catch (error) {
    if (!(error instanceof IpmsgError) || options.signal.aborted) throw error;
    return [check('target', 'fail', error.message, 'check the name with ipmsg list, or give its address', { target })];
  }
  if (!destination) return [check('target', 'fail', `no peer for ${target}`, 'give its address', { target })];
  const where = formatEndpoint(destination.address, destination.port);
  const results: CheckResult[] = [check('target', 'ok', `${target} is ${where}${destination.label ? ` (${destination.label})` : ''}`, undefined, { target, address: destination.address, port: destination.port })];
  const route = options.system && (await routeCheck(options.system, destination.address, options.signal));
  if (route) results.push(route);

  const broadcastAnswer = options.answered.find((a) => a.peer.address === destination.address && a.peer.port === destination.port);
  let unsent: string | undefined;
  const entry =
    broadcastAnswer ??
    (await askEntry(messenger, destination, options).catch((error: unknown) => {
      // The network refused to send (no route, a prohibit rule, an output drop): a finding, not the end of the run.
      if (!isIpmsgError(error, 'IPMSG_ERR_UNAVAILABLE')) throw error;
      unsent = error.message;
      return undefined;
    }));
  results.push(
    entry
      ? check('target-entry', 'ok', `${where} answered BR_ENTRY after ${entry.afterMs} ms${broadcastAnswer ? ' (to the broadcast)' : ''}`, undefined, { rttMs: entry.afterMs, broadcast: broadcastAnswer !== undefined })
      : unsent !== undefined
        ? check('target-entry', 'fail', `BR_ENTRY to ${where} cannot be sent: ${unsent}`, 'this machine cannot send to it: check the route to it and the output rules of the firewall')
        : check('target-entry', 'fail', `${where} did not answer BR_ENTRY within ${options.timeout / 1000}s`, 'is an IP Messenger client running there? allow UDP 2425 in its firewall (both PCs)'),
  );

  const asked = options.clock.now();
  try {
    const version = await messenger.query(destination, 'GETINFO', { timeout: options.timeout, retries: options.retries, signal: options.signal });
    const rtt = options.clock.now() - asked;
    results.push(check('target-info', 'ok', `${where} answered GETINFO after ${rtt} ms: ${version}`, undefined, { rttMs: rtt, version }));
  } catch (error) {
    if (isIpmsgError(error, 'IPMSG_ERR_UNAVAILABLE')) {
      results.push(check('target-info', 'fail', `GETINFO to ${where} cannot be sent: ${error.message}`, 'a send to it would fail (69): check the route to it'));
    } else if (!isIpmsgError(error, 'IPMSG_ERR_NO_ACK')) {
      throw error;
    } else {
      results.push(
        entry
          ? check('target-info', 'warn', `${where} did not answer GETINFO (iptux never does)`, 'messages still work: it answered BR_ENTRY')
          : check('target-info', 'fail', `${where} answers nothing over UDP`, 'a send to it would fail (75): check that it runs IP Messenger, its address, and its firewall'),
      );
    }
  }

  const tcp = await (options.tcp ?? tcpProbe)(destination.address, destination.port, options.connectTimeout, options.signal);
  const outcome = tcpResults[tcp];
  results.push(check('target-tcp', outcome.status, `TCP ${where} ${outcome.text}`, outcome.advice, { state: tcp }));

  if (entry) results.push(capabilities(entry.peer, messenger.charsetFor(destination)), await keyCheck(messenger, destination, entry.peer, options));
  return results;
}
