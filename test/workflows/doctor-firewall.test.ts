// test/workflows/doctor-firewall.test.ts
// The doctor's firewall readers on fixture rulesets: which rules drop a new packet from the LAN to
// UDP/TCP 2425 — in the input, prerouting and ingress hooks — in order, with jumps, policies and
// rules it cannot judge marked conditional; and the check's verdicts from what nft, iptables-save
// and ip6tables-save print, for the families the run uses.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFirewall } from '../../src/workflows/doctor/firewall.js';
import { iptablesBlockers } from '../../src/workflows/doctor/iptables.js';
import { chainDevices, nftBlockers, nftRuleText } from '../../src/workflows/doctor/nft.js';
import type { DoctorSystem } from '../../src/workflows/doctor/system.js';

const UDP = { protocol: 'udp', port: 2425 } as const;
const TCP = { protocol: 'tcp', port: 2425 } as const;

type Expr = Record<string, unknown>[];
const match = (left: unknown, right: unknown, op = '=='): Record<string, unknown> => ({ match: { op, left, right } });
const dport = (protocol: string, right: unknown): Record<string, unknown> => match({ payload: { protocol, field: 'dport' } }, right);
const chain = (name: string, extra: Record<string, unknown> = {}, family = 'inet') => ({ chain: { family, table: 'fw', name, handle: 1, ...extra } });
const rule = (name: string, expr: Expr, family = 'inet') => ({ rule: { family, table: 'fw', chain: name, handle: 2, expr } });
const input = { type: 'filter', hook: 'input', prio: 0, policy: 'accept' };
const ruleset = (...items: object[]) => ({ nftables: [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }, { table: { family: 'inet', name: 'fw', handle: 1 } }, ...items] });

/** `nft list chains` (nft 1.0.6): the devices of ingress chains, which its JSON leaves out. */
const NFT_CHAINS = `table netdev fw {
\tchain ing {
\t\ttype filter hook ingress device "eth0" priority filter; policy accept;
\t}
\tchain both {
\t\ttype filter hook ingress devices = { eth1, eth0 } priority filter; policy drop;
\t}
}
table inet fw {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t}
}
`;

/** `nft -j list ruleset` of a typical "policy drop" host firewall (captured from nft 1.0.6). */
const HOST_FIREWALL = ruleset(
  chain('input', { ...input, policy: 'drop' }),
  rule('input', [match({ ct: { key: 'state' } }, ['established', 'related'], 'in'), { accept: null }]),
  rule('input', [match({ meta: { key: 'iifname' } }, 'lo'), { accept: null }]),
  rule('input', [dport('tcp', { set: [22, 2425] }), { accept: null }]),
  rule('input', [dport('udp', { range: [2000, 3000] }), { reject: { type: 'icmpx', expr: 'port-unreachable' } }]),
);

