/**
 * The per-user, real-time view: 5-second windows as the processor commits them, live activity,
 * top users and one user's windows (drill-down, kept in the address bar as `user=`).
 */
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { Api, type TopUsersBy } from './api.js';
import { formatCount, formatDuration, formatRate } from './format.js';
import type { LiveStatus } from './live-feed.js';
import { LiveActivity } from './LiveActivity.js';
import { isRangeKey, RANGE_KEYS, RANGES, type RangeKey } from './ranges.js';
import { hasActivity, latestWindow, toChartPoints, totalsOf, trimOpenBuckets } from './timeline.js';
import { TopUsers } from './TopUsers.js';
import { useDashboard } from './use-dashboard.js';
import { UserDetail } from './UserDetail.js';

const Charts = lazy(() => import('./Charts.js'));

function bucketLabel(ms: number): string {
  return ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

export interface LiveReport {
  status: LiveStatus;
  lastUpdated: number | undefined;
  retry: () => void;
}

export function UsersView({
  token,
  siteId,
  user,
  onUser,
  onLive,
  onUnauthorized,
}: {
  token: string;
  siteId: string;
  user: string | undefined;
  onUser: (userId: string | undefined) => void;
  /** The live feed's state, for the header. */
  onLive: (report: LiveReport) => void;
  onUnauthorized: () => void;
}) {
  const [range, setRange] = useState<RangeKey>('live');
  const [sortBy, setSortBy] = useState<TopUsersBy>('events');
  const api = useMemo(() => new Api(token), [token]);
  const data = useDashboard(token, siteId, range, sortBy, onUnauthorized);
  const { status, lastUpdated, retryLive } = data;
  useEffect(() => onLive({ status, lastUpdated, retry: retryLive }), [status, lastUpdated, retryLive, onLive]);

  const { bucketMs } = RANGES[range];
  const points = useMemo(
    () =>
      data.timeline
        ? trimOpenBuckets(toChartPoints(data.timeline, data.bounds.from, data.bounds.to, bucketMs), bucketMs, data.lastUpdated ?? Date.now())
        : [],
    [data.timeline, data.bounds, bucketMs, data.lastUpdated],
  );
  const totals = useMemo(() => totalsOf(data.timeline ?? []), [data.timeline]);
  const latest = data.timeline ? latestWindow(data.timeline, data.lastUpdated ?? Date.now()) : undefined;
  const liveRows = useMemo(() => data.live.rows.filter((r) => r.result.siteId === siteId).slice(0, 15), [data.live.rows, siteId]);
  const spanSeconds = RANGES[range].spanMs / 1000;
  const quiet = data.timeline !== undefined && !hasActivity(data.timeline) && liveRows.length === 0;

  return (
    <>
      <div className="toolbar">
        <fieldset className="segmented">
          <legend className="visually-hidden">Time range</legend>
          {RANGE_KEYS.map((key) => (
            <label key={key} className={range === key ? 'active' : undefined}>
              <input type="radio" name="range" value={key} checked={range === key} onChange={(e) => isRangeKey(e.target.value) && setRange(e.target.value)} />
              {RANGES[key].label}
            </label>
          ))}
        </fieldset>
        <span className="muted small-text">Per-user 5-second windows, exactly once, as the processor commits them.</span>
      </div>
      {data.error && (
        <p role="alert" className="card error">
          Could not load data: {data.error}. Retrying automatically.
        </p>
      )}

      <dl className="kpis" aria-label="Summary for the selected range">
        <div className="card">
          <dt>Active users now</dt>
          <dd data-testid="kpi-active-users">{latest ? formatCount(latest.activeUsers) : '0'}</dd>
        </div>
        <div className="card">
          <dt>Events per second (average)</dt>
          <dd>{formatRate(totals.events / spanSeconds)}</dd>
        </div>
        <div className="card">
          <dt>Clicks</dt>
          <dd data-testid="kpi-clicks">{formatCount(totals.clicks)}</dd>
        </div>
        <div className="card">
          <dt>Engaged time</dt>
          <dd>{formatDuration(totals.engagedMs)}</dd>
        </div>
      </dl>
      {quiet && <p className="card muted">No windows for “{siteId}” in this range.</p>}

      <Suspense fallback={<div className="card muted charts-loading">Loading charts…</div>}>
        <Charts points={points} bucketLabel={bucketLabel(bucketMs)} />
      </Suspense>

      {user !== undefined && (
        <UserDetail
          api={api}
          userId={user}
          siteId={siteId}
          bounds={data.bounds}
          liveTick={data.lastLiveResult?.userId === user ? data.liveTick : 0}
          onClose={() => onUser(undefined)}
          onUnauthorized={onUnauthorized}
        />
      )}

      <div className="columns">
        <LiveActivity rows={liveRows} onSelect={onUser} />
        <TopUsers users={data.topUsers} sortBy={sortBy} onSort={setSortBy} onSelect={onUser} selected={user} />
      </div>
    </>
  );
}
