// src/workflows/client.ts
// The library's front door: openMessenger() opens a messenger with sane defaults, and the client
// it returns sends, receives, offers and saves, each bounded by an AbortSignal.

import { join } from 'node:path';
import { type Charset, legacyCharset } from '../encoding/charset.js';
import { IpmsgError } from '../errors.js';
import { type EncryptMode, type HostListResult, Messenger, type Peer, type ReceivedMessage, type SendOutcome } from '../messenger/index.js';
import type { Identity } from '../messenger/packets.js';
import { type HostLookup, noLookup, resolveTargets } from '../messenger/resolve.js';
import type { Security } from '../messenger/security.js';
import { type Destination, type TargetSpec, checkTargetCount, parseTarget, splitTargets } from '../messenger/target.js';
import { IPMSG_DEFAULT_PORT, IPMSG_UTF8OPT, hasOpt } from '../protocol/command.js';
import statePaths from '../state/paths.cjs';
import type { Family } from '../transport/address.js';
import { type Clock, systemClock } from '../transport/clock.js';
import { FilePacketCounter, PACKET_COUNTER_FILE, type PacketNumberSource } from '../state/packet-counter.js';
import { FilePeerCharsets } from '../state/peer-charsets.js';
import { FilePlainPeers } from '../state/plain-peers.js';
import { prepareOffer } from '../transfer/local-files.js';
import { type Aliases, AliasTable } from './aliases.js';
import { type HandleOptions, handleMessages } from './handle.js';
import { makeIdentity } from './identity.js';
import { type MessagesOptions, messages } from './messages.js';
import { type ReceiveOptions, type ReceiveResult, receive } from './receive.js';
import { type SaveOptions, type Saved, saveAttachment } from './save-offer.js';
import { type ServeOptions, type ServeResult, serveOffer } from './serve-offer.js';
import { checkFits, offerText } from './send-text.js';

