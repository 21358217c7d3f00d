import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EnrichedEvent, VisitResult } from '@clickstream/shared';
import { SessionWindows } from '../../src/operators/session-windows.js';
import { testEvent } from '../support/events.js';
import { PartitionOperator, type PartitionOperatorConfig } from '../../src/operators/partition-operator.js';

const GAP = 60_000;
const LATENESS = 10_000;
const T0 = 1_700_000_000_000;
const iso = (ms: number) => new Date(ms).toISOString();

const event = (eventTime: number, overrides: Partial<EnrichedEvent> = {}): EnrichedEvent =>
  testEvent(eventTime, { browser: 'Firefox', ...overrides }, 'https://shop.example/');

const sessions = () => new SessionWindows({ gapMs: GAP, allowedLatenessMs: LATENESS });
const brief = (v: VisitResult) => [v.userId, v.sessionStart, v.sessionEnd, v.events, v.revision, v.open];

describe('session windows', () => {
  test('events within the gap make one visit; a gap of the full length starts another', () => {
    const s = sessions();
    s.add(event(T0), T0);
    s.add(event(T0 + 59_999), T0);
    s.add(event(T0 + 59_999 + GAP), T0);
    const { visits } = s.onTimer(T0);
    assert.deepEqual(visits.map(brief), [
      ['u1', iso(T0), iso(T0 + 59_999), 2, 0, true],
      ['u1', iso(T0 + 119_999), iso(T0 + 119_999), 1, 0, true],
    ]);
  });

  test('open visits are emitted early, once per timer while they grow, and finally with open: false', () => {
    const s = sessions();
    s.add(event(T0), T0);
    assert.deepEqual(s.onTimer(T0).visits.map(brief), [['u1', iso(T0), iso(T0), 1, 0, true]]);
    assert.deepEqual(s.onTimer(T0).visits, [], 'nothing changed: nothing emitted');
    s.add(event(T0 + 1000, { type: 'click' }), T0);
    s.add(event(T0 + 2000, { type: 'click' }), T0);
    assert.deepEqual(s.onTimer(T0).visits.map(brief), [['u1', iso(T0), iso(T0 + 2000), 3, 1, true]], 'one revision for two events');
    assert.deepEqual(s.onTimer(T0 + 2000 + GAP + LATENESS - 1).visits, [], 'still open');
    const final = s.onTimer(T0 + 2000 + GAP + LATENESS).visits;
    assert.deepEqual(final.map(brief), [['u1', iso(T0), iso(T0 + 2000), 3, 2, false]]);
    assert.equal(s.visitCount, 0, 'a final visit leaves state');
  });

  test('a late event that bridges two visits merges them: the later is deleted, the earlier revised', () => {
    const s = sessions();
    s.add(event(T0), T0);
    s.add(event(T0 + 100_000), T0);
    assert.equal(s.onTimer(T0).visits.length, 2);
    s.add(event(T0 + 50_000, { type: 'click' }), T0);
    const { visits, deletions } = s.onTimer(T0);
    assert.deepEqual(deletions, [{ siteId: 'shop', userId: 'u1', start: T0 + 100_000 }]);
    assert.deepEqual(visits.map(brief), [['u1', iso(T0), iso(T0 + 100_000), 3, 1, true]]);
    assert.equal(visits[0]!.bounce, false);
    assert.equal(visits[0]!.pageViews, 2);
  });

  test('an earlier event moves the start: a deletion under the old start, the visit under the new one', () => {
    const s = sessions();
    s.add(event(T0 + 30_000, { url: 'https://shop.example/second' }), T0);
    s.onTimer(T0);
    s.add(event(T0, { url: 'https://shop.example/first?utm_source=news' }), T0);
    const { visits, deletions } = s.onTimer(T0);
    assert.deepEqual(deletions, [{ siteId: 'shop', userId: 'u1', start: T0 + 30_000 }]);
    assert.deepEqual(visits.map((v) => [v.sessionStart, v.entryPage, v.exitPage, v.source, v.utmSource, v.revision]), [
      [iso(T0), '/first', '/second', 'news', 'news', 1],
    ]);
  });

  test('a visit closed for good is never joined again: the event starts a new visit', () => {
    const s = sessions();
    s.add(event(T0), T0);
    const watermark = T0 + GAP + LATENESS;
    s.add(event(T0 + GAP - 1), watermark);
    const { visits } = s.onTimer(watermark);
    assert.deepEqual(visits.map(brief), [
      ['u1', iso(T0), iso(T0), 1, 0, false],
      ['u1', iso(T0 + GAP - 1), iso(T0 + GAP - 1), 1, 0, true],
    ]);
  });

  test('attribution, device and country come from the first event; entry and exit from page views; bounce', () => {
    const s = sessions();
    s.add(event(T0 + 1000, { url: 'https://shop.example/b', referrer: 'https://www.search.example/q', country: 'FR', browser: 'Chrome' }), T0);
    s.add(event(T0, { type: 'engagement', engagedMs: 10, url: 'https://shop.example/a?utm_medium=cpc', referrer: 'https://shop.example/', country: 'DE' }), T0);
    s.add(event(T0 + 2000, { siteId: 'shop', userId: 'u2', referrer: 'https://www.shop.example/x' }), T0);
    s.add(event(T0 + 3000, { userId: 'u3', referrer: 'https://www.search.example/' }), T0);
    const byUser = new Map(s.onTimer(T0).visits.map((v) => [v.userId, v]));
    const u1 = byUser.get('u1')!;
    assert.deepEqual([u1.source, u1.utmMedium, u1.country, u1.entryPage, u1.exitPage, u1.bounce], ['Direct / None', 'cpc', 'DE', '/b', '/b', true]);
    assert.equal(u1.browser, 'Firefox', 'of the first event, which was the engagement');
    assert.equal(byUser.get('u2')!.source, 'Direct / None', 'a self-referral is no source');
    assert.equal(byUser.get('u3')!.source, 'search.example');
  });

  test('snapshot and restore mid-stream give the same visits as an uninterrupted run', () => {
    const stream = [
      event(T0),
      event(T0 + 10_000, { type: 'click' }),
      event(T0 + 200_000, { userId: 'u2' }),
      event(T0 + 100_000),
      event(T0 + 50_000, { url: 'https://shop.example/bridge' }),
      event(T0 + 150_000, { userId: 'u2' }),
      event(T0 - 20_000, { url: 'https://shop.example/first' }),
    ];
    const run = (cutAt: number, restore: boolean) => {
      let s = sessions();
      const out: string[] = [];
      stream.forEach((e, i) => {
        if (i === cutAt) {
          const fired = s.onTimer(T0);
          out.push(JSON.stringify(fired));
          if (restore) s = new SessionWindows({ gapMs: GAP, allowedLatenessMs: LATENESS }, JSON.parse(JSON.stringify({ visits: s.snapshot(), nextVid: s.visitIdWatermark })));
        }
        s.add(e, T0);
        if (i % 2 === 1) out.push(JSON.stringify(s.onTimer(T0)));
      });
      out.push(JSON.stringify(s.onTimer(T0 + 10_000_000)));
      return out;
    };
    for (let cut = 1; cut < stream.length; cut++) assert.deepEqual(run(cut, true), run(cut, false), `cut before event ${cut}`);
  });
});

