// test/workflows/windows-command.test.ts
// How `ipmsg run` finds and starts a command on Windows (pure: the file system is a set of paths):
// the quoting table for batch-file arguments, what is refused, and the PATH / PATHEXT search.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type WindowsLookup, batchCommandLine, findWindowsCommand, planWindowsCommand, quoteBatchArgument } from '../../src/workflows/windows-command.js';

function lookup(files: readonly string[], extra: Partial<WindowsLookup> = {}): WindowsLookup {
  const set = new Set(files.map((f) => f.toLowerCase()));
  return { cwd: 'C:\\work', path: 'C:\\Windows\\system32;"C:\\Program Files\\nodejs";;C:\\tools', pathext: '.COM;.EXE;.BAT;.CMD', comspec: 'C:\\Windows\\system32\\cmd.exe', isFile: (p) => set.has(p.toLowerCase()), ...extra };
}

describe('quoteBatchArgument: what cmd hands on to a batch file unchanged', () => {
  const TABLE: ReadonlyArray<readonly [string, string]> = [
    ['plain', 'plain'],
    ['--flag=value', '"--flag=value"'],
    ['C:\\dir\\file.txt', 'C:\\dir\\file.txt'],
    ['a b', '"a b"'],
    ['', '""'],
    ['say "hi"', '"say ""hi"""'],
    ['a & calc', '"a & calc"'],
    ['x|y', '"x|y"'],
    ['<in>', '"<in>"'],
    ['x^y', '"x^y"'],
    ['(a)', '"(a)"'],
    ['a,b;c', '"a,b;c"'],
    ['!x!', '"!x!"'],
    ['tail\\', '"tail\\\\"'],
    ['a\\"b', '"a\\\\""b"'],
    ['a\\\\b c', '"a\\\\b c"'],
    ['飞鸽', '飞鸽'],
    ['"&"', '"""&"""'],
  ];
  for (const [arg, quoted] of TABLE) {
    test(`${JSON.stringify(arg)} → ${quoted}`, () => assert.equal(quoteBatchArgument(arg), quoted));
  }

  test('every quoted argument keeps cmd in quoted mode over its special characters', () => {
    for (const [arg] of TABLE) {
      const quoted = quoteBatchArgument(arg) ?? '';
      let inQuotes = false;
      for (const c of quoted) {
        if (c === '"') inQuotes = !inQuotes;
        else if ('&|<>^()'.includes(c)) assert.ok(inQuotes, `${c} outside quotes in ${quoted}`);
      }
      assert.equal(inQuotes, false, `unbalanced quotes in ${quoted}`);
    }
  });

  for (const arg of ['50%', '%PATH%', 'line\nbreak', 'cr\r', 'nul\0']) {
    test(`${JSON.stringify(arg)} is refused: cmd would expand it or cut the line`, () => assert.equal(quoteBatchArgument(arg), undefined));
  }
});

describe('batchCommandLine', () => {
  test('the script and its arguments, in one pair of outer quotes for cmd /s /c', () => {
    assert.deepEqual(batchCommandLine('C:\\my tools\\t.cmd', ['a b', 'x']), { line: '""C:\\my tools\\t.cmd" "a b" x"' });
  });

  test('an unsafe argument is named in the refusal', () => {
    const built = batchCommandLine('C:\\t.cmd', ['ok', '100%']);
    assert.ok('unsafe' in built);
    assert.match(built.unsafe, /cannot pass "100%" to the batch file t\.cmd/);
  });
});

describe('findWindowsCommand: the current folder, then PATH, with PATHEXT', () => {
  test('a bare name gets the PATHEXT extensions in their order', () => {
    const l = lookup(['C:\\Program Files\\nodejs\\npm.cmd', 'C:\\tools\\npm.exe']);
    assert.equal(findWindowsCommand('npm', l), 'C:\\Program Files\\nodejs\\npm.cmd');
    assert.equal(findWindowsCommand('npm', lookup(['C:\\tools\\npm.bat', 'C:\\tools\\npm.exe'])), 'C:\\tools\\npm.exe');
  });

  test('the current folder comes first, as in cmd', () => {
    assert.equal(findWindowsCommand('build', lookup(['C:\\work\\build.cmd', 'C:\\tools\\build.exe'])), 'C:\\work\\build.cmd');
  });

  test('a name with an extension is tried as it is first', () => {
    assert.equal(findWindowsCommand('tool.cmd', lookup(['C:\\tools\\tool.cmd', 'C:\\tools\\tool.cmd.exe'])), 'C:\\tools\\tool.cmd');
    assert.equal(findWindowsCommand('python3.11', lookup(['C:\\tools\\python3.11.exe'])), 'C:\\tools\\python3.11.exe');
  });

  test('a name with a folder is looked for only there, relative to the current folder', () => {
    assert.equal(findWindowsCommand('scripts\\go', lookup(['C:\\work\\scripts\\go.bat'])), 'C:\\work\\scripts\\go.bat');
    assert.equal(findWindowsCommand('.\\go', lookup(['C:\\tools\\go.exe'])), undefined);
    assert.equal(findWindowsCommand('D:/x/y', lookup(['D:\\x\\y.exe'])), 'D:\\x\\y.exe');
  });

  test('no PATHEXT: the default .COM;.EXE;.BAT;.CMD', () => {
    assert.equal(findWindowsCommand('go', lookup(['C:\\tools\\go.bat'], { pathext: undefined })), 'C:\\tools\\go.bat');
  });
});

describe('planWindowsCommand', () => {
  test('.exe runs directly with its arguments as given', () => {
    assert.deepEqual(planWindowsCommand(['node', '-e', 'x "y"'], lookup(['C:\\Program Files\\nodejs\\node.exe'])), {
      kind: 'spawn',
      file: 'C:\\Program Files\\nodejs\\node.exe',
      args: ['-e', 'x "y"'],
      verbatim: false,
    });
  });

  test('.cmd runs through %ComSpec% /d /v:off /s /c with a verbatim command line', () => {
    assert.deepEqual(planWindowsCommand(['npm', 'test', 'a&b'], lookup(['C:\\Program Files\\nodejs\\npm.cmd'])), {
      kind: 'spawn',
      file: 'C:\\Windows\\system32\\cmd.exe',
      args: ['/d', '/v:off', '/s', '/c', '""C:\\Program Files\\nodejs\\npm.cmd" test "a&b""'],
      verbatim: true,
    });
  });

  test('not found is 127, a file that is no program 126, an unsafe batch argument refused', () => {
    assert.deepEqual(planWindowsCommand(['nope'], lookup([])), { kind: 'not-found', reason: 'nope: command not found', code: 127 });
    const py = planWindowsCommand(['run.py'], lookup(['C:\\work\\run.py']));
    assert.equal(py.kind, 'cannot-run');
    assert.equal(py.kind === 'cannot-run' && py.code, 126);
    assert.equal(planWindowsCommand(['go', '%x%'], lookup(['C:\\tools\\go.cmd'])).kind, 'unsafe');
    assert.equal(planWindowsCommand(['go.exe', '%x%'], lookup(['C:\\tools\\go.exe'])).kind, 'spawn');
  });
});
