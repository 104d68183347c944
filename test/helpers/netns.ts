/**
 * Private multi-host LANs for tests, built from Linux network namespaces.
 *
 * `createLan(n)` makes one namespace that holds a Linux bridge (`br0`) and `n`
 * host namespaces, each joined to the bridge by a veth pair (`eth0` inside the
 * host, `p<i>` on the bridge). Hosts get 10.249.0.1, .2, … /24 with broadcast
 * 10.249.0.255, `lo` up and a default route via `eth0` (so 255.255.255.255
 * works); the bridge namespace has no other links, so nothing can leave the LAN.
 * Nothing is added to the root namespace: the veth pair is created inside the
 * bridge namespace with its peer placed straight into the host namespace.
 *
 * Every process started with `lan.spawn`/`lan.run` runs through
 * `ip netns exec <ns>` in its own process group, is remembered, and is killed
 * by `lan.destroy()` (SIGTERM to the group, SIGKILL after a grace period, then
 * SIGKILL to anything else still inside the LAN's namespaces), which then
 * deletes the namespaces (which removes their veths and the bridge).
 *
 * Callers MUST call `destroy()` from `after`/`t.after` so that a test that
 * throws still cleans up:
 *
 *     const reason = netnsUnavailableReason();
 *     test('…', { skip: reason ?? false }, async (t) => {
 *       const lan = await createLan(2);
 *       t.after(() => lan.destroy());
 *       …
 *     });
 *
 * As a last resort, LANs not destroyed when the process exits (or dies of
 * SIGINT/SIGTERM/SIGHUP) are torn down synchronously, and namespaces left by
 * an earlier test process that no longer exists are removed on the next
 * `createLan`. Needs root, iproute2 and (for `setLoss`) nftables.
 */
import { execFileSync, spawn as spawnChild } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { constants as osConstants } from 'node:os';

/** Prefix of every namespace this module creates. */
export const NS_PREFIX = 'ipmt';
/** The /24 all LANs use (each LAN is isolated, so they may overlap). */
export const LAN_SUBNET = '10.249.0';
/** The IPv6 unique-local /64 of LANs made with `ipv6` (fd00::/8, private like the /24). */
export const LAN_SUBNET6 = 'fd00:249:';

export interface LanOptions {
  /** Give every node an fd00:249::<n>/64 address as well (no DAD, so usable at once). */
  readonly ipv6?: boolean;
  /** These nodes (indexes) get no IPv4 address and no IPv4 route: IPv6 only. */
  readonly ipv6Only?: readonly number[];
}

export interface LanNode {
  /** Network namespace name (use with `ip netns exec`). */
  readonly ns: string;
  /** IPv4 address of the node's `eth0` (none when the LAN was made with it in `ipv6Only`). */
  readonly address: string;
  /** IPv6 unique-local address of the node's `eth0` (fd00:249::<n>/64), when the LAN has IPv6. */
  readonly address6: string | undefined;
  /** Interface name inside the namespace. */
  readonly iface: string;
}

export interface RunOptions extends SpawnOptions {
  /** Kill the process group with SIGKILL after this long (default 30 000 ms). */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  input?: string | Uint8Array;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when `timeoutMs` expired and the process was killed. */
  timedOut: boolean;
}

export interface LossOptions {
  /** Which traffic to drop (default 'all'). */
  protocol?: 'all' | 'udp' | 'tcp';
  /**
   * 'both' (default): what eth0 receives and sends. 'in': only what it receives — a drop there is
   * silent, as on a wire, while a drop in the output hook fails the sender's sendto() with EPERM.
   */
  direction?: 'both' | 'in';
  /** Only packets from this IPv4 source address. */
  from?: string;
}

