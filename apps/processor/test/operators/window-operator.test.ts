import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { windowStartOf } from '@clickstream/shared';
import { Watermark } from '../../src/operators/watermark.js';
import { WindowOperator, type WindowOperatorConfig } from '../../src/operators/window-operator.js';
import { idHash } from '../../src/operators/id-hash.js';
import { testEvent } from '../support/events.js';
import { replayStateLog } from '../../src/state/state-log.js';

const config: WindowOperatorConfig = {
  windowSizeMs: 5000,
  outOfOrdernessMs: 2000,
  allowedLatenessMs: 10_000,
  idleTimeoutMs: 1000,
  retryHorizonMs: 5000,
  countBots: false,
};
const T0 = 1_700_000_000_000; // a multiple of 5000

const event = testEvent;

describe('window assigner', () => {
  test('maps times to epoch-aligned 5 s windows, end exclusive', () => {
    assert.equal(windowStartOf(T0), T0);
    assert.equal(windowStartOf(T0 + 4999), T0);
    assert.equal(windowStartOf(T0 + 5000), T0 + 5000);
    assert.equal(windowStartOf(-1), -5000);
  });
});

describe('watermark', () => {
  test('trails the highest event time by the bound and never goes back', () => {
    const w = new Watermark(2000, 1000, undefined, 0);
    w.observe(T0 + 3000, 0);
    assert.equal(w.value, T0 + 1000);
    w.observe(T0 + 100, 0);
    assert.equal(w.value, T0 + 1000);
  });

  test('follows the wall clock once the partition is idle', () => {
    const w = new Watermark(2000, 1000, undefined, T0);
    w.observe(T0 - 10_000, T0);
    assert.equal(w.onTimer(T0 + 999), T0 - 12_000, 'not idle yet');
    assert.equal(w.onTimer(T0 + 1000), T0 - 1000, 'idle: wall clock minus the bound');
  });
});

