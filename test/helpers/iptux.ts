/**
 * Run the real iptux (0.8.3, Debian bookworm) headless on a node of a test LAN.
 *
 * Per instance, all inside the node's network namespace (abstract X11/D-Bus
 * sockets are per namespace, so X must live in the same one as iptux):
 *   - a fresh HOME under the OS temp dir with `~/.iptux/config.json` (nick,
 *     group, …) and the chat-log folder `~/.config/iptux/log/` created up front
 *     (iptux writes no chat log unless that folder already exists);
 *   - `Xvfb :9` listening only on the abstract socket `@/tmp/.X11-unix/X9` of
 *     that namespace (`-nolock -nolisten unix`): nothing in /tmp, no clash with
 *     other X servers, and the same display number in every namespace;
 *   - a private `dbus-daemon --session` (GApplication/GNotification want one; it
 *     also lets `stop()` ask iptux to quit cleanly so it sends BR_EXIT);
 *   - `iptux -l DEBUG` in its own UTS namespace with the hostname set (so the
 *     host field of its packets is predictable), LC_ALL=C.UTF-8 (English log
 *     texts), stdout+stderr to `debugLogPath` (glog with a hex dump of every
 *     UDP packet it sends and receives).
 * `startIptux` resolves once iptux answers a BR_ENTRY with an ANSENTRY. By
 * default that is read from its log: at start-up it broadcasts BR_ENTRY, hears
 * it itself and answers itself (no extra traffic, no extra pal). With
 * `probeFrom: n`, a small node script on LAN node n also sends BR_ENTRY from
 * n's UDP 2425 until iptux answers (iptux replies only to port 2425, and binds
 * 0.0.0.0:2425 without SO_REUSEADDR, so the probe cannot run in iptux's own
 * namespace).
 *
 * Always call `stop()` (or at least `lan.destroy()`, which kills every process
 * started through the LAN) in `after`/`t.after`.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { netnsUnavailableReason } from './netns.js';
import type { Lan } from './netns.js';

export interface IptuxOptions {
  nick: string;
  group: string;
  /** Hostname iptux puts in its packets (default `iptux-n<node>`). The user name is always `root`. */
  hostname?: string;
  /** Absolute paths offered as iptux "shared files" (answered to IPTUX_ASKSHARED, 0xFF). */
  sharedFiles?: string[];
  /** Password for the shared files (`access_shared_limit`); empty = none. */
  sharedPassword?: string;
  /** Extra keys merged into `config.json` last (see IPTUX-NOTES.md). */
  extraConfig?: Record<string, unknown>;
  /**
   * iptux `-l` level (default DEBUG: every UDP packet hex-dumped into
   * `debugLogPath`). INFO still logs one line per packet; readiness detection
   * needs at least INFO.
   */
  logLevel?: 'DEBUG' | 'INFO';
  /**
   * Also probe actively from this LAN node before resolving: bind its UDP 2425,
   * send BR_ENTRY (nick "ready-probe") to iptux until the ANSENTRY arrives, then
   * BR_EXIT. The node's port 2425 must be free, and iptux then knows that
   * address as an (offline) pal. Without it, readiness is taken from iptux's log:
   * it has answered its own start-up BR_ENTRY.
   */
  probeFrom?: number;
  /** Give up starting after this long (default 20 000 ms). */
  readyTimeoutMs?: number;
  /** Keep the temp HOME after `stop()` (also when IPTUX_KEEP_HOME=1). */
  keepHome?: boolean;
}