export interface Lan {
  /** Unique id of this LAN; all its namespace names start with it. */
  readonly id: string;
  /** Namespace holding the bridge. */
  readonly bridgeNs: string;
  readonly nodes: readonly LanNode[];
  /** Directed broadcast address of the LAN (10.249.0.255). */
  readonly broadcast: string;
  readonly prefixLength: number;
  readonly destroyed: boolean;
  /** `nodes[node]`, throwing on a bad index. */
  node(node: number): LanNode;
  /**
   * Start `command args…` inside the node's namespace (`ip netns exec`). The child
   * is started in its own process group (`detached` is forced to true) and is
   * killed by `destroy()`.
   */
  spawn(node: number, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Run to completion inside the node's namespace, collecting stdout/stderr as UTF-8. */
  run(node: number, command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Drop `percent`% of the packets in each direction on the node's `eth0`, at
   * random, with nftables inside its namespace (`numgen random mod 100 < N drop`).
   * `0` removes the rule.
   */
  setLoss(node: number, percent: number, options?: LossOptions): Promise<void>;
  /** Kill all children, delete the namespaces. Safe to call more than once. */
  destroy(options?: { graceMs?: number }): Promise<void>;
}

// ---------------------------------------------------------------------------
// availability

let cachedReason: { value: string | undefined } | undefined;
let cachedNftReason: { value: string | undefined } | undefined;

function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { stderr?: unknown; message?: unknown };
    const stderr = e.stderr instanceof Buffer ? e.stderr.toString('utf8') : typeof e.stderr === 'string' ? e.stderr : '';
    if (stderr.trim() !== '') return stderr.trim();
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

function ipSync(args: readonly string[], input?: string): string {
  return execFileSync('ip', args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 10_000,
    ...(input !== undefined ? { input } : {}),
  });
}

/**
 * `undefined` when we are root on Linux and network namespaces, veth pairs and
 * bridges can be created; otherwise a human-readable reason (for `t.skip`).
 * The result is cached.
 */
export function netnsUnavailableReason(): string | undefined {
  if (cachedReason) return cachedReason.value;
  const value = probeNetns();
  cachedReason = { value };
  return value;
}

function probeNetns(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const uid = process.getuid?.();
  if (uid !== 0) return `network namespaces need root (uid is ${uid ?? 'unknown'})`;
  try {
    ipSync(['-V']);
  } catch (err) {
    return `iproute2 'ip' is not usable: ${errorText(err)}`;
  }
  const ns = `${NS_PREFIX}${process.pid}-probe`;
  try {
    ipSync(['netns', 'add', ns]);
  } catch (err) {
    return `'ip netns add' failed: ${errorText(err)}`;
  }
  try {
    ipSync(['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    ipSync(['-n', ns, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0']);
    ipSync(['-n', ns, 'link', 'set', 'a0', 'master', 'br0']);
    return undefined;
  } catch (err) {
    return `cannot create a bridge/veth pair in a namespace: ${errorText(err)}`;
  } finally {
    try {
      ipSync(['netns', 'del', ns]);
    } catch {
      // ignore
    }
  }
}

/** Like `netnsUnavailableReason`, plus nftables must work inside a namespace (for `setLoss`). */
export function nftUnavailableReason(): string | undefined {
  const base = netnsUnavailableReason();
  if (base !== undefined) return base;
  if (cachedNftReason) return cachedNftReason.value;
  let value: string | undefined;
  const ns = `${NS_PREFIX}${process.pid}-nftprobe`;
  try {
    ipSync(['netns', 'add', ns]);
    try {
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
        input: 'table inet ipmt_probe { chain c { type filter hook input priority 0; policy accept; numgen random mod 100 < 1 drop; }; }\n',
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 10_000,
      });
    } finally {
      ipSync(['netns', 'del', ns]);
    }
  } catch (err) {
    value = `nftables does not work in a network namespace: ${errorText(err)}`;
  }
  cachedNftReason = { value };
  return value;
}

// ---------------------------------------------------------------------------
// process helpers

interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function execCollect(command: string, args: readonly string[], input?: string | Uint8Array, timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

async function execChecked(command: string, args: readonly string[], input?: string | Uint8Array): Promise<string> {
  const r = await execCollect(command, args, input);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function pidsInNsSync(ns: string): number[] {
  try {
    return ipSync(['netns', 'pids', ns])
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid);
  } catch {
    return [];
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------
// emergency cleanup

const liveLans = new Set<LanImpl>();
let exitHooksInstalled = false;

function cleanupAllSync(): void {
  for (const lan of liveLans) lan.destroySync();
  liveLans.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', cleanupAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(sig) > 0) continue; // somebody else decides how to exit
    const handler = (): void => {
      cleanupAllSync();
      // Exit (rather than re-raise) so that other 'exit' hooks run too.
      process.exit(128 + (osConstants.signals[sig] ?? 0));
    };
    process.on(sig, handler);
  }
}

let staleSweepDone = false;

/** Remove namespaces left behind by earlier test processes that no longer exist. */
async function sweepStale(): Promise<void> {
  if (staleSweepDone) return;
  staleSweepDone = true;
  let list: string;
  try {
    list = await execChecked('ip', ['netns', 'list']);
  } catch {
    return;
  }
  const re = new RegExp(`^(${NS_PREFIX}(\\d+)-\\S+)`);
  for (const line of list.split('\n')) {
    const m = re.exec(line.trim());
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const ns = m[1];
    for (const p of pidsInNsSync(ns)) killGroup(p, 'SIGKILL');
    await execCollect('ip', ['netns', 'del', ns]).catch(() => undefined);
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

// ---------------------------------------------------------------------------
// the LAN

let lanCounter = 0;

class LanImpl implements Lan {
  readonly id: string;
  readonly bridgeNs: string;
  readonly nodes: readonly LanNode[];
  readonly broadcast = `${LAN_SUBNET}.255`;
  readonly prefixLength = 24;
  private readonly children = new Set<ChildProcess>();
  private destroyPromise: Promise<void> | undefined;
  private destroyedFlag = false;

  private readonly options: LanOptions;

  constructor(id: string, nodeCount: number, options: LanOptions = {}) {
    this.id = id;
    this.bridgeNs = `${id}-br`;
    this.options = options;
    const nodes: LanNode[] = [];
    for (let i = 0; i < nodeCount; i++) {
      nodes.push({ ns: `${id}-n${i}`, address: `${LAN_SUBNET}.${i + 1}`, address6: options.ipv6 ? `${LAN_SUBNET6}:${i + 1}` : undefined, iface: 'eth0' });
    }
    this.nodes = nodes;
  }

  get destroyed(): boolean {
    return this.destroyedFlag;
  }

  get allNs(): string[] {
    return [...this.nodes.map((n) => n.ns), this.bridgeNs];
  }

  node(node: number): LanNode {
    const n = this.nodes[node];
    if (n === undefined) throw new RangeError(`LAN ${this.id} has no node ${node} (it has ${this.nodes.length})`);
    return n;
  }

  setupScript(): string {
    const b = this.bridgeNs;
    const lines = [
      `ip netns add ${b}`,
      `ip -n ${b} link set lo up`,
      `ip -n ${b} link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0`,
      `ip -n ${b} link set br0 up`,
    ];
    this.nodes.forEach((n, i) => {
      const ipv4 = !(this.options.ipv6Only ?? []).includes(i);
      lines.push(
        `ip netns add ${n.ns}`,
        `ip -n ${n.ns} link set lo up`,
        `ip -n ${b} link add p${i} type veth peer name ${n.iface} netns ${n.ns}`,
        `ip -n ${b} link set p${i} master br0`,
        `ip -n ${b} link set p${i} up`,
        ...(ipv4 ? [`ip -n ${n.ns} addr add ${n.address}/${this.prefixLength} broadcast ${this.broadcast} dev ${n.iface}`] : []),
        // No duplicate address detection: the link-local address is usable as soon as the link is up.
        ...(n.address6 ? [`ip netns exec ${n.ns} sysctl -qw net.ipv6.conf.${n.iface}.accept_dad=0`, `ip -n ${n.ns} addr add ${n.address6}/64 dev ${n.iface} nodad`] : []),
        `ip -n ${n.ns} link set ${n.iface} up`,
        ...(ipv4 ? [`ip -n ${n.ns} route add default dev ${n.iface}`] : []),
      );
    });
    return lines.join('\n') + '\n';
  }

  spawn(node: number, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    if (this.destroyedFlag || this.destroyPromise) throw new Error(`LAN ${this.id} is destroyed`);
    const { ns } = this.node(node);
    const child = spawnChild('ip', ['netns', 'exec', ns, command, ...args], { ...options, detached: true });
    this.children.add(child);
    const forget = (): void => {
      this.children.delete(child);
    };
    child.once('exit', forget);
    child.once('error', forget);
    return child;
  }

  run(node: number, command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const { timeoutMs = 30_000, input, ...spawnOptions } = options;
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.spawn(node, command, args, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err) {
        reject(err);
        return;
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      }, timeoutMs);
      child.stdout?.on('data', (b: Buffer) => out.push(b));
      child.stderr?.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timedOut,
        });
      });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input ?? '');
    });
  }

  async setLoss(node: number, percent: number, options: LossOptions = {}): Promise<void> {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new RangeError(`loss percent must be an integer 0..100, got ${percent}`);
    }
    const { iface } = this.node(node);
    const proto = options.protocol ?? 'all';
    const match = `${proto === 'all' ? '' : `meta l4proto ${proto} `}${options.from === undefined ? '' : `ip saddr ${options.from} `}`;
    // "add table; delete table" makes the delete succeed whether or not the table existed.
    let script = 'table inet ipmt_loss\ndelete table inet ipmt_loss\n';
    if (percent > 0) {
      script +=
        'table inet ipmt_loss {\n' +
        `  chain in { type filter hook input priority -300; policy accept; iifname "${iface}" ${match}numgen random mod 100 < ${percent} drop; }\n` +
        (options.direction === 'in'
          ? ''
          : `  chain out { type filter hook output priority -300; policy accept; oifname "${iface}" ${match}numgen random mod 100 < ${percent} drop; }\n`) +
        '}\n';
    }
    const r = await this.run(node, 'nft', ['-f', '-'], { input: script, timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`nft failed in ${this.node(node).ns}: ${r.stderr.trim()}`);
  }

  destroy(options: { graceMs?: number } = {}): Promise<void> {
    if (!this.destroyPromise) this.destroyPromise = this.doDestroy(options.graceMs ?? 2000);
    return this.destroyPromise;
  }

  private async doDestroy(graceMs: number): Promise<void> {
    try {
      const running = [...this.children].filter(isRunning);
      const exited = Promise.all(
        running.map((c) => new Promise<void>((r) => (isRunning(c) ? c.once('exit', () => r()) : r()))),
      );
      for (const c of running) if (c.pid !== undefined) killGroup(c.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      for (const c of running) if (isRunning(c) && c.pid !== undefined) killGroup(c.pid, 'SIGKILL');
      // Anything else still inside our namespaces (daemonised grandchildren, …).
      for (const ns of this.allNs) for (const pid of pidsInNsSync(ns)) killGroup(pid, 'SIGKILL');
      await Promise.race([exited, delay(1000)]);
    } finally {
      for (const ns of this.allNs) {
        const r = await execCollect('ip', ['netns', 'del', ns]).catch(() => undefined);
        if (r && r.code !== 0 && !/No such file|does not exist/i.test(r.stderr)) {
          // retry once after a moment (e.g. a process was still exiting)
          await delay(100);
          await execCollect('ip', ['netns', 'del', ns]).catch(() => undefined);
        }
      }
      this.children.clear();
      this.destroyedFlag = true;
      liveLans.delete(this);
    }
  }

  /** Best-effort synchronous teardown for process exit. */
  destroySync(): void {
    if (this.destroyedFlag) return;
    for (const c of this.children) if (isRunning(c) && c.pid !== undefined) killGroup(c.pid, 'SIGKILL');
    for (const ns of this.allNs) {
      for (const pid of pidsInNsSync(ns)) killGroup(pid, 'SIGKILL');
      try {
        ipSync(['netns', 'del', ns]);
      } catch {
        // ignore
      }
    }
    this.destroyedFlag = true;
  }
}

/**
 * Create a private L2 LAN of `nodeCount` hosts (10.249.0.1 … 10.249.0.N /24).
 * Call `destroy()` on the result in `after`/`t.after`.
 */
export async function createLan(nodeCount: number, options: LanOptions = {}): Promise<Lan> {
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 254) {
    throw new RangeError(`nodeCount must be 1..254, got ${nodeCount}`);
  }
  const reason = netnsUnavailableReason();
  if (reason !== undefined) throw new Error(`cannot create a LAN: ${reason}`);
  await sweepStale();
  installExitHooks();
  const lan = new LanImpl(`${NS_PREFIX}${process.pid}-${++lanCounter}`, nodeCount, options);
  liveLans.add(lan);
  try {
    // One `ip -batch` would be faster, but `-n` is not accepted per line; one
    // shell running the commands in sequence is the next best thing.
    await execChecked('sh', ['-e', '-s'], lan.setupScript());
  } catch (err) {
    await lan.destroy();
    throw err;
  }
  return lan;
}
