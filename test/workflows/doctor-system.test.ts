// test/workflows/doctor-system.test.ts
// The doctor's readings of this machine, on fixtures: /proc/net/udp and /proc/net/route parsing,
// the process holding a port found by socket inode, the port verdicts, and interfaces by subnet.

import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, test } from 'node:test';
import { type CheckResult, summarize } from '../../src/workflows/doctor/check.js';
import { checkInterfaces, interfaceOf, interfaceUses } from '../../src/workflows/doctor/interfaces.js';
import { checkPort } from '../../src/workflows/doctor/ports.js';
import { describeHolder, parseProcNet, portHolders } from '../../src/workflows/doctor/proc-net.js';
import { checkLimitedBroadcast, limitedBroadcastRoute, parseProcRoute } from '../../src/workflows/doctor/routes.js';
import type { DoctorSystem } from '../../src/workflows/doctor/system.js';
import type { InterfaceTable } from '../../src/transport/broadcast.js';

const PROC_UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  125: 00000000:0979 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41234 2 0000000000000000 0
  126: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41299 2 0000000000000000 0
`;
const PROC_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0979 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51000 1 0000000000000000 100 0 0 10 0
   1: 0100A8C0000000000000000000000000:0979 0200A8C0000000000000000000000000:C350 01 00000000:00000000 00:00000000 00000000     0        0 51001 1 0000000000000000 20 4 30 10 -1
`;

/** A machine made of files: /proc entries and symbolic links. */
function fakeSystem(files: Record<string, string>, links: Record<string, string> = {}, platform: NodeJS.Platform = 'linux'): DoctorSystem {
  const names = (dir: string): string[] => [...new Set([...Object.keys(files), ...Object.keys(links)].filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1).split('/')[0] ?? ''))];
  return {
    platform,
    interfaces: () => ({}),
    readText: async (path) => files[path],
    list: async (path) => names(path),
    readLink: async (path) => links[path],
    run: async () => undefined,
  };
}

describe('/proc/net', () => {
  test('sockets with their port, state and inode', () => {
    assert.deepEqual(parseProcNet(PROC_UDP), [
      { localPort: 2425, state: '07', inode: '41234' },
      { localPort: 53, state: '07', inode: '41299' },
    ]);
    assert.deepEqual(parseProcNet(PROC_TCP6).map((s) => [s.localPort, s.state]), [[2425, '0A'], [2425, '01']]);
    assert.deepEqual(parseProcNet('header only\n'), []);
  });

  const machine = fakeSystem(
    {
      '/proc/net/udp': PROC_UDP,
      '/proc/net/tcp6': PROC_TCP6,
      '/proc/1200/comm': 'iptux\n',
      '/proc/1200/cmdline': 'iptux\0',
      '/proc/1300/comm': 'node\n',
      '/proc/1300/cmdline': '/usr/bin/node\0/opt/ipmsg/bin/ipmsg.js\0recv\0',
    },
    {
      '/proc/1200/fd/0': '/dev/null',
      '/proc/1200/fd/7': 'socket:[41234]',
      '/proc/1300/fd/9': 'socket:[51000]',
      '/proc/1300/fd/10': 'socket:[51001]',
      '/proc/self/fd/3': 'socket:[41234]',
    },
  );

  test('the holder of a UDP port, and of a listening TCP one (not a connected socket)', async () => {
    assert.deepEqual(await portHolders(machine, 'udp', 2425), [{ pid: 1200, name: 'iptux', command: 'iptux' }]);
    const tcp = await portHolders(machine, 'tcp', 2425);
    assert.deepEqual(tcp.map((h) => h.pid), [1300]);
    assert.equal(describeHolder(tcp[0]!), '/usr/bin/node /opt/ipmsg/bin/ipmsg.js recv (pid 1300)');
    assert.deepEqual(await portHolders(machine, 'udp', 2426), []);
  });

  test('a busy UDP port names its holder and says what ipmsg does (fallback, or fail with --strict-port)', async () => {
    const busy = async () => 'EADDRINUSE';
    const udp = await checkPort(machine, 'udp', { port: 2425 }, busy);
    assert.equal(udp.status, 'warn');
    assert.match(udp.summary, /^iptux \(pid 1200\) holds UDP 2425: ipmsg falls back to a free port$/);
    assert.equal((await checkPort(machine, 'udp', { port: 2425, strictPort: true }, busy)).status, 'fail');
    const tcp = await checkPort(machine, 'tcp', { port: 2425 }, busy);
    assert.equal(tcp.status, 'warn');
    assert.match(tcp.advice ?? '', /send --file fails/);
    assert.match((await checkPort(fakeSystem({}), 'udp', { port: 2425 }, busy)).summary, /another process \(run as root to name it\)/);
    assert.equal((await checkPort(machine, 'udp', { port: 80 }, async () => 'EACCES')).status, 'fail');
    assert.equal((await checkPort(machine, 'udp', { port: 2425 }, async () => undefined)).status, 'ok');
  });
});

