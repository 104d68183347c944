// test/workflows/doctor-routes.test.ts
// The doctor's route readings on fixtures of what `ip -j route get` and `ip -j rule show` print
// (iproute2 6.1): a route, a refusal (an error exit with the errno's text) and the policy rule
// that explains it, and the checks built on them, with the /proc/net/route fallback without `ip`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeRoute, parseRouteGet, parseRules, refusingRule, routeGetArgs } from '../../src/workflows/doctor/ip-route.js';
import { checkDirectedBroadcasts, checkLimitedBroadcast } from '../../src/workflows/doctor/routes.js';
import type { CommandResult, DoctorSystem } from '../../src/workflows/doctor/system.js';

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
const refused = (message: string): CommandResult => ({ code: 2, stdout: '', stderr: `RTNETLINK answers: ${message}\n` });

const LIMITED = '[{"type":"broadcast","dst":"255.255.255.255","dev":"eth0","prefsrc":"10.249.0.1","flags":[],"uid":0,"cache":["local","brd"]}]';
const DIRECTED = '[{"type":"broadcast","dst":"10.249.0.255","dev":"eth0","table":"local","prefsrc":"10.249.0.1","flags":[],"uid":0,"cache":["local","brd"]}]';
const VIA_TABLE = '[{"dst":"8.8.8.8","gateway":"10.249.0.254","dev":"eth0","table":"100","prefsrc":"10.249.0.1","flags":[],"uid":0,"cache":[]}]';
const RULES =
  '[{"priority":0,"src":"all","table":"local"},{"priority":32761,"src":"all","fwmark":"0x3","action":"prohibit"},{"priority":32762,"src":"all","dst":"255.255.255.255","iif":"eth0","action":"prohibit"},' +
  '{"priority":32763,"src":"all","dst":"255.255.255.255","action":"prohibit"},{"priority":32764,"src":"all","dst":"10.0.0.0","dstlen":8,"action":"unreachable"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]';

describe('ip route get', () => {
  test('a route: its device, gateway and table', () => {
    assert.deepEqual(parseRouteGet(ok(LIMITED)), { kind: 'route', dev: 'eth0', type: 'broadcast' });
    assert.deepEqual(parseRouteGet(ok(DIRECTED)), { kind: 'route', dev: 'eth0', table: 'local', type: 'broadcast' });
    assert.deepEqual(parseRouteGet(ok(VIA_TABLE)), { kind: 'route', dev: 'eth0', gateway: '10.249.0.254', table: '100' });
    assert.equal(describeRoute({ answer: parseRouteGet(ok(VIA_TABLE))! }), 'eth0 via 10.249.0.254 (table 100)');
  });

  test('refusals are error exits: prohibit, blackhole, unreachable, no route; anything else is unread', () => {
    assert.deepEqual(parseRouteGet(refused('Permission denied')), { kind: 'refused', refusal: 'prohibit', message: 'Permission denied' });
    assert.equal((parseRouteGet(refused('Invalid argument')) as { refusal: string }).refusal, 'blackhole');
    assert.equal((parseRouteGet(refused('No route to host')) as { refusal: string }).refusal, 'unreachable');
    assert.equal((parseRouteGet(refused('Network is unreachable')) as { refusal: string }).refusal, 'no-route');
    assert.equal((parseRouteGet(ok('[{"type":"blackhole","dst":"1.2.3.4","dev":"lo"}]')) as { refusal: string }).refusal, 'blackhole');
    assert.equal(parseRouteGet({ code: 1, stdout: '', stderr: 'Error: any valid prefix is expected rather than "x".\n' }), undefined);
    assert.equal(parseRouteGet(ok('not json')), undefined);
  });

  test('the rule behind a refusal: the first unconditional one of that action whose destination holds the address', () => {
    const rules = parseRules(RULES);
    assert.equal(rules.length, 7);
    assert.equal(refusingRule(rules, '255.255.255.255', 'prohibit')?.text, '32763: from all to 255.255.255.255 prohibit');
    assert.equal(refusingRule(rules, '10.7.0.255', 'no-route')?.text, '32764: from all to 10.0.0.0/8 unreachable');
    assert.equal(refusingRule(rules, '10.249.0.255', 'prohibit'), undefined, 'only the fwmark and iif rules would: conditional');
    assert.equal(refusingRule(rules, '255.255.255.255', 'blackhole'), undefined);
    assert.deepEqual(parseRules('garbage'), []);
  });

  test('arguments: a fixed list, an IPv6 zone as oif, nothing for what is not an address', () => {
    assert.deepEqual(routeGetArgs('255.255.255.255'), ['-j', 'route', 'get', '255.255.255.255']);
    assert.deepEqual(routeGetArgs('fe80::5%eth0'), ['-j', 'route', 'get', 'fe80::5', 'oif', 'eth0']);
    assert.equal(routeGetArgs('-x'), undefined);
    assert.equal(routeGetArgs('fe80::5%-h'), undefined);
  });
});

