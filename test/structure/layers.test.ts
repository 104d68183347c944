// test/structure/layers.test.ts
// The layer rule (STYLE.md house rule 1). The layers, lowest first: errors.ts → encoding/ →
// protocol/ → crypto/ → state/ and transport/ (side by side) → transfer/ → messenger/ →
// workflows/ → index.ts (the library entry) → cli/. A file imports only its own layer and the
// layers below it, types included. The codecs (protocol/, encoding/, crypto/, and the transfer
// files not listed as doing I/O) never touch sockets, files, child processes, the OS, `process`
// or timers. Persistent state (files) is state/'s alone: transport/ reads and writes none.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to .test-build/test/structure/: the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The layers, lowest first; names without their extension (`src/errors` is src/errors.ts). */
export const LAYERS: readonly (readonly string[])[] = [
  ['src/errors'],
  ['src/encoding'],
  ['src/protocol'],
  ['src/crypto'],
  ['src/state', 'src/transport'],
  ['src/transfer'],
  ['src/messenger'],
  ['src/workflows'],
  ['src/index'],
  ['src/cli'],
];
const PURE_DIRS = ['src/protocol', 'src/encoding', 'src/crypto'];
/**
 * The src/transfer files that do TCP or file I/O. Every other file of that folder is a pure codec
 * (today request.ts and dir-stream.ts, or whatever dir-stream.ts is split into): a new transfer
 * file is checked as pure unless it is added here.
 */
const TRANSFER_IO = ['chunk-writer', 'fetch-file', 'fetch-folder', 'file-client', 'file-sender', 'file-server', 'local-files', 'offer-registry', 'save', 'write-behind'].map((name) => `src/transfer/${name}.ts`);

const FORBIDDEN_MODULES = ['dgram', 'net', 'fs', 'fs/promises', 'child_process', 'os', 'timers', 'timers/promises', 'process', 'worker_threads', 'cluster', 'http', 'https', 'tls'];
const FILE_MODULES = ['fs', 'fs/promises'];

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

interface Layer {
  readonly name: string;
  readonly rank: number;
}

/** The layer of a path from the repository root (any extension), or undefined outside them all. */
export function layerOf(path: string): Layer | undefined {
  for (const [rank, names] of LAYERS.entries()) {
    const name = names.find((n) => path === n || path.startsWith(`${n}/`) || path.startsWith(`${n}.`));
    if (name !== undefined) return { name, rank };
  }
  return undefined;
}

