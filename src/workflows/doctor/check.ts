// src/workflows/doctor/check.ts
// What every doctor check returns: one verdict, one line saying what was found, one sentence of
// advice, and details for scripts.

/** ok: works; warn: works with a limit worth knowing; fail: a send needs it and it is broken; skip: cannot be checked here. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable name of the check (`udp-port`, `firewall`, `target-info`…). */
  readonly id: string;
  readonly status: CheckStatus;
  /** What was found, one line. */
  readonly summary: string;
  /** What to do about it, one sentence; absent when there is nothing to do. */
  readonly advice?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export function check(id: string, status: CheckStatus, summary: string, advice?: string, details?: Readonly<Record<string, unknown>>): CheckResult {
  return { id, status, summary, ...(advice !== undefined ? { advice } : {}), ...(details !== undefined ? { details } : {}) };
}

/** Every status counted, and whether a send would work: no check failed. */
export interface DoctorSummary {
  readonly ok: number;
  readonly warn: number;
  readonly fail: number;
  readonly skip: number;
  readonly healthy: boolean;
}

export function summarize(results: readonly CheckResult[]): DoctorSummary {
  const count = (status: CheckStatus): number => results.filter((r) => r.status === status).length;
  return { ok: count('ok'), warn: count('warn'), fail: count('fail'), skip: count('skip'), healthy: count('fail') === 0 };
}
