// src/workflows/identity.ts
// Who we say we are on the LAN: names cleaned for the wire, and the defaults of this machine.

import { hostname, userInfo } from 'node:os';
import type { Identity } from '../messenger/packets.js';

/** Control characters (NUL, '\n', '\a') would break the packet's framing. */
function withoutControls(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, '').trim();
}

/** User and host names are never empty and never contain ':' (§2.5). */
function sanitizeName(name: string, fallback: string): string {
  const clean = withoutControls(name.replaceAll(':', ';'));
  return clean.length > 0 ? clean : fallback;
}

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'ipmsg';
  }
}

/** An identity from what is given, the rest from this machine: login name, host name up to its first dot. */
export function makeIdentity(given: Partial<Identity> = {}): Identity {
  const user = sanitizeName(given.user ?? loginName(), 'ipmsg');
  const host = sanitizeName(given.host ?? hostname().split('.')[0] ?? 'localhost', 'localhost');
  return {
    user,
    host,
    nick: withoutControls(given.nick ?? user) || user,
    group: withoutControls(given.group ?? ''),
  };
}
