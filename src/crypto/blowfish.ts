// src/crypto/blowfish.ts
// Blowfish (Schneier, 1993), big-endian blocks as OpenSSL's bf-* and the official client's
// `change_order` build them, with CBC and PKCS#7 padding for the RSA-1024 + BLOWFISH_128
// combination (§6.3). Node's OpenSSL keeps Blowfish in the legacy provider, so it lives here.

import { PI_FRACTION_HEX } from './blowfish-pi.js';

export const BLOWFISH_BLOCK = 8;
const ROUNDS = 16;

let piWords: Uint32Array | undefined;
function initialWords(): Uint32Array {
  if (!piWords) {
    piWords = new Uint32Array(PI_FRACTION_HEX.length / 8);
    for (let i = 0; i < piWords.length; i++) piWords[i] = Number.parseInt(PI_FRACTION_HEX.slice(i * 8, i * 8 + 8), 16);
  }
  return piWords;
}

export class Blowfish {
  readonly #p: Uint32Array;
  readonly #s: Uint32Array; // the four S-boxes, 256 words each
  readonly #pair = new Uint32Array(2);

  /** @throws RangeError for a key outside 1–56 bytes (IPMsg uses 16) */
  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 56) throw new RangeError(`Blowfish key of ${key.length} bytes (1 to 56 allowed)`);
    const init = initialWords();
    this.#p = init.slice(0, ROUNDS + 2);
    this.#s = init.slice(ROUNDS + 2);
    let k = 0;
    for (let i = 0; i < this.#p.length; i++) {
      let word = 0;
      for (let j = 0; j < 4; j++) {
        word = (word << 8) | (key[k] ?? 0);
        k = (k + 1) % key.length;
      }
      this.#p[i] = (this.#p[i] ?? 0) ^ word;
    }
    // Replace P and then the S-boxes, two words at a time, by encrypting the running block.
    const block = this.#pair;
    block[0] = 0;
    block[1] = 0;
    for (const table of [this.#p, this.#s]) {
      for (let i = 0; i < table.length; i += 2) {
        this.#encryptPair(block);
        table[i] = block[0] ?? 0;
        table[i + 1] = block[1] ?? 0;
      }
    }
  }

  #f(x: number): number {
    const s = this.#s;
    const a = s[x >>> 24] ?? 0;
    const b = s[256 + ((x >>> 16) & 0xff)] ?? 0;
    const c = s[512 + ((x >>> 8) & 0xff)] ?? 0;
    const d = s[768 + (x & 0xff)] ?? 0;
    return ((((a + b) >>> 0) ^ c) + d) >>> 0;
  }

  #encryptPair(block: Uint32Array): void {
    let left = block[0] ?? 0;
    let right = block[1] ?? 0;
    for (let i = 0; i < ROUNDS; i++) {
      left = (left ^ (this.#p[i] ?? 0)) >>> 0;
      right = (right ^ this.#f(left)) >>> 0;
      [left, right] = [right, left];
    }
    block[0] = (right ^ (this.#p[ROUNDS + 1] ?? 0)) >>> 0;
    block[1] = (left ^ (this.#p[ROUNDS] ?? 0)) >>> 0;
  }

  #decryptPair(block: Uint32Array): void {
    let left = block[0] ?? 0;
    let right = block[1] ?? 0;
    for (let i = ROUNDS + 1; i > 1; i--) {
      left = (left ^ (this.#p[i] ?? 0)) >>> 0;
      right = (right ^ this.#f(left)) >>> 0;
      [left, right] = [right, left];
    }
    block[0] = (right ^ (this.#p[0] ?? 0)) >>> 0;
    block[1] = (left ^ (this.#p[1] ?? 0)) >>> 0;
  }

  /** Encrypts one 8-byte block of `data` at `offset` in place. */
  encryptBlock(data: Uint8Array, offset = 0): void {
    this.#run(data, offset, true);
  }

  /** Decrypts one 8-byte block of `data` at `offset` in place. */
  decryptBlock(data: Uint8Array, offset = 0): void {
    this.#run(data, offset, false);
  }

  #run(data: Uint8Array, offset: number, encrypt: boolean): void {
    const view = new DataView(data.buffer, data.byteOffset + offset, BLOWFISH_BLOCK);
    const block = this.#pair;
    block[0] = view.getUint32(0);
    block[1] = view.getUint32(4);
    if (encrypt) this.#encryptPair(block);
    else this.#decryptPair(block);
    view.setUint32(0, block[0] ?? 0);
    view.setUint32(4, block[1] ?? 0);
  }
}

/** Blowfish-CBC with PKCS#7 padding (always 1–8 bytes added). */
export function blowfishCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  checkIv(iv);
  const cipher = new Blowfish(key);
  const pad = BLOWFISH_BLOCK - (plaintext.length % BLOWFISH_BLOCK);
  const out = new Uint8Array(plaintext.length + pad);
  out.set(plaintext);
  out.fill(pad, plaintext.length);
  let previous: Uint8Array = iv;
  for (let offset = 0; offset < out.length; offset += BLOWFISH_BLOCK) {
    for (let i = 0; i < BLOWFISH_BLOCK; i++) out[offset + i] = (out[offset + i] ?? 0) ^ (previous[i] ?? 0);
    cipher.encryptBlock(out, offset);
    previous = out.subarray(offset, offset + BLOWFISH_BLOCK);
  }
  return out;
}

/** The plaintext, or undefined when the length or the padding is wrong (callers give one generic error). */
export function blowfishCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  checkIv(iv);
  if (ciphertext.length === 0 || ciphertext.length % BLOWFISH_BLOCK !== 0) return undefined;
  const cipher = new Blowfish(key);
  const out = Uint8Array.from(ciphertext);
  for (let offset = out.length - BLOWFISH_BLOCK; offset >= 0; offset -= BLOWFISH_BLOCK) {
    cipher.decryptBlock(out, offset);
    const previous = offset === 0 ? iv : ciphertext.subarray(offset - BLOWFISH_BLOCK, offset);
    for (let i = 0; i < BLOWFISH_BLOCK; i++) out[offset + i] = (out[offset + i] ?? 0) ^ (previous[i] ?? 0);
  }
  const pad = out[out.length - 1] ?? 0;
  if (pad < 1 || pad > BLOWFISH_BLOCK) return undefined;
  for (let i = out.length - pad; i < out.length; i++) if (out[i] !== pad) return undefined;
  return out.subarray(0, out.length - pad);
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== BLOWFISH_BLOCK) throw new RangeError(`Blowfish IV of ${iv.length} bytes (8 needed)`);
}
