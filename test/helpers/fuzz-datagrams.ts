// test/helpers/fuzz-datagrams.ts
// Hostile datagrams for a running receiver: real packets mutated, valid-looking packets with bad
// fields, plain random bytes, encrypted-looking messages and hostile key exchanges (§6), and the
// named hard cases (64 KiB, 10,000-character names, invalid UTF-8 and GBK in every field, a packet
// number of 2^64). Seeded: a seed names a sequence.

import {
  COMMANDS,
  IPMSG_AES_256,
  IPMSG_AUTORETOPT,
  IPMSG_BLOWFISH_128,
  IPMSG_ENCEXTMSGOPT,
  IPMSG_ENCODE_BASE64,
  IPMSG_ENCRYPTOPT,
  IPMSG_FILEATTACHOPT,
  IPMSG_PACKETNO_IV,
  IPMSG_READCHECKOPT,
  IPMSG_RSA_1024,
  IPMSG_RSA_2048,
  IPMSG_SECRETOPT,
  IPMSG_SENDCHECKOPT,
  IPMSG_SIGN_SHA1,
  IPMSG_SIGN_SHA256,
  IPMSG_UTF8OPT,
} from '../../src/protocol/command.js';

/** The largest UDP payload IPv4 carries (65,535 − 20 − 8): a "64 KiB" datagram. */
export const MAX_UDP_PAYLOAD = 65_507;

/** Invalid UTF-8: a lone continuation byte, an overlong '/', a truncated 3-byte sequence, 0xFF. */
export const INVALID_UTF8 = Buffer.from([0x80, 0xc0, 0xaf, 0xe4, 0xb8, 0xff, 0xfe]);
/** Invalid GBK/GB18030: 0xFF is never a lead byte, 0x81 0x20 is a lead byte with a bad trail, a lead byte at the end. */
export const INVALID_GBK = Buffer.from([0xff, 0x81, 0x20, 0xa1, 0x7f, 0x81]);

export class Rng {
  #a: number;

  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  /** uint32 (mulberry32). */
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  below(n: number): number {
    return this.next() % n;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

const MODES = Object.values(COMMANDS);
const OPTIONS = [0, IPMSG_SENDCHECKOPT, IPMSG_SECRETOPT, IPMSG_SECRETOPT | IPMSG_READCHECKOPT, IPMSG_UTF8OPT, IPMSG_FILEATTACHOPT, 0xffffff00];

function field(rng: Rng): Buffer {
  switch (rng.below(9)) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return INVALID_UTF8;
    case 2:
      return INVALID_GBK;
    case 3:
      return Buffer.from('中文名字 飞鸽', 'utf8');
    case 4:
      return rng.bytes(rng.below(40));
    case 5:
      return Buffer.from('x'.repeat(rng.below(3) === 0 ? 10_000 : 300));
    case 6:
      return Buffer.from(String(rng.next() * 2 ** 21 + rng.next()));
    default:
      return Buffer.from(`name${rng.below(1000)}`);
  }
}

function number(rng: Rng): string {
  switch (rng.below(6)) {
    case 0:
      return '18446744073709551616'; // 2^64
    case 1:
      return '-1';
    case 2:
      return '';
    case 3:
      return '9'.repeat(30);
    default:
      return String(rng.next());
  }
}

/** `1:packetNo:user:host:command:body\0sections`, each part plausible or broken. */
export function structured(rng: Rng): Buffer {
  const command = rng.pick(MODES) | rng.pick(OPTIONS);
  const version = rng.below(8) === 0 ? rng.pick(['', '2', 'IP2', '1_iptux 0.8.3', '99999999999999999999']) : '1';
  const packetNo = rng.below(4) === 0 ? number(rng) : String(rng.next());
  const commandText = rng.below(10) === 0 ? number(rng) : String(command >>> 0);
  const parts: Buffer[] = [Buffer.from(`${version}:${packetNo}:`), field(rng), Buffer.from(':'), field(rng), Buffer.from(`:${commandText}:`), field(rng)];
  const sections = rng.below(4);
  for (let i = 0; i < sections; i++) {
    parts.push(Buffer.from([0]));
    if (rng.below(3) === 0) parts.push(Buffer.from(`${rng.below(5)}:${rng.pick(['a.txt', '../x', ''])}:${rng.pick(['10', 'zz', '-1'])}:${rng.pick(['5f000000', ''])}:${rng.pick(['1', '2', '3', 'ff'])}:\x07`));
    else if (rng.below(2) === 0) parts.push(Buffer.from(`\nUN:${rng.below(99)}\nHN:h\nNN:n\nGN:g`));
    else parts.push(field(rng));
  }
  if (rng.below(4) !== 0) parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** One of `seeds` changed by 1–8 random mutations. */
export function mutated(rng: Rng, seeds: readonly Uint8Array[]): Buffer {
  let out = Buffer.from(rng.pick(seeds));
  const mutations = 1 + rng.below(8);
  for (let m = 0; m < mutations; m++) {
    const at = out.length === 0 ? 0 : rng.below(out.length);
    switch (rng.below(9)) {
      case 0:
        if (out.length > 0) out[at] = (out[at] as number) ^ (1 << rng.below(8));
        break;
      case 1:
        if (out.length > 0) out[at] = rng.next() & 0xff;
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), rng.bytes(1 + rng.below(16)), out.subarray(at)]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + rng.below(16)))]);
        break;
      case 4:
        out = out.subarray(0, at);
        break;
      case 5:
        out = Buffer.concat([out.subarray(0, at), Buffer.from([rng.pick([0x00, 0x3a, 0x0a, 0x07, 0xff])]), out.subarray(at)]);
        break;
      case 6: {
        const other = rng.pick(seeds);
        out = Buffer.concat([out.subarray(0, at), Buffer.from(other.subarray(rng.below(other.length + 1)))]);
        break;
      }
      case 7:
        out = Buffer.concat([out.subarray(0, at), rng.pick([INVALID_UTF8, INVALID_GBK]), out.subarray(at)]);
        break;
      default: {
        const copy = out.subarray(at, at + rng.below(64));
        out = Buffer.concat([out.subarray(0, at), copy, copy, out.subarray(at)]);
      }
    }
  }
  return out.length > MAX_UDP_PAYLOAD ? out.subarray(0, MAX_UDP_PAYLOAD) : out;
}

