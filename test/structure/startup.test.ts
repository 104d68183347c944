// test/structure/startup.test.ts
// What every run loads before it knows the subcommand: the modules reachable from src/cli/program.ts
// by static imports. The message crypto (keys, envelope, ciphers) is loaded by openSecurity (and
// `keys`) when keys are needed, so a plain send or a --no-crypto run does not evaluate it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { strip } from './layers.test.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** `import … from './x.js'` and `export … from './x.js'`, but not `import type` and not `import()`. */
const STATIC_IMPORT = /\b(import|export)\s(?!type\s)[^'"`;]*?\bfrom\s*(['"])(\.[^'"]+)\2/g;

/** Source files (from the repository root) reachable from `entry` by static value imports. */
export function staticClosure(entry: string, read: (file: string) => string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of strip(read(file), false).matchAll(STATIC_IMPORT)) {
      const spec = m[3] as string;
      queue.push(relative(ROOT, resolve(ROOT, dirname(file), spec.replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts'))).split(sep).join('/'));
    }
  }
  return seen;
}

const readSource = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

describe('start-up', () => {
  test('the scan follows static imports only', () => {
    const files: Record<string, string> = {
      'src/a.ts': "import { b } from './b.js';\nimport type { C } from './c.js';\nconst d = await import('./d.js');\nexport { e } from './e.js';",
      'src/b.ts': '',
      'src/e.ts': "import {\n  f,\n} from './f.js';",
      'src/f.ts': '',
    };
    assert.deepEqual([...staticClosure('src/a.ts', (f) => files[f] ?? '')].sort(), ['src/a.ts', 'src/b.ts', 'src/e.ts', 'src/f.ts']);
  });

  test('the CLI program does not reach the message crypto statically (it loads with the keys)', () => {
    const reached = staticClosure('src/cli/program.ts', readSource);
    assert.ok(reached.has('src/messenger/index.ts') && reached.has('src/protocol/user-name.ts'), 'the scan did not follow the imports');
    const lazy = ['state/own-keys', 'state/known-peers', 'crypto/keys', 'crypto/peer-id', 'crypto/message', 'crypto/envelope', 'crypto/plaintext', 'crypto/rsa-pkcs1', 'crypto/blowfish', 'crypto/blowfish-pi', 'messenger/security'];
    assert.deepEqual(lazy.map((name) => `src/${name}.ts`).filter((f) => reached.has(f)), []);
  });

  test('nothing the program reaches statically loads node:crypto or node:net (~10 ms of a plain send)', () => {
    const reached = staticClosure('src/cli/program.ts', readSource);
    const heavy = [...reached].filter((f) => /\b(?:import|export)\s(?!type\s)[^'"`;]*?\bfrom\s*['"]node:(?:crypto|net)['"]/.test(strip(readSource(f), false)));
    assert.deepEqual(heavy, []);
  });

  test('a plain file transfer does not load node:crypto (~5 ms before the offer); an encrypted one loads it with the keys', () => {
    const reached = new Set([...staticClosure('src/transfer/file-server.ts', readSource), ...staticClosure('src/transfer/file-client.ts', readSource)]);
    assert.ok(reached.has('src/crypto/file-crypto.ts') && reached.has('src/transfer/chunk-writer.ts'), 'the scan did not follow the imports');
    const heavy = [...reached].filter((f) => /\b(?:import|export)\s(?!type\s)[^'"`;]*?\bfrom\s*['"]node:crypto['"]/.test(strip(readSource(f), false)));
    assert.deepEqual(heavy, []);
  });
});
