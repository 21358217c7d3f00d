/**
 * A breakdown panel of the overview (pages, sources, devices, countries, events): tabs, each one
 * dimension of POST /api/v1/query; every value is a button that filters the whole dashboard; the
 * open tab exports as CSV.
 */
import { useId, useState, type ReactNode } from 'react';
import { UnauthorizedError } from './api.js';
import { METRIC_LABELS, dimensionLabel, formatMetric, toCsv, toQueryFilters, unanswerable, csvFileName, type Filter, type ResolvedRange } from './overview-model.js';
import { queryStats, type StatsQuery } from './stats-api.js';
import { useStats } from './use-stats.js';

export interface PanelTab {
  key: string;
  label: string;
  dimension: string;
  /** The first is the bar's measure; all are columns. */
  metrics: string[];
  /** Filters of this tab only (leaving out "(not set)"). */
  extraFilters?: unknown[];
  empty: ReactNode;
  /** Shown instead of the list (e.g. "choose a property"). */
  placeholder?: ReactNode;
  /** Controls of this tab, above the list (e.g. the property picker). */
  extra?: ReactNode;
}

export interface PanelContext {
  token: string;
  siteId: string;
  range: ResolvedRange;
  filters: Filter[];
  refresh: number;
  onFilter: (filter: Filter) => void;
  onUnauthorized: () => void;
}

const SHOWN = 10;
const EXPORT_LIMIT = 10_000;

function tabQuery(ctx: PanelContext, tab: PanelTab, limit: number): StatsQuery {
  return {
    site_id: ctx.siteId,
    metrics: tab.metrics,
    date_range: ctx.range.dateRange,
    dimensions: [tab.dimension],
    filters: [...toQueryFilters(ctx.filters), ...(tab.extraFilters ?? [])],
    pagination: { limit },
  };
}

export function StatsPanel({ id, title, tabs, ctx }: { id: string; title: string; tabs: PanelTab[]; ctx: PanelContext }) {
  const [active, setActive] = useState(tabs[0]!.key);
  const tab = tabs.find((t) => t.key === active) ?? tabs[0]!;
  const refused = unanswerable(tab.metrics, [tab.dimension], ctx.filters);
  const skip = refused !== undefined || tab.placeholder !== undefined;
  const { answer, error, loading } = useStats(ctx.token, skip ? undefined : tabQuery(ctx, tab, SHOWN), ctx.refresh, ctx.onUnauthorized);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | undefined>();
  const tablistId = useId();
  const rows = answer?.results ?? [];
  const max = Math.max(1, ...rows.map((r) => r.metrics[0] ?? 0));
  const warnings = answer?.meta.metric_warnings ? Object.values(answer.meta.metric_warnings).map((w) => w.warning) : [];

  const exportCsv = async () => {
    setExporting(true);
    setExportError(undefined);
    try {
      const all = await queryStats(ctx.token, tabQuery(ctx, tab, EXPORT_LIMIT));
      const csv = toCsv(
        [dimensionLabel(tab.dimension), ...tab.metrics.map((m) => METRIC_LABELS[m] ?? m)],
        all.results.map((r) => [r.dimensions[0] ?? '', ...r.metrics]),
      );
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = csvFileName(ctx.siteId, `${id}-${tab.key}`, ctx.range);
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      if (e instanceof UnauthorizedError) ctx.onUnauthorized();
      else setExportError((e as Error).message);
    } finally {
      setExporting(false);
    }
  };

  return (
    <section className="card panel" aria-labelledby={`${tablistId}-title`} data-testid={`panel-${id}`} data-tab={tab.key}>
      <div className="panel-head">
        <h2 id={`${tablistId}-title`}>{title}</h2>
        {tabs.length > 1 && (
          <div role="tablist" aria-label={`${title}: breakdown`} className="tabs">
            {tabs.map((t) => (
              <button
                key={t.key}
                type="button"
                role="tab"
                aria-selected={t.key === tab.key}
                className={t.key === tab.key ? 'tab active' : 'tab'}
                onClick={() => setActive(t.key)}
              >
                {t.label}
              </button>
            ))}
          </div>
        )}
      </div>
      {tab.extra}
      <div role="tabpanel" aria-label={tab.label} className="panel-body">
        {refused !== undefined ? (
          <p className="muted" data-testid="panel-unavailable">
            Not available with these filters: {refused}. Remove a filter to see it.
          </p>
        ) : tab.placeholder !== undefined ? (
          <div className="muted">{tab.placeholder}</div>
        ) : error ? (
          <p className="error">Could not load: {error}</p>
        ) : !answer ? (
          <p className="muted">{loading ? 'Loading…' : ''}</p>
        ) : rows.length === 0 ? (
          <div className="muted" data-testid="panel-empty">
            {tab.empty}
          </div>
        ) : (
          <table className="breakdown">
            <caption className="visually-hidden">
              {title}, {tab.label}: choose a value to filter the dashboard by it
            </caption>
            <thead>
              <tr>
                <th scope="col">{dimensionLabel(tab.dimension)}</th>
                {tab.metrics.map((m) => (
                  <th key={m} scope="col" className="num">
                    {METRIC_LABELS[m]?.replace('Unique visitors', 'Visitors') ?? m}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const value = row.dimensions[0] ?? '';
                const filtered = ctx.filters.some((f) => f.dimension === tab.dimension && f.value === value);
                return (
                  <tr key={value} data-value={value}>
                    <td className="bar-cell">
                      <span className="bar" style={{ width: `${((row.metrics[0] ?? 0) / max) * 100}%` }} aria-hidden="true" />
                      <button
                        type="button"
                        className="link-button value"
                        title={`Filter by ${dimensionLabel(tab.dimension).toLowerCase()} ${value}`}
                        aria-pressed={filtered}
                        onClick={() => ctx.onFilter({ op: 'is', dimension: tab.dimension, value })}
                      >
                        {value === '' ? '(empty)' : value}
                      </button>
                    </td>
                    {row.metrics.map((n, i) => (
                      <td key={tab.metrics[i]} className="num" data-metric={tab.metrics[i]}>
                        {formatMetric(tab.metrics[i]!, n)}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {warnings.length > 0 && (
          <p className="muted small-text" title={warnings.join(' ')} data-testid="panel-approximate">
            ≈ Visitors here count over the whole quarter hours around this range (they are kept per quarter hour); today, 24 h and longer ranges are
            exact.
          </p>
        )}
      </div>
      <div className="panel-foot">
        {exportError && <span className="error small-text">{exportError}</span>}
        <button type="button" className="secondary small" onClick={() => void exportCsv()} disabled={skip || exporting || rows.length === 0}>
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
    </section>
  );
}