describe('window operator', () => {
  test('fires a window once the watermark passes its end, with every metric', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100, { type: 'page_view', url: 'https://s/a?x=1' }), T0);
    op.process(event(T0 + 200, { type: 'click', url: 'https://s/a#top', target: { tag: 'button' } }), T0);
    op.process(event(T0 + 300, { type: 'custom', name: 'buy', sessionId: 's2', url: 'https://s/b' }), T0);
    op.process(event(T0 + 1400, { type: 'engagement', engagedMs: 1200 }), T0);
    op.process(event(T0 + 4950, { type: 'engagement', engagedMs: 4500 }), T0);
    assert.deepEqual(op.onTimer(T0 + 500).results, [], 'watermark T0-1600 has not passed the end');

    op.process(event(T0 + 7000, { userId: 'u2' }), T0 + 500); // watermark -> T0 + 5000
    const { results } = op.onTimer(T0 + 600);
    assert.equal(results.length, 1);
    assert.deepEqual(results[0], {
      siteId: 'shop',
      userId: 'u1',
      windowStart: new Date(T0).toISOString(),
      windowEnd: new Date(T0 + 5000).toISOString(),
      events: 5,
      pageViews: 1,
      clicks: 1,
      customEvents: 1,
      uniquePages: 2,
      engagedMs: 5000,
      sessions: 2,
      revision: 0,
    });
    assert.deepEqual(op.onTimer(T0 + 700).results, [], 'a window fires once');
  });

  test('reports a due window from the moment the watermark passes its end until it fires', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100), T0);
    assert.equal(op.dueWindowEnd, undefined);
    op.process(event(T0 + 7000, { userId: 'x' }), T0);
    assert.equal(op.dueWindowEnd, T0 + 5000);
    op.onTimer(T0);
    assert.equal(op.dueWindowEnd, undefined);
  });

  test('keys windows by site and user', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0, { siteId: 'a', userId: 'u' }), T0);
    op.process(event(T0, { siteId: 'b', userId: 'u' }), T0);
    op.process(event(T0, { siteId: 'a', userId: 'v' }), T0);
    op.process(event(T0 + 20_000), T0);
    const keys = op.onTimer(T0).results.filter((r) => r.windowStart === new Date(T0).toISOString()).map((r) => `${r.siteId}/${r.userId}`);
    assert.deepEqual(keys.sort(), ['a/u', 'a/v', 'b/u']);
  });

  test('counts a duplicate event id once', () => {
    const op = new WindowOperator(config, T0);
    const e = event(T0 + 10);
    assert.equal(op.process(e, T0), 'counted');
    assert.equal(op.process({ ...e }, T0), 'duplicate');
    op.process(event(T0 + 8000, { userId: 'other' }), T0);
    const [result] = op.onTimer(T0).results;
    assert.equal(result?.events, 1);
    assert.equal(result?.pageViews, 1);
  });

  test('accepts out-of-order events within the bound before firing', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 6000, { userId: 'x' }), T0); // watermark T0 + 4000
    assert.equal(op.process(event(T0 + 4500), T0), 'counted');
    assert.deepEqual(op.onTimer(T0).results, []);
  });

  test('a late event within allowed lateness corrects the window with a new revision', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100), T0);
    op.process(event(T0 + 7500, { userId: 'x' }), T0);
    assert.equal(op.onTimer(T0).results[0]?.revision, 0);

    assert.equal(op.process(event(T0 + 200, { type: 'click' }), T0), 'late-counted');
    assert.equal(op.process(event(T0 + 300, { type: 'click' }), T0), 'late-counted');
    const { results } = op.onTimer(T0);
    assert.equal(results.length, 1, 'late events of one timer tick make one revision');
    assert.equal(results[0]?.revision, 1);
    assert.equal(results[0]?.events, 3);
    assert.equal(results[0]?.clicks, 2);
  });

  test('a late event for a window that never had events emits revision 0', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 12_000, { userId: 'x' }), T0); // watermark T0 + 10000
    op.onTimer(T0);
    assert.equal(op.process(event(T0 + 1000, { userId: 'newcomer' }), T0), 'late-counted');
    const { results } = op.onTimer(T0);
    assert.deepEqual(results.map((r) => [r.userId, r.revision]), [['newcomer', 0]]);
  });

  test('an event past allowed lateness goes to the late output and changes nothing', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100), T0);
    op.process(event(T0 + 17_500, { userId: 'x' }), T0); // watermark T0 + 15500 >= end + lateness
    const first = op.onTimer(T0);
    assert.equal(first.results.length, 1);
    const tooLate = event(T0 + 200);
    assert.equal(op.process(tooLate, T0), 'too-late');
    const { results, late } = op.onTimer(T0);
    assert.deepEqual(results, []);
    assert.equal(late.length, 1);
    assert.equal(late[0]?.event.id, tooLate.id);
    assert.match(late[0]!.reason, /allowed lateness/);
  });

  test('an idle partition closes its last window by the wall clock', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100), T0 + 100);
    assert.deepEqual(op.onTimer(T0 + 1000).results, [], 'not idle long enough yet');
    const { results } = op.onTimer(T0 + 7100); // idle: watermark = now - 2000 = T0 + 5100
    assert.equal(results.length, 1);
  });

  test('purges windows after allowed lateness and forgets their ids after the retry horizon, logging the removal', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100), T0);
    assert.equal(op.windowCount, 1);
    assert.equal(op.takeDelta().upserts.length, 1, 'the window reaches the state log');
    op.process(event(T0 + 19_000, { userId: 'x' }), T0); // watermark T0 + 17000: past end + lateness
    op.onTimer(T0);
    assert.equal(op.windowCount, 1, 'only the newer window takes events');
    assert.equal(op.retiredWindowCount, 1, 'the purged one still holds its ids');
    assert.deepEqual(op.takeDelta().removals, []);
    op.process(event(T0 + 22_500, { userId: 'x' }), T0); // watermark T0 + 20500: past end + lateness + horizon
    op.onTimer(T0);
    assert.equal(op.retiredWindowCount, 0);
    assert.deepEqual(op.takeDelta().removals, [{ siteId: 'shop', userId: 'u1', start: T0 }]);
  });

  test('a window opened and dropped between two checkpoints leaves nothing in the state log', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100), T0);
    op.process(event(T0 + 30_000, { userId: 'x' }), T0);
    const fired = op.onTimer(T0);
    assert.equal(fired.results.length, 1, 'its result is still emitted');
    const delta = op.takeDelta();
    assert.deepEqual(delta.removals, []);
    assert.deepEqual(
      delta.upserts.map((w) => w.userId),
      ['x'],
    );
  });

  test('snapshot and restore mid-stream give the same output as an uninterrupted run', () => {
    const stream = [
      event(T0 + 100),
      event(T0 + 1200, { type: 'click' }),
      event(T0 + 5100, { userId: 'u2' }),
      event(T0 + 900, { type: 'engagement', engagedMs: 700 }),
      event(T0 + 7600, { userId: 'u3' }),
      event(T0 + 300, { type: 'custom', name: 'late' }),
      event(T0 + 13_000),
      event(T0 + 5200, { userId: 'u2', type: 'click' }),
      event(T0 + 22_000, { userId: 'u4' }),
    ];
    // Checkpoints are cut right after a timer, so both runs fire a timer at the cut; only one restores.
    const run = (cutAt: number, restore: boolean) => {
      let op = new WindowOperator(config, T0);
      const out: string[] = [];
      stream.forEach((e, i) => {
        if (i === cutAt) {
          op.onTimer(T0).results.forEach((r) => out.push(JSON.stringify(r)));
          if (restore) op = new WindowOperator(config, T0, JSON.parse(JSON.stringify(op.snapshot())));
        }
        op.process(e, T0);
        if (i % 2 === 1) op.onTimer(T0).results.forEach((r) => out.push(JSON.stringify(r)));
      });
      op.onTimer(T0).results.forEach((r) => out.push(JSON.stringify(r)));
      return out;
    };
    for (let cut = 1; cut < stream.length; cut++) {
      const uninterrupted = run(cut, false);
      assert.ok(uninterrupted.length >= 4);
      assert.deepEqual(run(cut, true), uninterrupted, `cut before event ${cut}`);
    }
  });

  test('a state log of deltas and snapshots replays to the same windows', () => {
    const op = new WindowOperator(config, T0);
    const log: Array<{ kind: 'delta' | 'snapshot'; payload: string }> = [];
    const apply = () => {
      const delta = op.takeDelta();
      log.push({ kind: 'delta', payload: JSON.stringify(delta) });
      if (log.length === 4) log.push({ kind: 'snapshot', payload: JSON.stringify(op.snapshot().windows) });
    };
    for (let i = 0; i < 40; i++) {
      op.process(event(T0 + i * 700, { userId: `u${i % 3}` }), T0);
      if (i % 5 === 0) {
        op.onTimer(T0);
        apply();
      }
    }
    op.onTimer(T0);
    apply();
    const sort = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
    assert.ok(log.length > 6);
    assert.deepEqual(sort(replayStateLog(log).windows), sort(op.snapshot().windows));
    const fromSnapshot = log.slice(log.findIndex((e) => e.kind === 'snapshot'));
    assert.deepEqual(sort(replayStateLog(fromSnapshot).windows), sort(op.snapshot().windows), 'entries before a snapshot are not needed');
  });
});

