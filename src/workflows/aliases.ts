// src/workflows/aliases.ts
// Target aliases: short names for one target or a list of them ("desk" → 10.0.0.7, "team" →
// alice,bob,10.0.0.9), which may name other aliases. Every target a Client takes goes through
// expandAliases, so each command (and each library user) gets them the same way.

import { IpmsgError } from '../errors.js';
import { MAX_TARGETS, parseTarget, splitTargets } from '../messenger/target.js';

/** Alias name → its targets: a comma-separated string or an array of strings (each may list several). */
export type Aliases = Readonly<Record<string, string | readonly string[]>>;

export const ALIAS_LIMITS = {
  /** Aliases in one table. */
  entries: 10_000,
  /** Characters of a name. */
  nameLength: 64,
  /** Aliases naming aliases, this many deep. */
  depth: 16,
  /** Targets one list of targets may expand to: as many as one send takes. */
  targets: MAX_TARGETS,
} as const;

/** What no alias name may hold: a list separator, a port or IPv6 colon, brackets, blanks. */
const BAD_NAME_CHARS = /[\s,:[\]]/;

/**
 * Why `name` cannot be an alias, or undefined when it can. An address (or ADDR:PORT) never is one:
 * it would hide the host it names.
 */
function badName(name: string): string | undefined {
  if (name.length === 0) return 'an empty name';
  if (name.length > ALIAS_LIMITS.nameLength) return `a name longer than ${ALIAS_LIMITS.nameLength} characters`;
  if (name.startsWith('-')) return 'a name that starts with "-" (it would read as an option)';
  if (BAD_NAME_CHARS.test(name)) return 'a name with a blank, ",", ":" or a bracket';
  if (parseTarget(name, 1).kind === 'address') return 'an address (an address always means itself)';
  return undefined;
}

/** The lookup key: names are matched ignoring case, as LAN names are. */
function key(name: string): string {
  return name.toLowerCase();
}

/** An alias's own targets, split. */
function ownTargets(value: string | readonly string[]): string[] {
  return splitTargets(typeof value === 'string' ? [value] : value);
}

/** A checked alias table: names by their lookup key, each with its own (unexpanded) targets. */
export class AliasTable {
  readonly #entries: ReadonlyMap<string, { readonly name: string; readonly targets: readonly string[] }>;
  readonly #expanded = new Map<string, readonly string[]>();

  /**
   * Checks every name and value, and expands every alias once, so a cycle or a too-deep chain is
   * found now rather than by the run that uses it.
   * @throws IpmsgError IPMSG_ERR_USAGE, naming the alias and what is wrong with it
   */
  constructor(aliases: Aliases = {}) {
    const names = Object.keys(aliases);
    if (names.length > ALIAS_LIMITS.entries) throw new IpmsgError('IPMSG_ERR_USAGE', `${names.length} aliases, more than the ${ALIAS_LIMITS.entries} allowed`);
    const entries = new Map<string, { name: string; targets: string[] }>();
    for (const name of names) {
      const why = badName(name);
      if (why !== undefined) throw new IpmsgError('IPMSG_ERR_USAGE', `alias ${JSON.stringify(name)} is ${why}`);
      const value = aliases[name];
      if (typeof value !== 'string' && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
        throw new IpmsgError('IPMSG_ERR_USAGE', `alias ${JSON.stringify(name)} must be a string of comma-separated targets or an array of them`);
      }
      const targets = ownTargets(value);
      if (targets.length === 0) throw new IpmsgError('IPMSG_ERR_USAGE', `alias ${JSON.stringify(name)} names no target`);
      if (targets.length > ALIAS_LIMITS.targets) throw new IpmsgError('IPMSG_ERR_USAGE', `alias ${JSON.stringify(name)} lists more than ${ALIAS_LIMITS.targets} targets`);
      for (const target of targets) parseTarget(target, 1); // a bad port or IPv6 literal is the alias's fault, said now
      const known = entries.get(key(name));
      if (known) throw new IpmsgError('IPMSG_ERR_USAGE', `aliases ${JSON.stringify(known.name)} and ${JSON.stringify(name)} differ only in case`);
      entries.set(key(name), { name, targets });
    }
    this.#entries = entries;
    for (const name of entries.keys()) this.#expand(name, []);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Every alias, in the order given, with its expansion. */
  list(): { name: string; targets: readonly string[] }[] {
    return [...this.#entries].map(([k, { name }]) => ({ name, targets: this.#expanded.get(k) ?? [] }));
  }

  /** An alias's expansion (addresses and names that are not aliases), or undefined for no alias. */
  get(name: string): readonly string[] | undefined {
    return this.#expanded.get(key(name.trim()));
  }

  /**
   * Targets (each may list several, comma-separated) with every alias replaced by what it names;
   * a target named twice is kept once, where it first appeared.
   * @throws IpmsgError IPMSG_ERR_USAGE when the list grows past ALIAS_LIMITS.targets
   */
  expand(targets: readonly string[]): string[] {
    const out = new Set<string>();
    for (const target of splitTargets(targets)) {
      for (const t of this.get(target) ?? [target]) out.add(t);
      if (out.size > ALIAS_LIMITS.targets) throw new IpmsgError('IPMSG_ERR_USAGE', `the targets expand to more than ${ALIAS_LIMITS.targets}`);
    }
    return [...out];
  }

  /** Memoized depth-first expansion; `path` is the chain of aliases being expanded, for the cycle error. */
  #expand(k: string, path: readonly string[]): readonly string[] {
    const done = this.#expanded.get(k);
    if (done) return done;
    const entry = this.#entries.get(k);
    if (!entry) return [];
    const chain = [...path, entry.name];
    const seen = path.findIndex((p) => key(p) === k);
    if (seen >= 0) throw new IpmsgError('IPMSG_ERR_USAGE', `alias cycle: ${chain.slice(seen).join(' → ')}`);
    if (chain.length > ALIAS_LIMITS.depth) throw new IpmsgError('IPMSG_ERR_USAGE', `aliases nested more than ${ALIAS_LIMITS.depth} deep: ${chain.join(' → ')}`);
    const out = new Set<string>();
    for (const target of entry.targets) {
      if (this.#entries.has(key(target))) for (const t of this.#expand(key(target), chain)) out.add(t);
      else out.add(target);
      if (out.size > ALIAS_LIMITS.targets) throw new IpmsgError('IPMSG_ERR_USAGE', `alias ${JSON.stringify(entry.name)} expands to more than ${ALIAS_LIMITS.targets} targets`);
    }
    const expanded = [...out];
    this.#expanded.set(k, expanded);
    return expanded;
  }
}

/**
 * Targets with their aliases expanded (see AliasTable.expand): the pure form, for one-off use.
 * @throws IpmsgError IPMSG_ERR_USAGE for a bad alias table or a cycle
 */
export function expandAliases(targets: readonly string[], aliases: Aliases | AliasTable): string[] {
  return (aliases instanceof AliasTable ? aliases : new AliasTable(aliases)).expand(targets);
}
