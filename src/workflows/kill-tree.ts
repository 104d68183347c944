// src/workflows/kill-tree.ts
// Ends a child process and what it started. Windows has no signals: `ChildProcess.kill()` there
// ends only the child itself (cmd.exe, leaving the batch file's programs running), so the whole
// tree is ended with `taskkill /T /F`; where that fails (Wine's taskkill has no /T), the child alone.

import { type ChildProcess, spawn } from 'node:child_process';

export const WINDOWS = process.platform === 'win32';

/** Whether `child` has started and not yet ended. */
export function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Ends `child`'s process tree on Windows at once; on POSIX sends `signal` to `child` (or to its process group). */
export function killTree(child: ChildProcess, signal: NodeJS.Signals, options: { readonly group?: boolean } = {}): void {
  if (!isRunning(child) || child.pid === undefined) return;
  if (WINDOWS) {
    const fallback = (): void => void (isRunning(child) && child.kill(signal));
    const taskkill = spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true, stdio: 'ignore' });
    taskkill.on('error', fallback);
    taskkill.on('exit', (code) => code !== 0 && fallback());
    return;
  }
  if (!options.group) {
    child.kill(signal);
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
