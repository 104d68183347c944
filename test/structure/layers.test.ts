// test/structure/layers.test.ts
// The layer rule (STYLE.md house rule 1): the codecs in src/protocol and src/encoding, and the pure
// parts of src/transfer and src/crypto, never touch sockets, files, child processes, the OS,
// `process` or timers, and never import the layers above. All of src/crypto (its key storage
// included) stays below the transports: it imports none of them.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to .test-build/test/structure/: the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PURE_DIRS = ['src/protocol', 'src/encoding'];
/** The pure codecs of src/transfer (the rest of that folder does TCP and file I/O) and of src/crypto (all but key storage). */
const PURE_FILES = [
  'src/transfer/request.ts',
  ...['dir-header', 'dir-stream-parser', 'entry-name', 'header-cursor'].map((name) => `src/transfer/${name}.ts`),
  ...['blowfish', 'blowfish-pi', 'capability', 'envelope', 'file-body', 'file-crypto', 'fingerprint', 'keys', 'message', 'plaintext', 'rsa-pkcs1'].map((name) => `src/crypto/${name}.ts`),
];
/** src/crypto files that may use the file system (key storage, and the index that re-exports it); never a layer above. */
const CRYPTO_STORAGE = ['src/crypto/keystore.ts', 'src/crypto/known-peers.ts', 'src/crypto/private-file.ts', 'src/crypto/index.ts'];

const FORBIDDEN_MODULES = ['dgram', 'net', 'fs', 'fs/promises', 'child_process', 'os', 'timers', 'timers/promises', 'process', 'worker_threads', 'cluster', 'http', 'https', 'tls'];
const FORBIDDEN_LAYERS = ['src/transport', 'src/messenger', 'src/cli', 'src/transfer'];

const COMMENT_OR_STRING = /\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\[\s\S]|[^`\\])*`/g;

/** Blanks comments (keeping line breaks, so line numbers stay right); with `strings`, empties string literals too. */
export function strip(source: string, strings: boolean): string {
  return source.replace(COMMENT_OR_STRING, (m) => {
    if (m.startsWith('//') || m.startsWith('/*')) return m.replace(/[^\n]/g, ' ');
    return strings ? `${m[0]}${m[0]}` : m;
  });
}

const SPECIFIER_PATTERNS = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g, // import … from 'x', export … from 'x'
  /\bimport\s*(['"])([^'"]+)\1/g, // import 'x'
  /\bimport\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g, // import('x')
  /\brequire\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g, // require('x')
  /\)\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g, // createRequire(import.meta.url)('x')
];

/** Module specifiers in a source, with their offsets. */
export function specifiers(source: string): { spec: string; index: number }[] {
  const code = strip(source, false);
  const out: { spec: string; index: number }[] = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const m of code.matchAll(pattern)) if (m[2] !== undefined) out.push({ spec: m[2], index: m.index });
  }
  return out;
}

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

const lineIn = (source: string) => (index: number): number => source.slice(0, index).split('\n').length;

/** Imports of the layers above the codecs (transport, messenger, cli, transfer). */
export function layerViolations(file: string, source: string): Violation[] {
  const found: Violation[] = [];
  const lineOf = lineIn(source);
  for (const { spec, index } of specifiers(source)) {
    if (!spec.startsWith('.')) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).split(sep).join('/');
    const layer = FORBIDDEN_LAYERS.find((l) => target === l || target.startsWith(`${l}/`) || target.startsWith(`${l}.`));
    // A pure file may use another one (the folder-stream parser, its cursor and the name rules).
    if (layer && !PURE_FILES.includes(target.replace(/\.js$/, '.ts'))) found.push({ file, line: lineOf(index), what: `imports ${spec} (${layer})` });
  }
  return found;
}

