/** The pipeline's freshness, live: in total and per processor instance, and the last exactness audit. */
import { formatAgo, formatClock } from './format.js';
import { auditView, FIGURES, figureLevel, formatMs, thresholdText, type Level } from './freshness.js';
import type { Pipeline, ReconcileRun } from './stats-api.js';
import type { PipelineState } from './use-pipeline.js';

const LEVEL_TEXT: Record<Level, string> = { ok: 'ok', amber: 'amber', red: 'red' };

export function FreshnessPanel({ state, intervalMs }: { state: PipelineState; intervalMs: number }) {
  const { pipeline, receivedAt, error } = state;
  return (
    <section className="card freshness" aria-labelledby="freshness-title" data-testid="freshness-panel">
      <div className="panel-head">
        <h2 id="freshness-title">Pipeline freshness</h2>
        <span className="muted small-text" data-testid="freshness-updated">
          {receivedAt ? `updated ${formatClock(receivedAt)} · every ${intervalMs / 1000} s` : 'loading…'}
        </span>
      </div>
      {error && (
        <p role="alert" className="error">
          Could not load the pipeline figures: {error}. Retrying.
        </p>
      )}
      {pipeline && <PipelineBody pipeline={pipeline} />}
    </section>
  );
}

function PipelineBody({ pipeline }: { pipeline: Pipeline }) {
  const { total } = pipeline;
  const live = pipeline.instances.filter((i) => !i.stale);
  return (
    <>
      <p className={`freshness-summary level-${total.level}`} data-testid="freshness-level" data-level={total.level}>
        <span className={`dot dot-${total.level}`} aria-hidden="true" />{' '}
        {total.instances === 0
          ? `No processor has reported in the last ${pipeline.staleAfterMs / 1000} s: nothing is being counted.`
          : total.level === 'ok'
            ? `Fresh: ${total.instances} processor instance${total.instances === 1 ? '' : 's'} within every threshold.`
            : `${total.level === 'red' ? 'Behind' : 'Slowing'}: a figure is past its ${total.level} threshold.`}
      </p>
      <dl className="figures" aria-label="Whole pipeline" data-testid="freshness-total">
        {FIGURES.map((spec) => {
          const value = spec.value(total);
          const level = figureLevel(spec, total, pipeline);
          return (
            <div key={spec.key} className={`figure level-${level}`} data-figure={spec.key} data-level={level} title={[spec.hint, thresholdText(spec, pipeline)].filter(Boolean).join('; ')}>
              <dt>{spec.label}</dt>
              <dd>
                {value === null ? '—' : spec.format(value)}
                {level !== 'ok' && <span className="level-tag">{LEVEL_TEXT[level]}</span>}
              </dd>
            </div>
          );
        })}
      </dl>
      <p className="muted small-text">
        Total over {live.length} live instance{live.length === 1 ? '' : 's'}: latency p50 and p99 are the highest of the instances' (an upper bound: percentiles
        of different instances cannot be merged), watermark lag and checkpoint age the highest, consumer lag and rates the sums. Thresholds: settings{' '}
        <code>FRESHNESS_*</code>.
      </p>

      <div className="table-scroll">
        <table data-testid="freshness-instances">
          <caption className="visually-hidden">Processor instances</caption>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Partitions</th>
              {FIGURES.map((spec) => (
                <th key={spec.key} scope="col" className="num" title={spec.hint}>
                  {spec.label}
                </th>
              ))}
              <th scope="col" className="num">
                Reported
              </th>
            </tr>
          </thead>
          <tbody>
            {pipeline.instances.length === 0 && (
              <tr>
                <td colSpan={FIGURES.length + 3} className="muted">
                  No processor instance has reported. Start one: <code>pnpm --filter @clickstream/processor start</code>.
                </td>
              </tr>
            )}
            {pipeline.instances.map((instance) => (
              <tr key={instance.instanceId} className={instance.stale ? 'stale' : undefined} data-instance={instance.instanceId}>
                <th scope="row" className="instance-id">
                  {instance.instanceId}
                  {instance.stale && <span className="badge">stale</span>}
                </th>
                <td>{instance.partitions.length > 0 ? instance.partitions.join(', ') : 'none'}</td>
                {FIGURES.map((spec) => {
                  const value = spec.value(instance);
                  const level = instance.stale ? 'ok' : figureLevel(spec, instance, pipeline);
                  return (
                    <td key={spec.key} className={`num level-${level}`} data-figure={spec.key} data-level={level}>
                      {value === null ? '—' : spec.format(value)}
                      {level !== 'ok' && <span className="level-tag">{LEVEL_TEXT[level]}</span>}
                    </td>
                  );
                })}
                <td className="num">{instance.ageMs < 2000 ? 'now' : `${formatMs(instance.ageMs)} ago`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <Reconcile run={pipeline.lastReconcile} />
    </>
  );
}

function Reconcile({ run }: { run: ReconcileRun | null }) {
  if (!run) {
    return (
      <div className="reconcile" data-testid="reconcile">
        <h3>Exactness audit</h3>
        <p className="muted">
          No audit has run yet. <code>pnpm reconcile --site &lt;id&gt; --from &lt;time&gt; --to &lt;time&gt;</code> recounts a range from the raw events and
          compares it with what the dashboard shows; its result appears here.
        </p>
      </div>
    );
  }
  const audit = auditView(run.summary);
  const range = `${new Date(run.from).toLocaleString()} – ${new Date(run.to).toLocaleString()}`;
  const n = (v: number) => v.toLocaleString('en-US');
  return (
    <div className={`reconcile level-${run.ok === false ? 'red' : 'ok'}`} data-testid="reconcile" data-ok={String(run.ok)}>
      <h3>Exactness audit</h3>
      <p>
        {run.ok === null ? (
          <strong>Running</strong>
        ) : run.ok ? (
          <strong>✓ Everything matched</strong>
        ) : (
          <strong className="error">✗ Differences found</strong>
        )}{' '}
        on site <span className="mono">{run.siteId}</span>, events {range};{' '}
        {run.finishedAt ? `finished ${formatAgo(Date.parse(run.finishedAt), Date.now())}` : `started ${formatAgo(Date.parse(run.startedAt), Date.now())}`}.
      </p>
      {audit.error && <p className="error">Not compared: {audit.error}</p>}
      {audit.totals && (
        <ul className="reconcile-counts" data-testid="reconcile-totals">
          <li>
            matching <strong>{n(audit.totals.matching)}</strong>
          </li>
          <li>
            different <strong>{n(audit.totals.different)}</strong>
          </li>
          <li>
            missing <strong>{n(audit.totals.missing)}</strong>
          </li>
          <li>
            extra <strong>{n(audit.totals.extra)}</strong>
          </li>
          {audit.notCompared !== undefined && audit.notCompared > 0 && <li className="muted">not final yet, left out: {n(audit.notCompared)}</li>}
        </ul>
      )}
      {audit.differing.length > 0 && (
        <ul className="reconcile-differences">
          {audit.differing.map((d) => (
            <li key={d.sink}>
              <span className="mono">{d.sink}</span>: {n(d.different)} different, {n(d.missing)} missing, {n(d.extra)} extra
              {d.example && (
                <>
                  {' '}
                  — e.g. <code>{d.example}</code>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A small header badge: the pipeline's level at a glance, linking to the panel. */
export function FreshnessBadge({ state, onOpen }: { state: PipelineState; onOpen: () => void }) {
  const p = state.pipeline;
  const level: Level = p ? p.total.level : 'ok';
  const p99 = p?.total.eventToVisibleMs.p99;
  const text = !p ? 'Pipeline…' : p.total.instances === 0 ? 'Pipeline: no processor' : `Pipeline: ${p99 === null || p99 === undefined ? 'idle' : `p99 ${formatMs(p99)}`}`;
  return (
    <button type="button" className={`freshness-badge level-${level}`} onClick={onOpen} data-testid="freshness-badge" data-level={level}>
      <span className={`dot dot-${level}`} aria-hidden="true" /> {text}
      {level !== 'ok' && <span className="visually-hidden"> ({level})</span>}
    </button>
  );
}
