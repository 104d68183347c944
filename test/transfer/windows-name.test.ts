// test/transfer/windows-name.test.ts
// Received names on Windows: every rule of windowsSafeName() in one table, names kept as they
// are elsewhere, and paths refused on every platform (nothing escapes the target folder).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unsafeName } from '../../src/transfer/save.js';
import { WINDOWS_NAME_MAX, localName, windowsSafeName } from '../../src/transfer/windows-name.js';

const long = (n: number, ch = 'a'): string => ch.repeat(n);

describe('windowsSafeName', () => {
  const table: [string, string][] = [
    ['report.pdf', 'report.pdf'],
    ['a<b>c:d"e|f?g*h.txt', 'a_b_c_d_e_f_g_h.txt'],
    ['tab\there\u0001\u001f', 'tab_here__'],
    ['a/b\\c', 'a_b_c'],
    ['name.', 'name'],
    ['name . . ', 'name'],
    ['...', '_'],
    ['   ', '_'],
    ['CON', 'CON_'],
    ['nul', 'nul_'],
    ['CON.txt', 'CON_.txt'],
    ['con.tar.gz', 'con_.tar.gz'],
    ['Aux.', 'Aux_'],
    ['PRN .txt', 'PRN_ .txt'],
    ['COM1', 'COM1_'],
    ['com9.log', 'com9_.log'],
    ['LPT1.x', 'LPT1_.x'],
    ['lpt9', 'lpt9_'],
    ['COM\u00b9.txt', 'COM\u00b9_.txt'],
    ['LPT\u00b3', 'LPT\u00b3_'],
    ['COM0', 'COM0'],
    ['COM10', 'COM10'],
    ['LPT', 'LPT'],
    ['CONSOLE.txt', 'CONSOLE.txt'],
    ['CON x.txt', 'CON x.txt'],
    ['xCON', 'xCON'],
    ['.CON', '.CON'],
    ['日本語のファイル.txt', '日本語のファイル.txt'],
  ];
  for (const [offered, saved] of table) {
    test(`${JSON.stringify(offered)} → ${JSON.stringify(saved)}`, () => {
      assert.equal(windowsSafeName(offered), saved);
      assert.equal(windowsSafeName(saved), saved, 'a safe name stays as it is');
    });
  }

  test('a name over the limit is shortened to it, keeping its extension', () => {
    const saved = windowsSafeName(`${long(300)}.txt`);
    assert.equal(saved, `${long(WINDOWS_NAME_MAX - 4)}.txt`);
    assert.equal(windowsSafeName(long(WINDOWS_NAME_MAX)), long(WINDOWS_NAME_MAX));
    assert.equal(windowsSafeName(long(WINDOWS_NAME_MAX + 1)), long(WINDOWS_NAME_MAX));
  });

  test('the limit counts UTF-16 code units, and a surrogate pair is never cut in half', () => {
    const emoji = '\u{1f600}'; // two code units
    const saved = windowsSafeName(`${emoji.repeat(200)}.txt`);
    assert.ok(saved.length <= WINDOWS_NAME_MAX);
    assert.ok(saved.endsWith('.txt'));
    assert.equal(saved.slice(0, -4), emoji.repeat((WINDOWS_NAME_MAX - 4) / 2));
    const odd = windowsSafeName(`x${emoji.repeat(200)}`);
    assert.equal(odd, `x${emoji.repeat((WINDOWS_NAME_MAX - 2) / 2)}`);
    assert.ok(!/[\ud800-\udbff]$/.test(odd));
  });

  test('a very long extension is not kept whole; a shortened name loses its trailing dots and spaces', () => {
    assert.equal(windowsSafeName(`a.${long(300, 'b')}`), `a.${long(WINDOWS_NAME_MAX - 2, 'b')}`);
    assert.equal(windowsSafeName(`${long(WINDOWS_NAME_MAX - 1)}  ${long(20)}`), long(WINDOWS_NAME_MAX - 1));
  });

  test('on Linux and macOS a name is kept as it is; on Windows the rule applies', () => {
    for (const name of ['CON.txt', 'a:b', 'x?', 'trailing.', 'nul', 'a<b>']) {
      assert.equal(localName(name, 'linux'), name);
      assert.equal(localName(name, 'darwin'), name);
      assert.equal(localName(name, 'win32'), windowsSafeName(name));
    }
    assert.equal(localName('CON.txt', 'win32'), 'CON_.txt');
  });
});

describe('offered names that are paths are refused on every platform', () => {
  const escapes = ['C:\\dir\\file', '\\\\server\\share\\x', '..\\..\\x', 'dir\\..\\..\\x', 'C:x', 'c:', '../x', 'a/b', '/etc/passwd', '\\x', 'a\\b', '..', '.', ''];
  for (const platform of ['linux', 'darwin', 'win32'] as const) {
    test(platform, () => {
      for (const name of escapes) assert.ok(unsafeName(name, platform) !== undefined, `${JSON.stringify(name)} is refused on ${platform}`);
    });
  }

  test('a name over 255 bytes is refused outside Windows, and shortened on Windows', () => {
    const name = `${'é'.repeat(200)}.txt`; // 404 bytes, 204 code units
    assert.match(unsafeName(name, 'linux') ?? '', /longer than 255 bytes/);
    assert.equal(unsafeName(name, 'win32'), undefined);
    assert.equal(windowsSafeName(name), name);
    assert.equal(unsafeName(long(400), 'win32'), undefined);
  });

  test('names Windows cannot hold are not refused: Windows renames them, others keep them', () => {
    for (const platform of ['linux', 'win32'] as const) {
      for (const name of ['CON.txt', 'ab:c', 'x?', 'trailing.', 'a<b>|c*"']) assert.equal(unsafeName(name, platform), undefined);
    }
  });
});
