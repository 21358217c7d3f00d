/**
 * The site owner's dashboard: unique visitors, visits, page views, views per visit, bounce rate and
 * visit duration against the previous period, visitors now, a chart, and breakdowns by page,
 * source, device, country and custom event. Every number comes from POST /api/v1/query; a value
 * clicked anywhere filters the whole view, and range and filters live in the address bar.
 */
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  KPI_METRICS,
  METRIC_LABELS,
  OVERVIEW_RANGES,
  OVERVIEW_RANGE_KEYS,
  changeOf,
  customDays,
  dimensionLabel,
  formatMetric,
  localDate,
  previousPeriod,
  resolveRange,
  timeBuckets,
  toQueryFilters,
  unanswerable,
  type Filter,
  type RangeChoice,
} from './overview-model.js';
import { fetchPropertyKeys, type StatsQuery } from './stats-api.js';
import { StatsPanel, type PanelContext, type PanelTab } from './StatsPanel.js';
import { useStats } from './use-stats.js';
import { UnauthorizedError } from './api.js';
import type { SeriesPoint } from './VisitorsChart.js';

const VisitorsChart = lazy(() => import('./VisitorsChart.js'));

/** How often each range refreshes on its own (besides after live results). */
const REFRESH_MS: Record<RangeChoice['key'], number> = { realtime: 5000, day: 15_000, '24h': 15_000, '7d': 60_000, '30d': 60_000, custom: 120_000 };
/** Leaves out visits without the value (no UTM tag, no country): Plausible's lists do too. */
const notSet = (dimension: string) => ['is_not', dimension, ['(not set)']];

export interface OverviewProps {
  token: string;
  siteId: string;
  range: RangeChoice;
  filters: Filter[];
  prop: string | undefined;
  /** Bumps when the live feed delivers results for this site. */
  liveTick: number;
  onRange: (range: RangeChoice) => void;
  onFilters: (filters: Filter[]) => void;
  onProp: (prop: string | undefined) => void;
  onOpenUsers: () => void;
  onUnauthorized: () => void;
}

