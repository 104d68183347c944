// src/workflows/windows-command.ts
// How `ipmsg run` starts a command on Windows, the way cmd.exe finds and runs it: a name without
// a folder is looked for in the current folder, then PATH, trying the PATHEXT extensions; .exe and
// .com files are started directly, .bat and .cmd files through cmd.exe (Node refuses to start a
// batch file itself), with each argument quoted so that cmd hands it on as it is, never runs it.

import { win32 } from 'node:path';
import { NOT_EXECUTABLE, NOT_FOUND } from './run-report.js';

/** What the search sees of the system; `isFile` is the only file-system access. */
export interface WindowsLookup {
  readonly cwd: string;
  readonly path?: string | undefined;
  readonly pathext?: string | undefined;
  /** %ComSpec%: the cmd.exe to run batch files with. */
  readonly comspec?: string | undefined;
  isFile(path: string): boolean;
}

/** How to start the command, or why it cannot be started (with the shell status it ends with). */
export type WindowsPlan =
  | { readonly kind: 'spawn'; readonly file: string; readonly args: readonly string[]; readonly verbatim: boolean }
  | { readonly kind: 'not-found'; readonly reason: string; readonly code: typeof NOT_FOUND }
  | { readonly kind: 'cannot-run'; readonly reason: string; readonly code: typeof NOT_EXECUTABLE }
  | { readonly kind: 'unsafe'; readonly reason: string };

const DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD';
const DIRECT = new Set(['.exe', '.com']);
const BATCH = new Set(['.bat', '.cmd']);
/** Characters cmd passes on unquoted; anything else (ASCII) makes the argument quoted. */
const PLAIN = /^[A-Za-z0-9#$*+\-./:?@\\_\u00a0-\uffff]+$/;

/**
 * One argument of a batch file's command line, or undefined when cmd cannot be made to pass it
 * on as it is: a line break ends the command line, and cmd expands %NAME% even inside quotes.
 * Quoted when it holds a character cmd treats specially; inside the quotes a `"` is doubled (cmd
 * stays in quoted mode, so `&`, `|`, `<`, `>`, `^` and `(` stay text, also when the batch file hands
 * %* on to another program), and backslashes before a quote are doubled for programs that read
 * their arguments the C runtime's way. `!` is text: cmd runs with delayed expansion off.
 */
export function quoteBatchArgument(arg: string): string | undefined {
  if (/[\r\n%\0]/.test(arg)) return undefined;
  // A trailing backslash is quoted too: a batch file's "%~1" would otherwise escape its quote.
  if (PLAIN.test(arg) && !arg.endsWith('\\')) return arg;
  let quoted = '"';
  let backslashes = 0;
  for (const c of arg) {
    if (c === '\\') {
      backslashes += 1;
    } else {
      if (c === '"') quoted += '\\'.repeat(backslashes) + '"';
      backslashes = 0;
    }
    quoted += c;
  }
  return `${quoted}${'\\'.repeat(backslashes)}"`;
}

/** The command line cmd runs for `script args` (after `/s /c`, which strips the outer quotes). */
export function batchCommandLine(script: string, args: readonly string[]): { line: string } | { unsafe: string } {
  if (/["%\r\n]/.test(script)) return { unsafe: `cannot run the batch file ${script}: its name holds a character cmd would read (" or %)` };
  const parts = [`"${script}"`];
  for (const arg of args) {
    const quoted = quoteBatchArgument(arg);
    if (quoted === undefined) {
      return { unsafe: `cannot pass ${JSON.stringify(arg)} to the batch file ${win32.basename(script)}: cmd would expand a % or cut the line at a line break (pass it in a variable or a file, or run the program itself)` };
    }
    parts.push(quoted);
  }
  return { line: `"${parts.join(' ')}"` };
}

/** The places a name is looked for, as cmd.exe does: a name with a folder only there. */
function folders(name: string, lookup: WindowsLookup): string[] {
  if (/[\\/]/.test(name) || /^[a-zA-Z]:/.test(name)) return [''];
  const path = (lookup.path ?? '')
    .split(';')
    .map((dir) => dir.trim().replace(/^"(.*)"$/, '$1'))
    .filter((dir) => dir !== '');
  return [lookup.cwd, ...path];
}

/** The file `name` stands for: as given when it has an extension, then with each PATHEXT one. */
export function findWindowsCommand(name: string, lookup: WindowsLookup): string | undefined {
  const exts = (lookup.pathext || DEFAULT_PATHEXT).split(';').filter((e) => e.startsWith('.'));
  const names = [...(win32.extname(name) !== '' ? [name] : []), ...exts.map((ext) => name + ext.toLowerCase())];
  for (const dir of folders(name, lookup)) {
    for (const candidate of names) {
      const full = win32.resolve(lookup.cwd, dir, candidate);
      if (lookup.isFile(full)) return full;
    }
  }
  return undefined;
}

/** How `argv` is started on Windows. */
export function planWindowsCommand(argv: readonly string[], lookup: WindowsLookup): WindowsPlan {
  const [name, ...args] = argv;
  if (name === undefined || name === '') return { kind: 'not-found', reason: 'no command', code: NOT_FOUND };
  const file = findWindowsCommand(name, lookup);
  if (file === undefined) return { kind: 'not-found', reason: `${name}: command not found`, code: NOT_FOUND };
  const ext = win32.extname(file).toLowerCase();
  if (DIRECT.has(ext)) return { kind: 'spawn', file, args, verbatim: false };
  if (!BATCH.has(ext)) {
    return { kind: 'cannot-run', reason: `${name}: ${file} is not a program or a batch file (.exe, .com, .bat, .cmd): run it with its program`, code: NOT_EXECUTABLE };
  }
  const built = batchCommandLine(file, args);
  if ('unsafe' in built) return { kind: 'unsafe', reason: built.unsafe };
  // /d: no AutoRun commands; /v:off: `!` is text; /s /c: run the quoted line as it is.
  return { kind: 'spawn', file: lookup.comspec || 'cmd.exe', args: ['/d', '/v:off', '/s', '/c', built.line], verbatim: true };
}
