/**
 * When the supervisor of `npm start` restarts a service that exited - a pure function of the
 * service's recent runs, so that it can be tested without processes or clocks.
 *
 * - Exit code 78 (EX_CONFIG: the service named a bad setting) is never retried: the same
 *   settings fail the same way, so `npm start` stops and says which one.
 * - A service that had come up (its health check passed) and then died is restarted fast: after
 *   250 ms, doubling with each further crash up to 2 s.
 * - A service that dies before it ever comes up is crash-looping once that happens twice in a
 *   row: the delay doubles from 1 s up to 30 s, so a broken start does not burn the machine.
 * - A run that stayed healthy for a minute resets both counts.
 */
export const CONFIG_ERROR_EXIT_CODE = 78;

export interface RestartPolicyOptions {
  /** First delay after a crash of a service that was up. */
  baseDelayMs: number;
  /** Longest delay while the service keeps coming up between crashes. */
  fastCapMs: number;
  /** First delay after a failed start; doubles with each further one in a row. */
  failedStartDelayMs: number;
  /** Longest delay of a crash-looping service. */
  loopCapMs: number;
  /** This long healthy, a run resets the back-off. */
  healthyResetMs: number;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicyOptions> = Object.freeze({
  baseDelayMs: 250,
  fastCapMs: 2000,
  failedStartDelayMs: 1000,
  loopCapMs: 30_000,
  healthyResetMs: 60_000,
});

/** One run of a service, from its start to its exit (times in ms on any one clock). */
export interface RunOutcome {
  code: number | null;
  signal: string | null;
  startedAt: number;
  /** When its health check first passed; undefined when it never did. */
  healthyAt?: number | undefined;
  exitedAt: number;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number; crashLooping: boolean; crashes: number }
  | { action: 'stop'; reason: 'config-error' };

export interface RestartState {
  /** Crashes since the last run that was healthy for healthyResetMs. */
  readonly crashes: number;
  /** Runs in a row that exited before they were ever healthy. */
  readonly failedStarts: number;
}

export const INITIAL_RESTART_STATE: RestartState = Object.freeze({ crashes: 0, failedStarts: 0 });

export function nextRestart(
  state: RestartState,
  run: RunOutcome,
  options: Readonly<RestartPolicyOptions> = DEFAULT_RESTART_POLICY,
): { state: RestartState; decision: RestartDecision } {
  if (run.code === CONFIG_ERROR_EXIT_CODE) return { state, decision: { action: 'stop', reason: 'config-error' } };
  const healthyFor = run.healthyAt === undefined ? 0 : run.exitedAt - run.healthyAt;
  const base = healthyFor >= options.healthyResetMs ? INITIAL_RESTART_STATE : state;
  const crashes = base.crashes + 1;
  if (run.healthyAt !== undefined) {
    const delayMs = Math.min(options.fastCapMs, options.baseDelayMs * 2 ** Math.min(crashes - 1, 30));
    return { state: { crashes, failedStarts: 0 }, decision: { action: 'restart', delayMs, crashLooping: false, crashes } };
  }
  const failedStarts = base.failedStarts + 1;
  const delayMs = Math.min(options.loopCapMs, options.failedStartDelayMs * 2 ** Math.min(failedStarts - 1, 30));
  return {
    state: { crashes, failedStarts },
    decision: { action: 'restart', delayMs, crashLooping: failedStarts >= 2, crashes },
  };
}
