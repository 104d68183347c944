// src/transport/address.ts
// IP address literals of both families: which family, IPv4-mapped IPv6 shown as IPv4, scoped
// link-local addresses (`fe80::1%eth0`), `[addr]:port` notation, and a stable order.

// Parsed here rather than with node:net, which the program does not load on a plain send.

/** Four dot-separated groups of one to three decimal digits, each at most 255 (one pass: it runs per datagram sent). */
function isIPv4(text: string): boolean {
  let groups = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++groups > 4) return false;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      digits++;
      value = value * 10 + (c - 0x30);
    } else return false;
  }
  return groups === 4;
}

function isIPv6(text: string): boolean {
  const percent = text.indexOf('%');
  if (percent >= 0 && !/^[\w.-]+$/.test(text.slice(percent + 1))) return false;
  let bare = percent < 0 ? text : text.slice(0, percent);
  const lastColon = bare.lastIndexOf(':');
  if (bare.includes('.', lastColon)) {
    // A trailing dotted quad stands for the last two groups.
    if (!isIPv4(bare.slice(lastColon + 1))) return false;
    bare = `${bare.slice(0, lastColon + 1)}0:0`;
  }
  const halves = bare.split('::');
  if (halves.length > 2) return false;
  const hex = (part: string): string[] | undefined => {
    if (part === '') return [];
    const list = part.split(':');
    return list.every((g) => /^[0-9a-f]{1,4}$/i.test(g)) ? list : undefined;
  };
  const left = hex(halves[0] ?? '');
  const right = halves.length === 2 ? hex(halves[1] ?? '') : [];
  if (!left || !right) return false;
  const count = left.length + right.length;
  return halves.length === 2 ? count < 8 : count === 8;
}

export type Family = 'IPv4' | 'IPv6';

/** Which families the UDP socket and file server use: both by default (where the machine has IPv6). */
export type FamilyChoice = Family | 'dual';

const MAPPED_PREFIX = /^::ffff:(?=\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$)/i;

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as plain IPv4; any other address unchanged. */
export function unmapped(address: string): string {
  // Most addresses are plain IPv4: no regular expression for them (this runs per datagram received).
  return address.startsWith('::') ? address.replace(MAPPED_PREFIX, '') : address;
}

/** The family of an address literal (a scoped IPv6 one included), or undefined for anything else. */
export function familyOf(address: string): Family | undefined {
  if (isIPv4(address)) return 'IPv4';
  if (isIPv6(address)) return 'IPv6';
  return undefined;
}

/** The address without its zone (`fe80::1%eth0` → `fe80::1`). */
export function withoutScope(address: string): string {
  const percent = address.indexOf('%');
  return percent < 0 ? address : address.slice(0, percent);
}

export function isMulticastIpv6(address: string): boolean {
  return isIPv6(address) && /^ff[0-9a-f]{2}:/i.test(address);
}

/** `10.0.0.1:2425` or `[fd00::1]:2425`. */
export function formatEndpoint(address: string, port: number): string {
  return familyOf(address) === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The 16 bytes of an IPv6 literal (zone ignored) as a hex string; undefined when it is not one. */
export function ipv6Hex(address: string): string | undefined {
  const bare = withoutScope(address);
  if (!isIPv6(bare)) return undefined;
  let text = bare;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
}

/** Orders addresses: IPv4 first by value, then IPv6 by value (zone last), then anything else as text. */
export function compareAddresses(a: string, b: string): number {
  const key = (address: string): string => {
    if (isIPv4(address)) return `4${address.split('.').map((p) => Number(p).toString(16).padStart(2, '0')).join('')}`;
    const hex = ipv6Hex(address);
    return hex === undefined ? `9${address}` : `6${hex}${address.slice(withoutScope(address).length)}`;
  };
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Link-local IPv6 (fe80::/10): reachable only through one interface, named by its zone. */
export function isLinkLocalIpv6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address) && isIPv6(address);
}