export interface OpenOptions extends Partial<Identity> {
  /** UDP (and file server TCP) port; default 2425. */
  readonly port?: number;
  /** When the port is taken: use a free one (default) or fail with IPMSG_ERR_UNAVAILABLE. */
  readonly strictPort?: boolean;
  /** Local address to bind; all interfaces when undefined. */
  readonly bind?: string;
  /** Broadcast addresses and IPv6 multicast groups added to the interfaces' own. */
  readonly broadcast?: readonly string[];
  /** Only this family; both where the machine has IPv6 when undefined. */
  readonly family?: Family;
  /**
   * Peers whose host lists (GETLIST/ANSLIST, §3.4) are asked before names are looked for: hosts
   * behind a router that broadcasts do not reach (addresses, `address:port` or names).
   */
  readonly via?: readonly string[];
  /**
   * Short names for targets, usable wherever a target is (send, resolve, `via`, receive's `from`):
   * name → comma-separated targets or an array of them; aliases may name aliases. An alias takes
   * precedence over a LAN or host name of the same spelling (ignoring case); an address is never one.
   */
  readonly aliases?: Aliases | AliasTable;
  /**
   * One code page for every peer. Default: each peer its own — UTF-8 where it announced CAPUTF8OPT
   * or nothing is known of it, iptux's announced encoding, else the legacy code page.
   */
  readonly encoding?: Charset;
  /**
   * The legacy code page: how text neither flagged nor valid UTF-8 is read, and what peers known to
   * lack UTF-8 are sent (unless their client implies one, FeiQ: GB18030). Default: a forced legacy
   * `encoding`, else the locale's (`env` LC_ALL/LC_CTYPE/LANG), else GB18030.
   */
  readonly fallbackEncoding?: Charset;
  /** Characters the code page lacks become '?' instead of an error. */
  readonly lossy?: boolean;
  /** Keys, encryption and signatures (default true): our key is made on first use in `keyDir`. */
  readonly crypto?: boolean;
  /** Also RSA-1024 + Blowfish-128 for old clients. */
  readonly legacyCrypto?: boolean;
  /** Our keys and the known peers (default: paths(env).keyDir, the config folder). */
  readonly keyDir?: string;
  /** The packet counter, plain-peer marks and peer charsets (default: paths(env).stateDir). */
  readonly stateDir?: string;
  /** Our answer to GETINFO. */
  readonly clientVersion?: string;
  /** Away with this text (ABSENCEOPT, GETABSENCEINFO, one automatic reply per sender); Messenger.setAbsence changes it. */
  readonly absence?: string;
  readonly clock?: Clock;
  readonly packetNumbers?: PacketNumberSource;
  /** Told when a key is made (`bits`, `dir`) — once per machine. */
  readonly onKeyCreated?: (bits: number, dir: string) => void;
  /** Peers' bad datagrams and other things only worth a look when debugging. */
  readonly onWarning?: (message: string) => void;
  /** Things a user should know (a port fallback, a message arriving while nobody receives). */
  readonly onNotice?: (message: string) => void;
  /** The environment the default folders are read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** How targets given by name are found. */
export interface ResolveOptions {
  /** How long to look for names on the LAN (ms, default 4500). */
  readonly wait?: number;
  /** Also try names as host names (default true). */
  readonly dns?: boolean;
  readonly lookup?: HostLookup;
  readonly signal?: AbortSignal;
}

export interface SendTextOptions extends ResolveOptions {
  /** Total time to wait for each acknowledgement (ms, default 5000). */
  readonly timeout?: number;
  /** Resends after the first try (default 4). */
  readonly retries?: number;
  /** Ask for an acknowledgement (default true). */
  readonly check?: boolean;
  readonly seal?: boolean;
  /** Seal, and wait until the recipient opens it. */
  readonly waitRead?: boolean;
  readonly readTimeout?: number;
  readonly encrypt?: EncryptMode;
}

export interface SendFilesOptions extends SendTextOptions, Omit<ServeOptions, 'send' | 'signal' | 'clock'> {}

export const DEFAULT_SEND = { timeout: 5000, retries: 4 } as const;
/** GETLIST is asked like a message is sent, but a peer without a host list (iptux) should cost little. */
export const DEFAULT_HOST_LIST = { timeout: 2000, retries: 1 } as const;

/** What asking one `via` peer for its host list gave: its hosts, or why there are none. */
export interface HostListOutcome {
  /** The `via` target as given. */
  readonly via: string;
  readonly peers: readonly Peer[];
  /** Why the list is missing or incomplete (one line). */
  readonly problem?: string;
}
export const DEFAULT_RESOLVE_WAIT = 4500;

/** Our answer to GETINFO, in the official's "<edition>Ver<version>" shape (§4.4). */
export function clientVersion(version: string): string {
  return `ipmsg CLI (Node.js) Ver${version}`;
}

/** Our keys (made on first use, `onKeyCreated` told) and the known peers in `keyDir`. */
export async function openSecurity(keyDir: string, legacy: boolean, onKeyCreated: (bits: number, dir: string) => void): Promise<Security> {
  // Loaded only with crypto: node:crypto costs a plain run start-up time.
  const [{ loadOwnKeys }, { KnownPeers }, { Security }] = await Promise.all([
    import('../state/own-keys.js'),
    import('../state/known-peers.js'),
    import('../messenger/security.js'),
  ]);
  const [keys, known] = await Promise.all([loadOwnKeys(keyDir, { legacy }), KnownPeers.open(keyDir)]);
  for (const bits of keys.created) onKeyCreated(bits, keyDir);
  return new Security({ keys, legacy, known });
}

/**
 * Opens a messenger on the LAN: binds the port, loads (or makes) our keys, and answers peers
 * until close().
 * @throws IpmsgError IPMSG_ERR_UNAVAILABLE (the port), IPMSG_ERR_KEY_FILE (a damaged key file), IPMSG_ERR_USAGE (bad aliases)
 */
export async function openMessenger(options: OpenOptions = {}): Promise<Client> {
  // Checked before anything is opened: a bad alias table costs no socket.
  const aliases = options.aliases instanceof AliasTable ? options.aliases : new AliasTable(options.aliases);
  const env = options.env ?? process.env;
  const where = statePaths.paths(env);
  const keyDir = options.keyDir ?? where.keyDir;
  const stateDir = options.stateDir ?? where.stateDir;
  const clock = options.clock ?? systemClock;
  const onNotice = options.onNotice ?? (() => undefined);
  const crypto = options.crypto ?? true;
  const security = crypto ? await openSecurity(keyDir, options.legacyCrypto === true, options.onKeyCreated ?? (() => undefined)) : undefined;
  const charset = options.encoding;
  const fallbackCharset = options.fallbackEncoding ?? legacyCharset(charset, env);
  const port = options.port ?? IPMSG_DEFAULT_PORT;
  const messenger = await Messenger.open({
    identity: makeIdentity(options),
    port,
    bind: options.bind,
    portFallback: options.strictPort !== true,
    broadcast: options.broadcast ?? [],
    ...(options.family ? { family: options.family } : {}),
    charset,
    fallbackCharset,
    lossy: options.lossy === true,
    clientVersion: options.clientVersion ?? clientVersion('library'),
    ...(options.absence !== undefined ? { absence: options.absence } : {}),
    clock,
    packetNumbers: options.packetNumbers ?? new FilePacketCounter(join(stateDir, PACKET_COUNTER_FILE), clock, onNotice),
    onWarning: options.onWarning ?? (() => undefined),
    onNotice,
    peerCharsets: new FilePeerCharsets(stateDir),
    ...(security ? { security, plainPeers: new FilePlainPeers(stateDir) } : {}),
  });
  return new Client(messenger, { port, clock, charset, fallbackCharset, via: aliases.expand(options.via ?? []), aliases, onNotice, ...(options.bind ? { bind: options.bind } : {}) });
}

interface ClientSettings {
  readonly port: number;
  readonly clock: Clock;
  /** The forced code page, or undefined. */
  readonly charset: Charset | undefined;
  readonly fallbackCharset: Charset;
  readonly bind?: string;
  readonly via: readonly string[];
  /** Default: none. */
  readonly aliases?: AliasTable;
  readonly onNotice: (message: string) => void;
}

/** A messenger with the workflows of the command line: what `ipmsg send`, `recv`, `get-file` do. */
export class Client {
  /** The protocol-level messenger, for what the workflows do not cover. */
  readonly messenger: Messenger;
  readonly #settings: ClientSettings;
  #hostLists: Promise<HostListOutcome[]> | undefined;

