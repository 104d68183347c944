// src/workflows/progress.ts
// How a transfer reports its progress to whoever shows it (the CLI's bars, or a library user).

export interface ProgressItem {
  update(bytes: number): void;
  finish(): void;
}

/** Starts one item per transfer; `initial` is where a resumed transfer starts. */
export interface ProgressSink {
  start(name: string, total: number | undefined, initial?: number): ProgressItem;
}

const IGNORED: ProgressItem = { update: () => undefined, finish: () => undefined };

export const noProgress: ProgressSink = { start: () => IGNORED };
