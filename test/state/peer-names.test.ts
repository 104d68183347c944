// test/state/peer-names.test.ts
// The peer names kept for completion: only shell-safe names, each once, bounded; a missing or
// hand-edited file gives what is safe in it.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PEER_NAMES_FILE, PEER_NAMES_LIMITS, isCompletableName, readPeerNames, writePeerNames } from '../../src/state/peer-names.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-names-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('peer names for completion', () => {
  test('written and read back; names a shell would read specially are left out', () => {
    const dir = join(root, 'a', 'ipmsg');
    assert.deepEqual(readPeerNames(dir), [], 'no cache yet');
    writePeerNames(dir, ['alice', 'alice@pc1', '张三', 'bob', 'alice', '$(reboot)', 'a b', "o'neil", 'x;y', '`id`', '-rf', '', 'tab\there', 'nl\nx']);
    assert.deepEqual(readPeerNames(dir), ['alice', 'alice@pc1', '张三', 'bob']);
    assert.equal(readFileSync(join(dir, PEER_NAMES_FILE), 'utf8'), 'alice\nalice@pc1\n张三\nbob\n');
    writePeerNames(dir, []);
    assert.deepEqual(readPeerNames(dir), [], 'the last list heard nobody');
  });

  test('bounded in count and length, also when the file was written by someone else', () => {
    const dir = join(root, 'b');
    writePeerNames(dir, Array.from({ length: PEER_NAMES_LIMITS.names + 50 }, (_, i) => `peer${i}`));
    assert.equal(readPeerNames(dir).length, PEER_NAMES_LIMITS.names);
    writeFileSync(join(dir, PEER_NAMES_FILE), ['ok', 'x'.repeat(PEER_NAMES_LIMITS.nameLength + 1), 'rm -rf ~', 'fine.name'].join('\n'));
    assert.deepEqual(readPeerNames(dir), ['ok', 'fine.name']);
    assert.equal(isCompletableName('x'.repeat(PEER_NAMES_LIMITS.nameLength)), true);
  });
});
