// src/state/peer-names.ts
// The names the last `ipmsg list` heard, kept in the cache folder for shell completion: names only
// (no addresses), bounded, and only names a shell can take as one word without quoting. Peers
// choose their names: one that could mean something to a shell is left out, never escaped.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import atomicWrite from './atomic-write.cjs';

export const PEER_NAMES_FILE = 'peer-names.txt';
export const PEER_NAMES_LIMITS = { names: 1000, nameLength: 64 } as const;

/** Letters and digits of any script, and . _ @ + - (user@host); nothing a shell reads specially. */
const COMPLETABLE = /^[\p{L}\p{N}._@+-]+$/u;

/** Whether `name` may be offered to a shell as a completion word. */
export function isCompletableName(name: string): boolean {
  return name.length <= PEER_NAMES_LIMITS.nameLength && COMPLETABLE.test(name) && !name.startsWith('-');
}

/** The completable names among `names`, each once, at most PEER_NAMES_LIMITS.names of them. */
function completable(names: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const name of names) {
    if (out.size >= PEER_NAMES_LIMITS.names) break;
    if (isCompletableName(name)) out.add(name);
  }
  return [...out];
}

/** Replaces the cached names (atomically: a completion running meanwhile reads the old list or the new). */
export function writePeerNames(cacheDir: string, names: Iterable<string>): void {
  const list = completable(names);
  atomicWrite.writeFileAtomic(join(cacheDir, PEER_NAMES_FILE), list.length > 0 ? `${list.join('\n')}\n` : '');
}

/** The cached names; none when there is no cache or it cannot be read (it is only a convenience). */
export function readPeerNames(cacheDir: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(cacheDir, PEER_NAMES_FILE), 'utf8');
  } catch {
    return [];
  }
  // Checked again: anyone may have written the file.
  return completable(text.slice(0, PEER_NAMES_LIMITS.names * (PEER_NAMES_LIMITS.nameLength + 1)).split('\n'));
}