describe('event ids across windows', () => {
  test('a retry with a fresh sentAt that lands in the next window counts once, in its first window', () => {
    const op = new WindowOperator(config, T0);
    const first = event(T0 + 4990, { type: 'click' });
    assert.equal(op.process(first, T0), 'counted');
    assert.equal(op.process({ ...first, eventTime: T0 + 5030 }, T0), 'duplicate', 'the retry straddles the boundary');
    op.process(event(T0 + 20_000, { userId: 'x' }), T0);
    const mine = op.onTimer(T0).results.filter((r) => r.userId === 'u1');
    assert.deepEqual(mine.map((r) => [r.windowStart, r.events, r.clicks]), [[new Date(T0).toISOString(), 1, 1]]);
  });

  test('a retry is recognised after the first window fired and after it was purged, until the retry horizon', () => {
    const op = new WindowOperator(config, T0);
    const first = event(T0 + 4990);
    op.process(first, T0);
    op.process(event(T0 + 9000, { userId: 'x' }), T0);
    op.onTimer(T0); // fired
    assert.equal(op.process({ ...first, eventTime: T0 + 5100 }, T0), 'duplicate', 'after firing');
    op.process(event(T0 + 17_500, { userId: 'x' }), T0); // watermark T0 + 15500: first window purged
    op.onTimer(T0);
    assert.equal(op.process({ ...first, eventTime: T0 + 9990 }, T0), 'duplicate', 'purged, within the horizon');
    op.process(event(T0 + 22_500, { userId: 'x' }), T0); // watermark T0 + 20500: past end + lateness + horizon
    op.onTimer(T0);
    assert.equal(op.process({ ...first, eventTime: T0 + 21_000 }, T0), 'counted', 'forgotten: a new event');
  });

  test('an id whose first occurrence was too late stays late, whatever its retries say', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 30_000, { userId: 'x' }), T0); // watermark T0 + 28000
    const late = event(T0 + 1000);
    assert.equal(op.process(late, T0), 'too-late');
    assert.equal(op.process({ ...late, eventTime: T0 + 27_000 }, T0), 'duplicate', 'a retry in a window still open');
    const fired = op.onTimer(T0);
    assert.deepEqual(fired.late.map((l) => l.event.id), [late.id], 'one late record');
    op.process(event(T0 + 40_000, { userId: 'x' }), T0);
    assert.equal(op.onTimer(T0).results.filter((r) => r.userId === 'u1').length, 0, 'no window for the late id');
  });

  test('ids survive a snapshot and restore, retired windows included', () => {
    const op = new WindowOperator(config, T0);
    const first = event(T0 + 4990);
    const tooLate = event(T0 - 60_000);
    op.process(first, T0);
    op.process(event(T0 + 17_500, { userId: 'x' }), T0);
    op.onTimer(T0);
    assert.equal(op.process(tooLate, T0), 'too-late');
    op.onTimer(T0);
    assert.equal(op.retiredWindowCount, 2);
    const restored = new WindowOperator(config, T0, JSON.parse(JSON.stringify(op.snapshot())));
    assert.equal(restored.retiredWindowCount, 2);
    assert.equal(restored.process({ ...first, eventTime: T0 + 16_000 }, T0), 'duplicate');
    assert.equal(restored.process({ ...tooLate, eventTime: T0 + 16_000 }, T0), 'duplicate');
  });

  test('the state log replays retired windows and late-id holders', () => {
    const op = new WindowOperator(config, T0);
    const log: Array<{ kind: 'delta' | 'snapshot'; payload: string }> = [];
    const checkpoint = () => {
      op.onTimer(T0);
      log.push({ kind: 'delta', payload: JSON.stringify(op.takeDelta()) });
    };
    const first = event(T0 + 100);
    op.process(first, T0);
    checkpoint();
    op.process(event(T0 + 18_000, { userId: 'x' }), T0);
    checkpoint();
    const late = event(T0 + 200);
    assert.equal(op.process(late, T0), 'too-late');
    checkpoint();
    const restored = new WindowOperator(config, T0, { watermark: op.snapshot().watermark, windows: replayStateLog(log).windows });
    assert.equal(restored.process({ ...first, eventTime: T0 + 15_000 }, T0), 'duplicate');
    assert.equal(restored.process({ ...late, eventTime: T0 + 15_000 }, T0), 'duplicate');
  });
});

