// src/transfer/header-cursor.ts
// Reads the ':'-separated fields of one folder-stream header (§5.3) left to right: the parser asks
// for the next field and its value instead of computing offsets itself.

import { COLON } from '../encoding/fields.js';

/** Value of the hex digits in bytes[start, end), or -1 when empty, not hex or above `max`. */
export function hexNumber(bytes: Uint8Array, start: number, end: number, max: number): number {
  if (start >= end) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    let digit: number;
    if (b >= 0x30 && b <= 0x39) digit = b - 0x30;
    else if (b >= 0x61 && b <= 0x66) digit = b - 0x57;
    else if (b >= 0x41 && b <= 0x46) digit = b - 0x37;
    else return -1;
    value = value * 16 + digit;
    if (value > max) return -1;
  }
  return value;
}

/**
 * A `%llx` time: up to 16 hex digits, negative when the 64th bit is set (times before 1970).
 * @returns the seconds, or undefined when the digits are not such a time
 */
export function timeValue(bytes: Uint8Array, start: number, end: number): number | undefined {
  const value = hexNumber(bytes, start, end, Number.MAX_SAFE_INTEGER);
  if (value >= 0) return value;
  let first = start;
  while (first < end && bytes[first] === 0x30) first++;
  if (end - first !== 16 || hexNumber(bytes, first, end, Infinity) < 0) return undefined;
  let text = '';
  for (let i = first; i < end; i++) text += String.fromCharCode(bytes[i] as number);
  const signed = Number(BigInt.asIntN(64, BigInt(`0x${text}`)));
  return Number.isSafeInteger(signed) ? signed : undefined;
}

/**
 * One header, `bytes[start, end)`, as a sequence of fields. One cursor is reused for every header
 * (a header is ~40 bytes: a view or an object per field would cost more than parsing it).
 */
export class FieldCursor {
  bytes: Uint8Array = new Uint8Array(0);
  /** The current field: bytes[from, to); `to` is its ':'. */
  from = 0;
  to = 0;
  #next = 0;
  #end = 0;

  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.from = this.to = start;
    this.#next = start;
    this.#end = end;
    return this;
  }

  /** Moves to the next field; false when no ':' is left (the cursor stays where it was). */
  next(): boolean {
    const bytes = this.bytes;
    for (let i = this.#next; i < this.#end; i++) {
      if (bytes[i] !== COLON) continue;
      this.from = this.#next;
      this.to = i;
      this.#next = i + 1;
      return true;
    }
    return false;
  }

  /** The current field as a hex number, or -1 when it is empty, not hex or above `max`. */
  hex(max: number): number {
    return hexNumber(this.bytes, this.from, this.to, max);
  }

  /** Where the first `byte` of the current field is, or -1. */
  indexOf(byte: number): number {
    for (let i = this.from; i < this.to; i++) if (this.bytes[i] === byte) return i;
    return -1;
  }

  /** Whether the current field is exactly the single byte `byte`. */
  is(byte: number): boolean {
    return this.to - this.from === 1 && this.bytes[this.from] === byte;
  }
}
