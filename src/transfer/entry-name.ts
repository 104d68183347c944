// src/transfer/entry-name.ts
// Which names a received folder entry may have: one path component, nothing that climbs out of
// the folder or means something else on another system (§5.3).

/** Everything the checks of entryNameProblem() refuse matches this (a drive prefix has its ':'). */
const MAYBE_PROBLEM = /^\.{0,2}$|[\u0000-\u001f\u007f-\u009f/\\:]/;
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;
const SEPARATOR = /[/\\]/;
const DRIVE = /^[A-Za-z]:/;

/** A name in a message: quoted, and cut after 64 characters (a hostile one may be long). */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/**
 * Why `name` cannot be one path component of a received folder, or undefined when it can. Refused:
 * empty, '.', '..', a path separator ('/', '\'), ':', a control character (C0, DEL, C1), anything
 * that looks absolute ('/x', '\x', 'C:x'). RETPARENT entries are checked by the parser, not here.
 */
export function entryNameProblem(name: string): string | undefined {
  if (!MAYBE_PROBLEM.test(name)) return undefined; // one scan for the usual name; the reason below
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `name '${name}'`;
  if (CONTROL_CHAR.test(name)) return 'name contains a control character';
  if (name.startsWith('/') || name.startsWith('\\') || DRIVE.test(name)) return `absolute name ${quoteName(name)}`;
  if (SEPARATOR.test(name)) return `name ${quoteName(name)} contains a path separator`;
  if (name.includes(':')) return `name ${quoteName(name)} contains ':'`;
  return undefined;
}