/** Every breach of the layer rule in one source file (`file` is its path from the repository root). */
export function violations(file: string, source: string): Violation[] {
  const found: Violation[] = [];
  const lineOf = lineIn(source);
  for (const { spec, index } of specifiers(source)) {
    if (FORBIDDEN_MODULES.includes(spec.replace(/^node:/, ''))) found.push({ file, line: lineOf(index), what: `imports ${spec}` });
  }
  found.push(...layerViolations(file, source));
  const code = strip(source, true);
  const rules: [RegExp, string][] = [
    [/(?<![\w$.])process\b/g, 'uses process'],
    [/(?<![\w$])globalThis\s*\.\s*process\b/g, 'uses globalThis.process'],
    [/(?<![\w$.])(?:setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate|queueMicrotask)\b/g, 'uses a timer'],
    [/(?<![\w$])globalThis\s*\.\s*(?:setTimeout|setInterval|setImmediate)\b/g, 'uses a timer'],
  ];
  for (const [pattern, what] of rules) {
    for (const m of code.matchAll(pattern)) found.push({ file, line: lineOf(m.index), what: `${what}: ${m[0]}` });
  }
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the scanner itself (so a clean result means something)', () => {
  const cases: [string, string][] = [
    ["import dgram from 'node:dgram';", 'imports node:dgram'],
    ["import { createSocket } from 'dgram';", 'imports dgram'],
    ["import * as net from 'node:net';", 'imports node:net'],
    ["import {\n  readFileSync,\n} from 'node:fs';", 'imports node:fs'],
    ["import { readFile } from 'fs/promises';", 'imports fs/promises'],
    ["import 'node:child_process';", 'imports node:child_process'],
    ["const os = await import('node:os');", 'imports node:os'],
    ["export { hostname } from 'node:os';", 'imports node:os'],
    ["import { setTimeout } from 'node:timers/promises';", 'imports node:timers/promises'],
    ["const fs = createRequire(import.meta.url)('fs');", 'imports fs'],
    ["import type { Endpoint } from '../transport/endpoint.js';", 'imports ../transport/endpoint.js (src/transport)'],
    ["import { Messenger } from '../messenger/index.js';", 'imports ../messenger/index.js (src/messenger)'],
    ["import { main } from '../cli/main.js';", 'imports ../cli/main.js (src/cli)'],
    ["import { x } from '../messenger.js';", 'imports ../messenger.js (src/messenger)'],
    ['const port = process.env.PORT;', 'uses process: process'],
    ["const { env } = process;", 'uses process: process'],
    ['globalThis.process.exit(1);', 'uses globalThis.process: globalThis.process'],
    ['setTimeout(() => {}, 10);', 'uses a timer: setTimeout'],
    ['const t = setInterval(tick, 1000);', 'uses a timer: setInterval'],
    ['queueMicrotask(run);', 'uses a timer: queueMicrotask'],
  ];
  for (const [source, expected] of cases) {
    test(`finds: ${source.replace(/\n/g, ' ')}`, () => {
      const found = violations('src/protocol/example.ts', source).map((v) => v.what);
      assert.ok(found.includes(expected), `expected "${expected}", found ${JSON.stringify(found)}`);
    });
  }
  const allowed = [
    "import { IpmsgError } from '../errors.js';",
    "import { isUtf8 } from 'node:buffer';",
    "import { decodeText } from '../encoding/charset.js';",
    "import { parseHex } from './fields.js';",
    "// process the datagram; setTimeout is the transport's business; import 'node:fs' is not here",
    "/* we never call process.exit() here */",
    "throw new Error('cannot process this packet, try setTimeout later');",
    'const processed = preprocess(bytes); const timeout = options.setTimeoutMs;',
    'packet.process(); clock.setTimeout(run, 5);',
  ];
  for (const source of allowed) {
    test(`allows: ${source}`, () => assert.deepStrictEqual(violations('src/protocol/example.ts', source), []));
  }
});

describe('src/protocol, src/encoding and the transfer and crypto codecs are pure', () => {
  const files = [...PURE_DIRS.flatMap(tsFiles), ...PURE_FILES];

  test('the scan sees the codec sources', () => {
    for (const expected of ['src/protocol/packet.ts', 'src/protocol/attachment.ts', 'src/protocol/pubkey.ts', 'src/encoding/charset.ts', 'src/encoding/fields.ts', ...PURE_FILES]) {
      assert.ok(files.includes(expected), `${expected} not found under ${ROOT}`);
    }
  });

  test('the scanner reads the real imports (multi-line ones and createRequire included)', () => {
    const of = (file: string): string[] => specifiers(readFileSync(join(ROOT, file), 'utf8')).map((s) => s.spec);
    const packet = of('src/protocol/packet.ts');
    for (const spec of ['../errors.js', '../encoding/charset.js', './command.js', './packet-no.js']) assert.ok(packet.includes(spec), spec);
    const charset = of('src/encoding/charset.ts');
    for (const spec of ['node:buffer', 'node:module', 'iconv-lite']) assert.ok(charset.includes(spec), spec);
  });

  for (const file of files) {
    test(file, () => {
      const source = readFileSync(join(ROOT, file), 'utf8');
      const found = violations(file, source);
      assert.deepStrictEqual(
        found.map((v) => `${v.file}:${v.line}: ${v.what}`),
        [],
      );
    });
  }
});

describe('src/crypto imports no layer above it', () => {
  const files = tsFiles('src/crypto');

  test('every src/crypto file is either pure or listed as storage', () => {
    assert.deepEqual(files.filter((f) => !PURE_FILES.includes(f) && !CRYPTO_STORAGE.includes(f)), []);
    for (const expected of CRYPTO_STORAGE) assert.ok(files.includes(expected), `${expected} not found under ${ROOT}`);
  });

  test('the check finds a crypto file reaching up', () => {
    const found = layerViolations('src/crypto/example.ts', "import { Messenger } from '../messenger/index.js';\nimport { FileServer } from '../transfer/file-server.js';");
    assert.deepEqual(found.map((v) => v.what), ['imports ../messenger/index.js (src/messenger)', 'imports ../transfer/file-server.js (src/transfer)']);
  });

  for (const file of files) {
    test(file, () => {
      const found = layerViolations(file, readFileSync(join(ROOT, file), 'utf8'));
      assert.deepEqual(found.map((v) => `${v.file}:${v.line}: ${v.what}`), []);
    });
  }
});