describe('nftables', () => {
  test('an unconditional udp dport drop blocks UDP only', () => {
    const set = ruleset(chain('input', input), rule('input', [dport('udp', 2425), { drop: null }]));
    assert.deepEqual(nftBlockers(set, UDP), [{ source: 'nftables', hook: 'input', where: 'inet fw input', rule: 'udp dport 2425 drop', conditional: false }]);
    assert.deepEqual(nftBlockers(set, TCP), []);
  });

  test('a policy drop blocks what no rule accepts; an accepting rule before it settles the packet', () => {
    assert.deepEqual(nftBlockers(HOST_FIREWALL, UDP), [{ source: 'nftables', hook: 'input', where: 'inet fw input', rule: 'udp dport 2000-3000 reject', conditional: false }]);
    assert.deepEqual(nftBlockers(HOST_FIREWALL, TCP), []);
    assert.deepEqual(nftBlockers(HOST_FIREWALL, { protocol: 'tcp', port: 80 }), [{ source: 'nftables', hook: 'input', where: 'inet fw input', rule: 'policy drop', conditional: false }]);
  });

  test('conditions it cannot judge make a drop conditional, and the walk goes on', () => {
    const set = ruleset(
      chain('input', input),
      rule('input', [match({ payload: { protocol: 'ip', field: 'saddr' } }, { prefix: { addr: '10.0.0.0', len: 8 } }), dport('udp', 2425), { counter: { packets: 0, bytes: 0 } }, { drop: null }]),
      rule('input', [match({ meta: { key: 'l4proto' } }, 'udp'), dport('th', { set: [2425, { range: [5000, 5001] }] }), { drop: null }]),
    );
    assert.deepEqual(
      nftBlockers(set, UDP).map((b) => [b.rule, b.conditional]),
      [
        ['ip saddr 10.0.0.0/8 udp dport 2425 counter drop', true],
        ['l4proto udp th dport { 2425, 5000-5001 } drop', false],
      ],
    );
  });

  test('a conditional accept does not settle the packet; lo and established-only rules never match it', () => {
    const set = ruleset(
      chain('input', input),
      rule('input', [match({ meta: { key: 'iifname' } }, 'eth1'), { accept: null }]),
      rule('input', [match({ meta: { key: 'iifname' } }, 'lo'), { drop: null }]),
      rule('input', [match({ ct: { key: 'state' } }, 'established'), { drop: null }]),
      rule('input', [{ drop: null }]),
    );
    assert.deepEqual(nftBlockers(set, UDP).map((b) => b.rule), ['drop']);
  });

  test('jumps are followed; != excludes the port; an ip6 table drops IPv6 only; output hooks are ignored', () => {
    const set = ruleset(
      chain('input', input),
      chain('ipmsg'),
      rule('input', [{ jump: { target: 'ipmsg' } }]),
      rule('ipmsg', [dport('udp', 2425), { drop: null }]),
      chain('out', { type: 'filter', hook: 'output', prio: 0, policy: 'drop' }),
      rule('input', [dport('tcp', 2425), { accept: null }]),
      chain('input', input, 'ip6'),
      rule('input', [match({ payload: { protocol: 'udp', field: 'dport' } }, 2425, '!='), { drop: null }], 'ip6'),
      rule('input', [dport('udp', 2425), { drop: null }], 'ip6'),
    );
    assert.deepEqual(
      nftBlockers(set, UDP).map((b) => [b.where, b.rule, b.conditional, b.family]),
      [
        ['inet fw ipmsg', 'udp dport 2425 drop', false, undefined],
        ['ip6 fw input', 'udp dport 2425 drop', false, 'IPv6'],
      ],
    );
    assert.deepEqual(nftBlockers(set, TCP), []);
  });

  test('what is not a ruleset blocks nothing', () => {
    assert.deepEqual(nftBlockers({ nftables: [{ metainfo: {} }] }, UDP), []);
    assert.deepEqual(nftBlockers('garbage', UDP), []);
    assert.deepEqual(nftBlockers({ nftables: [rule('nochain', [{ drop: null }])] }, UDP), []);
  });

  test('prerouting (filter type, raw priority) and ingress chains stop the packet too; a nat prerouting chain does not', () => {
    const set = ruleset(
      chain('raw', { type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' }),
      rule('raw', [match({ payload: { protocol: 'ip', field: 'saddr' } }, { prefix: { addr: '10.0.0.0', len: 8 } }), dport('udp', 2425), { drop: null }]),
      rule('raw', [dport('tcp', 2425), { accept: null }]),
      chain('dnat', { type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' }),
      rule('dnat', [dport('tcp', 2425), { drop: null }]),
      chain('input', input),
      rule('input', [dport('tcp', 2425), { drop: null }]),
      chain('ing', { type: 'filter', hook: 'ingress', prio: 0, policy: 'accept' }, 'netdev'),
      rule('ing', [dport('udp', 2425), { drop: null }], 'netdev'),
      chain('wifi', { type: 'filter', hook: 'ingress', prio: 0, policy: 'drop', dev: 'wlan0' }, 'netdev'),
    );
    const devices = chainDevices(NFT_CHAINS);
    assert.deepEqual([...devices], [['netdev fw ing', ['eth0']], ['netdev fw both', ['eth1', 'eth0']]]);
    // The raw-priority drop is conditional (a source address); the ingress one is on eth0, where ipmsg listens; wlan0's is not.
    assert.deepEqual(
      nftBlockers(set, UDP, { interfaces: ['eth0'], devices }).map((b) => [b.hook, b.where, b.rule, b.conditional, b.devices]),
      [
        ['prerouting', 'inet fw raw', 'ip saddr 10.0.0.0/8 udp dport 2425 drop', true, undefined],
        ['ingress', 'netdev fw ing', 'udp dport 2425 drop', false, ['eth0']],
      ],
    );
    // An accept in prerouting ends only that chain: input still drops.
    assert.deepEqual(nftBlockers(set, TCP, { interfaces: ['eth0'], devices }).map((b) => [b.hook, b.where]), [['input', 'inet fw input']]);
    // Where the interface of an ingress chain is unknown, its drop is conditional; on wlan0 it counts when ipmsg uses wlan0.
    assert.deepEqual(nftBlockers(set, UDP).filter((b) => b.hook === 'ingress').map((b) => [b.where, b.rule, b.conditional]), [
      ['netdev fw ing', 'udp dport 2425 drop', true],
      ['netdev fw wifi', 'policy drop', false],
    ]);
  });

  test('rule text', () => {
    assert.equal(nftRuleText([match({ ct: { key: 'state' } }, ['established', 'related'], 'in'), { accept: null }]), 'ct state { established, related } accept');
    assert.equal(nftRuleText([dport('udp', 2425), { jump: { target: 'x' } }]), 'udp dport 2425 jump x');
  });
});

const IPTABLES_HEAD = `# Generated by iptables-save v1.8.9
*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p udp --dport 2425 -j DROP
COMMIT
*filter
`;

describe('iptables-save', () => {
  test('rules of the filter INPUT chain, in order, with multiport lists and ranges', () => {
    const dump = `${IPTABLES_HEAD}:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j DROP
-A INPUT -m state --state RELATED,ESTABLISHED -j DROP
-A INPUT -p udp -m udp --dport 2425 -m comment --comment "no ipmsg here" -j DROP
-A INPUT -p tcp -m multiport --dports 80,2400:2430 -s 10.0.0.0/8 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -p tcp --dport 2425 -j DROP
COMMIT
`;
    assert.deepEqual(iptablesBlockers(dump, UDP), [
      { source: 'iptables', where: 'filter INPUT', hook: 'input', family: 'IPv4', rule: '-A INPUT -p udp -m udp --dport 2425 -m comment --comment no ipmsg here -j DROP', conditional: false },
    ]);
    assert.deepEqual(
      iptablesBlockers(dump, TCP).map((b) => [b.rule, b.conditional]),
      [['-A INPUT -p tcp -m multiport --dports 80,2400:2430 -s 10.0.0.0/8 -j REJECT --reject-with icmp-port-unreachable', true]],
    );
  });

  test('policy DROP unless accepted; user chains are followed; RETURN goes back', () => {
    const dump = `${IPTABLES_HEAD}:INPUT DROP [0:0]
:LAN - [0:0]
-A INPUT -j LAN
-A LAN -p tcp --dport 2425 -j RETURN
-A LAN -p udp --dport 2425 -j ACCEPT
COMMIT
`;
    assert.deepEqual(iptablesBlockers(dump, UDP), []);
    assert.deepEqual(iptablesBlockers(dump, TCP), [{ source: 'iptables', where: 'filter INPUT', hook: 'input', family: 'IPv4', rule: 'policy DROP', conditional: false }]);
    assert.deepEqual(iptablesBlockers(dump, TCP, 'ip6tables'), [{ source: 'ip6tables', where: 'filter INPUT', hook: 'input', family: 'IPv6', rule: 'policy DROP', conditional: false }]);
  });

  test('! -p excludes the protocol; a dump without a filter table blocks nothing', () => {
    const dump = `${IPTABLES_HEAD}:INPUT ACCEPT [0:0]
-A INPUT ! -p udp -j DROP
COMMIT
`;
    assert.deepEqual(iptablesBlockers(dump, UDP), []);
    assert.equal(iptablesBlockers(dump, TCP).length, 1);
    assert.deepEqual(iptablesBlockers(IPTABLES_HEAD.replace('*filter\n', ''), UDP), []);
  });
});

describe('the firewall check', () => {
  const system = (outputs: Record<string, string | undefined>, platform: NodeJS.Platform = 'linux'): DoctorSystem => ({
    platform,
    interfaces: () => ({}),
    readText: async () => undefined,
    list: async () => [],
    readLink: async () => undefined,
    run: async (command, args) => {
      const stdout = outputs[[command, ...args].join(' ')] ?? outputs[command];
      return stdout === undefined ? undefined : { code: 0, stdout, stderr: '' };
    },
  });
  const V4 = { families: ['IPv4'], interfaces: ['eth0'] } as const;
  const BOTH = { families: ['IPv4', 'IPv6'], interfaces: ['eth0'] } as const;
  const signal = new AbortController().signal;
  const dropUdp = JSON.stringify(ruleset(chain('input', input), rule('input', [dport('udp', 2425), { drop: null }])));

  test('an nftables UDP drop is ✖ with the rule and an nft command to allow it; TCP is ✔', async () => {
    const [udp, tcp] = await checkFirewall(system({ nft: dropUdp }), 2425, V4, signal);
    assert.equal(udp?.status, 'fail');
    assert.equal(udp?.summary, 'UDP 2425 is dropped coming in: nftables inet fw input: udp dport 2425 drop');
    assert.match(udp?.advice ?? '', /nft insert rule inet fw input udp dport 2425 accept$/);
    assert.equal(tcp?.status, 'ok');
    assert.equal(tcp?.summary, 'no nftables rule drops TCP 2425 coming in');
  });

  test('iptables alone: a TCP drop is only ⚠ (files), with an iptables command; conditional drops are ⚠', async () => {
    const dump = `${IPTABLES_HEAD}:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 2425 -j DROP\n-A INPUT -s 10.1.0.0/16 -p udp --dport 2425 -j DROP\nCOMMIT\n`;
    const [udp, tcp] = await checkFirewall(system({ 'iptables-save': dump }), 2425, V4, signal);
    assert.equal(udp?.status, 'warn');
    assert.match(udp?.summary ?? '', /for some packets/);
    assert.equal(tcp?.status, 'warn');
    assert.match(tcp?.advice ?? '', /iptables -I INPUT -p tcp --dport 2425 -j ACCEPT$/);
  });

  test('nothing readable, or not Linux: one skip, never a failure', async () => {
    assert.deepEqual((await checkFirewall(system({}), 2425, V4, signal)).map((r) => r.status), ['skip']);
    assert.deepEqual((await checkFirewall(system({ nft: 'not json' }), 2425, V4, signal)).map((r) => r.status), ['skip']);
    assert.deepEqual((await checkFirewall(system({ nft: dropUdp }, 'darwin'), 2425, V4, signal)).map((r) => r.status), ['skip']);
  });

  test('ip6tables is read only when the run uses IPv6: its drop is ⚠ beside IPv4, ✖ for an IPv6-only run', async () => {
    const dump6 = `${IPTABLES_HEAD}:INPUT ACCEPT [0:0]\n-A INPUT -p udp -m udp --dport 2425 -j DROP\nCOMMIT\n`;
    const asked: string[] = [];
    const machine = system({ 'ip6tables-save': dump6 });
    const recording: DoctorSystem = { ...machine, run: async (command, args, s) => (asked.push(command), machine.run(command, args, s)) };
    assert.deepEqual((await checkFirewall(recording, 2425, V4, signal)).map((r) => r.status), ['skip']);
    assert.equal(asked.includes('ip6tables-save'), false);
    const [udp, tcp] = await checkFirewall(machine, 2425, BOTH, signal);
    assert.equal(udp?.status, 'warn');
    assert.equal(udp?.summary, 'UDP 2425 is dropped coming in for some packets: ip6tables filter INPUT: -A INPUT -p udp -m udp --dport 2425 -j DROP (IPv6 only)');
    assert.match(udp?.advice ?? '', /ip6tables -I INPUT -p udp --dport 2425 -j ACCEPT$/);
    assert.equal(tcp?.status, 'ok');
    assert.equal((await checkFirewall(machine, 2425, { families: ['IPv6'], interfaces: ['eth0'] }, signal))[0]?.status, 'fail');
  });

  test('an ip table drop does not concern an IPv6-only run; an ingress drop on our interface is ✖ naming the hook', async () => {
    const ipOnly = JSON.stringify(ruleset(chain('input', input, 'ip'), rule('input', [dport('udp', 2425), { drop: null }], 'ip')));
    assert.equal((await checkFirewall(system({ nft: ipOnly }), 2425, { families: ['IPv6'], interfaces: ['eth0'] }, signal))[0]?.status, 'ok');
    const ingress = JSON.stringify(ruleset(chain('ing', { type: 'filter', hook: 'ingress', prio: 0, policy: 'accept' }, 'netdev'), rule('ing', [dport('udp', 2425), { drop: null }], 'netdev')));
    const [udp] = await checkFirewall(system({ 'nft -j list ruleset': ingress, 'nft list chains': NFT_CHAINS }), 2425, V4, signal);
    assert.equal(udp?.status, 'fail');
    assert.equal(udp?.summary, 'UDP 2425 is dropped coming in: nftables netdev fw ing: udp dport 2425 drop (ingress hook on eth0)');
    const elsewhere = await checkFirewall(system({ 'nft -j list ruleset': ingress, 'nft list chains': NFT_CHAINS }), 2425, { families: ['IPv4'], interfaces: ['wlan0'] }, signal);
    assert.equal(elsewhere[0]?.status, 'ok');
  });
});
