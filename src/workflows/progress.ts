// src/workflows/progress.ts
// How a transfer reports its progress to whoever shows it (the CLI's bars, or a library user).

export interface ProgressItem {
  update(bytes: number): void;
  finish(): void;
}

/** The other end of a transfer: the recipient we serve (`to`) or the sender we fetch from (`from`). */
export type ProgressPeer = { readonly to: string } | { readonly from: string };

/**
 * Starts one item per transfer: `name` is the item's name, `total` its size (undefined for a
 * folder, whose size is not known in advance), `initial` where a resumed transfer starts.
 */
export interface ProgressSink {
  start(name: string, total: number | undefined, initial?: number, peer?: ProgressPeer): ProgressItem;
}

const IGNORED: ProgressItem = { update: () => undefined, finish: () => undefined };

export const noProgress: ProgressSink = { start: () => IGNORED };