describe('partition operator', () => {
  const config: PartitionOperatorConfig = {
    windowSizeMs: 5000,
    outOfOrdernessMs: 2000,
    allowedLatenessMs: LATENESS,
    idleTimeoutMs: 1000,
    retryHorizonMs: 5000,
    countBots: false,
    sessionGapMs: GAP,
  };

  test('only counted events reach visits: duplicates, retries, bots and too-late events do not', () => {
    const op = new PartitionOperator(config, T0);
    const first = event(T0 + 1000);
    op.process(first, T0);
    op.process({ ...first, eventTime: T0 + 5100 }, T0);
    op.process(event(T0 + 2000, { isBot: true }), T0);
    op.process(event(T0 + 90_000, { userId: 'x' }), T0);
    assert.equal(op.process(event(T0 + 3000), T0), 'too-late');
    const visits = op.onTimer(T0).visits.filter((v) => v.userId === 'u1');
    assert.deepEqual(visits.map((v) => v.events), [1]);
  });

  test('spread engaged time never starts or extends a visit', () => {
    const op = new PartitionOperator(config, T0);
    op.process(event(T0 + 50_000, { type: 'engagement', engagedMs: 40_000 }), T0);
    const visits = op.onTimer(T0).visits;
    assert.deepEqual(visits.map((v) => [v.sessionStart, v.sessionEnd, v.events]), [[iso(T0 + 50_000), iso(T0 + 50_000), 1]]);
  });

  test('a snapshot restores windows and visits together', () => {
    const op = new PartitionOperator(config, T0);
    op.process(event(T0), T0);
    op.onTimer(T0);
    const restored = new PartitionOperator(config, T0, JSON.parse(JSON.stringify(op.snapshot())));
    assert.equal(restored.visitCount, 1);
    restored.process(event(T0 + 1000, { type: 'click' }), T0);
    assert.deepEqual(restored.onTimer(T0).visits.map((v) => [v.events, v.revision]), [[2, 1]]);
  });
});

describe('visits during a catch-up', () => {
  test('open visits wait while the runtime works off a backlog; closed ones still go out; all go out once live', () => {
    const config = { windowSizeMs: 5000, outOfOrdernessMs: 2000, allowedLatenessMs: LATENESS, idleTimeoutMs: 1000, retryHorizonMs: 5000, countBots: false, sessionGapMs: GAP };
    const op = new PartitionOperator(config, T0);
    op.process(event(T0), T0);
    op.process(event(T0 + 1000, { userId: 'u2' }), T0);
    assert.deepEqual(op.onTimer(T0, false).visits, [], 'catching up: nothing open is emitted');
    op.process(event(T0 + 200_000, { userId: 'u3' }), T0); // closes u1 and u2 (end + gap + lateness passed)
    const closing = op.onTimer(T0, false).visits;
    assert.deepEqual(closing.map((v) => [v.userId, v.open, v.revision]).sort(), [['u1', false, 0], ['u2', false, 0]]);
    assert.deepEqual(op.onTimer(T0, true).visits.map((v) => [v.userId, v.open]), [['u3', true]], 'live again: the held open visit goes out');
  });
});
