// src/state/packet-counter.ts
// Packet numbers that keep increasing across runs of the tool, even two runs in the same second or
// at the same time: the last number lives in a small state file, updated under a lock file. A run
// reserves a block of numbers at a time and draws the next ones from memory for as long as the file
// still ends at its block (nobody else drew since): one read instead of a locked rewrite. The
// one state file not written through atomic-write.cts: see #store.

import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { MAX_PACKET_NO, type PacketNo, nextPacketNo } from '../protocol/packet-no.js';
import busyRetry from './busy-retry.cjs';

/** The wall clock the numbers follow (transport/clock.ts's Clock fits). */
export interface PacketClock {
  now(): number;
}

/** The file in the state folder (paths().stateDir) that holds the last number drawn. */
export const PACKET_COUNTER_FILE = 'packet-no';

export interface PacketNumberSource {
  next(): PacketNo;
}

/** Numbers kept in memory only (tests, or when the state file cannot be written). */
export class MemoryPacketCounter implements PacketNumberSource {
  #last: number;
  readonly #clock: PacketClock;

  constructor(clock: PacketClock, last = 0) {
    this.#clock = clock;
    this.#last = last;
  }

  next(): PacketNo {
    const value = nextPacketNo(this.#last, this.#clock.now());
    this.#last = value;
    return value;
  }
}

const LOCK_STALE_MS = 2000;
/**
 * How long to wait for the lock before drawing without it (numbers may then repeat across runs).
 * Generous: with many runs started at once on few cores, a holder waits for the CPU behind the others.
 */
const LOCK_WAIT_MS = 5000;
/** Longest pause between two tries: waiters that poll every millisecond take the CPU the holder needs. */
const LOCK_POLL_MAX_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Numbers reserved per locked update. */
const BLOCK = 64;
/** Digits of the stored number: enough for MAX_PACKET_NO. */
const STORED_WIDTH = String(MAX_PACKET_NO).length;

export class FilePacketCounter implements PacketNumberSource {
  readonly #path: string;
  readonly #clock: PacketClock;
  readonly #warn: (message: string) => void;
  readonly #lockWaitMs: number;
  readonly #platform: NodeJS.Platform;
  #last = 0;
  /** The last number of our block, as we wrote it to the file. */
  #blockEnd = 0;
  /** Set once the file has failed: from then on numbers come from memory. */
  #memory: MemoryPacketCounter | undefined;

  /** `platform`: whose file semantics apply to the lock file (default: the running platform's). */
  constructor(path: string, clock: PacketClock, warn: (message: string) => void, lockWaitMs = LOCK_WAIT_MS, platform: NodeJS.Platform = process.platform) {
    this.#path = path;
    this.#clock = clock;
    this.#warn = warn;
    this.#lockWaitMs = lockWaitMs;
    this.#platform = platform;
  }

  next(): PacketNo {
    if (this.#memory) return this.#memory.next();
    try {
      return this.#nextInBlock() ?? this.#nextFromFile();
    } catch (error) {
      this.#warn(`cannot keep packet numbers in ${this.#path} (${(error as Error).message}); numbers may repeat across runs`);
      this.#memory = new MemoryPacketCounter(this.#clock, this.#last);
      return this.#memory.next();
    }
  }

  /**
   * The next number of our block while the file still ends at it: whoever draws after us starts
   * above the block, so ours stay below theirs as before. Undefined when the block is used up, the
   * clock has passed it, or another run drew since.
   */
  #nextInBlock(): PacketNo | undefined {
    if (this.#last >= this.#blockEnd) return undefined;
    const value = nextPacketNo(this.#last, this.#clock.now());
    if (value > this.#blockEnd || this.#stored() !== this.#blockEnd) return undefined;
    this.#last = value;
    return value;
  }

  #stored(): number {
    try {
      return Number.parseInt(readFileSync(this.#path, 'utf8'), 10) || 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return 0;
    }
  }

  #nextFromFile(): PacketNo {
    const lock = `${this.#path}.lock`;
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    const locked = this.#acquire(lock);
    try {
      const value = nextPacketNo(Math.max(this.#stored(), this.#last), this.#clock.now());
      const blockEnd = value + BLOCK - 1;
      this.#store(blockEnd);
      this.#last = value;
      // Without the lock another run may draw the same numbers: no block then.
      this.#blockEnd = locked ? blockEnd : value;
      return value;
    } finally {
      if (locked) busyRetry.retryWhileBusy(() => unlinkSync(lock), { platform: this.#platform });
    }
  }

  /**
   * Writes `value` over the start of the file, at a fixed width, in place, not through
   * atomic-write.cts: on ext4 a rename over a file (or a truncation) makes the kernel write the
   * new data out at once, on the path of a reply that draws a number. The lock already keeps
   * writers apart, and a reader without the lock that sees a half-written number can only leave
   * its block early, never repeat a number, since every locked update starts above what the file held.
   */
  #store(value: number): void {
    const text = `${String(value).padStart(STORED_WIDTH, ' ')}\n`;
    const fd = openSync(this.#path, constants.O_WRONLY | constants.O_CREAT, 0o600);
    try {
      writeSync(fd, text, 0);
      // Longer content (not ours) would leave stray characters after the newline.
      if (fstatSync(fd).size > text.length) ftruncateSync(fd, text.length);
    } finally {
      closeSync(fd);
    }
  }

  /** Takes the lock file; after waiting `lockWaitMs` goes on without it (and says false). */
  #acquire(lock: string): boolean {
    const deadline = Date.now() + this.#lockWaitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        closeSync(openSync(lock, 'wx', 0o600));
        return true;
      } catch (error) {
        if (!lockHeld((error as NodeJS.ErrnoException).code, this.#platform)) throw error;
      }
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) {
          unlinkSync(lock); // left behind by a killed run
          continue;
        }
      } catch {
        // The holder just released it; on Windows its name may linger until a reader lets go.
        if (Date.now() > deadline) return false;
        continue;
      }
      if (Date.now() > deadline) return false;
      Atomics.wait(sleeper, 0, 0, Math.min(LOCK_POLL_MAX_MS, 1 + (attempt >> 2)));
    }
  }
}

/**
 * Whether creating the lock file failed because someone holds it. On Windows a lock file just
 * deleted while another run looked at it stays "delete pending" for a moment, and creating it
 * again says EPERM (or EACCES), not EEXIST.
 */
export function lockHeld(code: string | undefined, platform: NodeJS.Platform): boolean {
  return code === 'EEXIST' || (platform === 'win32' && (code === 'EPERM' || code === 'EACCES'));
}
