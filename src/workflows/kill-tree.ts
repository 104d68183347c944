// src/workflows/kill-tree.ts
// Ends a child process and what it started. Windows has no signals: `ChildProcess.kill()` there
// ends only the child itself (cmd.exe, leaving the batch file's programs running), so the whole
// tree is ended with `taskkill /T /F`; where that fails (Wine's taskkill has no /T), the child alone.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

export const WINDOWS = process.platform === 'win32';

/** Whether `child` has started and not yet ended. */
export function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Ends `child`'s process tree on Windows at once; on POSIX sends `signal` to `child` (or to its process group). */
export function killTree(child: ChildProcess, signal: NodeJS.Signals, options: { readonly group?: boolean } = {}): void {
  if (child.pid === undefined) return;
  if (!WINDOWS && options.group) {
    // Even when the child itself has ended: what it left running in its group may still hold its output.
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is empty.
      if (isRunning(child)) child.kill(signal);
    }
    return;
  }
  if (!isRunning(child)) return;
  if (WINDOWS) {
    const fallback = (): void => void (isRunning(child) && child.kill(signal));
    const taskkill = spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true, stdio: 'ignore' });
    taskkill.on('error', fallback);
    taskkill.on('exit', (code) => code !== 0 && fallback());
    return;
  }
  child.kill(signal);
}

/**
 * killTree for a process about to exit (a second Ctrl-C), when nothing of ours runs afterwards.
 * Node on Windows ends its own children with it (a job object), but not what they started (npm's
 * node under npm.cmd's cmd.exe): taskkill /T runs to its end first, then the child alone.
 */
export function killTreeNow(child: ChildProcess, options: { readonly group?: boolean } = {}): void {
  if (!WINDOWS) return killTree(child, 'SIGKILL', options);
  if (!isRunning(child) || child.pid === undefined) return;
  const done = spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true, stdio: 'ignore' });
  if (done.status !== 0) child.kill('SIGKILL');
}