describe('engaged time', () => {
  test('is spread backwards over the windows its interval covers, each capped at the window length', () => {
    const op = new WindowOperator(config, T0);
    // [T0 + 1000, T0 + 13000): 4000 ms, 5000 ms and 3000 ms over three windows.
    const engagement = event(T0 + 13_000, { type: 'engagement', engagedMs: 12_000 });
    assert.equal(op.process(engagement, T0), 'counted');
    op.process(event(T0 + 30_000, { userId: 'x' }), T0);
    const mine = op.onTimer(T0).results.filter((r) => r.userId === 'u1');
    assert.deepEqual(
      mine.map((r) => [r.windowStart, r.engagedMs, r.events]),
      [
        [new Date(T0).toISOString(), 4000, 0],
        [new Date(T0 + 5000).toISOString(), 5000, 0],
        [new Date(T0 + 10_000).toISOString(), 3000, 1],
      ],
      'the event counts in the window of its time; spread-only windows hold no event',
    );
  });

  test('time that falls in windows past allowed lateness is dropped and counted', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 22_000, { userId: 'x' }), T0); // watermark T0 + 20000: windows ending by T0 + 10000 are closed
    op.process(event(T0 + 21_000, { type: 'engagement', engagedMs: 20_000 }), T0); // [T0 + 1000, T0 + 21000)
    assert.equal(op.counters.droppedEngagedMs, 9000, 'T0 + 1000 .. T0 + 10000');
    op.process(event(T0 + 40_000, { userId: 'x' }), T0);
    const engaged = op
      .onTimer(T0)
      .results.filter((r) => r.userId === 'u1')
      .reduce((sum, r) => sum + r.engagedMs, 0);
    assert.equal(engaged, 11_000);
  });

  test('a late heartbeat revises the fired windows it covers', () => {
    const op = new WindowOperator(config, T0);
    op.process(event(T0 + 100), T0);
    op.process(event(T0 + 12_100, { userId: 'x' }), T0); // watermark T0 + 10100
    assert.equal(op.onTimer(T0).results.find((r) => r.userId === 'u1')?.engagedMs, 0);
    assert.equal(op.process(event(T0 + 10_100, { type: 'engagement', engagedMs: 10_000 }), T0), 'counted');
    const revised = op.onTimer(T0).results.filter((r) => r.userId === 'u1');
    assert.deepEqual(
      revised.map((r) => [r.windowStart, r.engagedMs, r.revision]),
      [
        [new Date(T0).toISOString(), 4900, 1],
        [new Date(T0 + 5000).toISOString(), 5000, 0],
      ],
    );
  });
});

