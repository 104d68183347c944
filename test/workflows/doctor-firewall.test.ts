// test/workflows/doctor-firewall.test.ts
// The doctor's firewall readers on fixture rulesets: which rules drop a new packet from the LAN to
// UDP/TCP 2425, in order, with jumps, policies and rules it cannot judge marked conditional; and
// the check's verdicts from what nft and iptables-save print.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFirewall } from '../../src/workflows/doctor/firewall.js';
import { iptablesBlockers } from '../../src/workflows/doctor/iptables.js';
import { nftBlockers, nftRuleText } from '../../src/workflows/doctor/nft.js';
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
    assert.deepEqual(nftBlockers(set, UDP), [{ source: 'nftables', where: 'inet fw input', rule: 'udp dport 2425 drop', conditional: false }]);
    assert.deepEqual(nftBlockers(set, TCP), []);
  });

  test('a policy drop blocks what no rule accepts; an accepting rule before it settles the packet', () => {
    assert.deepEqual(nftBlockers(HOST_FIREWALL, UDP), [{ source: 'nftables', where: 'inet fw input', rule: 'udp dport 2000-3000 reject', conditional: false }]);
    assert.deepEqual(nftBlockers(HOST_FIREWALL, TCP), []);
    assert.deepEqual(nftBlockers(HOST_FIREWALL, { protocol: 'tcp', port: 80 }), [{ source: 'nftables', where: 'inet fw input', rule: 'policy drop', conditional: false }]);
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

  test('jumps are followed; != excludes the port; ip6 tables and other hooks are conditional or ignored', () => {
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
      nftBlockers(set, UDP).map((b) => [b.where, b.rule, b.conditional]),
      [
        ['inet fw ipmsg', 'udp dport 2425 drop', false],
        ['ip6 fw input', 'udp dport 2425 drop', true],
      ],
    );
    assert.deepEqual(nftBlockers(set, TCP), []);
  });

  test('what is not a ruleset blocks nothing', () => {
    assert.deepEqual(nftBlockers({ nftables: [{ metainfo: {} }] }, UDP), []);
    assert.deepEqual(nftBlockers('garbage', UDP), []);
    assert.deepEqual(nftBlockers({ nftables: [rule('nochain', [{ drop: null }])] }, UDP), []);
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
      { source: 'iptables', where: 'filter INPUT', rule: '-A INPUT -p udp -m udp --dport 2425 -m comment --comment no ipmsg here -j DROP', conditional: false },
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
    assert.deepEqual(iptablesBlockers(dump, TCP), [{ source: 'iptables', where: 'filter INPUT', rule: 'policy DROP', conditional: false }]);
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
    run: async (command) => (outputs[command] === undefined ? undefined : { code: 0, stdout: outputs[command] ?? '', stderr: '' }),
  });
  const signal = new AbortController().signal;
  const dropUdp = JSON.stringify(ruleset(chain('input', input), rule('input', [dport('udp', 2425), { drop: null }])));

  test('an nftables UDP drop is ✖ with the rule and an nft command to allow it; TCP is ✔', async () => {
    const [udp, tcp] = await checkFirewall(system({ nft: dropUdp }), 2425, signal);
    assert.equal(udp?.status, 'fail');
    assert.equal(udp?.summary, 'UDP 2425 is dropped coming in: nftables inet fw input: udp dport 2425 drop');
    assert.match(udp?.advice ?? '', /nft insert rule inet fw input udp dport 2425 accept$/);
    assert.equal(tcp?.status, 'ok');
    assert.equal(tcp?.summary, 'no nftables rule drops TCP 2425 coming in');
  });

  test('iptables alone: a TCP drop is only ⚠ (files), with an iptables command; conditional drops are ⚠', async () => {
    const dump = `${IPTABLES_HEAD}:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 2425 -j DROP\n-A INPUT -s 10.1.0.0/16 -p udp --dport 2425 -j DROP\nCOMMIT\n`;
    const [udp, tcp] = await checkFirewall(system({ 'iptables-save': dump }), 2425, signal);
    assert.equal(udp?.status, 'warn');
    assert.match(udp?.summary ?? '', /for some packets/);
    assert.equal(tcp?.status, 'warn');
    assert.match(tcp?.advice ?? '', /iptables -I INPUT -p tcp --dport 2425 -j ACCEPT$/);
  });

  test('nothing readable, or not Linux: one skip, never a failure', async () => {
    assert.deepEqual((await checkFirewall(system({}), 2425, signal)).map((r) => r.status), ['skip']);
    assert.deepEqual((await checkFirewall(system({ nft: 'not json' }), 2425, signal)).map((r) => r.status), ['skip']);
    assert.deepEqual((await checkFirewall(system({ nft: dropUdp }, 'darwin'), 2425, signal)).map((r) => r.status), ['skip']);
  });
});