export function Overview(props: OverviewProps) {
  const { token, siteId, range: choice, filters, onUnauthorized } = props;
  // The clock the queries resolve against, and what makes them run again.
  const [tick, setTick] = useState(() => ({ now: Date.now(), n: 0 }));
  const bump = () => setTick((t) => ({ now: Date.now(), n: t.n + 1 }));
  useEffect(() => {
    const timer = setInterval(bump, REFRESH_MS[choice.key]);
    return () => clearInterval(timer);
  }, [choice.key]);
  // Results committed for this site: refresh, at most every 3 s.
  const lastLiveRefresh = useRef(0);
  useEffect(() => {
    if (props.liveTick === 0) return;
    const timer = setTimeout(
      () => {
        lastLiveRefresh.current = Date.now();
        bump();
      },
      Math.max(0, lastLiveRefresh.current + 3000 - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [props.liveTick]);

  const range = useMemo(() => resolveRange(choice, tick.now), [choice, tick.now]);
  const queryFilters = toQueryFilters(filters);
  const refresh = tick.n;
  const onFilter = (f: Filter) => props.onFilters([...filters.filter((x) => x.dimension !== f.dimension), f]);
  const ctx: PanelContext = { token, siteId, range, filters, refresh, onFilter, onUnauthorized };

  // Top row: the metrics these filters allow, now and in the previous period.
  const kpiMetrics = KPI_METRICS.filter((m) => unanswerable([m], [], filters) === undefined);
  const kpiQuery: StatsQuery = { site_id: siteId, metrics: kpiMetrics, date_range: range.dateRange, filters: queryFilters };
  const previousQuery: StatsQuery = { ...kpiQuery, date_range: previousPeriod(range, tick.now) };
  const current = useStats(token, kpiQuery, refresh, onUnauthorized);
  const previous = useStats(token, previousQuery, refresh, onUnauthorized);
  const now = useStats(token, { site_id: siteId, metrics: ['visitors'], date_range: 'realtime' }, refresh, onUnauthorized);
  const valueOf = (answer: typeof current.answer, metric: string) => {
    const i = kpiMetrics.indexOf(metric as (typeof kpiMetrics)[number]);
    return i < 0 ? undefined : answer?.results[0]?.metrics[i];
  };

  // The chart: visitors and page views per bucket.
  const chartVisitors = unanswerable(['visitors'], [`time:${range.bucket}`], filters) === undefined;
  const chartMetrics = chartVisitors ? ['visitors', 'pageviews'] : ['pageviews'];
  const chart = useStats(
    token,
    { site_id: siteId, metrics: chartMetrics, date_range: range.dateRange, dimensions: [`time:${range.bucket}`], filters: queryFilters },
    refresh,
    onUnauthorized,
  );
  const points = useMemo<SeriesPoint[]>(() => {
    const byKey = new Map((chart.answer?.results ?? []).map((r) => [r.dimensions[0], r.metrics]));
    return timeBuckets(range, tick.now).map(({ key, label }) => {
      const m = byKey.get(key);
      return chartVisitors ? { label, visitors: m?.[0] ?? 0, pageviews: m?.[1] ?? 0 } : { label, pageviews: m?.[0] ?? 0 };
    });
  }, [chart.answer, range, tick.now, chartVisitors]);

  // Custom event properties seen in the range.
  const [propKeys, setPropKeys] = useState<string[] | undefined>();
  useEffect(() => {
    const controller = new AbortController();
    fetchPropertyKeys(token, siteId, range.from, Math.min(range.to, Date.now() + 60_000), controller.signal).then(setPropKeys, (e: unknown) => {
      if (e instanceof UnauthorizedError) onUnauthorized();
    });
    return () => controller.abort();
  }, [token, siteId, range.from, range.to, refresh, onUnauthorized]);
  const prop = props.prop !== undefined && propKeys?.includes(props.prop) ? props.prop : propKeys?.[0];

  const propPicker =
    propKeys && propKeys.length > 0 ? (
      <label className="prop-picker small-text">
        Property{' '}
        <select value={prop} onChange={(e) => props.onProp(e.target.value)} data-testid="prop-picker">
          {propKeys.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
    ) : undefined;
  const tabs = panelTabs(prop, propPicker);
  return (
    <>
      <div className="toolbar">
        <RangePicker choice={choice} onRange={props.onRange} now={tick.now} />
        {filters.length > 0 && (
          <ul className="chips" aria-label="Filters">
            {filters.map((f) => (
              <li key={f.dimension}>
                <button
                  type="button"
                  className="chip"
                  onClick={() => props.onFilters(filters.filter((x) => x.dimension !== f.dimension))}
                  aria-label={`Remove filter ${dimensionLabel(f.dimension)} is ${f.value}`}
                  data-testid="filter-chip"
                >
                  {dimensionLabel(f.dimension)} is <strong>{f.value}</strong> <span aria-hidden="true">×</span>
                </button>
              </li>
            ))}
            {filters.length > 1 && (
              <li>
                <button type="button" className="link-button" onClick={() => props.onFilters([])}>
                  Clear all
                </button>
              </li>
            )}
          </ul>
        )}
      </div>

      <section className="kpi-row" aria-label={`Summary for ${OVERVIEW_RANGES[choice.key].title}`} data-testid="kpis">
        <div className="card kpi now">
          <div className="kpi-label">
            <span className="dot dot-ok pulse" aria-hidden="true" /> Visitors now
          </div>
          <div className="kpi-value" data-testid="kpi-now">
            {formatMetric('visitors', now.answer?.results[0]?.metrics[0])}
          </div>
          <button type="button" className="link-button small-text" onClick={props.onOpenUsers}>
            last 5 min · per user →
          </button>
        </div>
        {KPI_METRICS.map((metric) => {
          const available = kpiMetrics.includes(metric);
          const value = valueOf(current.answer, metric);
          const change = available ? changeOf(metric, value, valueOf(previous.answer, metric), valueOf(previous.answer, 'visits')) : undefined;
          return (
            <div key={metric} className="card kpi" data-testid={`kpi-${metric}`} title={available ? undefined : unanswerable([metric], [], filters)}>
              <div className="kpi-label">{METRIC_LABELS[metric]}</div>
              <div className="kpi-value" data-field="value">
                {available ? formatMetric(metric, value) : '—'}
              </div>
              <div className={`kpi-change tone-${change?.tone ?? 'neutral'}`} data-field="change">
                {change ? (
                  <>
                    {change.text} <span className="visually-hidden">against the previous period</span>
                  </>
                ) : available ? (
                  '\u00a0'
                ) : (
                  'not split by this filter'
                )}
              </div>
            </div>
          );
        })}
      </section>
      {current.error && (
        <p role="alert" className="card error">
          Could not load the figures: {current.error}. Retrying.
        </p>
      )}

      <figure className="card chart" aria-label="Visitors over time">
        <figcaption>
          {chartVisitors ? 'Visitors and page views' : 'Page views'} <span className="muted">per {range.bucket}</span>
        </figcaption>
        <Suspense fallback={<div className="chart-body tall muted">Loading chart…</div>}>
          <VisitorsChart points={points} showVisitors={chartVisitors} />
        </Suspense>
      </figure>

      <div className="panels">
        <StatsPanel id="pages" title="Pages" tabs={tabs.pages} ctx={ctx} />
        <StatsPanel id="sources" title="Sources" tabs={tabs.sources} ctx={ctx} />
        <StatsPanel id="devices" title="Devices" tabs={tabs.devices} ctx={ctx} />
        <StatsPanel id="countries" title="Countries" tabs={tabs.countries} ctx={ctx} />
        <StatsPanel id="events" title="Custom events" tabs={tabs.events} ctx={ctx} />
      </div>
    </>
  );
}

function panelTabs(prop: string | undefined, propPicker: ReactNode): Record<'pages' | 'sources' | 'devices' | 'countries' | 'events', PanelTab[]> {
  const noVisits = 'No visits in this range.';
  return {
    pages: [
      { key: 'top', label: 'Top pages', dimension: 'event:page', metrics: ['visitors', 'pageviews'], empty: 'No page views in this range.' },
      { key: 'entry', label: 'Entry pages', dimension: 'visit:entry_page', metrics: ['visitors', 'visits'], empty: noVisits },
      { key: 'exit', label: 'Exit pages', dimension: 'visit:exit_page', metrics: ['visitors', 'visits'], empty: noVisits },
    ],
    sources: [
      { key: 'source', label: 'Sources', dimension: 'visit:source', metrics: ['visitors', 'visits', 'bounce_rate'], empty: noVisits },
      {
        key: 'utm_source',
        label: 'UTM source',
        dimension: 'visit:utm_source',
        metrics: ['visitors', 'visits'],
        extraFilters: [notSet('visit:utm_source')],
        empty: 'No visit came with utm_source in its landing URL.',
      },
      {
        key: 'utm_medium',
        label: 'Medium',
        dimension: 'visit:utm_medium',
        metrics: ['visitors', 'visits'],
        extraFilters: [notSet('visit:utm_medium')],
        empty: 'No visit came with utm_medium in its landing URL.',
      },
      {
        key: 'utm_campaign',
        label: 'Campaign',
        dimension: 'visit:utm_campaign',
        metrics: ['visitors', 'visits'],
        extraFilters: [notSet('visit:utm_campaign')],
        empty: 'No visit came with utm_campaign in its landing URL.',
      },
    ],
    devices: [
      { key: 'browser', label: 'Browser', dimension: 'visit:browser', metrics: ['visitors', 'visits'], empty: noVisits },
      { key: 'os', label: 'OS', dimension: 'visit:os', metrics: ['visitors', 'visits'], empty: noVisits },
      { key: 'device', label: 'Device', dimension: 'visit:device', metrics: ['visitors', 'visits'], empty: noVisits },
    ],
    countries: [
      {
        key: 'country',
        label: 'Countries',
        dimension: 'visit:country',
        metrics: ['visitors', 'visits'],
        extraFilters: [notSet('visit:country')],
        empty: (
          <p data-testid="countries-empty">
            No countries yet: countries appear for visitors from public addresses. Visits from this machine or a private network (the demo, local tests)
            have none. Behind a proxy, set <code>TRUST_PROXY</code> on the collector.
          </p>
        ),
      },
    ],
    events: [
      {
        key: 'names',
        label: 'Events',
        dimension: 'event:name',
        metrics: ['visitors', 'events'],
        // Page views and clicks have panels and figures of their own.
        extraFilters: [['is_not', 'event:name', ['pageview', 'click']]],
        empty: (
          <p>
            No custom events in this range. Send them with <code>cs('track', 'signup', {'{'} plan: 'pro' {'}'})</code>.
          </p>
        ),
      },
      {
        key: 'props',
        label: 'Properties',
        dimension: `event:props:${prop ?? ''}`,
        metrics: ['visitors', 'events'],
        extra: propPicker,
        empty: 'No custom event had this property in this range.',
        ...(prop === undefined
          ? {
              placeholder: (
                <p>
                  No custom event properties in this range. Send some with <code>cs('track', 'signup', {'{'} plan: 'pro' {'}'})</code>.
                </p>
              ),
            }
          : {}),
      },
    ],
  };
}

function RangePicker({ choice, onRange, now }: { choice: RangeChoice; onRange: (r: RangeChoice) => void; now: number }) {
  const today = localDate(now);
  const days = customDays(choice);
  const [from, setFrom] = useState(choice.from ?? localDate(now - 6 * 86_400_000));
  const [to, setTo] = useState(choice.to ?? today);
  return (
    <div className="range-picker">
      <fieldset className="segmented">
        <legend className="visually-hidden">Time range</legend>
        {OVERVIEW_RANGE_KEYS.map((key) => (
          <label key={key} className={choice.key === key ? 'active' : undefined}>
            <input
              type="radio"
              name="overview-range"
              value={key}
              checked={choice.key === key}
              onChange={() => onRange(key === 'custom' ? { key, from, to } : { key })}
            />
            {OVERVIEW_RANGES[key].label}
          </label>
        ))}
      </fieldset>
      {choice.key === 'custom' && (
        <form
          className="custom-range"
          onSubmit={(e) => {
            e.preventDefault();
            onRange({ key: 'custom', from, to });
          }}
        >
          <label>
            From <input type="date" value={from} max={today} onChange={(e) => setFrom(e.target.value)} required />
          </label>
          <label>
            to <input type="date" value={to} max={today} onChange={(e) => setTo(e.target.value)} required />
          </label>
          <button type="submit" className="secondary small">
            Apply
          </button>
          {!days && <span className="error small-text">Choose a first day on or before the last.</span>}
        </form>
      )}
    </div>
  );
}