describe('routes', () => {
  const header = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
  const line = (iface: string, dest: string, flags: string, mask: string) => `${iface}\t${dest}\t00000000\t${flags}\t0\t0\t0\t${mask}\t0\t0\t0\n`;
  test('255.255.255.255 follows the most specific route that holds it', () => {
    const subnet = line('eth0', '0000F90A', '0001', '00FFFFFF');
    assert.equal(limitedBroadcastRoute(parseProcRoute(header + subnet)), undefined);
    assert.equal(limitedBroadcastRoute(parseProcRoute(header + subnet + line('wlan0', '00000000', '0003', '00000000')))?.iface, 'wlan0');
    assert.equal(limitedBroadcastRoute(parseProcRoute(header + line('wlan0', '00000000', '0003', '00000000') + line('eth1', 'FFFFFFFF', '0005', 'FFFFFFFF')))?.iface, 'eth1');
    assert.equal(limitedBroadcastRoute(parseProcRoute(header + line('lo', '00000000', '0201', '00000000'))), undefined, 'a reject route');
    assert.equal(limitedBroadcastRoute(parseProcRoute(header + line('eth0', '00000000', '0002', '00000000'))), undefined, 'a route that is not up');
  });

  test('the check: fail without a route, skip where it cannot be read or is not used', async () => {
    assert.equal((await checkLimitedBroadcast(fakeSystem({ '/proc/net/route': header }), true, new AbortController().signal)).status, 'fail');
    assert.equal((await checkLimitedBroadcast(fakeSystem({ '/proc/net/route': header + line('eth0', '00000000', '0001', '00000000') }), true, new AbortController().signal)).status, 'ok');
    assert.equal((await checkLimitedBroadcast(fakeSystem({}, {}, 'darwin'), true, new AbortController().signal)).status, 'skip');
    assert.equal((await checkLimitedBroadcast(fakeSystem({}), true, new AbortController().signal)).status, 'skip');
    assert.equal((await checkLimitedBroadcast(fakeSystem({ '/proc/net/route': header }), false, new AbortController().signal)).status, 'skip');
  });
});

describe('interfaces', () => {
  const info = (address: string, netmask: string, family: 'IPv4' | 'IPv6' = 'IPv4', internal = false): NetworkInterfaceInfo => {
    const base = { address, netmask, mac: '00:00:00:00:00:00', internal, cidr: `${address}/${family === 'IPv4' ? 24 : 64}` };
    return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 2 };
  };
  const table: InterfaceTable = {
    lo: [info('127.0.0.1', '255.0.0.0', 'IPv4', true)],
    eth0: [info('10.249.0.1', '255.255.255.0'), info('fe80::1', 'ffff:ffff:ffff:ffff::', 'IPv6'), info('fd00:249::1', 'ffff:ffff:ffff:ffff::', 'IPv6')],
    wlan0: [info('192.168.1.5', '255.255.255.0')],
  };
  test('the interfaces used and their broadcasts (IPv4 only, or bound to one)', () => {
    assert.deepEqual(interfaceUses(table, ['IPv4']).map((u) => [u.name, u.broadcasts]), [['eth0', ['10.249.0.255']], ['wlan0', ['192.168.1.255']]]);
    assert.deepEqual(interfaceUses(table, ['IPv4'], '192.168.1.5').map((u) => u.name), ['wlan0']);
    assert.deepEqual(interfaceUses(table, ['IPv6', 'IPv4'])[0]?.broadcasts, ['10.249.0.255', 'ff15::979%eth0', 'ff02::1%eth0']);
    const several = checkInterfaces(interfaceUses(table, ['IPv4']), []);
    assert.equal(several.status, 'ok');
    assert.match(several.advice ?? '', /--bind/);
    assert.equal(checkInterfaces(interfaceUses({ lo: table['lo'] }, ['IPv4']), []).status, 'fail');
  });

  test('the interface a peer answered on, by subnet or IPv6 zone', () => {
    assert.equal(interfaceOf('10.249.0.7', table), 'eth0');
    assert.equal(interfaceOf('192.168.1.200', table), 'wlan0');
    assert.equal(interfaceOf('fe80::9%eth0', table), 'eth0');
    assert.equal(interfaceOf('fd00:249::7', table), 'eth0');
    assert.equal(interfaceOf('fd00:250::7', table), undefined);
    assert.equal(interfaceOf('172.16.0.1', table), undefined);
    assert.equal(interfaceOf('127.0.0.5', table), undefined);
  });
});

test('summary: healthy unless a check failed', () => {
  const r = (status: CheckResult['status']): CheckResult => ({ id: status, status, summary: '' });
  assert.deepEqual(summarize([r('ok'), r('warn'), r('skip')]), { ok: 1, warn: 1, fail: 0, skip: 1, healthy: true });
  assert.equal(summarize([r('ok'), r('fail')]).healthy, false);
});
