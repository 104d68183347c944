// test/lan/doctor.test.ts
// ipmsg doctor between real processes on a private bridge (network namespaces made by the test,
// 10.249.0.0/24): a healthy LAN with a peer answering, a target that answers or is silent, its TCP
// port open or closed, a firewall (nftables inside the namespace) that drops UDP 2425, a host
// without a default route, policy rules (ip rule) that refuse the limited broadcast or the target,
// and the port held by another process. The doctor writes no state.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { binPath, makeSandbox, ndjson } from '../helpers/cli.js';
import { lanCommands, lanIdentity as identity } from '../helpers/lan-recv.js';
import { fingerprint } from '../../src/crypto/fingerprint.js';
import { fixtureKey } from '../helpers/keys.js';
import { type Lan, createLan, netnsUnavailableReason, nftUnavailableReason } from '../helpers/netns.js';

const skip = netnsUnavailableReason();
/** The peers' keys and state. */
const peers = makeSandbox();
/** The doctor's own folders: they must stay empty. */
const doctorHome = makeSandbox();
/** A user who pinned bob's key. */
const pinnedHome = makeSandbox();
after(() => {
  peers.cleanup();
  doctorHome.cleanup();
  pinnedHome.cleanup();
});

type Record_ = Record<string, unknown>;
const byId = (records: Record_[]): Map<string, Record_> => new Map(records.filter((r) => r['event'] === 'check').map((r) => [String(r['id']), r]));

