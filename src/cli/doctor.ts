// src/cli/doctor.ts
// ipmsg doctor [TARGET]: why this PC cannot see another one. One ✔/⚠/✖/– line per check with its
// advice; exit 0 when nothing a send needs is broken, 69 when a check failed.

import { Command, Option } from 'commander';
import { IpmsgError } from '../errors.js';
import type { CheckResult, CheckStatus } from '../workflows/doctor/index.js';
import type { Context } from './context.js';
import { DEFAULT_LIST_WAIT } from './list.js';
import { addCommonOptions, addRetryOptions, addWaitOption } from './options.js';
import { oneLine } from './output.js';
import { openSettings } from './session.js';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT } from './send.js';

/** A dropped TCP connect costs this much at most: the verdict ("a firewall drops it") is the same after it. */
const CONNECT_TIMEOUT = 3000;

const MARKS: Record<CheckStatus, string> = { ok: '✔', warn: '⚠', fail: '✖', skip: '–' };

function humanLine(result: CheckResult): string {
  const advice = result.advice ? `\n    → ${oneLine(result.advice)}` : '';
  return `${MARKS[result.status]} ${oneLine(result.summary)}${advice}`;
}

interface DoctorFlags {
  wait?: number;
  timeout?: number;
  retries?: number;
  dns: boolean;
}

export function makeDoctorCommand(ctx: Context): Command {
  const command = new Command('doctor')
    .description("check why this PC cannot see another one (interfaces, broadcast route, port, firewall, who answers); with TARGET, whether a send to it would work")
    .argument('[target]', 'a peer to check: IPv4 address, ADDR:PORT, host name, or a name on the LAN');
  addWaitOption(command, `how long to wait for answers to BR_ENTRY (default ${DEFAULT_LIST_WAIT / 1000}s, as list); a target given by name is looked for as long`);
  addRetryOptions(command, `total time to wait for each of the target's answers (default ${DEFAULT_TIMEOUT / 1000}s)`);
  command.addOption(new Option('--no-dns', 'find the target only among the peers on the LAN, never with the system resolver'));
  addCommonOptions(command);
  command.addHelpText(
    'after',
    `
Lines: ✔ works, ⚠ works with a limit, ✖ broken (a send or discovery needs it), – cannot be checked here.
Exit status: 0 when no check failed (✖), 69 when one did. Nothing is changed on the machine:
no key made or pinned, no state file written; the port is bound for a moment, BR_ENTRY said
(to a target GETINFO and GETPUBKEY) and BR_EXIT. --encoding, --lossy, --no-crypto and
--legacy-crypto act as for a send (--no-crypto: the target's key is not checked).

Examples:
  ipmsg doctor
  ipmsg doctor --wait 2s 192.168.1.20
  ipmsg doctor bob --json | jq -c 'select(.status == "fail")'
  sudo ipmsg doctor          # root can read the firewall rules and name the process holding the port`,
  );
  command.action(async (target: string | undefined, flags: DoctorFlags, cmd: Command) => {
    const { settings, out } = openSettings(ctx, cmd);
    const wait = flags.wait ?? DEFAULT_LIST_WAIT;
    const timeout = flags.timeout ?? DEFAULT_TIMEOUT;
    if (!settings.json && !settings.quiet) out.notice(`checking; waiting ${wait / 1000}s for answers to BR_ENTRY…`);
    // Loaded here: the doctor needs node:net and the known peers, which other commands load only when used.
    const { runDoctor } = await import('../workflows/doctor/index.js');
    const report = await runDoctor({
      ...settings.identity,
      port: settings.port,
      ...(settings.bind ? { bind: settings.bind } : {}),
      ...(settings.family ? { family: settings.family } : {}),
      strictPort: !settings.portFallback,
      broadcast: settings.broadcast,
      wait,
      ...(target !== undefined ? { target } : {}),
      aliases: settings.aliases,
      timeout,
      retries: flags.retries ?? DEFAULT_RETRIES,
      connectTimeout: Math.min(timeout, CONNECT_TIMEOUT),
      resolveWait: wait,
      dns: flags.dns,
      // As a send would: the code page our entry is written in and answers are read in, and the key exchange it would make.
      ...(settings.charset ? { encoding: settings.charset } : {}),
      fallbackEncoding: settings.fallbackCharset,
      lossy: settings.lossy,
      crypto: settings.crypto,
      legacyCrypto: settings.legacyCrypto,
      keyDir: settings.paths.keyDir,
      version: ctx.version,
      env: ctx.env,
      clock: ctx.clock,
      signal: ctx.signal,
      onWarning: out.verbose,
      onResult: (result) => out.result({ event: 'check', ...result }, humanLine(result)),
    });
    const { summary } = report;
    const text = `${summary.healthy ? 'a send would work' : 'something a send needs is broken'}: ${summary.ok} ✔, ${summary.warn} ⚠, ${summary.fail} ✖, ${summary.skip} –`;
    out.result({ event: 'summary', ...summary }, text);
    if (!summary.healthy) {
      const failed = report.results.filter((r) => r.status === 'fail').map((r) => r.id);
      throw new IpmsgError('IPMSG_ERR_UNAVAILABLE', `doctor: ${failed.length} check${failed.length === 1 ? '' : 's'} failed (${failed.join(', ')})`);
    }
  });
  return command;
}
