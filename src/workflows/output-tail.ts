// src/workflows/output-tail.ts
// The end of a command's output, for its notification: at most `maxBytes` bytes are kept however
// much the command prints, and the last lines are read from them as a terminal would show them.

/** Bytes kept when nobody says otherwise: more than one datagram can carry, so trimming decides. */
export const DEFAULT_TAIL_BYTES = 16 * 1024;

export interface TailLines {
  /** The last lines, oldest first, without their line ends. */
  readonly lines: readonly string[];
  /** Output came before these lines (or the first of them was cut at its start). */
  readonly cut: boolean;
}

export class OutputTail {
  readonly #maxBytes: number;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #dropped = false;

  constructor(maxBytes = DEFAULT_TAIL_BYTES) {
    this.#maxBytes = Math.max(1, maxBytes);
  }

  /** Takes the next piece of output; whole pieces older than the last `maxBytes` are let go. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    for (let first = this.#chunks[0]; first && this.#bytes - first.length >= this.#maxBytes; first = this.#chunks[0]) {
      this.#chunks.shift();
      this.#bytes -= first.length;
      this.#dropped = true;
    }
  }

  /**
   * The last `count` lines as text: UTF-8 (invalid bytes shown as U+FFFD), CRLF as one line end,
   * a carriage return inside a line keeps only what was written after it (progress bars), and
   * terminal escape sequences and other control characters but the tab removed.
   */
  lines(count: number): TailLines {
    const all = Buffer.concat(this.#chunks);
    let start = Math.max(0, all.length - this.#maxBytes);
    const cutBytes = start > 0 || this.#dropped;
    // A multi-byte character whose start was let go is not shown as U+FFFD.
    while (cutBytes && start < all.length && ((all[start] ?? 0) & 0xc0) === 0x80) start++;
    const text = new TextDecoder('utf-8').decode(all.subarray(start));
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop(); // the output's own final line end
    const shown = lines.map(screenLine);
    const kept = count > 0 ? shown.slice(-count) : [];
    return { lines: kept, cut: cutBytes || kept.length < shown.length };
  }
}

// CSI (colours, cursor moves) and OSC (titles, links) sequences.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

// Other control characters (NUL, BEL, backspace…) but the tab: a message cannot carry NUL, and
// the rest show as nothing on a terminal.
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

function screenLine(raw: string): string {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const overwritten = line.lastIndexOf('\r');
  return (overwritten >= 0 ? line.slice(overwritten + 1) : line).replace(ESCAPES, '').replace(CONTROLS, '');
}