describe('ipmsg doctor on a LAN', { skip: skip ?? false }, () => {
  let lan: Lan;
  before(async () => {
    lan = await createLan(3);
  });
  after(async () => {
    await lan?.destroy();
  });

  const { startRecv } = lanCommands(() => lan, peers.env);
  const doctor = (node: number, args: readonly string[]) => lan.run(node, process.execPath, [binPath, 'doctor', ...identity('alice'), '--wait', '1s', '--timeout', '1s', ...args], { env: doctorHome.env, timeoutMs: 30_000 });

  let bobReady: Promise<void> | undefined;
  const bob = (): Promise<void> => (bobReady ??= startRecv(1, 'bob', ['--timeout', '120s']).ready);

  test('a healthy LAN: ✔ lines, the peer answered on eth0 with its time, the target answers over UDP; exit 0', async () => {
    await bob();
    const run = await doctor(0, ['10.249.0.2']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const lines = run.stdout.split('\n');
    assert.ok(lines.some((l) => /^✔ broadcasting on eth0 10\.249\.0\.1\/24 .*→ 10\.249\.0\.255/.test(l)), run.stdout);
    assert.ok(lines.includes('✔ 255.255.255.255 goes out on eth0'), run.stdout);
    assert.ok(lines.includes('✔ UDP 2425 is free: ipmsg can listen on it'), run.stdout);
    assert.ok(lines.some((l) => /^✔ 1 peer answered BR_ENTRY — eth0: 1 \(first after \d+ ms\): bob-<[0-9a-f]{16}>@bob-pc \(10\.249\.0\.2:2425\) on eth0 after \d+ ms/.test(l)), run.stdout);
    assert.ok(lines.some((l) => /^✔ 10\.249\.0\.2:2425 answered GETINFO after \d+ ms: ipmsg CLI/.test(l)), run.stdout);
    // recv serves no files: its TCP port is closed, which only limits files.
    assert.ok(lines.includes('⚠ TCP 10.249.0.2:2425 refuses connections'), run.stdout);
    assert.match(run.stdout, /^a send would work: \d+ ✔, \d+ ⚠, 0 ✖, \d+ –$/m);
    // Nothing written: no key made, no packet counter, no known peer pinned.
    for (const dir of [doctorHome.env['XDG_CONFIG_HOME'], doctorHome.env['XDG_STATE_HOME']]) assert.equal(existsSync(join(String(dir), 'ipmsg')), false, `${dir} was written`);
  });

  test('--json: one record per check, then the summary, then the end record; a target by name with its TCP port open', async () => {
    await bob();
    // A listener on the peer's TCP 2425, as a client offering files has.
    const listener = lan.spawn(1, process.execPath, ['-e', "require('net').createServer().listen(2425, () => console.log('up'))"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => listener.stdout?.once('data', () => resolve()));
    try {
      const run = await doctor(0, ['bob', '--json', '--no-dns']);
      assert.equal(run.code, 0, run.stderr);
      const records = ndjson(run.stdout);
      assert.deepEqual(records.at(-1), { event: 'end', ok: true, exit: 0 });
      assert.equal(records.at(-2)?.['event'], 'summary');
      assert.equal(records.at(-2)?.['healthy'], true);
      assert.ok(records.slice(0, -2).every((r) => r['event'] === 'check' && ['ok', 'warn', 'fail', 'skip'].includes(String(r['status'])) && typeof r['summary'] === 'string'));
      const checks = byId(records);
      assert.equal((checks.get('target')?.['details'] as Record_)['address'], '10.249.0.2');
      assert.equal(checks.get('target-entry')?.['status'], 'ok');
      assert.equal(checks.get('target-tcp')?.['status'], 'ok');
      assert.deepEqual(checks.get('target-tcp')?.['details'], { state: 'open' });
      assert.equal((checks.get('target-capabilities')?.['details'] as Record_)['encrypt'], true);
      assert.match(String(checks.get('target-key')?.['summary']), /of bob@bob-pc is not pinned yet/);
      const answers = checks.get('answers')?.['details'] as { peers: Record_[]; interfaces: Record_[] };
      assert.ok(answers.peers.some((p) => p['address'] === '10.249.0.2' && p['iface'] === 'eth0' && typeof p['afterMs'] === 'number'));
    } finally {
      listener.kill();
    }
  });

  test('a target by alias: the config file\'s aliases name it, and the config folder stays unwritten', async () => {
    await bob();
    const config = join(String(peers.env['XDG_CONFIG_HOME']), 'doctor-aliases.json');
    writeFileSync(config, JSON.stringify({ aliases: { desk: '10.249.0.2' } }));
    const run = await lan.run(0, process.execPath, [binPath, 'doctor', ...identity('alice'), '--wait', '1s', '--timeout', '1s', 'desk', '--json'], {
      env: { ...doctorHome.env, IPMSG_CONFIG: config },
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 0, run.stderr);
    const checks = byId(ndjson(run.stdout));
    assert.equal((checks.get('target')?.['details'] as Record_)['address'], '10.249.0.2');
    assert.equal(checks.get('target-info')?.['status'], 'ok');
    assert.equal(existsSync(join(String(doctorHome.env['XDG_CONFIG_HOME']), 'ipmsg')), false);
  });

  test('a silent target: no answer over UDP is ✖ and the run exits 69', async () => {
    await bob();
    const run = await doctor(0, ['10.249.0.3', '--retries', '1', '--json']);
    assert.equal(run.code, 69, run.stderr);
    const records = ndjson(run.stdout);
    const checks = byId(records);
    assert.equal(checks.get('target-entry')?.['status'], 'fail');
    assert.equal(checks.get('target-info')?.['status'], 'fail');
    assert.match(String(checks.get('target-info')?.['summary']), /answers nothing over UDP/);
    assert.deepEqual(checks.get('target-tcp')?.['details'], { state: 'refused' });
    assert.equal(records.at(-2)?.['healthy'], false);
    assert.equal(records.at(-1)?.['exit'], 69);
    assert.match(String(records.at(-1)?.['error']), /target-entry, target-info/);
  });

  test('a firewall that drops UDP 2425 in the input chain: the rule is named, nobody is heard; exit 69', { skip: nftUnavailableReason() ?? false }, async () => {
    await bob();
    const rules = (text: string) => lan.run(0, 'nft', ['-f', '-'], { input: `table inet ipmt_doctor\ndelete table inet ipmt_doctor\n${text}`, timeoutMs: 10_000 });
    const added = await rules('table inet ipmt_doctor {\n  chain input { type filter hook input priority 0; policy accept; udp dport 2425 drop; }\n}\n');
    assert.equal(added.code, 0, added.stderr);
    try {
      const run = await doctor(0, []);
      assert.equal(run.code, 69, run.stdout + run.stderr);
      assert.match(run.stdout, /^✖ UDP 2425 is dropped coming in: nftables inet ipmt_doctor input: udp dport 2425 drop$/m);
      assert.match(run.stdout, /→ answers and messages from other PCs never reach ipmsg; allow it, e\.g\. nft insert rule inet ipmt_doctor input udp dport 2425 accept/);
      assert.match(run.stdout, /^✔ no nftables rule drops TCP 2425 coming in$/m);
      assert.match(run.stdout, /^⚠ nobody answered BR_ENTRY within 1s$/m);
      assert.match(run.stderr, /1 check failed \(firewall-udp\)/);
    } finally {
      await rules('');
    }
  });

  test('drops before the input hook: an ingress chain on eth0 is ✖ naming the hook; a prerouting drop for some sources is ⚠', { skip: nftUnavailableReason() ?? false }, async () => {
    await bob();
    const rules = (text: string) =>
      lan.run(0, 'nft', ['-f', '-'], { input: `table netdev ipmt_doctor_in\ndelete table netdev ipmt_doctor_in\ntable inet ipmt_doctor_pre\ndelete table inet ipmt_doctor_pre\n${text}`, timeoutMs: 10_000 });
    const added = await rules(
      'table netdev ipmt_doctor_in {\n  chain ing { type filter hook ingress device "eth0" priority 0; policy accept; udp dport 2425 drop; }\n}\n' +
        'table inet ipmt_doctor_pre {\n  chain raw { type filter hook prerouting priority raw; policy accept; ip saddr 10.249.1.0/24 tcp dport 2425 drop; }\n}\n',
    );
    assert.equal(added.code, 0, added.stderr);
    try {
      const run = await doctor(0, []);
      assert.equal(run.code, 69, run.stdout + run.stderr);
      assert.match(run.stdout, /^✖ UDP 2425 is dropped coming in: nftables netdev ipmt_doctor_in ing: udp dport 2425 drop \(ingress hook on eth0\)$/m);
      assert.match(run.stdout, /^⚠ TCP 2425 is dropped coming in for some packets: nftables inet ipmt_doctor_pre raw: ip saddr 10\.249\.1\.0\/24 tcp dport 2425 drop \(prerouting hook, for some packets\)$/m);
    } finally {
      await rules('');
    }
  });

  test('a host without a default route: the limited broadcast has no route (✖), directed broadcast still finds the peer', async () => {
    await bob();
    const removed = await lan.run(2, 'ip', ['route', 'del', 'default']);
    assert.equal(removed.code, 0, removed.stderr);
    try {
      const run = await doctor(2, []);
      assert.equal(run.code, 69, run.stdout + run.stderr);
      assert.match(run.stdout, /^✖ 255\.255\.255\.255 has no route \(no default route; ip route get: Network is unreachable\): the limited broadcast cannot be sent$/m);
      assert.match(run.stdout, /^⚠ BR_ENTRY could not be sent to 255\.255\.255\.255 \(.*ENETUNREACH/m);
      assert.match(run.stdout, /^✔ 1 peer answered BR_ENTRY — eth0: .*bob-<[0-9a-f]{16}>@bob-pc \(10\.249\.0\.2:2425\) on eth0/m);
    } finally {
      await lan.run(2, 'ip', ['route', 'add', 'default', 'dev', 'eth0']);
    }
  });

  test('a policy rule that prohibits 255.255.255.255 while the main table has a default route: ✖ names the rule (exit 69)', async () => {
    await bob();
    const added = await lan.run(2, 'ip', ['rule', 'add', 'to', '255.255.255.255', 'prohibit', 'priority', '1000']);
    assert.equal(added.code, 0, added.stderr);
    try {
      const run = await doctor(2, ['10.249.0.2']);
      assert.equal(run.code, 69, run.stdout + run.stderr);
      assert.match(run.stdout, /^✖ 255\.255\.255\.255 is prohibited by ip rule 1000: from all to 255\.255\.255\.255 prohibit \(ip route get: Permission denied\): the limited broadcast cannot be sent$/m);
      assert.match(run.stdout, /^✔ directed broadcasts go out where they belong: 10\.249\.0\.255 on eth0$/m);
      assert.match(run.stdout, /^✔ 10\.249\.0\.2 is reached on eth0$/m);
      assert.match(run.stdout, /^⚠ BR_ENTRY could not be sent to 255\.255\.255\.255 \(.*EACCES/m);
    } finally {
      await lan.run(2, 'ip', ['rule', 'del', 'priority', '1000']);
    }
  });

  test('a policy rule that makes the target unreachable: target-route ✖ names it, and the refused GETINFO is ✖ (the run goes on)', async () => {
    await bob();
    const added = await lan.run(2, 'ip', ['rule', 'add', 'to', '10.249.0.2', 'unreachable', 'priority', '1001']);
    assert.equal(added.code, 0, added.stderr);
    try {
      const run = await doctor(2, ['10.249.0.2', '--retries', '0', '--json']);
      assert.equal(run.code, 69, run.stdout + run.stderr);
      const route = byId(ndjson(run.stdout)).get('target-route');
      assert.equal(route?.['status'], 'fail', run.stdout);
      assert.equal(route?.['summary'], '10.249.0.2 is unreachable by ip rule 1001: from all to 10.249.0.2 unreachable (ip route get: Network is unreachable)');
      // The refused sends are findings too, not the end of the run.
      assert.match(String(byId(ndjson(run.stdout)).get('target-info')?.['summary']), /^GETINFO to 10\.249\.0\.2:2425 cannot be sent: .*ENETUNREACH/);
      assert.equal(ndjson(run.stdout).at(-2)?.['event'], 'summary');
    } finally {
      await lan.run(2, 'ip', ['rule', 'del', 'priority', '1001']);
    }
  });

  test("the target's key, asked with GETPUBKEY: the pinned one is ✔; another one pinned is ✖ with the command that accepts it (exit 69)", async () => {
    await bob();
    const trust = await lan.run(0, process.execPath, [binPath, 'keys', 'trust', ...identity('alice'), '10.249.0.2'], { env: pinnedHome.env });
    assert.equal(trust.code, 0, trust.stderr);
    const pinned = (args: readonly string[]) => lan.run(0, process.execPath, [binPath, 'doctor', ...identity('alice'), '--wait', '1s', '--timeout', '1s', ...args], { env: pinnedHome.env });
    const same = await pinned(['10.249.0.2']);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    const shown = /^✔ key ([0-9a-f]{16}) of bob@bob-pc is the pinned one \(its user name agrees\)$/m.exec(same.stdout);
    assert.ok(shown, same.stdout);
    // Another key pinned for bob@bob-pc: as if bob's machine had made a new one.
    const file = join(String(pinnedHome.env['XDG_CONFIG_HOME']), 'ipmsg', 'known-peers.json');
    const known = JSON.parse(readFileSync(file, 'utf8')) as { peers: Record<string, { fingerprint: string; publicKey: string }> };
    const entry = known.peers['bob@bob-pc'];
    assert.ok(entry, JSON.stringify(known));
    const other = fixtureKey('carol-rsa2048').publicKey;
    entry.fingerprint = fingerprint(other);
    entry.publicKey = other.export({ type: 'spki', format: 'der' }).toString('base64');
    writeFileSync(file, JSON.stringify(known));
    const changed = await pinned(['10.249.0.2']);
    assert.equal(changed.code, 69, changed.stdout + changed.stderr);
    assert.match(changed.stdout, new RegExp(`^✖ bob@bob-pc shows key ${shown[1]}, but ${entry.fingerprint} is pinned: encrypted sends refuse \\(67\\)$`, 'm'));
    assert.match(changed.stdout, /→ if it made a new key and you trust it, run: ipmsg keys trust bob@bob-pc$/m);
    assert.equal(readFileSync(file, 'utf8'), JSON.stringify(known), 'the doctor left known-peers.json alone');
    // --no-crypto: sends would not encrypt, so the key is not asked for.
    const plain = await pinned(['10.249.0.2', '--no-crypto']);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, /^– no keys \(--no-crypto\): sends to it go in plain text, its key is not asked for$/m);
  });

  test('--encoding is how answers are read: a Shift_JIS peer without UTF-8 is named right with --encoding cp932', async () => {
    // A legacy peer on node 2: answers BR_ENTRY with ANSENTRY, its user name 田中 in Shift_JIS, no UTF-8 flag.
    const script = `
      const s = require('dgram').createSocket('udp4');
      const tanaka = Buffer.from([0x93, 0x63, 0x92, 0x86]);
      s.on('message', (m, r) => {
        if ((Number(m.toString('latin1').split(':')[4]) & 0xff) !== 1) return;
        s.send(Buffer.concat([Buffer.from('1:7:'), tanaka, Buffer.from(':tanaka-pc:3:'), tanaka, Buffer.from([0, 0])]), r.port, r.address);
      });
      s.bind(2425, () => console.log('up'));`;
    const legacy = lan.spawn(2, process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => legacy.stdout?.once('data', () => resolve()));
    try {
      const users = async (args: readonly string[]): Promise<unknown[]> => {
        const run = await lan.run(0, process.execPath, [binPath, 'doctor', ...identity('alice'), '--wait', '1s', '-4', '--json', ...args], { env: { ...doctorHome.env, LANG: 'C', LC_ALL: 'C' }, timeoutMs: 30_000 });
        const answers = byId(ndjson(run.stdout)).get('answers')?.['details'] as { peers: Record_[] } | undefined;
        return (answers?.peers ?? []).filter((p) => p['address'] === '10.249.0.3').map((p) => p['user']);
      };
      assert.deepEqual(await users(['--encoding', 'cp932']), ['田中']);
      assert.notDeepEqual(await users([]), ['田中'], 'without --encoding the legacy code page of a C locale reads it otherwise');
    } finally {
      legacy.kill();
    }
  });

  test('--bind an address this host lacks: the port checks and the socket are ✖, nothing is probed (69)', async () => {
    const run = await doctor(0, ['--bind', '10.249.0.200', '--json']);
    assert.equal(run.code, 69, run.stderr);
    const records = ndjson(run.stdout);
    assert.deepEqual(records.filter((r) => r['event'] === 'check').map((r) => [r['id'], r['status']]), [
      ['udp-port', 'fail'],
      ['tcp-port', 'fail'],
      ['socket', 'fail'],
    ]);
    assert.match(String(records[0]?.['summary']), /no interface has the address 10\.249\.0\.200/);
  });

  test('the port held by another process: its name and pid; the probes go on from a free port (exit 0)', async () => {
    await bob();
    const holder = lan.spawn(0, process.execPath, [binPath, 'recv', '-v', ...identity('carol'), '--timeout', '60s'], { env: peers.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      holder.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('listening on UDP port 2425')) resolve();
      });
      holder.once('exit', () => reject(new Error(`recv ended early: ${stderr}`)));
    });
    try {
      const run = await doctor(0, ['10.249.0.2']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`^⚠ \\S*node \\S*ipmsg\\.js recv .* \\(pid ${holder.pid}\\) holds UDP 2425: ipmsg falls back to a free port$`, 'm'));
      assert.match(run.stdout, /^✔ TCP 2425 is free/m);
      assert.match(run.stdout, /^✔ 10\.249\.0\.2:2425 answered GETINFO/m);
    } finally {
      holder.kill('SIGINT');
    }
  });
});
