// src/state/own-keys.ts
// Our RSA keys, kept as PKCS#8 PEM in the key folder (paths().keyDir): rsa2048.pem always,
// rsa1024.pem with legacy crypto. Made once, on first use; read on every run. A damaged file is an
// error, never silently replaced: a new key means a new fingerprint, which every peer that knew us
// would report as a changed key.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpmsgError } from '../errors.js';
import { type OwnKeys, type RsaBits, type RsaKeyPair, generateRsaKeyPair, keyPairFromPem, privateKeyPem } from '../crypto/keys.js';
import atomicWrite from './atomic-write.cjs';

export const KEY_FILE_NAMES: Readonly<Record<RsaBits, string>> = { 2048: 'rsa2048.pem', 1024: 'rsa1024.pem' };

export interface LoadedKeys extends OwnKeys {
  /** Which keys this call made (empty on every run but the first). */
  readonly created: readonly RsaBits[];
}

export interface OwnKeysOptions {
  /** Also the RSA-1024 key (legacy crypto). */
  readonly legacy?: boolean;
  /** Makes a key pair; tests pass fixed keys. */
  readonly generate?: (bits: RsaBits) => Promise<RsaKeyPair>;
}

/**
 * Reads our keys from `dir`, making the missing ones (0600 files, 0700 folder). Two processes
 * starting at once end up with the same key: the file is created exclusively, and the loser
 * reads the winner's.
 * @throws IpmsgError IPMSG_ERR_KEY_FILE for a key file that cannot be read or written, or is not our kind of key
 */
export async function loadOwnKeys(dir: string, options: OwnKeysOptions = {}): Promise<LoadedKeys> {
  const generate = options.generate ?? generateRsaKeyPair;
  const created: RsaBits[] = [];
  const load = async (bits: RsaBits): Promise<RsaKeyPair> => {
    const path = join(dir, KEY_FILE_NAMES[bits]);
    const existing = readKeyFile(path, bits);
    if (existing) return existing;
    const fresh = await generate(bits);
    let made: boolean;
    try {
      made = atomicWrite.writeFileAtomic(path, privateKeyPem(fresh), { mode: 0o600, fsync: true, exclusive: true });
    } catch (error) {
      throw new IpmsgError('IPMSG_ERR_KEY_FILE', `Cannot write key file ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (made) {
      created.push(bits);
      return fresh;
    }
    const winner = readKeyFile(path, bits); // another run made it meanwhile: use theirs
    if (!winner) throw keyFileError(path, bits, 'it vanished while being created');
    return winner;
  };
  const rsa2048 = await load(2048);
  const rsa1024 = options.legacy ? await load(1024) : undefined;
  return { rsa2048, rsa1024, created };
}

/** The key in `path`; undefined when there is no such file. */
function readKeyFile(path: string, bits: RsaBits): RsaKeyPair | undefined {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8'); // sync: a small file, read on the start-up path where each async step costs a loop turn
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IpmsgError('IPMSG_ERR_KEY_FILE', `Cannot read key file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return keyPairFromPem(pem, bits);
  } catch (error) {
    throw keyFileError(path, bits, (error as Error).message, (error as Error).cause);
  }
}

function keyFileError(path: string, bits: RsaBits, reason: string, cause?: unknown): IpmsgError {
  return new IpmsgError(
    'IPMSG_ERR_KEY_FILE',
    `Key file ${path} is damaged (${reason}); it was left alone. Restore it, or move it away to make a new RSA-${bits} key (peers will then see a new fingerprint)`,
    { cause },
  );
}
