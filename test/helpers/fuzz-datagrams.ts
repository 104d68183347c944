// test/helpers/fuzz-datagrams.ts
// Hostile datagrams for a running receiver: real packets mutated, valid-looking packets with bad
// fields, plain random bytes, and the named hard cases (64 KiB, 10,000-character names, invalid
// UTF-8 and GBK in every field, a packet number of 2^64). Seeded: a seed names a sequence.

import { COMMANDS, IPMSG_FILEATTACHOPT, IPMSG_READCHECKOPT, IPMSG_SECRETOPT, IPMSG_SENDCHECKOPT, IPMSG_UTF8OPT } from '../../src/protocol/command.js';

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
  return cases;
}