describe('bots and pages', () => {
  test('bot events count nowhere unless COUNT_BOTS, and still move the watermark', () => {
    const op = new WindowOperator(config, T0);
    assert.equal(op.process(event(T0 + 100, { isBot: true, userId: 'crawler' }), T0), 'bot');
    op.process(event(T0 + 9000, { isBot: true, userId: 'crawler' }), T0);
    assert.equal(op.currentWatermark, T0 + 7000);
    assert.deepEqual(op.onTimer(T0).results, []);
    const counting = new WindowOperator({ ...config, countBots: true }, T0);
    assert.equal(counting.process(event(T0 + 100, { isBot: true, userId: 'crawler' }), T0), 'counted');
  });

  test('unique pages are URL parser paths: dot segments and encodings name one page', () => {
    const op = new WindowOperator(config, T0);
    for (const url of ['https://s.example/pricing', 'https://s.example/docs/../pricing', 'https://s.example/a b', 'https://s.example/a%20b?x=1']) {
      op.process(event(T0 + 100, { url }), T0);
    }
    op.process(event(T0 + 9000, { userId: 'x' }), T0);
    assert.equal(op.onTimer(T0).results.find((r) => r.userId === 'u1')?.uniquePages, 2);
  });
});

describe('event id hashes', () => {
  test('distinct ids give distinct 52-bit hashes; one id always the same', () => {
    const seen = new Map<number, string>();
    for (let i = 0; i < 200_000; i++) {
      const id = `e${i}-${(i * 2_654_435_761) % 1e9}`;
      const h = idHash(id);
      assert.ok(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 52, id);
      assert.equal(seen.get(h), undefined, `${id} collides with ${seen.get(h)}`);
      seen.set(h, id);
    }
    assert.equal(idHash('evt-00000001'), idHash('evt-00000001'));
    assert.notEqual(idHash('evt-00000001'), idHash('evt-00000010'));
  });

  test('state written with id strings restores, and dedups, with hashes', () => {
    const op = new WindowOperator(config, T0, {
      watermark: { maxEventTime: T0, watermark: T0 - 2000 },
      windows: [{ siteId: 'shop', userId: 'u1', start: T0, ids: ['evt-old-0001'], paths: ['/a'], sessions: ['s1'], pageViews: 1, clicks: 0, customEvents: 0, engagedMs: 0, revision: -1 }],
    });
    assert.equal(op.process(event(T0 + 10, { id: 'evt-old-0001' }), T0), 'duplicate');
    assert.equal(op.process(event(T0 + 20, { url: 'https://shop.example/a' }), T0), 'counted');
    op.process(event(T0 + 9000, { userId: 'x' }), T0);
    const result = op.onTimer(T0).results.find((r) => r.userId === 'u1');
    assert.deepEqual([result?.events, result?.uniquePages, result?.sessions], [2, 1, 1]);
  });
});