  constructor(messenger: Messenger, settings: ClientSettings) {
    this.messenger = messenger;
    this.#settings = settings;
  }

  /** Our key fingerprint (16 hex digits), or undefined without crypto. */
  get fingerprint(): string | undefined {
    return this.messenger.security?.fingerprint;
  }

  /**
   * Targets as they will be resolved: split at commas, aliases (OpenOptions.aliases) replaced by
   * what they name, each target once.
   * @throws IpmsgError IPMSG_ERR_USAGE when they expand to too many
   */
  expandTargets(targets: string | readonly string[]): string[] {
    const list = typeof targets === 'string' ? [targets] : targets;
    return this.#settings.aliases ? this.#settings.aliases.expand(list) : splitTargets(list);
  }

  /**
   * Targets to destinations: aliases, addresses (`10.0.0.7`, `10.0.0.7:2426`), host names, or
   * user/nick/host names found on the LAN (`alice`, `alice@pc1`); a string may list several, comma-separated.
   * @throws IpmsgError IPMSG_ERR_USAGE, IPMSG_ERR_UNKNOWN_TARGET, IPMSG_ERR_AMBIGUOUS_TARGET
   */
  async resolve(targets: string | readonly string[], options: ResolveOptions = {}): Promise<Destination[]> {
    const names = this.expandTargets(targets);
    if (names.length === 0) throw new IpmsgError('IPMSG_ERR_USAGE', 'No target');
    checkTargetCount(names.length);
    const specs = names.map((t) => parseTarget(t, this.#settings.port));
    // Hosts learned from the `via` peers' lists are found by name like the ones that answer a broadcast.
    if (specs.some((s) => s.kind === 'name')) await this.hostLists(options);
    return this.#resolve(specs, options);
  }

  /**
   * Asks each `via` peer (OpenOptions.via) for its host list, once per client: the hosts join
   * the peer table, so names find them. A peer that sends none (iptux) is a notice, not an error.
   */
  hostLists(options: ResolveOptions = {}): Promise<HostListOutcome[]> {
    this.#hostLists ??= Promise.all(this.#settings.via.map((via) => this.#hostList(via, options)));
    return this.#hostLists;
  }

  async #hostList(via: string, options: ResolveOptions): Promise<HostListOutcome> {
    let result: HostListResult;
    try {
      const [destination] = await this.#resolve([parseTarget(via, this.#settings.port)], options);
      if (!destination) throw new IpmsgError('IPMSG_ERR_UNKNOWN_TARGET', `Unknown target ${JSON.stringify(via)}`);
      result = await this.messenger.hostList(destination, { ...DEFAULT_HOST_LIST, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (options.signal?.aborted || !(error instanceof IpmsgError)) throw error;
      const problem = error.code === 'IPMSG_ERR_NO_ACK' ? `${via} sent no host list (the official IP Messenger keeps one; iptux does not)` : `cannot ask ${via} for its host list: ${error.message}`;
      this.#settings.onNotice(`${problem}; going on with what broadcasting finds`);
      return { via, peers: [], problem };
    }
    if (result.incomplete !== undefined) this.#settings.onNotice(`the host list from ${via} may be incomplete: ${result.incomplete}`);
    return { via, peers: result.peers, ...(result.incomplete !== undefined ? { problem: result.incomplete } : {}) };
  }

  #resolve(specs: readonly TargetSpec[], options: ResolveOptions): Promise<Destination[]> {
    const port = this.#settings.port;
    return resolveTargets(this.messenger, specs, port, {
      wait: options.wait ?? DEFAULT_RESOLVE_WAIT,
      clock: this.#settings.clock,
      ...(options.lookup ? { lookup: options.lookup } : options.dns === false ? { lookup: noLookup } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Sends `text` to each target and waits for its acknowledgement (with resends). One outcome per
   * target; a target that did not confirm has status 'failed' and an `error`.
   * @throws IpmsgError IPMSG_ERR_TOO_LONG (the text does not fit one datagram: see sendFiles), a resolve error
   */
  async send(targets: string | readonly string[] | readonly Destination[], text: string, options: SendTextOptions = {}): Promise<SendOutcome[]> {
    const destinations = await this.#destinations(targets, options);
    checkFits(this.messenger, text, options.encrypt);
    return this.messenger.sendMessage(destinations, text, this.#sendOptions(options));
  }

  /**
   * Offers files and folders with a message (`asText`: offers `text` itself as message.txt), then
   * serves them until each recipient fetched them, released them, or `serveTimeout` passes.
   * @throws IpmsgError IPMSG_ERR_TIMEOUT, IPMSG_ERR_DECLINED, IPMSG_ERR_NO_INPUT, a delivery error
   */
  async sendFiles(targets: string | readonly string[] | readonly Destination[], text: string, files: readonly string[], options: SendFilesOptions & { readonly asText?: boolean } = {}): Promise<ServeResult> {
    const offered = prepareOffer(files);
    const destinations = await this.#destinations(targets, options);
    const serve: ServeOptions = {
      ...options,
      send: this.#sendOptions(options),
      clock: this.#settings.clock,
      charset: this.#settings.charset,
      fallbackCharset: this.#settings.fallbackCharset,
      ...(this.#settings.bind ? { localAddress: this.#settings.bind } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    if (options.asText) return offerText(this.messenger, destinations, text, offered, serve);
    return serveOffer(this.messenger, destinations, text, offered, serve);
  }

  /** Messages as they arrive: `for await (const message of client.messages({ signal })) …`. */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<ReceivedMessage> {
    return messages(this.messenger, options.from ? { ...options, from: this.expandTargets(options.from) } : options);
  }

  /** Receives until `count` messages (saving their offers with `save`), the timeout, or the signal. */
  receive(options: Omit<ReceiveOptions, 'clock'>): Promise<ReceiveResult> {
    const from = options.from ? { from: this.expandTargets(options.from) } : {};
    return receive(this.messenger, { clock: this.#settings.clock, ...options, ...from, ...(options.save ? { save: this.#saveDefaults(options.save) } : {}) });
  }

  /**
   * Receives as receive() does and runs `handle` for each message, `jobs` at once; with
   * execHandler() each message runs a command (`recv --exec`).
   */
  handle(options: Omit<HandleOptions, 'clock'>): Promise<ReceiveResult> {
    return handleMessages(this.messenger, { clock: this.#settings.clock, ...options, ...(options.save ? { save: this.#saveDefaults(options.save) } : {}) });
  }

  /**
   * Saves what `message` offers into `options.dir` (all of it, or the items in `fileIds`), one
   * outcome per item. Items that cannot be saved are 'skipped' with a reason.
   * @throws IpmsgError as saveAttachment, for a transfer that breaks off
   */
  async save(message: ReceivedMessage, options: SaveOptions & { readonly fileIds?: readonly number[] }): Promise<Saved[]> {
    const wanted = (message.packet.attachments ?? []).filter((a) => !options.fileIds || options.fileIds.includes(a.fileId));
    const saved: Saved[] = [];
    for (const attachment of wanted) {
      saved.push(
        await saveAttachment(this.messenger, message.from, message.packet.packetNo, attachment, {
          utf8: hasOpt(message.packet.command, IPMSG_UTF8OPT),
          offeredBy: message.packet.user,
          clock: this.#settings.clock,
          ...this.#saveDefaults(options),
        }),
      );
    }
    return saved;
  }

  /** Says BR_EXIT to whoever we announced ourselves to, and closes the socket. */
  close(): Promise<void> {
    return this.messenger.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #saveDefaults<T extends { localAddress?: string; fallbackCharset?: Charset }>(options: T): T {
    return {
      ...(this.#settings.bind ? { localAddress: this.#settings.bind } : {}),
      fallbackCharset: this.#settings.fallbackCharset,
      ...options,
    };
  }

  #destinations(targets: string | readonly string[] | readonly Destination[], options: ResolveOptions): Promise<Destination[]> {
    if (typeof targets !== 'string' && targets.length > 0 && typeof targets[0] !== 'string') return Promise.resolve([...(targets as readonly Destination[])]);
    return this.resolve(targets as string | readonly string[], options);
  }

  #sendOptions(options: SendTextOptions) {
    return {
      check: options.check ?? true,
      seal: options.seal === true,
      waitRead: options.waitRead === true,
      readTimeout: options.readTimeout,
      timeout: options.timeout ?? DEFAULT_SEND.timeout,
      retries: options.retries ?? DEFAULT_SEND.retries,
      ...(options.encrypt ? { encrypt: options.encrypt } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
  }
}
