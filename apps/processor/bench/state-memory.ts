/**
 * Bytes of operator state per held window, per visit and per remembered event id, measured on the
 * pure operators in this process (run with --expose-gc): heap after a forced collection, with the
 * state, minus heap before it. Printed by `pnpm bench processor`; `node --expose-gc --import tsx
 * apps/processor/bench/state-memory.ts` runs it alone.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EnrichedEvent } from '@clickstream/shared';
import { WindowOperator } from '../src/operators/window-operator.js';
import { SessionWindows } from '../src/operators/session-windows.js';

const T0 = Date.UTC(2026, 10, 29, 10, 0);
const config = { windowSizeMs: 5000, outOfOrdernessMs: 2000, allowedLatenessMs: 60_000, idleTimeoutMs: 1000, retryHorizonMs: 30_000, countBots: false, sessionGapMs: 1_800_000 };

function heap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function event(i: number, user: number, eventTime: number): EnrichedEvent {
  return {
    id: `e${i.toString(36).padStart(8, '0')}-${(i * 7919).toString(36)}`,
    type: i % 3 === 0 ? 'page_view' : 'click',
    siteId: 'shop',
    userId: `user-${user}`,
    sessionId: `s-${user}`,
    ts: eventTime,
    url: `https://shop.example/p/${i % 50}`,
    receivedAt: eventTime,
    eventTime,
    browser: 'Chrome',
    os: 'Linux',
    deviceType: 'desktop',
    isBot: false,
  };
}

export interface StateMemoryFigures {
  bytesPerWindow: number;
  bytesPerVisit: number;
  bytesPerId: number;
}

/** Heap per key of one kind of state, in this process: `users` keys of `eventsPerWindow` events. */
export function measureOne(kind: 'windows' | 'visits', users: number, eventsPerWindow: number): number {
  // Each event is encoded and decoded as the processor receives it, one record at a time: what
  // state keeps of an event (its id, user, path strings) is then state's own memory.
  function* texts(): Generator<string> {
    for (let u = 0; u < users; u++) for (let k = 0; k < eventsPerWindow; k++) yield JSON.stringify(event(u * eventsPerWindow + k, u, T0 + 100 + k));
  }
  const before = heap();
  let size: number;
  let keep: unknown;
  if (kind === 'visits') {
    const visits = new SessionWindows({ gapMs: config.sessionGapMs, allowedLatenessMs: config.allowedLatenessMs });
    for (const text of texts()) visits.add(JSON.parse(text) as EnrichedEvent, Number.NEGATIVE_INFINITY);
    visits.onTimer(Number.NEGATIVE_INFINITY);
    visits.takeDelta();
    size = visits.visitCount;
    keep = visits;
  } else {
    const windows = new WindowOperator(config, T0);
    for (const text of texts()) windows.process(JSON.parse(text) as EnrichedEvent, T0);
    windows.onTimer(T0);
    windows.takeDelta();
    size = windows.windowCount;
    keep = windows;
  }
  const bytes = heap() - before;
  if (size !== users || !keep) throw new Error('unexpected state size');
  return bytes / users;
}

/** Each kind measured in a fresh process, so one measurement's heap history cannot skew another. */
export function measureStateMemory(users = 100_000, eventsPerWindow = 5): StateMemoryFigures {
  const run = (kind: string) => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), kind, String(users), String(eventsPerWindow)], {
      encoding: 'utf8',
    });
    return Number(out.trim());
  };
  const bytesPerWindow = run('windows');
  return { bytesPerWindow, bytesPerVisit: run('visits'), bytesPerId: bytesPerWindow / eventsPerWindow };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [kind, users, perWindow] = process.argv.slice(2);
  if (kind === 'windows' || kind === 'visits') {
    process.stdout.write(`${measureOne(kind, Number(users), Number(perWindow))}\n`);
  } else {
    for (const k of [1, 5]) {
      const f = measureStateMemory(100_000, k);
      process.stdout.write(
        `state memory, ${k} event(s) per window: ${Math.round(f.bytesPerWindow)} B per held window with its ids ` +
          `(${((f.bytesPerWindow * 100_000) / 2 ** 20).toFixed(1)} MiB per 100,000), ${Math.round(f.bytesPerVisit)} B per visit, ` +
          `${Math.round(f.bytesPerId)} B of window per event id\n`,
      );
    }
  }
}