export interface IptuxPeer {
  readonly node: number;
  /** IPv4 address of the node iptux runs on. */
  readonly address: string;
  readonly nick: string;
  readonly group: string;
  readonly hostname: string;
  /** User name iptux reports (from the passwd entry of uid 0). */
  readonly user: string;
  readonly home: string;
  readonly configPath: string;
  /** `~/.config/iptux/log/communicate.log`: one block per message iptux accepted. */
  readonly logPath: string;
  /** iptux's own stdout+stderr (glog; with DEBUG, hex dumps of all UDP traffic). */
  readonly debugLogPath: string;
  /** Where iptux saves received files by default (`archive_path`). */
  readonly archiveDir: string;
  readonly pid: number;
  /** X display iptux uses (":9", inside the node's namespace). */
  readonly display: string;
  /** Milliseconds from `startIptux` until iptux was ready. */
  readonly startupMs: number;
  /**
   * How readiness was established: 'probe' (answered our BR_ENTRY, with
   * `probeFrom`), 'self-answer' (answered its own start-up BR_ENTRY, seen in its
   * log), 'bound' (UDP 2425 bound for 2 s but its own broadcast never came back).
   */
  readonly readyVia: 'probe' | 'self-answer' | 'bound';
  /** The ANSENTRY iptux sent to the active probe (only with `probeFrom`). */
  readonly readyAnswer: Buffer | undefined;
  readLog(): Promise<string>;
  /** Resolves with the whole chat log once it contains `substring`; rejects after `timeoutMs`. */
  waitForLog(substring: string, timeoutMs: number): Promise<string>;
  readDebugLog(): Promise<string>;
  waitForDebugLog(pattern: string | RegExp, timeoutMs: number): Promise<string>;
  /** True while the iptux process runs. */
  running(): boolean;
  /**
   * Stop iptux, its dbus-daemon and Xvfb, and remove HOME. With `graceful`
   * (default true) iptux is first asked to quit through D-Bus (app.quit), so it
   * sends BR_EXIT to every pal; SIGTERM/SIGKILL follow if it does not exit.
   * Safe to call more than once.
   */
  stop(options?: { graceful?: boolean }): Promise<void>;
}

/** Display number of the Xvfb in each iptux node's namespace (abstract socket only). */
const XVFB_DISPLAY = ':9';

/**
 * `undefined` when LANs can be built (see `netnsUnavailableReason`) and iptux,
 * Xvfb and dbus-daemon are installed; otherwise why not (for `t.skip`).
 */
export function iptuxUnavailableReason(): string | undefined {
  const netns = netnsUnavailableReason();
  if (netns !== undefined) return netns;
  for (const bin of ['/usr/bin/iptux', '/usr/bin/Xvfb', '/usr/bin/dbus-daemon']) {
    if (!existsSync(bin)) return `${bin} is not installed (run scripts/install-test-deps.sh as root)`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------

const homesToRemove = new Set<string>();
/** Nodes that have an iptux (one per namespace: it needs UDP/TCP 2425 and X display :9). */
const busyNodes = new WeakMap<Lan, Set<number>>();
let exitHookInstalled = false;

function removeHomesAtExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const h of homesToRemove) {
      try {
        rmSync(h, { recursive: true, force: true });
      } catch {
        // ignore
      }
    }
  });
}

const HOME_PREFIX = 'ipmt-iptux-';
let staleHomesSwept = false;

/** Remove temp HOMEs left by earlier test processes that no longer exist (e.g. SIGKILLed). */
async function sweepStaleHomes(): Promise<void> {
  if (staleHomesSwept) return;
  staleHomesSwept = true;
  const re = new RegExp(`^${HOME_PREFIX}(\\d+)-`);
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const m = re.exec(name);
    if (!m || m[1] === undefined) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function killChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return;
  const pid = child.pid;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig); // children are process-group leaders (see netns.ts)
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    }
  };
  signal('SIGTERM');
  if (await waitExit(child, graceMs)) return;
  signal('SIGKILL');
  await waitExit(child, 2000);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

