// src/crypto/keystore.ts
// Our RSA keys, kept as PKCS#8 PEM in the config folder (`$XDG_CONFIG_HOME/ipmsg/`, chosen by the
// caller): rsa2048.pem always, rsa1024.pem with legacy crypto. Made once, on first use; read on
// every run (about a millisecond). A damaged file is an error, never silently replaced: a new key
// means a new fingerprint, which every peer that knew us would report as a changed key.

import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpmsgError } from '../errors.js';
import { type OwnKeys, type RsaBits, type RsaKeyPair, generateRsaKeyPair, modulusBits } from './keys.js';
import { createExclusive, ensurePrivateDir } from './private-file.js';

export const KEY_FILE_NAMES: Readonly<Record<RsaBits, string>> = { 2048: 'rsa2048.pem', 1024: 'rsa1024.pem' };

export interface LoadedKeys extends OwnKeys {
  /** Which keys this call made (empty on every run but the first). */
  readonly created: readonly RsaBits[];
}

export interface KeystoreOptions {
  /** Also the RSA-1024 key (legacy crypto). */
  readonly legacy?: boolean;
  /** Makes a key pair; tests pass fixed keys. */
  readonly generate?: (bits: RsaBits) => Promise<RsaKeyPair>;
}

/**
 * Reads our keys from `dir`, making the missing ones (0600 files, 0700 folder). Two processes
 * starting at once end up with the same key.
 * @throws IpmsgError IPMSG_ERR_KEY_FILE for a key file that cannot be read or is not our kind of key
 */
export async function loadOwnKeys(dir: string, options: KeystoreOptions = {}): Promise<LoadedKeys> {
  const generate = options.generate ?? generateRsaKeyPair;
  const created: RsaBits[] = [];
  const load = async (bits: RsaBits): Promise<RsaKeyPair> => {
    const path = join(dir, KEY_FILE_NAMES[bits]);
    const existing = await readKeyFile(path, bits);
    if (existing) return existing;
    const fresh = await generate(bits);
    await ensurePrivateDir(dir);
    const pem = fresh.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (await createExclusive(path, pem)) {
      created.push(bits);
      return fresh;
    }
    const winner = await readKeyFile(path, bits); // another run made it meanwhile: use theirs
    if (!winner) throw keyFileError(path, bits, 'it vanished while being created');
    return winner;
  };
  const rsa2048 = await load(2048);
  const rsa1024 = options.legacy ? await load(1024) : undefined;
  return { rsa2048, rsa1024, created };
}

/** The key in `path`; undefined when there is no such file. */
async function readKeyFile(path: string, bits: RsaBits): Promise<RsaKeyPair | undefined> {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8'); // sync: a small file, read on the start-up path where each async step costs a loop turn
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IpmsgError('IPMSG_ERR_KEY_FILE', `Cannot read key file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw keyFileError(path, bits, 'it is not a PEM private key', error);
  }
  if (privateKey.asymmetricKeyType !== 'rsa' || modulusBits(privateKey) !== bits) {
    throw keyFileError(path, bits, `it holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key of another size`);
  }
  return { bits, privateKey, publicKey: createPublicKey(privateKey) };
}

function keyFileError(path: string, bits: RsaBits, reason: string, cause?: unknown): IpmsgError {
  return new IpmsgError(
    'IPMSG_ERR_KEY_FILE',
    `Key file ${path} is damaged (${reason}); it was left alone. Restore it, or move it away to make a new RSA-${bits} key (peers will then see a new fingerprint)`,
    { cause },
  );
}
