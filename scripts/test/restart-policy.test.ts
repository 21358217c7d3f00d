/** The restart policy of `npm start`'s supervisor (scripts/lib/restart-policy.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONFIG_ERROR_EXIT_CODE,
  DEFAULT_RESTART_POLICY,
  INITIAL_RESTART_STATE,
  nextRestart,
  type RestartDecision,
  type RestartState,
  type RunOutcome,
} from '../lib/restart-policy.js';

/** Feeds runs through the policy; each run is [ms until healthy (or null: never), ms it ran]. */
function replay(runs: Array<[healthyAfterMs: number | null, ranMs: number, code?: number]>): RestartDecision[] {
  let state: RestartState = INITIAL_RESTART_STATE;
  let clock = 0;
  const decisions: RestartDecision[] = [];
  for (const [healthyAfterMs, ranMs, code = 1] of runs) {
    const run: RunOutcome = {
      code,
      signal: null,
      startedAt: clock,
      healthyAt: healthyAfterMs === null ? undefined : clock + healthyAfterMs,
      exitedAt: clock + ranMs,
    };
    const next = nextRestart(state, run);
    state = next.state;
    decisions.push(next.decision);
    clock = run.exitedAt + (next.decision.action === 'restart' ? next.decision.delayMs : 0);
  }
  return decisions;
}

const delays = (decisions: RestartDecision[]) => decisions.map((d) => (d.action === 'restart' ? d.delayMs : d.reason));

test('a service killed six times in a minute, up each time, is back within 2 s every time', () => {
  // Healthy 3 s after each start, killed 5 s later: six crashes in well under a minute.
  const decisions = replay(Array.from({ length: 6 }, () => [3000, 8000] as [number, number]));
  assert.deepEqual(delays(decisions), [250, 500, 1000, 2000, 2000, 2000]);
  assert.ok(decisions.every((d) => d.action === 'restart' && !d.crashLooping));
  // The old policy's seventh delay was 30 s; this one stays at the cap however long it goes on.
  const many = replay(Array.from({ length: 40 }, () => [3000, 8000] as [number, number]));
  assert.equal(Math.max(...(delays(many) as number[])), DEFAULT_RESTART_POLICY.fastCapMs);
});

test('a healthy minute resets the back-off', () => {
  const decisions = replay([
    [3000, 8000],
    [3000, 8000],
    [3000, 8000],
    [3000, 8000], // 2 s by now
    [3000, 3000 + 60_000], // then a minute healthy
    [3000, 8000],
  ]);
  assert.deepEqual(delays(decisions), [250, 500, 1000, 2000, 250, 500]);
  // 59 s healthy is not a minute: no reset.
  assert.deepEqual(delays(replay([[3000, 8000], [3000, 8000], [3000, 8000], [3000, 8000], [3000, 3000 + 59_000]])), [250, 500, 1000, 2000, 2000]);
});

test('a service that never comes up is crash-looping from its second failed start and backs off to 30 s', () => {
  const decisions = replay(Array.from({ length: 8 }, () => [null, 500] as [null, number]));
  assert.deepEqual(delays(decisions), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  assert.deepEqual(
    decisions.map((d) => d.action === 'restart' && d.crashLooping),
    [false, true, true, true, true, true, true, true],
  );
});

test('coming up again ends a crash loop', () => {
  const decisions = replay([
    [null, 500],
    [null, 500],
    [null, 500],
    [2000, 9000], // up, then killed
    [null, 500],
  ]);
  assert.deepEqual(delays(decisions), [1000, 2000, 4000, 2000, 1000]);
});

test('exit code 78 (a configuration error) is never retried', () => {
  assert.equal(CONFIG_ERROR_EXIT_CODE, 78);
  assert.deepEqual(delays(replay([[null, 300, 78]])), ['config-error']);
  assert.deepEqual(delays(replay([[2000, 9000], [null, 300, 78]])), [250, 'config-error']);
  // Any other code, and a signal, are crashes.
  const bySignal = nextRestart(INITIAL_RESTART_STATE, { code: null, signal: 'SIGKILL', startedAt: 0, healthyAt: 1000, exitedAt: 5000 });
  assert.deepEqual(bySignal.decision, { action: 'restart', delayMs: 250, crashLooping: false, crashes: 1 });
});
