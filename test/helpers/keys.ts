// test/helpers/keys.ts
// The fixed RSA keys of test/vectors/keys, as KeyObjects and as files openssl can read.

import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
