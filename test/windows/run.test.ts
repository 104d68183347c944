// test/windows/run.test.ts
// `ipmsg run` under Windows' Node (Wine): a batch file found through PATHEXT in the current folder
// gets its arguments intact through cmd.exe (spaces, quotes, & | < > ^ ( ) ! never run), its exit
// status is ipmsg's and its message reaches a Linux `ipmsg recv`; a program found on PATH runs
// directly with its status kept; an unknown command is 127, a .py 126; a % for a batch file is refused (64);
// Ctrl-C ends ipmsg with 130 (on the second one: the first is the command's) and the command with it.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, jsonLines, local, makeSandbox, startCli } from '../helpers/cli.js';
import { processesWith, runWin, startWin, winPath, wineSetup, wineSkip } from '../helpers/wine.js';

const sandbox = makeSandbox();
// The Windows side pins this peer's key in its prefix, which outlives this file: a name of its own.
sandbox.env['IPMSG_HOST'] = `linux-run-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'ipmsg-wine-run-cmd-'));
after(() => {
  sandbox.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** Wine puts WINEPATH before the Windows PATH: node.exe's folder, so that `node` is found there. */
function pathEnv(): NodeJS.ProcessEnv {
  return { WINEPATH: winPath(dirname(wineSetup().node)) };
}

async function until(done: () => boolean, what: string, limit = 20_000): Promise<void> {
  for (let waited = 0; !done(); waited += 100) {
    if (waited > limit) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The arguments a batch file hands on with %* to a program that writes them as JSON. */
const ARGS = ['plain', 'two words', 'say "hi" & echo PWNED> pwned.txt', '(a)|<b>^c', '!PATH!', 'a,b;c=d', 'tail\\', '', '飞鸽'];

describe('Windows Node under Wine: ipmsg run', { skip: wineSkip }, () => {
  test('a .cmd in the current folder (no extension given) gets its arguments intact; its status and message arrive', async () => {
    writeFileSync(join(work, 'argv.js'), "require('fs').writeFileSync(process.argv[2], JSON.stringify(process.argv.slice(3)));\n");
    const script = [`@"${winPath(wineSetup().node)}" argv.js argv.json %*`, '@echo batch output', '@exit /b 7', ''].join('\r\n');
    writeFileSync(join(work, 'show-args.cmd'), script);
    const port = await freePort();
    const recv = startCli(['recv', ...local(port), '-v', '--json', '--count', '1', '--timeout', '60s'], sandbox.env);
    await recv.waitFor('listening on UDP port');
    const run = await runWin(['run', ...local(await freePort()), '--to', `127.0.0.1:${port}`, '--', 'show-args', ...ARGS], { cwd: work });
    assert.equal(run.code, 7, run.stderr);
    assert.equal(run.stdout.replace(/\r\n/g, '\n'), 'batch output\n');
    assert.deepEqual(JSON.parse(readFileSync(join(work, 'argv.json'), 'utf8')), ARGS);
    assert.equal(existsSync(join(work, 'pwned.txt')), false, 'cmd ran the text after &');
    const done = await recv.done;
    assert.equal(done.code, 0, done.stderr);
    const text = String(jsonLines(done.stdout)[0]?.['text']);
    assert.match(text, /show-args/);
    assert.match(text, /exit 7/);
    assert.match(text, /batch output/);
  });

  test('a program found on PATH (node → node.exe) runs directly: output through, exit status kept', async () => {
    const run = await runWin(['run', ...local(await freePort()), '--to', '127.0.0.1:9', '--on', 'success', '--', 'node', '-e', 'process.stdout.write(process.argv[1]); process.exit(3)', 'x "y" & z'], {
      cwd: work,
      env: pathEnv(),
    });
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stdout, 'x "y" & z');
  });

  test('cmd.exe itself: `cmd /c exit 5` is 5', async () => {
    const run = await runWin(['run', ...local(await freePort()), '--to', '127.0.0.1:9', '--on', 'success', '--', 'cmd', '/c', 'exit 5'], { cwd: work });
    assert.equal(run.code, 5, run.stderr);
  });

  test('an unknown command is 127, said on stderr and in its --json record', async () => {
    const run = await runWin(['run', ...local(await freePort()), '--to', '127.0.0.1:9', '--on', 'success', '--json', '--', 'no-such-command-here', 'x'], { cwd: work });
    assert.equal(run.code, 127, run.stderr);
    assert.match(run.stderr, /no-such-command-here: command not found/);
    const record = jsonLines(run.stdout).find((r) => r['event'] === 'command');
    assert.equal(record?.['exit'], 127);
  });

  test('a file that is neither a program nor a batch file is 126', async () => {
    writeFileSync(join(work, 'script.py'), 'print(1)\n');
    const run = await runWin(['run', ...local(await freePort()), '--to', '127.0.0.1:9', '--on', 'success', '--', 'script.py'], { cwd: work });
    assert.equal(run.code, 126, run.stderr);
    assert.match(run.stderr, /script\.py: .*script\.py is not a program or a batch file/);
  });

  test('a % in an argument for a batch file is refused before anything runs: 64', async () => {
    writeFileSync(join(work, 'touch.cmd'), '@echo ran> ran.txt\r\n');
    const run = await runWin(['run', ...local(await freePort()), '--to', '127.0.0.1:9', '--', 'touch.cmd', '100%'], { cwd: work });
    assert.equal(run.code, 64, run.stderr);
    assert.match(run.stderr, /cannot pass "100%" to the batch file touch\.cmd/);
    assert.equal(existsSync(join(work, 'ran.txt')), false);
  });

  test('Ctrl-C (SIGINT to Wine, twice: the first is for the command): ipmsg ends with 130 and leaves no command running', async () => {
    const marker = `ipmsg-run-ctrl-c-${process.pid}-${Date.now()}`;
    const started = join(work, 'ctrl-c-started');
    const run = startWin(['run', ...local(await freePort()), '--to', '127.0.0.1:9', '--on', 'success', '--', 'node', '-e', "require('fs').writeFileSync(process.argv[1], ''); setInterval(() => {}, 1000)", winPath(started), marker], {
      cwd: work,
      env: pathEnv(),
    });
    try {
      await until(() => existsSync(started), 'the command to start');
      let ended = false;
      void run.done.then(() => {
        ended = true;
      });
      // As often as it takes (twice): the first is the command's, the second ends ipmsg. Under Wine
      // the command here is ipmsg's own child; a batch file's programs need taskkill /T, which Wine lacks.
      for (let i = 0; i < 100 && !ended; i++) {
        run.child.kill('SIGINT');
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const done = await run.done;
      assert.equal(done.code, 130, done.stderr);
      await until(() => processesWith(marker).length === 0, 'the command to end with ipmsg');
    } finally {
      run.child.kill('SIGKILL');
      for (const pid of processesWith(marker)) process.kill(Number(pid), 'SIGKILL');
    }
  });
});
