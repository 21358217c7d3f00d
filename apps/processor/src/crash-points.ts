/**
 * Fault injection for the crash tests: each point sits between two steps of the exactly-once
 * protocol (see ARCHITECTURE.md). Configured with PROCESSOR_CRASH_AT="<point>:<n>", the process
 * kills itself with SIGKILL the n-th time it reaches that point - no cleanup, as in a real crash.
 * Unset (the default) every call is a no-op.
 */
export const CRASH_POINTS = [
  'mid-batch',
  'before-checkpoint-commit',
  'after-checkpoint-commit',
  'before-delivery-commit',
  'after-delivery-commit',
] as const;
export type CrashPointName = (typeof CRASH_POINTS)[number];

export interface CrashSpec {
  point: CrashPointName;
  after: number;
}

export class CrashPoints {
  private hits = 0;
  constructor(private readonly spec: CrashSpec | undefined) {}

  reach(point: CrashPointName): void {
    if (!this.spec || this.spec.point !== point) return;
    this.hits += 1;
    if (this.hits >= this.spec.after) process.kill(process.pid, 'SIGKILL');
  }
}

export function parseCrashSpec(raw: string | undefined): CrashSpec | undefined {
  if (!raw) return undefined;
  const [point, count] = raw.split(':');
  if (!CRASH_POINTS.includes(point as CrashPointName)) return undefined;
  const after = Number(count ?? '1');
  return { point: point as CrashPointName, after: Number.isInteger(after) && after > 0 ? after : 1 };
}
