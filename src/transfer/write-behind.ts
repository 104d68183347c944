// src/transfer/write-behind.ts
// Writes received bytes to the disk behind the socket, so that receiving and writing overlap.

import { write } from 'node:fs';
import { RECEIVE_BUFFER } from './file-client.js';

/**
 * Writes to the disk behind the socket: each read lands in one of a few pooled buffers, which is
 * written asynchronously (libuv's thread pool) while the next read happens, so receiving and
 * writing use both cores. Reading pauses while every buffer is still being written.
 */
export class WriteBehind {
  static readonly SLOTS = 4;
  readonly #fd: number;
  readonly #free: Uint8Array[] = [];
  #pending = 0;
  #failure: Error | undefined;
  #idle: (() => void)[] = [];
  /** Called when a buffer comes back after `full` said stop. */
  onFree: (() => void) | undefined;

  constructor(fd: number) {
    this.#fd = fd;
    for (let i = 0; i < WriteBehind.SLOTS; i++) this.#free.push(Buffer.allocUnsafe(RECEIVE_BUFFER));
  }

  /** No buffer to read into, or as many writes pending as buffers. */
  get full(): boolean {
    return this.#free.length === 0 || this.#pending >= WriteBehind.SLOTS;
  }

  /**
   * The buffer for the next read. It stays free until data in it is written: the socket asks for a
   * buffer on every read attempt, also those that find nothing to read.
   */
  take(): Uint8Array {
    return this.#free[this.#free.length - 1] ?? Buffer.allocUnsafe(RECEIVE_BUFFER);
  }

  write(bytes: Buffer, owner: Uint8Array, position: number): void {
    if (this.#failure) throw this.#failure;
    const slot = this.#free.indexOf(owner);
    if (slot >= 0) this.#free.splice(slot, 1);
    this.#pending++;
    const step = (offset: number): void => {
      write(this.#fd, bytes, offset, bytes.length - offset, position + offset, (error, written) => {
        if (!error && offset + written < bytes.length) return step(offset + written);
        if (error) this.#failure ??= error;
        const wasFull = this.full;
        this.#pending--;
        if (slot >= 0) this.#free.push(owner);
        if (wasFull && !this.full) this.onFree?.();
        if (this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    };
    step(0);
  }

  /** Waits for every write; throws the first write error. */
  async drain(): Promise<void> {
    if (this.#pending > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#failure) throw this.#failure;
  }
}
