// test/transfer/chunk-writer.test.ts
// ChunkWriter against a recording socket: the first flush is FIRST_CHUNK_SIZE, later ones
// CHUNK_SIZE, each written in slices of WRITE_SLICE; headers written in place never pass the flush
// size, and the bytes on the wire are exactly the bytes given, in order, with and without the
// stream cipher.

import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createFileStreamCipher } from '../../src/crypto/file-crypto.js';
import { CHUNK_SIZE, ChunkWriter, FIRST_CHUNK_SIZE, WRITE_SLICE } from '../../src/transfer/chunk-writer.js';

const root = mkdtempSync(join(tmpdir(), 'ipmsg-chunk-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A socket that keeps a copy of each write and completes it on the next tick. */
function recordingSocket(): { socket: Socket; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = {
    write(bytes: Uint8Array, callback: (error?: Error) => void): boolean {
      writes.push(Buffer.from(bytes));
      setImmediate(callback);
      return true;
    },
  } as unknown as Socket;
  return { socket, writes };
}

/** The socket writes of one flush of `size` bytes. */
const slices = (size: number): number[] => Array.from({ length: Math.ceil(size / WRITE_SLICE) }, (_, i) => Math.min(WRITE_SLICE, size - i * WRITE_SLICE));

/** The flush sizes behind a list of socket writes (each flush but the last is a whole number of slices, then a shorter one). */
function flushes(writes: readonly number[]): number[] {
  const out: number[] = [];
  let current = 0;
  for (const size of writes) {
    current += size;
    if (size < WRITE_SLICE || current === CHUNK_SIZE) {
      out.push(current);
      current = 0;
    }
  }
  if (current > 0) out.push(current);
  return out;
}

const pattern = (length: number, seed: number): Buffer => {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + seed) & 0xff;
  return bytes;
};

describe('ChunkWriter', () => {
  test('the first write is short, the next ones full, and the wire carries the bytes in order', async () => {
    const { socket, writes } = recordingSocket();
    const writer = new ChunkWriter(socket);
    const expected: Buffer[] = [];
    // Many small pieces, as a folder of small files: headers in place, contents appended.
    for (let i = 0; i < 700; i++) {
      const header = pattern(20, i);
      const wrote = writer.tryWrite((buffer, offset) => {
        if (offset + header.length > buffer.length) return 0;
        header.copy(buffer, offset);
        return header.length;
      });
      if (!wrote) await writer.append(header);
      expected.push(header);
      const content = pattern(4096, i + 1);
      if (!writer.tryAppend(content)) await writer.append(content);
      expected.push(content);
    }
    await writer.drain();
    assert.deepEqual(Buffer.concat(writes), Buffer.concat(expected));
    for (const w of writes) assert.ok(w.length <= WRITE_SLICE, `a socket write of ${w.length}`);
    const sizes = flushes(writes.map((w) => w.length));
    assert.ok(sizes[0]! <= FIRST_CHUNK_SIZE && sizes[0]! > FIRST_CHUNK_SIZE - 4200, `first write ${sizes[0]}`);
    for (const size of sizes.slice(1, -1)) assert.ok(size <= CHUNK_SIZE && size > CHUNK_SIZE - 4200, `write of ${size}`);
  });

  test('appendFile splits a large file at the flush sizes, and the cipher covers every byte', async () => {
    const content = pattern(3 * CHUNK_SIZE + 12_345, 3);
    const path = join(root, 'large.bin');
    writeFileSync(path, content);
    const key = new Uint8Array(32).fill(9);
    const { socket, writes } = recordingSocket();
    const writer = new ChunkWriter(socket, createFileStreamCipher(key, 77));
    const fd = openSync(path, 'r');
    try {
      assert.equal(await writer.appendFile(fd, 0, content.length), content.length);
      await writer.drain();
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(
      writes.map((w) => w.length),
      [FIRST_CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, content.length - FIRST_CHUNK_SIZE - 2 * CHUNK_SIZE].flatMap(slices),
    );
    assert.deepEqual(Buffer.concat(writes), createFileStreamCipher(key, 77).update(content));
  });
});
