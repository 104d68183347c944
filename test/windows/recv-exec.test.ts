// test/windows/recv-exec.test.ts
// `recv --exec` under Windows' Node (Wine), where handlers run through `cmd /d /s /c`: a .cmd
// handler gets the message's JSON on stdin and IPMSG_* variables (a peer's `&` or `%` in the text
// is never run or expanded), --reply sends its output back, and --exec-timeout ends a hung handler
// (taskkill /T /F; under Wine, whose taskkill has no /T, the handler's cmd.exe alone) and the run
// does not wait for the output of a program it left behind.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ReceivedMessage } from '../../src/messenger/index.js';
import { openMessenger } from '../../src/workflows/client.js';
import { freePort, jsonLines } from '../helpers/cli.js';
import { processesWith, startWin, winPath, wineSetup, wineSkip } from '../helpers/wine.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-wine-exec-'));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function folder(): string {
  const dir = join(root, `case-${dirs++}`);
  mkdirSync(dir);
  return dir;
}

/** A Linux library peer on 127.0.0.1 that sends a message and keeps what it is sent. */
async function linuxPeer() {
  const port = await freePort();
  const state = folder();
  const client = await openMessenger({ port, strictPort: true, bind: '127.0.0.1', crypto: false, user: 'dave', host: 'dave-pc', stateDir: state, keyDir: state, env: {} });
  const inbox: ReceivedMessage[] = [];
  client.messenger.handler = { accepts: () => true, deliver: (m) => inbox.push(m) };
  return {
    inbox,
    async send(to: number, text: string): Promise<void> {
      const [outcome] = await client.messenger.sendMessage([{ text: `127.0.0.1:${to}`, address: '127.0.0.1', port: to }], text, {
        check: true,
        seal: false,
        waitRead: false,
        readTimeout: undefined,
        timeout: 30_000,
        retries: 60,
      });
      assert.equal(outcome?.status, 'delivered', `not delivered: ${outcome?.error?.message}`);
    },
    close: () => client.close(),
  };
}

async function until(done: () => boolean, what: string, limit = 20_000): Promise<void> {
  for (let waited = 0; !done(); waited += 100) {
    if (waited > limit) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function recvArgs(port: number, extra: readonly string[]): string[] {
  return ['recv', '--bind', '127.0.0.1', '--port', String(port), '--no-crypto', '--no-announce', '-v', '--json', '--count', '1', ...extra];
}

describe('Windows Node under Wine: recv --exec', { skip: wineSkip }, () => {
  test('a .cmd handler reads the JSON on stdin and IPMSG_* variables; --reply sends its output back', async () => {
    const work = folder();
    const node = winPath(wineSetup().node);
    writeFileSync(join(work, 'stdin.js'), "process.stdin.pipe(require('fs').createWriteStream('stdin.json'));\n");
    const handler = ['@set IPMSG_> env.txt', `@"${node}" stdin.js`, '@echo handled for %IPMSG_FROM_USER%', ''].join('\r\n');
    writeFileSync(join(work, 'handler.cmd'), handler);
    const port = await freePort();
    const recv = startWin(recvArgs(port, ['--exec', 'handler.cmd', '--reply']), { cwd: work });
    const peer = await linuxPeer();
    try {
      await recv.waitFor('listening on UDP port', 30_000);
      const text = 'deploy & echo PWNED> pwned.txt "now" %PATH% ^!';
      await peer.send(port, text);
      const done = await recv.done;
      assert.equal(done.code, 0, done.stderr);
      const handled = jsonLines(done.stdout).find((r) => r['event'] === 'handled');
      assert.deepEqual([handled?.['exit'], handled?.['timedOut'], handled?.['replied']], [0, false, true]);
      const record = JSON.parse(readFileSync(join(work, 'stdin.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(record['text'], text);
      const env = readFileSync(join(work, 'env.txt'), 'utf8').split(/\r?\n/);
      assert.ok(env.includes(`IPMSG_TEXT=${text}`), env.join('\n'));
      assert.ok(env.includes('IPMSG_FROM_USER=dave'));
      assert.ok(env.includes(`IPMSG_PACKET_NO=${String(record['packetNo'])}`));
      assert.deepEqual(readdirSync(work).sort(), ['env.txt', 'handler.cmd', 'stdin.js', 'stdin.json']);
      await until(() => peer.inbox.length > 0, 'the reply');
      assert.equal(peer.inbox[0]?.packet.text.replace(/\r?\n$/, ''), 'handled for dave');
    } finally {
      recv.child.kill('SIGKILL');
      peer.close();
    }
  });

  test('--exec-timeout ends a hung handler; the run ends though a program it started holds its output', async () => {
    const work = folder();
    const marker = `ipmsg-hung-${process.pid}-${Date.now()}`;
    const node = winPath(wineSetup().node);
    writeFileSync(join(work, 'hang.cmd'), `@"${node}" -e "require('fs').writeFileSync('started', ''); setInterval(() => {}, 1000)" ${marker}\r\n@echo after> after.txt\r\n`);
    const port = await freePort();
    const recv = startWin(recvArgs(port, ['--exec', 'hang.cmd', '--exec-timeout', '3s']), { cwd: work });
    const peer = await linuxPeer();
    try {
      await recv.waitFor('listening on UDP port', 30_000);
      await peer.send(port, 'hang');
      const done = await recv.done;
      assert.equal(done.code, 0, done.stderr);
      const handled = jsonLines(done.stdout).find((r) => r['event'] === 'handled');
      assert.equal(handled?.['timedOut'], true, done.stdout);
      assert.match(done.stderr, /timed out, killed/);
      assert.ok(readdirSync(work).includes('started'), 'the handler never started its program');
      // Ended after the timeout: its cmd.exe is gone (the run waits for that), its output no longer
      // waited for. On Windows taskkill /T ends the node.exe it started too; Wine 8's taskkill has
      // no /T, so under Wine that program outlives it, and the test ends it here.
      assert.ok(!readdirSync(work).includes('after.txt'), 'cmd went on with the batch file');
    } finally {
      recv.child.kill('SIGKILL');
      peer.close();
      for (const pid of processesWith(marker)) process.kill(Number(pid), 'SIGKILL');
    }
  });
});
