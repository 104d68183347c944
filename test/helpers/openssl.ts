// test/helpers/openssl.ts
// Runs the openssl command line on files in a private temporary folder: the independent side of
// the crypto cross-checks. A missing openssl (or legacy provider) fails the test, it never skips.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LEGACY = ['-provider', 'legacy', '-provider', 'default'];

export class OpenSsl {
  readonly dir = mkdtempSync(join(tmpdir(), 'ipmsg-openssl-'));

  /** A path in the temporary folder, written with `data` when given. */
  file(name: string, data?: Uint8Array | string): string {
    const path = join(this.dir, name);
    if (data !== undefined) writeFileSync(path, data);
    return path;
  }

  read(name: string): Buffer {
    return readFileSync(join(this.dir, name));
  }

  /** Runs `openssl ...args` (stdin from `input`), returns stdout; a failure throws with openssl's stderr. */
  run(args: readonly string[], input?: Uint8Array | string): Buffer {
    try {
      return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      const e = error as { code?: string; stderr?: Buffer; message: string };
      if (e.code === 'ENOENT') throw new Error('openssl is not installed (Debian package "openssl"; scripts/install-test-deps.sh)');
      throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString().trim() || e.message}`);
    }
  }

  /** Fails with a clear message when the legacy provider (Blowfish) cannot be loaded. */
  requireLegacy(): void {
    try {
      this.run(['enc', '-bf-cbc', ...LEGACY, '-K', '00'.repeat(16), '-iv', '00'.repeat(8)], 'probe');
    } catch (error) {
      throw new Error(`openssl's legacy provider is needed for the Blowfish cross-checks: ${(error as Error).message}`);
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