async function pollFile(
  path: string,
  test: (text: string) => boolean,
  timeoutMs: number,
  what: string,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readText(path);
    if (test(text)) return text;
    if (Date.now() >= deadline) {
      const tail = text.length > 2000 ? `…${text.slice(-2000)}` : text;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} in ${path}; it has:\n${tail}`);
    }
    await delay(25);
  }
}

/** Reads the display number Xvfb writes to the -displayfd pipe. */
function readDisplay(xvfb: ChildProcess, timeoutMs: number): Promise<string> {
  const fd3 = xvfb.stdio[3];
  if (!(fd3 instanceof Readable)) return Promise.reject(new Error('Xvfb -displayfd pipe missing'));
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err?: Error, value?: string): void => {
      clearTimeout(timer);
      fd3.removeAllListeners('data');
      xvfb.removeListener('exit', onExit);
      fd3.destroy();
      if (err) reject(err);
      else resolve(value ?? '');
    };
    const onExit = (code: number | null, sig: string | null): void =>
      done(new Error(`Xvfb exited (${code ?? sig}) before reporting its display`));
    const timer = setTimeout(() => done(new Error(`Xvfb did not report a display within ${timeoutMs} ms`)), timeoutMs);
    fd3.setEncoding('utf8');
    fd3.on('data', (chunk: string) => {
      text += chunk;
      const m = /^(\d+)\n/.exec(text);
      if (m && m[1] !== undefined) done(undefined, `:${m[1]}`);
    });
    xvfb.once('exit', onExit);
  });
}

/** Reads the first line dbus-daemon prints (its address). */
function readFirstLine(child: ChildProcess, timeoutMs: number, what: string): Promise<string> {
  const out = child.stdout;
  if (!out) return Promise.reject(new Error(`${what}: no stdout pipe`));
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err?: Error, value?: string): void => {
      clearTimeout(timer);
      out.removeAllListeners('data');
      child.removeListener('exit', onExit);
      out.resume(); // keep draining
      if (err) reject(err);
      else resolve(value ?? '');
    };
    const onExit = (code: number | null, sig: string | null): void =>
      done(new Error(`${what} exited (${code ?? sig}) before it was ready`));
    const timer = setTimeout(() => done(new Error(`${what} not ready within ${timeoutMs} ms`)), timeoutMs);
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) done(undefined, text.slice(0, nl));
    });
    child.once('exit', onExit);
  });
}

/**
 * Active readiness probe, run with `node -e` inside another node's namespace:
 * binds <own address>:2425 (iptux answers to port 2425 only), sends BR_ENTRY to
 * iptux every 200 ms until its ANSENTRY arrives, prints that as hex, sends
 * BR_EXIT, exits 0. argv: ownAddress iptuxAddress timeoutMs.
 */
const ACTIVE_PROBE = String.raw`
const dgram = require('node:dgram');
const [own, target, ms] = process.argv.slice(1);
const deadline = Date.now() + Number(ms);
const fail = (why) => { process.stderr.write(why + '\n'); process.exit(1); };
let pkt = Math.floor(Date.now() / 1000);
const s = dgram.createSocket({ type: 'udp4' });
s.on('error', (e) => fail('probe socket: ' + e.message));
const packet = (cmd, body) => Buffer.from('1:' + (++pkt) + ':probe:ready-probe:' + cmd + ':' + body, 'latin1');
s.on('message', (m, r) => {
  if (r.address !== target || (Number(m.toString('latin1').split(':')[4]) & 0xff) !== 3) return;
  process.stdout.write(m.toString('hex') + '\n');
  s.send(packet(2, 'ready-probe\0\0'), 2425, target, () => { s.close(); process.exit(0); });
});
s.bind(2425, own, () => {
  const tick = () => {
    if (Date.now() > deadline) fail('no ANSENTRY from iptux');
    s.send(packet(1, 'ready-probe\0\0'), 2425, target);
    setTimeout(tick, 200);
  };
  tick();
});
`;

/** iptux's own start-up BR_ENTRY comes back to it and it answers itself. */
const SELF_ANSWER = /command NO\.: \[0x103\] ANSENTRY/;
const BOUND = /bind UDP port\([^)]*\) success/;
const BIND_FAILED = /Failed to bind the (?:UDP|TCP) port/;

async function waitPassiveReady(debugLogPath: string, timeoutMs: number): Promise<'self-answer' | 'bound'> {
  const deadline = Date.now() + timeoutMs;
  let boundAt: number | undefined;
  for (;;) {
    const text = await readText(debugLogPath);
    if (BIND_FAILED.test(text)) throw new Error('iptux could not bind port 2425 (is something else using it in that namespace?)');
    if (SELF_ANSWER.test(text)) return 'self-answer';
    if (BOUND.test(text)) {
      boundAt ??= Date.now();
      // Its own broadcast can be lost (e.g. setLoss before start): accept a bound port after 2 s.
      if (Date.now() - boundAt > 2000) return 'bound';
    }
    if (Date.now() > deadline) throw new Error(`iptux not ready within ${timeoutMs} ms`);
    await delay(15);
  }
}

/**
 * Start iptux on `lan` node `node`. Resolves when it answers BR_ENTRY.
 * Call `stop()` in `after`/`t.after`.
 */
export async function startIptux(lan: Lan, node: number, opts: IptuxOptions): Promise<IptuxPeer> {
  const reason = iptuxUnavailableReason();
  if (reason !== undefined) throw new Error(reason);
  lan.node(node); // range check
  let busy = busyNodes.get(lan);
  if (!busy) busyNodes.set(lan, (busy = new Set()));
  if (busy.has(node)) throw new Error(`node ${node} already runs an iptux (one per node)`);
  busy.add(node);
  const release = (): void => {
    busy.delete(node);
  };
  try {
    return await launch(lan, node, opts, release);
  } catch (err) {
    release();
    throw err;
  }
}

async function launch(lan: Lan, node: number, opts: IptuxOptions, release: () => void): Promise<IptuxPeer> {
  const t0 = Date.now();
  const { address } = lan.node(node);
  const hostname = opts.hostname ?? `iptux-n${node}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(hostname)) throw new Error(`bad hostname ${JSON.stringify(hostname)}`);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const keepHome = opts.keepHome ?? process.env['IPTUX_KEEP_HOME'] === '1';

  await sweepStaleHomes();
  const home = await mkdtemp(join(tmpdir(), `${HOME_PREFIX}${process.pid}-n${node}-`));
  removeHomesAtExit();
  if (!keepHome) homesToRemove.add(home);
  const configDir = join(home, '.iptux');
  const configPath = join(configDir, 'config.json');
  const xdgConfig = join(home, '.config');
  const logDir = join(xdgConfig, 'iptux', 'log');
  const logPath = join(logDir, 'communicate.log');
  const archiveDir = join(home, 'received');
  const runtimeDir = join(home, 'runtime');
  const debugLogPath = join(home, 'iptux.log');
  const busPath = join(home, 'bus');
  await Promise.all([
    mkdir(configDir, { recursive: true }),
    mkdir(logDir, { recursive: true }),
    mkdir(archiveDir, { recursive: true }),
    mkdir(runtimeDir, { recursive: true, mode: 0o700 }),
    mkdir(join(home, '.cache'), { recursive: true }),
    mkdir(join(home, '.local', 'share'), { recursive: true }),
  ]);
  const config: Record<string, unknown> = {
    version: 1,
    nick_name: opts.nick,
    belong_group: opts.group,
    archive_path: archiveDir,
    record_log: true,
    open_chat: false,
    hide_startup: false,
    open_transmission: false,
    proof_shared: false,
    sound_support: false,
    msgsnd_support: false,
    transnd_support: false,
    shared_file_list: opts.sharedFiles ?? [],
    access_shared_limit: opts.sharedPassword ?? '',
    ...opts.extraConfig,
  };
  await writeFile(configPath, JSON.stringify(config, null, 2) + '\n');

  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    USER: 'root',
    LOGNAME: 'root',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    XDG_CONFIG_HOME: xdgConfig,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_RUNTIME_DIR: runtimeDir,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${busPath}`,
    NO_AT_BRIDGE: '1', // no accessibility bus
    GTK_A11Y: 'none',
    GSETTINGS_BACKEND: 'memory', // no dconf writes
    GDK_BACKEND: 'x11',
    ...(process.env['TZ'] !== undefined ? { TZ: process.env['TZ'] } : {}),
  };

  const children: ChildProcess[] = [];
  let iptux: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  let display = '';

  const stopAll = async (graceful: boolean): Promise<void> => {
    if (iptux && isRunning(iptux) && graceful && display !== '') {
      // app.quit through D-Bus: iptux sends BR_EXIT to its pals, then exits.
      const q = await lan
        .run(node, 'gdbus', [
          'call', '--session', '--dest', 'io.github.iptux_src.iptux',
          '--object-path', '/io/github/iptux_src/iptux',
          '--method', 'org.gtk.Actions.Activate', 'quit', '[]', '{}',
        ], { env, timeoutMs: 5000 })
        .catch(() => undefined);
      if (q && q.code === 0) await waitExit(iptux, 3000);
    }
    if (iptux) await killChild(iptux, 1000);
    for (const c of [...children].reverse()) await killChild(c, 1000);
    if (!keepHome) {
      await rm(home, { recursive: true, force: true }).catch(() => undefined);
      homesToRemove.delete(home);
    }
    release();
  };

  try {
    // Xvfb and the session bus, in parallel.
    const xvfbLog = openSync(join(home, 'xvfb.log'), 'a');
    // Only the abstract socket (per network namespace), no lock file, no
    // /tmp/.X11-unix entry: a fixed display number cannot clash with anything
    // outside this namespace. -displayfd tells us when it accepts clients.
    const xvfb = lan.spawn(node, 'Xvfb', [XVFB_DISPLAY, '-displayfd', '3', '-nolock', '-nolisten', 'tcp', '-nolisten', 'unix', '-screen', '0', '800x600x24'], {
      env,
      cwd: home,
      stdio: ['ignore', xvfbLog, xvfbLog, 'pipe'],
    });
    closeSync(xvfbLog);
    children.push(xvfb);
    const bus = lan.spawn(
      node,
      'dbus-daemon',
      ['--session', '--nofork', '--nopidfile', `--address=unix:path=${busPath}`, '--print-address=1'],
      { env, cwd: home, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    children.push(bus);
    const [disp] = await Promise.all([
      readDisplay(xvfb, readyTimeoutMs),
      readFirstLine(bus, readyTimeoutMs, 'dbus-daemon'),
    ]);
    display = disp;
    env['DISPLAY'] = display;

    const out = openSync(debugLogPath, 'a');
    iptux = lan.spawn(
      node,
      'unshare',
      [
        '--uts', '--', 'sh', '-c',
        'echo "$1" > /proc/sys/kernel/hostname && shift && exec "$@"',
        'sh', hostname, 'iptux', '-c', configPath, '-l', opts.logLevel ?? 'DEBUG',
      ],
      { env, cwd: home, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    const iptuxChild = iptux;
    const early = new Promise<never>((_, reject) => {
      iptuxChild.once('exit', (code, sig) => reject(new Error(`iptux exited early (${code ?? sig})`)));
    });
    early.catch(() => undefined);

    let readyVia: IptuxPeer['readyVia'] = await Promise.race([
      waitPassiveReady(debugLogPath, Math.max(0, readyTimeoutMs - (Date.now() - t0))),
      early,
    ]);
    let readyAnswer: Buffer | undefined;
    if (opts.probeFrom !== undefined) {
      const from = lan.node(opts.probeFrom).address;
      const left = Math.max(1000, readyTimeoutMs - (Date.now() - t0));
      const probe = await Promise.race([
        lan.run(opts.probeFrom, process.execPath, ['-e', ACTIVE_PROBE, from, address, String(left)], {
          timeoutMs: left + 2000,
        }),
        early,
      ]);
      if (probe.code !== 0) throw new Error(`iptux did not answer BR_ENTRY from ${from}: ${probe.stderr.trim() || probe.code}`);
      readyAnswer = Buffer.from(probe.stdout.trim(), 'hex');
      readyVia = 'probe';
    }
    const startupMs = Date.now() - t0;
    const pid = iptux.pid ?? -1;

    const peer: IptuxPeer = {
      node,
      address,
      nick: opts.nick,
      group: opts.group,
      hostname,
      user: userInfo().username,
      home,
      configPath,
      logPath,
      debugLogPath,
      archiveDir,
      pid,
      display,
      startupMs,
      readyVia,
      readyAnswer,
      readLog: () => readText(logPath),
      waitForLog: (substring, timeoutMs) =>
        pollFile(logPath, (t) => t.includes(substring), timeoutMs, JSON.stringify(substring)),
      readDebugLog: () => readText(debugLogPath),
      waitForDebugLog: (pattern, timeoutMs) =>
        pollFile(
          debugLogPath,
          (t) => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t)),
          timeoutMs,
          String(pattern),
        ),
      running: () => iptuxChild !== undefined && isRunning(iptuxChild),
      stop: (options = {}) => {
        if (!stopped) stopped = stopAll(options.graceful ?? true);
        return stopped;
      },
    };
    return peer;
  } catch (err) {
    const log = await readText(debugLogPath);
    await stopAll(false);
    const tail = log.length > 3000 ? `…${log.slice(-3000)}` : log;
    throw new Error(`starting iptux on node ${node} failed: ${(err as Error).message}${tail ? `\niptux output:\n${tail}` : ''}`);
  }
}

/**
 * One IPTUX_ASKSHARED (0xFF) from an ephemeral port: iptux answers with a SENDMSG|FILEATTACHOPT|
 * IPTUX_SHAREDOPT listing its shared files, to UDP port 2425 of our address (where recv listens).
 * The one message iptux sends without a person. argv: target packetNo.
 */
const ASK_SHARED = String.raw`
const dgram = require('node:dgram');
const [target, packetNo] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.on('error', (e) => { process.stderr.write(e.message + '\n'); process.exit(1); });
s.bind(0, () => s.send(Buffer.from('1:' + packetNo + ':alice:alice-pc:255:\0', 'latin1'), 2425, target, (e) => {
  if (e) { process.stderr.write(e.message + '\n'); process.exit(1); }
  s.close();
}));
`;

/**
 * Sends IPTUX_ASKSHARED from LAN node `from` to `peer`, which answers only an address it knows (an
 * entry from it first), with user alice@alice-pc and packet number `packetNo`.
 */
export async function askIptuxShared(lan: Lan, from: number, peer: IptuxPeer, packetNo: number): Promise<void> {
  const ask = await lan.run(from, process.execPath, ['-e', ASK_SHARED, peer.address, String(packetNo)]);
  if (ask.code !== 0) throw new Error(`IPTUX_ASKSHARED to ${peer.address} failed: ${ask.stderr.trim()}`);
}
