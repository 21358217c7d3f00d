/** The dashboard shell: token, site and range choice, then the panels. */
import { lazy, Suspense, useCallback, useEffect, useId, useMemo, useState } from 'react';
import { Api, fetchPublicConfig, type TopUsersBy } from './api.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { EmptyState } from './EmptyState.js';
import { formatCount, formatDuration, formatRate } from './format.js';
import { LiveActivity } from './LiveActivity.js';
import { isRangeKey, RANGE_KEYS, RANGES, type RangeKey } from './ranges.js';
import { hasActivity, latestWindow, toChartPoints, totalsOf, trimOpenBuckets } from './timeline.js';
import { initialToken, saveToken } from './token.js';
import { TokenPrompt } from './TokenPrompt.js';
import { TopUsers } from './TopUsers.js';
import { useDashboard } from './use-dashboard.js';
import { UserDetail } from './UserDetail.js';

const Charts = lazy(() => import('./Charts.js'));

const SITE_KEY = 'clickstream.siteId';
const SITE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function initialSite(): string {
  const fromUrl = new URL(window.location.href).searchParams.get('site');
  if (fromUrl && SITE_PATTERN.test(fromUrl)) return fromUrl;
  try {
    const saved = window.localStorage.getItem(SITE_KEY);
    if (saved && SITE_PATTERN.test(saved)) return saved;
  } catch {
    // no storage: fall through to the default site
  }
  return 'default';
}

function bucketLabel(ms: number): string {
  return ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

export function App() {
  const [token, setToken] = useState(initialToken);
  const [refused, setRefused] = useState(false);
  const onUnauthorized = useCallback(() => {
    saveToken(undefined);
    setRefused(true);
    setToken(undefined);
  }, []);
  if (!token) {
    return (
      <TokenPrompt
        refused={refused}
        onSubmit={(t) => {
          saveToken(t);
          setRefused(false);
          setToken(t);
        }}
      />
    );
  }
  return <Dashboard key={token} token={token} onUnauthorized={onUnauthorized} />;
}

function Dashboard({ token, onUnauthorized }: { token: string; onUnauthorized: () => void }) {
  const [siteId, setSiteId] = useState(initialSite);
  const [siteDraft, setSiteDraft] = useState(siteId);
  const [range, setRange] = useState<RangeKey>('live');
  const [sortBy, setSortBy] = useState<TopUsersBy>('events');
  const [selectedUser, setSelectedUser] = useState<string | undefined>();
  const [collectorUrl, setCollectorUrl] = useState<string | undefined>();
  const api = useMemo(() => new Api(token), [token]);
  const data = useDashboard(token, siteId, range, sortBy, onUnauthorized);
  const ids = { site: useId(), sites: useId() };

  useEffect(() => {
    void fetchPublicConfig().then((c) => setCollectorUrl(c?.collectorUrl));
  }, []);

  useEffect(() => {
    try {
      window.localStorage.setItem(SITE_KEY, siteId);
    } catch {
      // no storage: the choice lasts for this tab
    }
    const url = new URL(window.location.href);
    url.searchParams.set('site', siteId);
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}`);
    setSelectedUser(undefined);
  }, [siteId]);

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
  const otherSites = data.live.sites.filter((s) => s !== siteId);
  const isEmpty = data.timeline !== undefined && !hasActivity(data.timeline) && liveRows.length === 0;
  const knownSites = [...new Set(['default', 'demo-shop', siteId, ...data.live.sites])].sort();

  const commitSite = () => {
    if (SITE_PATTERN.test(siteDraft) && siteDraft !== siteId) setSiteId(siteDraft);
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <h1>Clickstream</h1>
        <form
          className="controls"
          onSubmit={(e) => {
            e.preventDefault();
            commitSite();
          }}
        >
          <label htmlFor={ids.site}>Site</label>
          <input
            id={ids.site}
            list={ids.sites}
            value={siteDraft}
            onChange={(e) => setSiteDraft(e.target.value)}
            onBlur={commitSite}
            pattern="[A-Za-z0-9._\-]{1,64}"
            maxLength={64}
            size={12}
            aria-describedby={`${ids.site}-hint`}
          />
          <span id={`${ids.site}-hint`} className="visually-hidden">
            Type a site id and press Enter
          </span>
          <datalist id={ids.sites}>
            {knownSites.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
          <fieldset className="segmented">
            <legend className="visually-hidden">Time range</legend>
            {RANGE_KEYS.map((key) => (
              <label key={key} className={range === key ? 'active' : undefined}>
                <input type="radio" name="range" value={key} checked={range === key} onChange={(e) => isRangeKey(e.target.value) && setRange(e.target.value)} />
                {RANGES[key].label}
              </label>
            ))}
          </fieldset>
        </form>
        <ConnectionStatus status={data.status} lastUpdated={data.lastUpdated} onRetry={data.retryLive} />
      </header>

      <main id="main" tabIndex={-1}>
        {data.error && (
          <p role="alert" className="card error">
            Could not load data: {data.error}. Retrying automatically.
          </p>
        )}
        {otherSites.length > 0 && isEmpty && (
          <p className="card notice">
            Data is arriving for{' '}
            {otherSites.map((s) => (
              <button key={s} type="button" className="link-button" onClick={() => (setSiteDraft(s), setSiteId(s))}>
                {s}
              </button>
            ))}
            .
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

        {isEmpty && <EmptyState collectorUrl={collectorUrl} siteId={siteId} />}

        <Suspense fallback={<div className="card muted charts-loading">Loading charts…</div>}>
          <Charts points={points} bucketLabel={bucketLabel(bucketMs)} />
        </Suspense>

        {selectedUser !== undefined && (
          <UserDetail
            api={api}
            userId={selectedUser}
            siteId={siteId}
            bounds={data.bounds}
            liveTick={data.lastLiveResult?.userId === selectedUser ? data.liveTick : 0}
            onClose={() => setSelectedUser(undefined)}
            onUnauthorized={onUnauthorized}
          />
        )}

        <div className="columns">
          <LiveActivity rows={liveRows} onSelect={setSelectedUser} />
          <TopUsers users={data.topUsers} sortBy={sortBy} onSort={setSortBy} onSelect={setSelectedUser} selected={selectedUser} />
        </div>
      </main>
    </>
  );
}