/** Relative imports that reach a layer above the file's, a layer beside it, or outside the layers. */
export function layerViolations(file: string, source: string): Violation[] {
  const found: Violation[] = [];
  const lineOf = lineIn(source);
  const own = layerOf(file);
  for (const { spec, index } of specifiers(source)) {
    if (!spec.startsWith('.')) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).split(sep).join('/');
    const layer = layerOf(target);
    if (layer === undefined) found.push({ file, line: lineOf(index), what: `imports ${spec} (outside the layers)` });
    else if (own === undefined || layer.rank > own.rank || (layer.rank === own.rank && layer.name !== own.name)) {
      found.push({ file, line: lineOf(index), what: `imports ${spec} (${layer.name})` });
    }
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

/** The TypeScript sources under `dir` (ESM and CommonJS); none when it does not exist (src/workflows may not yet). */
function tsFiles(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return tsFiles(path);
    return /\.[cm]?ts$/.test(entry.name) ? [path] : [];
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

describe('the codecs are pure (src/protocol, src/encoding, src/crypto, and src/transfer but its I/O files)', () => {
  const pureTransfer = tsFiles('src/transfer').filter((f) => !TRANSFER_IO.includes(f));
  const files = [...PURE_DIRS.flatMap(tsFiles), ...pureTransfer];

  test('the scan sees the codec sources', () => {
    for (const expected of ['src/protocol/packet.ts', 'src/protocol/attachment.ts', 'src/protocol/pubkey.ts', 'src/encoding/charset.ts', 'src/encoding/fields.ts', 'src/crypto/rsa-pkcs1.ts', 'src/transfer/request.ts']) {
      assert.ok(files.includes(expected), `${expected} not found under ${ROOT}`);
    }
    for (const io of TRANSFER_IO) assert.ok(existsSync(join(ROOT, io)), `${io} is listed as transfer I/O but does not exist: update TRANSFER_IO`);
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

describe('each layer imports only the layers below it', () => {
  const files = tsFiles('src');

  test('every source file belongs to a layer', () => {
    assert.deepEqual(files.filter((f) => layerOf(f) === undefined), []);
    for (const expected of ['src/index.ts', 'src/errors.ts', 'src/state/atomic-write.cts', 'src/cli/launch.cts', 'src/transport/endpoint.ts']) {
      assert.ok(files.includes(expected), `${expected} not found under ${ROOT}`);
    }
  });

  const cases: [string, string, string[]][] = [
    ['src/crypto/example.ts', "import { Messenger } from '../messenger/index.js';\nimport { FileServer } from '../transfer/file-server.js';", ['imports ../messenger/index.js (src/messenger)', 'imports ../transfer/file-server.js (src/transfer)']],
    ['src/crypto/example.ts', "import { loadOwnKeys } from '../state/own-keys.js';", ['imports ../state/own-keys.js (src/state)']],
    ['src/state/example.ts', "import type { Clock } from '../transport/clock.js';", ['imports ../transport/clock.js (src/transport)']],
    ['src/transport/example.ts', "import { KnownPeers } from '../state/known-peers.js';", ['imports ../state/known-peers.js (src/state)']],
    ['src/state/example.cts', "import atomic = require('./atomic-write.cjs');\nimport x = require('../cli/main.js');", ['imports ../cli/main.js (src/cli)']],
    ['src/encoding/example.ts', "import { IPMSG_DEFAULT_PORT } from '../protocol/command.js';", ['imports ../protocol/command.js (src/protocol)']],
    ['src/messenger/example.ts', "import { run } from '../workflows/send.js';", ['imports ../workflows/send.js (src/workflows)']],
    ['src/workflows/example.ts', "import { run } from '../cli/program.js';\nimport { Messenger } from '../messenger/index.js';", ['imports ../cli/program.js (src/cli)']],
    ['src/index.ts', "export * from './cli/main.js';\nexport * from './workflows/send.js';\nexport * from './state/index.js';", ['imports ./cli/main.js (src/cli)']],
    ['src/errors.ts', "import { Packet } from './protocol/packet.js';", ['imports ./protocol/packet.js (src/protocol)']],
    ['src/transfer/example.ts', "import { KnownPeers } from '../state/known-peers.js';\nimport { bindUdp } from '../transport/datagram.js';\nimport { IpmsgError } from '../errors.js';", []],
    ['src/cli/example.ts', "import { paths } from '../state/paths.cjs';\nimport { send } from '../workflows/send.js';\nimport { x } from '../index.js';", []],
    ['src/cli/example.ts', "import { version } from '../../package.json';", ['imports ../../package.json (outside the layers)']],
  ];
  for (const [file, source, expected] of cases) {
    test(`the check: ${file} ${source.replace(/\n/g, ' ')}`, () => {
      assert.deepEqual(layerViolations(file, source).map((v) => v.what), expected);
    });
  }

  for (const file of files) {
    test(file, () => {
      const found = layerViolations(file, readFileSync(join(ROOT, file), 'utf8'));
      assert.deepEqual(found.map((v) => `${v.file}:${v.line}: ${v.what}`), []);
    });
  }
});

describe('persistent state is src/state\'s', () => {
  test('src/transport reads and writes no files', () => {
    const found = tsFiles('src/transport').flatMap((file) =>
      specifiers(readFileSync(join(ROOT, file), 'utf8'))
        .filter(({ spec }) => FILE_MODULES.includes(spec.replace(/^node:/, '')))
        .map(({ spec }) => `${file}: imports ${spec}`),
    );
    assert.deepEqual(found, []);
  });

  test('src/messenger imports only types from src/state (the CLI and workflows hand it the stores)', () => {
    const VALUE_IMPORT = /\b(?:import|export)\s(?!type\s)[^'"`;]*?\bfrom\s*(['"])(\.[^'"]+)\1|\bimport\s*\(\s*(['"`])(\.[^'"`]+)\3/g;
    const found = tsFiles('src/messenger').flatMap((file) =>
      [...strip(readFileSync(join(ROOT, file), 'utf8'), false).matchAll(VALUE_IMPORT)]
        .map((m) => m[2] ?? m[4] ?? '')
        .filter((spec) => layerOf(relative(ROOT, resolve(ROOT, dirname(file), spec)).split(sep).join('/'))?.name === 'src/state')
        .map((spec) => `${file}: imports values from ${spec}`),
    );
    assert.deepEqual(found, []);
  });
});