/** A machine that answers `ip` from a table of argument lists, and reads files from another. */
function machine(answers: Record<string, CommandResult>, files: Record<string, string> = {}): DoctorSystem & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    platform: 'linux',
    interfaces: () => ({}),
    readText: async (path) => files[path],
    list: async () => [],
    readLink: async () => undefined,
    run: async (command, args) => {
      asked.push([command, ...args]);
      return command === 'ip' ? answers[args.join(' ')] : undefined;
    },
  };
}

const signal = new AbortController().signal;
const header = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
const DEFAULT_ROUTE = `${header}eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n`;

describe('the limited-broadcast check', () => {
  test('a policy rule that prohibits it is ✖ and named, although the main table has a default route', async () => {
    const system = machine({ '-j route get 255.255.255.255': refused('Permission denied'), '-j rule show': ok(RULES) }, { '/proc/net/route': DEFAULT_ROUTE });
    const result = await checkLimitedBroadcast(system, true, signal);
    assert.equal(result.status, 'fail');
    assert.equal(result.summary, '255.255.255.255 is prohibited by ip rule 32763: from all to 255.255.255.255 prohibit (ip route get: Permission denied): the limited broadcast cannot be sent');
    assert.equal(result.details?.['rule'], '32763: from all to 255.255.255.255 prohibit');
  });

  test('no route at all: ✖ saying so; a route: ✔ with its device', async () => {
    const none = await checkLimitedBroadcast(machine({ '-j route get 255.255.255.255': refused('Network is unreachable'), '-j rule show': ok('[]') }), true, signal);
    assert.equal(none.status, 'fail');
    assert.match(none.summary, /^255\.255\.255\.255 has no route \(no default route; ip route get: Network is unreachable\): the limited broadcast cannot be sent$/);
    const fine = await checkLimitedBroadcast(machine({ '-j route get 255.255.255.255': ok(LIMITED) }), true, signal);
    assert.deepEqual([fine.status, fine.summary], ['ok', '255.255.255.255 goes out on eth0']);
  });

  test('without ip: /proc/net/route (main table) decides', async () => {
    const system = machine({}, { '/proc/net/route': DEFAULT_ROUTE });
    const result = await checkLimitedBroadcast(system, true, signal);
    assert.deepEqual([result.status, result.details?.['source']], ['ok', '/proc/net/route']);
    assert.deepEqual(system.asked, [['ip', '-j', 'route', 'get', '255.255.255.255']]);
    assert.equal((await checkLimitedBroadcast(machine({}, { '/proc/net/route': header }), true, signal)).status, 'fail');
    assert.equal((await checkLimitedBroadcast(machine({}), true, signal)).status, 'skip');
  });
});

describe('the directed-broadcast check', () => {
  const uses = [{ name: 'eth0', addresses: ['10.249.0.1/24'], broadcasts: ['10.249.0.255'] }];
  test('each interface broadcast leaves on its interface: ✔; refused or elsewhere: ⚠ naming it', async () => {
    const fine = await checkDirectedBroadcasts(machine({ '-j route get 10.249.0.255': ok(DIRECTED) }), uses, ['10.249.0.255', '255.255.255.255', 'ff02::1%eth0'], signal);
    assert.deepEqual([fine?.status, fine?.summary], ['ok', 'directed broadcasts go out where they belong: 10.249.0.255 on eth0']);
    const elsewhere = await checkDirectedBroadcasts(machine({ '-j route get 10.249.0.255': ok(DIRECTED.replace('"eth0"', '"wlan0"')) }), uses, ['10.249.0.255'], signal);
    assert.deepEqual([elsewhere?.status, elsewhere?.summary], ['warn', '10.249.0.255 (of eth0) goes out on wlan0']);
    const prohibited = await checkDirectedBroadcasts(machine({ '-j route get 10.249.0.255': refused('Network is unreachable'), '-j rule show': ok(RULES) }), uses, ['10.249.0.255'], signal);
    assert.equal(prohibited?.status, 'warn');
    assert.match(prohibited?.summary ?? '', /^10\.249\.0\.255 is unreachable by ip rule 32764: from all to 10\.0\.0\.0\/8 unreachable/);
  });

  test('without ip: skipped; nothing IPv4 to check: no line', async () => {
    assert.equal((await checkDirectedBroadcasts(machine({}), uses, ['10.249.0.255'], signal))?.status, 'skip');
    assert.equal(await checkDirectedBroadcasts(machine({}), [], ['ff15::979%eth0'], signal), undefined);
  });
});