/** Random bytes, now and then a lot of them. */
export function random(rng: Rng): Buffer {
  const big = rng.below(2000) === 0;
  return rng.bytes(big ? MAX_UDP_PAYLOAD - rng.below(100) : rng.below(1500));
}

/** The hard cases by name: each must be handled with a warning at most. */
export function namedCases(): { name: string; bytes: Buffer }[] {
  const cases: { name: string; bytes: Buffer }[] = [];
  const pkt = (...parts: (string | Buffer)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  const SENDMSG = COMMANDS.IPMSG_SENDMSG | IPMSG_SENDCHECKOPT;
  cases.push({ name: '64 KiB SENDMSG', bytes: pkt(`1:900001:big:bighost:${SENDMSG}:`, 'B'.repeat(MAX_UDP_PAYLOAD - 40), '\0').subarray(0, MAX_UDP_PAYLOAD) });
  cases.push({ name: '64 KiB of NULs', bytes: Buffer.alloc(MAX_UDP_PAYLOAD) });
  cases.push({ name: '64 KiB of colons', bytes: Buffer.alloc(MAX_UDP_PAYLOAD, 0x3a) });
  cases.push({ name: '64 KiB of sections', bytes: pkt(`1:900002:big:bighost:${SENDMSG}:x`, '\0a'.repeat((MAX_UDP_PAYLOAD - 40) / 2)).subarray(0, MAX_UDP_PAYLOAD) });
  const long = 'n'.repeat(10_000);
  const longCjk = '长'.repeat(10_000);
  for (const [what, name] of [['ASCII', long], ['CJK', longCjk]] as const) {
    cases.push({ name: `10,000-character user (${what})`, bytes: pkt(`1:900003:${name}:host:${SENDMSG}:hi\0`) });
    cases.push({ name: `10,000-character host (${what})`, bytes: pkt(`1:900004:user:${name}:${SENDMSG}:hi\0`) });
    cases.push({ name: `10,000-character nick and group (${what})`, bytes: pkt(`1:900005:user:host:${COMMANDS.IPMSG_BR_ENTRY}:${name}\0${name}\0`) });
    cases.push({ name: `10,000-character UTF-8 extension names (${what})`, bytes: pkt(`1:900006:user:host:${COMMANDS.IPMSG_ANSENTRY | 0x01000000}:n\0g\0\nUN:${name}\nHN:${name}\nNN:${name}\nGN:${name}`) });
    cases.push({ name: `10,000-character attachment name (${what})`, bytes: pkt(`1:900007:user:host:${SENDMSG | IPMSG_FILEATTACHOPT}:files\0`, `0:${name}:10:5f000000:1:\x07`, '\0') });
  }
  const header = ['1', '900010', 'user', 'host', String(SENDMSG), 'body'];
  for (const [what, bad] of [['UTF-8', INVALID_UTF8], ['GBK', INVALID_GBK]] as const) {
    for (const flagged of [false, true]) {
      const command = String(flagged ? SENDMSG | IPMSG_UTF8OPT : SENDMSG);
      header.forEach((_, i) => {
        const parts: (string | Buffer)[] = [];
        header.forEach((value, j) => {
          if (j > 0) parts.push(':');
          const text = j === 4 ? command : j === 1 ? String(900_100 + i * 4 + (flagged ? 2 : 0) + (what === 'GBK' ? 1 : 0)) : value;
          parts.push(i === j ? Buffer.concat([Buffer.from(text), bad]) : text);
        });
        parts.push('\0');
        cases.push({ name: `invalid ${what} in field ${i}${flagged ? ' (flagged UTF8OPT)' : ''}`, bytes: pkt(...parts) });
      });
      cases.push({ name: `invalid ${what} in the group section${flagged ? ' (flagged)' : ''}`, bytes: pkt(`1:900200:user:host:${flagged ? COMMANDS.IPMSG_BR_ENTRY | IPMSG_UTF8OPT : COMMANDS.IPMSG_BR_ENTRY}:nick\0`, bad, '\0') });
      cases.push({ name: `invalid ${what} in the extension lines${flagged ? ' (flagged)' : ''}`, bytes: pkt(`1:900201:user:host:${COMMANDS.IPMSG_BR_ENTRY | 0x01000000}:nick\0g\0\nUN:`, bad, '\nNN:', bad) });
      cases.push({ name: `invalid ${what} in an attachment name${flagged ? ' (flagged)' : ''}`, bytes: pkt(`1:900202:user:host:${(flagged ? SENDMSG | IPMSG_UTF8OPT : SENDMSG) | IPMSG_FILEATTACHOPT}:f\0`, '0:', bad, ':10:5f000000:1:\x07\0') });
    }
  }
  cases.push({ name: 'packet number 2^64', bytes: pkt(`1:18446744073709551616:user:host:${SENDMSG}:big number\0`) });
  cases.push({ name: 'packet number 2^64 - 1', bytes: pkt(`1:18446744073709551615:user:host:${SENDMSG}:big number\0`) });
  cases.push({ name: 'RECVMSG for packet 2^64', bytes: pkt(`1:900300:user:host:${COMMANDS.IPMSG_RECVMSG}:18446744073709551616\0`) });
  cases.push({ name: 'READMSG for packet 2^64', bytes: pkt(`1:900301:user:host:${COMMANDS.IPMSG_READMSG | IPMSG_READCHECKOPT}:18446744073709551616\0`) });
  cases.push({ name: 'command 2^64', bytes: pkt('1:900302:user:host:18446744073709551616:x\0') });
  cases.push({ name: 'GETFILEDATA by UDP with offset 2^64', bytes: pkt(`1:900303:user:host:${COMMANDS.IPMSG_GETFILEDATA}:1:0:10000000000000000:\0`) });
  const ENCRYPTED = SENDMSG | IPMSG_ENCRYPTOPT;
  const key = 'A'.repeat(344);
  cases.push({ name: 'encrypted SENDMSG with a 64 KiB body', bytes: pkt(`1:900400:user:host:${ENCRYPTED}:41900004:${key}:`, 'QUFB'.repeat(16_300), `:${key}\0`).subarray(0, MAX_UDP_PAYLOAD) });
  cases.push({ name: 'encrypted SENDMSG with 30,000 fields', bytes: pkt(`1:900401:user:host:${ENCRYPTED}:41900004`, ':AAAA'.repeat(13_000), '\0') });
  cases.push({ name: 'encrypted SENDMSG with a 4 KiB RSA block', bytes: pkt(`1:900402:user:host:${ENCRYPTED}:41900004:${'A'.repeat(5464)}:AAAAAAAAAAAAAAAAAAAAAA==:${key}\0`) });
  cases.push({ name: 'encrypted SENDMSG, capability word 2^64', bytes: pkt(`1:900403:user:host:${ENCRYPTED}:10000000000000000:${key}:AAAA:${key}\0`) });
  cases.push({ name: 'encrypted SENDMSG without a body', bytes: pkt(`1:900404:user:host:${ENCRYPTED}:\0`) });
  cases.push({ name: 'ANSPUBKEY with a 64 KiB modulus', bytes: pkt(`1:900405:user:host:${COMMANDS.IPMSG_ANSPUBKEY}:65920006:10001-`, 'f'.repeat(MAX_UDP_PAYLOAD - 60), '\0').subarray(0, MAX_UDP_PAYLOAD) });
  cases.push({ name: 'ANSPUBKEY with exponent 2^64', bytes: pkt(`1:900406:user:host:${COMMANDS.IPMSG_ANSPUBKEY}:65920006:10000000000000000-${'ab'.repeat(256)}\0`) });
  cases.push({ name: 'GETPUBKEY with a 64 KiB capability', bytes: pkt(`1:900407:user:host:${COMMANDS.IPMSG_GETPUBKEY}:`, 'f'.repeat(MAX_UDP_PAYLOAD - 40), '\0').subarray(0, MAX_UDP_PAYLOAD) });
  cases.push({ name: 'GETPUBKEY from a fingerprinted name that cannot sign', bytes: pkt(`1:900408:user-<0123456789abcdef>:host:${COMMANDS.IPMSG_GETPUBKEY}:20002\0`) });
  return cases;
}

/** Capability words an encrypted body may start with: every combination we read, and a few we do not. */
const CAPAS = [
  IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA256 | IPMSG_PACKETNO_IV | IPMSG_ENCODE_BASE64, // 41900004, the usual
  IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_SIGN_SHA1 | IPMSG_PACKETNO_IV, // hex fields
  IPMSG_RSA_2048 | IPMSG_AES_256 | IPMSG_ENCODE_BASE64, // unsigned, zero IV
  IPMSG_RSA_1024 | IPMSG_BLOWFISH_128 | IPMSG_PACKETNO_IV, // legacy (refused unless --legacy-crypto)
  0x65920006, // the official's whole word
  IPMSG_AES_256 | IPMSG_ENCODE_BASE64, // no RSA bit: refused
];

/** A binary field in the encoding the capability word says, now and then damaged as text. */
function cipherField(rng: Rng, bytes: Buffer, base64: boolean): string {
  let text = bytes.toString(base64 ? 'base64' : 'hex');
  switch (rng.below(12)) {
    case 0:
      return text.slice(0, rng.below(text.length + 1)); // truncated
    case 1: {
      const at = rng.below(text.length + 1);
      return text.slice(0, at) + rng.pick(['=', '!', '-', '_', ' ', '\u00e9', ':', '==']) + text.slice(at); // not base64 / hex
    }
    case 2:
      return text.toLowerCase(); // base64 changed, hex the same
    case 3:
      if (text.length > 0) text = text.slice(0, -1) + rng.pick(['A', 'z', '0', '+']); // one character off
      return text;
    default:
      return text;
  }
}

/** An RSA block: usually the modulus length with a small first byte (below any modulus: the costly path), else the wrong length. */
function rsaBlock(rng: Rng, bits: number): Buffer {
  const right = bits / 8;
  const length = rng.below(6) === 0 ? rng.pick([0, 1, right - 1, right + 1, 512, 513]) : right;
  const block = rng.bytes(length);
  if (length === right && rng.below(8) !== 0) block[0] = rng.below(0x80);
  return block;
}

/**
 * SENDMSG|ENCRYPTOPT with a valid-looking body `CAPA:KEY:BODY[:SIGNATURE]` (§6.3): a real capability
 * word, an RSA block of the key's length, AES/Blowfish-sized ciphertext, a signature; each field
 * random, and now and then broken as text. A fingerprinted user name now and then (§6.6).
 */
export function encryptedMessage(rng: Rng): Buffer {
  const capa = rng.pick(CAPAS);
  const base64 = (capa & IPMSG_ENCODE_BASE64) !== 0;
  const bits = (capa & IPMSG_RSA_2048) !== 0 ? 2048 : 1024;
  const block = (capa & IPMSG_AES_256) !== 0 ? 16 : 8;
  const body = rng.bytes(rng.below(10) === 0 ? rng.below(3000) : block * (1 + rng.below(40)));
  const fields = [
    rng.below(20) === 0 ? capa.toString(16) : capa.toString(16).toUpperCase(),
    cipherField(rng, rsaBlock(rng, bits), base64),
    cipherField(rng, body, base64),
  ];
  if ((capa & (IPMSG_SIGN_SHA256 | IPMSG_SIGN_SHA1)) !== 0 || rng.below(4) === 0) fields.push(cipherField(rng, rsaBlock(rng, 2048), base64));
  if (rng.below(20) === 0) fields.push('trailing');
  const user = rng.below(3) === 0 ? `mallory-<${rng.bytes(8).toString('hex')}>` : `mallory${rng.below(100)}`;
  const options = IPMSG_ENCRYPTOPT | rng.pick([IPMSG_SENDCHECKOPT, IPMSG_SENDCHECKOPT | IPMSG_UTF8OPT, IPMSG_SENDCHECKOPT | IPMSG_ENCEXTMSGOPT | IPMSG_FILEATTACHOPT, IPMSG_SENDCHECKOPT | IPMSG_SECRETOPT | IPMSG_READCHECKOPT, 0]);
  return Buffer.from(`1:${rng.next()}:${user}:evil-pc:${COMMANDS.IPMSG_SENDMSG | options}:${fields.join(':')}\0`, 'latin1');
}

/** A hostile key exchange (§6.2): ANSPUBKEY with oversized, even, tiny or garbage keys; GETPUBKEY with garbage capability words. */
export function hostileKeyExchange(rng: Rng): Buffer {
  const user = rng.below(3) === 0 ? `mallory-<${rng.bytes(8).toString('hex')}>` : 'mallory';
  if (rng.below(3) === 0) {
    const capa = rng.pick(['', 'zz', 'ffffffff', '0', '4', '65920006', '-1', '9'.repeat(40), rng.bytes(20).toString('latin1')]);
    const auto = rng.below(2) === 0 ? IPMSG_AUTORETOPT : 0;
    return Buffer.from(`1:${rng.next()}:${user}:evil-pc:${COMMANDS.IPMSG_GETPUBKEY | auto}:${capa}\0`, 'latin1');
  }
  const modulus = (): string => {
    switch (rng.below(8)) {
      case 0:
        return rng.bytes(513 + rng.below(2000)).toString('hex'); // over 4096 bits
      case 1:
        return rng.bytes(rng.below(64)).toString('hex'); // under 512 bits
      case 2: {
        const even = rng.bytes(256);
        even[255] = (even[255] as number) & 0xfe;
        return even.toString('hex');
      }
      case 3:
        return 'xyz'.repeat(rng.below(200));
      case 4:
        return '00'.repeat(rng.below(3000)) + rng.bytes(256).toString('hex'); // leading zeros
      case 5:
        return 'f'.repeat(rng.below(30_000)); // odd length, oversized
      default: {
        const odd = rng.bytes(256);
        odd[255] = (odd[255] as number) | 1;
        odd[0] = (odd[0] as number) | 0x80;
        return odd.toString('hex'); // a plausible (random, not RSA) 2048-bit modulus
      }
    }
  };
  const exponent = rng.pick(['10001', '3', '1', '0', '2', 'ffffffff', '100000001', '', 'g']);
  const capa = rng.pick(['65920006', '41900004', '0', 'ffffffff', '', 'x']);
  return Buffer.from(`1:${rng.next()}:${user}:evil-pc:${COMMANDS.IPMSG_ANSPUBKEY}:${capa}:${exponent}-${modulus()}\0`, 'latin1').subarray(0, MAX_UDP_PAYLOAD);
}
