// test/e2e/recv-exec.test.ts
// recv --exec and --absence between real processes on 127.0.0.1: the handler reads the message's
// JSON on stdin and IPMSG_* variables (never the command line), --reply sends its output back,
// --exec-timeout kills a hanging handler with what it started, --jobs bounds how many run, SIGTERM
// ends the run with a record for every message; --absence answers `ipmsg absence` and auto-replies.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ReceivedMessage } from '../../src/messenger/index.js';
import { IPMSG_AUTORETOPT, hasOpt } from '../../src/protocol/command.js';
import { openMessenger } from '../../src/workflows/client.js';
import { type Running, freePort, jsonLines, makeSandbox, startCli } from '../helpers/cli.js';

const sandbox = makeSandbox();
const root = mkdtempSync(join(tmpdir(), 'ipmsg-exec-'));
after(() => {
  sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
function folder(): string {
  const dir = join(root, `case-${dirs++}`);
  mkdirSync(dir);
  return dir;
}

/** A library peer on 127.0.0.1 that sends messages and keeps what it is sent. */
async function libraryPeer(user: string) {
  const port = await freePort();
  const state = folder();
  const client = await openMessenger({ port, strictPort: true, bind: '127.0.0.1', crypto: false, user, host: `${user}-pc`, nick: `${user} nick`, group: 'lab', stateDir: state, keyDir: state, env: {} });
  const inbox: ReceivedMessage[] = [];
  client.messenger.handler = { accepts: () => true, deliver: (m) => inbox.push(m) };
  return {
    port,
    inbox,
    client,
    /** Sends `text` to a recv on `to`, resending while it starts. */
    async send(to: number, text: string): Promise<void> {
      const [outcome] = await client.messenger.sendMessage([{ text: `127.0.0.1:${to}`, address: '127.0.0.1', port: to }], text, {
        check: true,
        seal: false,
        waitRead: false,
        readTimeout: undefined,
        timeout: 20_000,
        retries: 40,
      });
      assert.equal(outcome?.status, 'delivered', `not delivered: ${outcome?.error?.message}`);
    },
    /** BR_ENTRY to a recv on `to` until it answers, so that it knows our nick and group. */
    async introduce(to: number): Promise<void> {
      const at = { address: '127.0.0.1', port: to };
      for (let i = 0; i < 150 && client.messenger.peers.get(at) === undefined; i++) {
        await client.messenger.announceTo(at);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(client.messenger.peers.get(at), 'recv never answered BR_ENTRY');
    },
    close: () => client.close(),
  };
}

async function startRecv(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ recv: Running; port: number }> {
  const port = await freePort();
  const recv = startCli(['recv', '--bind', '127.0.0.1', '--port', String(port), '--no-crypto', '--no-announce', '--json', ...args], { ...sandbox.env, ...env });
  return { recv, port };
}

async function until(done: () => boolean, what: string, limit = 15_000): Promise<void> {
  for (let waited = 0; !done(); waited += 50) {
    if (waited > limit) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** No process is left in the process group `group`. */
function groupGone(group: number): boolean {
  try {
    process.kill(-group, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const events = (stdout: string, event: string) => jsonLines(stdout).filter((l) => l['event'] === event);
const messagesIn = (stdout: string) => jsonLines(stdout).filter((l) => l['event'] === undefined);

// The handlers are POSIX shell commands (sh -c); on Windows cmd runs them, and their process groups do not exist.
describe('recv --exec', { skip: process.platform === 'win32' ? 'POSIX shell handlers' : false }, () => {
  test('the handler gets the JSON record on stdin and IPMSG_* variables; the text never reaches the command line', async () => {
    const out = folder();
    const text = `hi $(touch ${out}/pwned1) \`touch ${out}/pwned2\`; touch ${out}/pwned3 "q" 'q' | tee\nsecond line`;
    const { recv, port } = await startRecv(['--count', '1', '--exec', 'cat > "$OUT/stdin.json"; env > "$OUT/env.txt"; printf %s "$IPMSG_TEXT" > "$OUT/text.txt"'], { OUT: out });
    const alice = await libraryPeer('alice');
    try {
      await alice.introduce(port);
      await alice.send(port, text);
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      const [record] = messagesIn(result.stdout);
      assert.deepEqual(JSON.parse(readFileSync(join(out, 'stdin.json'), 'utf8')), record, 'stdin holds the record recv --json prints');
      assert.equal(readFileSync(join(out, 'text.txt'), 'utf8'), text);
      const env = readFileSync(join(out, 'env.txt'), 'utf8').split('\n');
      for (const line of [
        'IPMSG_FROM_USER=alice',
        'IPMSG_FROM_HOST=alice-pc',
        'IPMSG_FROM_NICK=alice nick',
        'IPMSG_FROM_GROUP=lab',
        'IPMSG_FROM_ADDRESS=127.0.0.1',
        `IPMSG_FROM_PORT=${alice.port}`,
        `IPMSG_PACKET_NO=${String(record?.['packetNo'])}`,
        'IPMSG_ENCRYPTED=0',
        'IPMSG_SEALED=0',
        'IPMSG_SIGNATURE=none',
        'IPMSG_ATTACHMENTS=0',
        `OUT=${out}`,
      ]) {
        assert.ok(env.includes(line), `${line} in the handler's environment`);
      }
      for (const name of ['pwned1', 'pwned2', 'pwned3']) assert.equal(existsSync(join(out, name)), false, `${name}: the text was run`);
      const [handled] = events(result.stdout, 'handled');
      assert.deepEqual({ ...handled, durationMs: 0 }, { event: 'handled', packetNo: record?.['packetNo'], exit: 0, signal: null, durationMs: 0, timedOut: false, stopped: false, replied: false });
    } finally {
      await alice.close();
    }
  });

  test('--reply: the output goes back to the sender, cut to one datagram; empty output sends nothing', async () => {
    const handler = 'case "$IPMSG_TEXT" in big) head -c 100000 /dev/zero | tr "\\0" x ;; quiet) ;; *) printf "pong: %s\\n\\n" "$IPMSG_TEXT" ;; esac';
    const { recv, port } = await startRecv(['--count', '3', '--reply', '--exec', handler]);
    const bob = await libraryPeer('bob');
    try {
      await bob.send(port, 'ping');
      await until(() => bob.inbox.length === 1, 'the reply');
      await bob.send(port, 'big');
      await until(() => bob.inbox.length === 2, 'the second reply');
      await bob.send(port, 'quiet');
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      const [pong, big] = bob.inbox;
      assert.equal(pong?.packet.text, 'pong: ping', 'trailing blank lines trimmed');
      assert.equal(hasOpt(pong?.packet.command ?? 0, IPMSG_AUTORETOPT), false);
      assert.match(big?.packet.text ?? '', /^x+$/);
      assert.ok((big?.packet.text.length ?? 0) > 4000 && (big?.packet.text.length ?? 0) < 8192, `cut to fit: ${big?.packet.text.length}`);
      assert.equal(bob.inbox.length, 2, 'no reply for empty output');
      const handled = events(result.stdout, 'handled');
      assert.deepEqual(handled.map((h) => [h['replied'], h['replyCut'] ?? false]), [[true, false], [true, true], [false, false]]);
    } finally {
      await bob.close();
    }
  });

  test('--exec-timeout stops a hanging handler and what it started (SIGTERM to its process group)', async () => {
    const out = folder();
    const { recv, port } = await startRecv(['--count', '1', '--exec-timeout', '1s', '--exec', 'echo $$ > "$OUT/pid"; sleep 100 & wait'], { OUT: out });
    const carol = await libraryPeer('carol');
    try {
      await carol.send(port, 'hang');
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      const [handled] = events(result.stdout, 'handled');
      assert.equal(handled?.['timedOut'], true);
      assert.equal(handled?.['signal'], 'SIGTERM');
      assert.equal(handled?.['exit'], null);
      assert.match(result.stderr, /handler for message \d+ from carol@carol-pc .* timed out, killed/);
      const group = Number(readFileSync(join(out, 'pid'), 'utf8'));
      // Without the group kill the sleep would live on for 100 s; its zombie may take a moment to be reaped.
      await until(() => groupGone(group), 'the sleep it started to be gone too', 10_000);
    } finally {
      await carol.close();
    }
  });

  test('--exec-timeout: a program the handler left running in its process group is stopped after the handler exited', async () => {
    const out = folder();
    // The shell exits at once; the sleep it started stays in its group, holding its stdout open.
    const { recv, port } = await startRecv(['--count', '1', '--exec-timeout', '1s', '--exec', 'echo $$ > "$OUT/pid"; sleep 100 & exit 0'], { OUT: out });
    const carol = await libraryPeer('carol');
    try {
      await carol.send(port, 'leave');
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(events(result.stdout, 'handled')[0]?.['timedOut'], true);
      const group = Number(readFileSync(join(out, 'pid'), 'utf8'));
      await until(() => groupGone(group), 'the sleep left in the group to be gone', 10_000);
    } finally {
      await carol.close();
    }
  });

  test('--exec-timeout: a program that left the handler\'s process group and holds its output does not hold the run', async () => {
    const out = folder();
    // setsid: out of the group the timeout ends (as on Windows without taskkill /T), stdout kept open.
    const { recv, port } = await startRecv(['--count', '1', '--exec-timeout', '1s', '--exec', 'setsid sleep 1000 & echo $! > "$OUT/pid"; wait'], { OUT: out });
    const carol = await libraryPeer('carol');
    let leftover = 0;
    try {
      await carol.send(port, 'hang');
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(events(result.stdout, 'handled')[0]?.['timedOut'], true);
      leftover = Number(readFileSync(join(out, 'pid'), 'utf8'));
      // recv ended while the program still runs with the handler's stdout open.
      assert.doesNotThrow(() => process.kill(leftover, 0), 'the setsid program was gone: nothing was tested');
    } finally {
      if (leftover > 0) process.kill(leftover, 'SIGKILL');
      await carol.close();
    }
  });

  test('--jobs 2: two handlers run at once, the other messages are acknowledged and wait', async () => {
    const out = folder();
    const handler = 'mkdir "$OUT/run-$IPMSG_PACKET_NO"; ls "$OUT" | grep -c "^run-" > "$OUT/seen-$IPMSG_PACKET_NO"; while [ ! -e "$OUT/go" ]; do sleep 0.05; done; rmdir "$OUT/run-$IPMSG_PACKET_NO"';
    const { recv, port } = await startRecv(['--count', '4', '--jobs', '2', '--exec', handler], { OUT: out });
    const dave = await libraryPeer('dave');
    try {
      await Promise.all(['one', 'two', 'three', 'four'].map((t) => dave.send(port, t)));
      await until(() => messagesIn(recv.stdout()).length === 4, 'four messages taken');
      await until(() => readdirSync(out).filter((n) => n.startsWith('run-')).length === 2, 'two running');
      assert.equal(readdirSync(out).filter((n) => n.startsWith('run-')).length, 2, 'two running while all four are taken');
      writeFileSync(join(out, 'go'), '');
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      const seen = readdirSync(out)
        .filter((n) => n.startsWith('seen-'))
        .map((n) => Number(readFileSync(join(out, n), 'utf8')));
      assert.equal(seen.length, 4);
      assert.equal(Math.max(...seen), 2, `handlers running at once, as each saw it: ${seen.join(', ')}`);
      assert.deepEqual(events(result.stdout, 'handled').map((h) => h['exit']), [0, 0, 0, 0]);
    } finally {
      await dave.close();
    }
  });

  test('SIGTERM while a handler runs: it gets its grace then is stopped, the waiting message is recorded unhandled, exit 130', async () => {
    const out = folder();
    const handler = 'touch "$OUT/started-$IPMSG_PACKET_NO"; trap "exit 143" TERM; sleep 100 & wait';
    const { recv, port } = await startRecv(['--count', '0', '--exec', handler], { OUT: out });
    const erin = await libraryPeer('erin');
    try {
      await erin.send(port, 'first');
      await erin.send(port, 'second');
      await until(() => messagesIn(recv.stdout()).length === 2 && readdirSync(out).some((n) => n.startsWith('started-')), 'the first handler');
      recv.child.kill('SIGTERM');
      const result = await recv.done;
      assert.equal(result.code, 130, result.stderr);
      const [first, second] = messagesIn(result.stdout);
      const [handled] = events(result.stdout, 'handled');
      assert.equal(handled?.['packetNo'], first?.['packetNo']);
      assert.equal(handled?.['stopped'], true);
      assert.equal(handled?.['exit'], 143, 'its TERM trap ran');
      const [unhandled] = events(result.stdout, 'unhandled');
      assert.equal(unhandled?.['packetNo'], second?.['packetNo']);
      assert.equal(unhandled?.['reason'], 'stopped');
      assert.match(result.stderr, new RegExp(`message ${String(second?.['packetNo'])} from erin@erin-pc .* was acknowledged but not handled`));
      assert.deepEqual(readdirSync(out), [`started-${String(first?.['packetNo'])}`], 'the second never ran');
      assert.equal(jsonLines(result.stdout).length, 4, 'two messages, one handled, one unhandled');
    } finally {
      await erin.close();
    }
  });

  test('a second SIGTERM exits at once, and takes the running handlers with it', async () => {
    const out = folder();
    const { recv, port } = await startRecv(['--count', '0', '--exec', 'echo $$ > "$OUT/pid"; sleep 100 & wait'], { OUT: out });
    const gina = await libraryPeer('gina');
    try {
      await gina.send(port, 'hang');
      await until(() => existsSync(join(out, 'pid')) && readFileSync(join(out, 'pid'), 'utf8').endsWith('\n'), 'the handler');
      recv.child.kill('SIGTERM');
      // Two signals sent together may arrive as one: the second goes once the first was surely taken.
      await new Promise((resolve) => setTimeout(resolve, 300));
      recv.child.kill('SIGTERM');
      const result = await recv.done;
      assert.equal(result.code, 130, result.stderr);
      const group = Number(readFileSync(join(out, 'pid'), 'utf8'));
      await until(() => groupGone(group), 'the handler and its sleep to be gone', 10_000);
    } finally {
      await gina.close();
    }
  });

  test('--jobs, --reply and --exec-timeout need --exec (64)', async () => {
    const result = await startCli(['recv', '--reply', '--port', String(await freePort())], sandbox.env).done;
    assert.equal(result.code, 64);
    assert.match(result.stderr, /--reply only with --exec/);
  });
});

describe('recv --absence', () => {
  test('ipmsg absence gets the text, the entry says absent, and each sender gets one automatic reply', async () => {
    const { recv, port } = await startRecv(['--count', '2', '--absence', 'gone fishing']);
    const frank = await libraryPeer('frank');
    try {
      await frank.send(port, 'are you there?');
      const asked = await startCli(['absence', '--bind', '127.0.0.1', '--port', String(await freePort()), '--no-crypto', '--json', `127.0.0.1:${port}`], sandbox.env).done;
      assert.equal(asked.code, 0, asked.stderr);
      assert.equal(jsonLines(asked.stdout)[0]?.['absence'], 'gone fishing');
      await frank.client.messenger.announceTo({ address: '127.0.0.1', port });
      await frank.send(port, 'hello?');
      const result = await recv.done;
      assert.equal(result.code, 0, result.stderr);
      await until(() => frank.client.messenger.peers.get({ address: '127.0.0.1', port }) !== undefined, 'its ANSENTRY');
      assert.equal(frank.client.messenger.peers.get({ address: '127.0.0.1', port })?.absent, true);
      const replies = frank.inbox.filter((m) => hasOpt(m.packet.command, IPMSG_AUTORETOPT));
      assert.deepEqual(replies.map((m) => m.packet.text), ['gone fishing'], 'one automatic reply for two messages');
    } finally {
      await frank.close();
    }
  });
});
