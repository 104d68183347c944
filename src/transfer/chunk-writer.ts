// src/transfer/chunk-writer.ts
// Writes to a socket through two reused buffers: one fills (headers, small files, chunks of large
// ones) while the other is on the wire. Few syscalls, no copies per file. The first write is short,
// so that the peer starts early, and the large buffers are allocated only once the socket took it:
// a peer that never reads pins one short buffer, one that stops later at most two large ones.
// With a cipher (§5.6) each buffer is encrypted in place as it goes out, the stream from its first byte.

import type { Cipher } from 'node:crypto';
import { readSync } from 'node:fs';
import type { Socket } from 'node:net';
import { cipherInPlace } from '../crypto/file-crypto.js';

export const CHUNK_SIZE = 1024 * 1024;
/** The first write goes out at this size: the peer starts on it while the next chunk is read. */
export const FIRST_CHUNK_SIZE = 64 * 1024;
/**
 * A chunk goes to the socket in writes of at most this size, so that a slow peer is seen taking
 * bytes (`onWritten`) well before a whole chunk is through.
 */
export const WRITE_SLICE = 256 * 1024;

export class ChunkWriter {
  readonly #socket: Socket;
  /** Allocated on first use, at the size of the chunk they hold. */
  readonly #buffers: (Buffer | undefined)[] = [undefined, undefined];
  /** Settles when the buffer of the same index may be filled again. */
  readonly #free: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  #current = 0;
  #used = 0;
  /** Bytes collected before a flush: FIRST_CHUNK_SIZE until the first one, then CHUNK_SIZE. */
  #limit = FIRST_CHUNK_SIZE;
  #failure: Error | undefined;
  readonly #cipher: Cipher | undefined;
  readonly #onWritten: (() => void) | undefined;

  /**
   * `cipher` (AES-256-CTR, §5.6) encrypts every byte written, from the first; `onWritten` is called
   * each time the socket has taken a write.
   */
  constructor(socket: Socket, cipher?: Cipher, onWritten?: () => void) {
    this.#socket = socket;
    this.#cipher = cipher;
    this.#onWritten = onWritten;
  }

  get #buffer(): Buffer {
    let buffer = this.#buffers[this.#current];
    if (buffer === undefined || buffer.length < this.#limit) {
      buffer = Buffer.allocUnsafe(this.#limit);
      this.#buffers[this.#current] = buffer;
    }
    return buffer;
  }

  /** Sends what has been collected; the next bytes go to the other buffer once it is free. */
  async flush(): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#used === 0) return;
    const index = this.#current;
    const bytes = this.#buffer.subarray(0, this.#used);
    if (this.#cipher) cipherInPlace(this.#cipher, bytes);
    this.#free[index] = new Promise<void>((resolve) => {
      for (let at = 0; at < bytes.length; at += WRITE_SLICE) {
        const last = at + WRITE_SLICE >= bytes.length;
        this.#socket.write(bytes.subarray(at, at + WRITE_SLICE), (error) => {
          if (error) this.#failure ??= error;
          else this.#onWritten?.();
          if (last) resolve();
        });
      }
    });
    const first = this.#limit < CHUNK_SIZE;
    this.#current = 1 - index;
    this.#used = 0;
    this.#limit = CHUNK_SIZE;
    // No large buffer for a peer that has not taken the first bytes.
    if (first) await this.#free[index];
    await this.#free[this.#current];
    if (this.#failure) throw this.#failure;
  }

  /** Bytes that still fit in the current buffer (0 after a failure). */
  get room(): number {
    return this.#failure ? 0 : this.#limit - this.#used;
  }

  /**
   * Copies `bytes` when they fit in the current buffer, without a promise (a folder of small files
   * would otherwise pay for several awaits per file); false when the caller must await append().
   */
  tryAppend(bytes: Uint8Array): boolean {
    if (this.#failure || bytes.length > this.#limit - this.#used) return false;
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
    return true;
  }

  /**
   * Lets `write` fill the current buffer from its first free byte up to the flush size (it returns
   * how many bytes it wrote, 0 when they do not fit); false when nothing was written.
   */
  tryWrite(write: (buffer: Buffer, offset: number) => number): boolean {
    if (this.#failure) return false;
    const n = write(this.#buffer, this.#used);
    this.#used += n;
    return n > 0;
  }

  /**
   * appendFile() from the start of a file that fits in the current buffer, without a promise;
   * undefined when it does not fit.
   */
  tryAppendFile(fd: number, length: number): number | undefined {
    if (this.#failure || length > this.#limit - this.#used) return undefined;
    let done = 0;
    while (done < length) {
      const n = readSync(fd, this.#buffer, this.#used, length - done, done);
      if (n === 0) break;
      this.#used += n;
      done += n;
    }
    return done;
  }

  async append(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, this.#limit - this.#used);
      this.#buffer.set(bytes.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === this.#limit) await this.flush();
    }
  }

  /**
   * Appends `length` bytes of an open file from `position`; returns how many it could read (fewer
   * when the file shrank). Reads go straight into the send buffers.
   */
  async appendFile(fd: number, position: number, length: number, onChunk?: (bytes: number) => void): Promise<number> {
    let done = 0;
    while (done < length) {
      const want = Math.min(length - done, this.#limit - this.#used);
      const n = readSync(fd, this.#buffer, this.#used, want, position + done);
      if (n === 0) break;
      this.#used += n;
      done += n;
      onChunk?.(n);
      if (this.#used === this.#limit) await this.flush();
    }
    return done;
  }

  /** Flushes and waits until every byte has been handed to the kernel. */
  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.#free);
    if (this.#failure) throw this.#failure;
  }
}
