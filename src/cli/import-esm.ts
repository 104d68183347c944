// src/cli/import-esm.ts
// import() of an ESM-only package (ora). The launcher runs the bundle as a code-cached vm.Script,
// where import() has no loader; it hands one in as __ipmsgImport instead.

declare const __ipmsgImport: ((specifier: string) => Promise<unknown>) | undefined;

export function importEsm<T>(specifier: string): Promise<T> {
  return (typeof __ipmsgImport === 'function' ? __ipmsgImport(specifier) : import(specifier)) as Promise<T>;
}
