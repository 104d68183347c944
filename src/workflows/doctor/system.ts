// src/workflows/doctor/system.ts
// What the doctor reads of this machine, behind one small interface so that the interpretation is
// tested with fixtures: files under /proc, and a few read-only commands (ip, nft, iptables-save,
// ip6tables-save), each bounded by a timeout and the run's signal. Commands get fixed argument
// lists, never a shell.

import { execFile } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { InterfaceTable } from '../../transport/broadcast.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DoctorSystem {
  readonly platform: NodeJS.Platform;
  interfaces(): InterfaceTable;
  /** A text file, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /** The names in a folder, or [] when it cannot be read. */
  list(path: string): Promise<string[]>;
  /** A symbolic link's target, or undefined. */
  readLink(path: string): Promise<string | undefined>;
  /** Runs a command; undefined when it is not installed, not permitted, or timed out. */
  run(command: string, args: readonly string[], signal: AbortSignal): Promise<CommandResult | undefined>;
}

/** Long enough for `nft -j list ruleset` on a busy firewall; a doctor that hangs helps nobody. */
export const COMMAND_TIMEOUT = 3000;
const MAX_OUTPUT = 8 * 1024 * 1024;

export const nodeSystem: DoctorSystem = {
  platform: process.platform,
  interfaces: () => networkInterfaces(),
  readText: (path) => readFile(path, 'utf8').catch(() => undefined),
  list: (path) => readdir(path).catch(() => []),
  readLink: (path) => readlink(path).catch(() => undefined),
  run: (command, args, signal) =>
    new Promise((resolve) => {
      execFile(command, [...args], { timeout: COMMAND_TIMEOUT, maxBuffer: MAX_OUTPUT, signal, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return resolve(undefined); // not found, killed, aborted
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      });
    }),
};
