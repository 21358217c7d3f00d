/**
 * The dashboard shell: token, site, view (overview, per-user, pipeline), all kept in the address
 * bar so a view can be shared; the views do the rest.
 */
import { useCallback, useEffect, useId, useState } from 'react';
import { fetchPublicConfig } from './api.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { EmptyState } from './EmptyState.js';
import { FreshnessBadge, FreshnessPanel } from './FreshnessPanel.js';
import { Overview } from './Overview.js';
import { useSites } from './use-sites.js';
import { initialToken, saveToken } from './token.js';
import { TokenPrompt } from './TokenPrompt.js';
import { parseUrlState, writeUrlState, type UrlState, type View } from './url-state.js';
import { useLiveTicks } from './use-live-ticks.js';
import { usePipeline } from './use-pipeline.js';
import { UsersView, type LiveReport } from './UsersView.js';
import './overview.css';

const SITE_KEY = 'clickstream.siteId';
const SITE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const PIPELINE_POLL_MS = 2000;
const BADGE_POLL_MS = 10_000;

function savedSite(): string | undefined {
  try {
    const saved = window.localStorage.getItem(SITE_KEY);
    return saved && SITE_PATTERN.test(saved) ? saved : undefined;
  } catch {
    return undefined;
  }
}

function initialState(): UrlState & { site: string } {
  const state = parseUrlState(window.location.search);
  return { ...state, site: state.site ?? savedSite() ?? 'default' };
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

const VIEW_LABELS: Record<View, string> = { overview: 'Overview', users: 'Users (live)', pipeline: 'Pipeline' };

function Dashboard({ token, onUnauthorized }: { token: string; onUnauthorized: () => void }) {
  const [state, setState] = useState(initialState);
  const update = useCallback((patch: Partial<UrlState>) => setState((s) => ({ ...s, ...patch })), []);
  const { site, view } = state;
  const [collectorUrl, setCollectorUrl] = useState<string | undefined>();
  const sites = useSites(token, site, onUnauthorized);
  const pipeline = usePipeline(token, view === 'pipeline' ? PIPELINE_POLL_MS : BADGE_POLL_MS, onUnauthorized);
  // The open view's live feed, for the header.
  const [live, setLive] = useState<LiveReport | undefined>();
  const ids = { site: useId() };

  useEffect(() => {
    void fetchPublicConfig().then((c) => setCollectorUrl(c?.collectorUrl));
  }, []);

  // The address bar follows the state (replaceState: no history entry per click), and the
  // site is remembered for the next visit.
  useEffect(() => {
    const search = writeUrlState(state);
    if (search !== window.location.search) window.history.replaceState(window.history.state, '', `${window.location.pathname}${search}`);
    try {
      window.localStorage.setItem(SITE_KEY, site);
    } catch {
      // no storage: the choice lasts for this tab
    }
  }, [state, site]);

  const chooseSite = (next: string) => {
    if (SITE_PATTERN.test(next) && next !== site) update({ site: next, filters: [], user: undefined, prop: undefined });
  };
  const known = sites.sites?.map((s) => s.siteId);
  const options = [...new Set([...(known ?? []), site])].sort();
  const isEmpty = known !== undefined && !known.includes(site);
  const otherSites = (known ?? []).filter((s) => s !== site);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <h1>Clickstream</h1>
        <div className="controls">
          <label htmlFor={ids.site}>Site</label>
          <select id={ids.site} value={site} onChange={(e) => chooseSite(e.target.value)} data-testid="site-picker">
            {options.map((s) => (
              <option key={s} value={s}>
                {s}
                {known && !known.includes(s) ? ' (no data)' : ''}
              </option>
            ))}
          </select>
        </div>
        <nav aria-label="Views" className="views">
          {(Object.keys(VIEW_LABELS) as View[]).map((v) => (
            <button key={v} type="button" className={v === view ? 'view active' : 'view'} aria-current={v === view ? 'page' : undefined} onClick={() => update({ view: v })}>
              {VIEW_LABELS[v]}
            </button>
          ))}
        </nav>
        <FreshnessBadge state={pipeline} onOpen={() => update({ view: 'pipeline' })} />
        {view !== 'pipeline' && live && <ConnectionStatus status={live.status} lastUpdated={live.lastUpdated} onRetry={live.retry} />}
      </header>

      <main id="main" tabIndex={-1}>
        {isEmpty && otherSites.length > 0 && view !== 'pipeline' && (
          <p className="card notice">
            Data is arriving for{' '}
            {otherSites.map((s, i) => (
              <span key={s}>
                {i > 0 && ', '}
                <button type="button" className="link-button" onClick={() => chooseSite(s)}>
                  {s}
                </button>
              </span>
            ))}
            .
          </p>
        )}
        {isEmpty && view !== 'pipeline' && <EmptyState collectorUrl={collectorUrl} siteId={site} />}

        {view === 'overview' && <OverviewScreen token={token} state={state} update={update} hidden={isEmpty} onLive={setLive} onUnauthorized={onUnauthorized} />}
        {view === 'users' && (
          <UsersView
            token={token}
            siteId={site}
            user={state.user}
            onUser={(user) => update({ user })}
            onLive={setLive}
            onUnauthorized={onUnauthorized}
          />
        )}
        {view === 'pipeline' && <FreshnessPanel state={pipeline} intervalMs={PIPELINE_POLL_MS} />}
      </main>
    </>
  );
}

/** The overview and its live feed (whose ticks refresh it); the feed stays open while the site is still empty. */
function OverviewScreen({
  token,
  state,
  update,
  hidden,
  onLive,
  onUnauthorized,
}: {
  token: string;
  state: UrlState & { site: string };
  update: (patch: Partial<UrlState>) => void;
  hidden: boolean;
  onLive: (report: LiveReport) => void;
  onUnauthorized: () => void;
}) {
  const { tick, status, lastUpdated, retry } = useLiveTicks(token, state.site, onUnauthorized);
  useEffect(() => onLive({ status, lastUpdated, retry }), [status, lastUpdated, retry, onLive]);
  if (hidden) return null;
  return (
    <Overview
      token={token}
      siteId={state.site}
      range={state.range}
      filters={state.filters}
      prop={state.prop}
      liveTick={tick}
      onRange={(range) => update({ range })}
      onFilters={(filters) => update({ filters })}
      onProp={(prop) => update({ prop })}
      onOpenUsers={() => update({ view: 'users' })}
      onUnauthorized={onUnauthorized}
    />
  );
}
