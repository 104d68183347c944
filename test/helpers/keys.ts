// test/helpers/keys.ts
// The fixed RSA keys of test/vectors/keys, as KeyObjects and as files openssl can read.

import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KnownPeers } from '../../src/state/known-peers.js';
import { Security } from '../../src/messenger/security.js';

// Compiled to .test-build/test/helpers/: the repository root is three levels up.
const KEYS = fileURLToPath(new URL('../../../test/vectors/keys/', import.meta.url));

export interface FixtureKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The PKCS#8 PEM file of the private key. */
  readonly pemPath: string;
  /** The public key as SPKI PEM text. */
  readonly publicPem: string;
}

export type FixtureName = 'alice-rsa2048' | 'bob-rsa2048' | 'carol-rsa2048' | 'bob-rsa1024';

export function fixtureKey(name: FixtureName): FixtureKey {
  const pemPath = `${KEYS}${name}.pem`;
  const privateKey = createPrivateKey(readFileSync(pemPath));
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, pemPath, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Our keys as the messenger holds them, on a fixture key, with an empty known-peers folder under `root`. */
export async function fixtureSecurity(name: FixtureName, root: string): Promise<Security> {
  const key = fixtureKey(name);
  return new Security({
    keys: { rsa2048: { privateKey: key.privateKey, publicKey: key.publicKey, bits: 2048 }, rsa1024: undefined },
    legacy: false,
    known: await KnownPeers.open(mkdtempSync(join(root, 'known-'))),
  });
}
