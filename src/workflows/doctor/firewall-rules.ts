// src/workflows/doctor/firewall-rules.ts
// The vocabulary the firewall readers (nft.ts, iptables.ts) share.

export interface PortQuery {
  readonly protocol: 'udp' | 'tcp';
  readonly port: number;
}

/** 'yes': the rule matches every new packet to the port; 'no': none; 'maybe': only some (source, interface, rate…). */
export type Match = 'yes' | 'no' | 'maybe';

/** A rule or policy that drops or rejects packets to the port. */
export interface Blocker {
  readonly source: 'nftables' | 'iptables' | 'ip6tables';
  /** `inet filter input`, `filter INPUT`. */
  readonly where: string;
  /** The netfilter hook the chain hangs on: `input`, or before it `prerouting` and `ingress`. */
  readonly hook: 'input' | 'prerouting' | 'ingress';
  /** For an ingress chain: the interfaces it is attached to, when known. */
  readonly devices?: readonly string[];
  /** The only family it drops (an ip or ip6 table, ip6tables); undefined: both. */
  readonly family?: 'IPv4' | 'IPv6';
  /** The rule, as the tool prints it, or `policy drop`. */
  readonly rule: string;
  /** It applies only under conditions the doctor cannot judge (a source address, an interface…). */
  readonly conditional: boolean;
}

export function portIn(port: number, list: readonly (number | readonly [number, number])[]): boolean {
  return list.some((v) => (typeof v === 'number' ? v === port : port >= v[0] && port <= v[1]));
}
