/**
 * The compose file's optional `monitoring` profile (Prometheus + Grafana) and what it shows,
 * checked against the repository: the profile's services start only with the profile, Prometheus
 * scrapes the services where compose runs them, Grafana is provisioned with the data source the
 * dashboard queries, and every metric the dashboard queries is one the services define (names
 * parsed out of their metrics modules) and follows Prometheus' naming conventions.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../src/paths.js';

const infra = join(repoRoot, 'infra');
const composeFile = join(infra, 'docker-compose.yml');
const prometheusFile = join(infra, 'monitoring', 'prometheus.yml');
const grafanaDir = join(infra, 'monitoring', 'grafana');
const dashboardFile = join(grafanaDir, 'dashboards', 'clickstream.json');

/** Each service's metrics module, and the prefix its metric names must carry. */
const SERVICES = [
  { service: 'collector', module: 'apps/collector/src/metrics.ts', portVar: 'COLLECTOR_PORT' },
  { service: 'processor', module: 'apps/processor/src/metrics.ts', portVar: 'PROCESSOR_METRICS_PORT' },
  { service: 'dashboard', module: 'apps/dashboard/src/server/metrics.ts', portVar: 'DASHBOARD_PORT' },
] as const;
const MONITORING = ['prometheus', 'grafana'];

// Parsed YAML and JSON of outside formats, read by the assertions below that check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

const compose = () => parse(readFileSync(composeFile, 'utf8'), { merge: true }) as Loose;
const envOf = (service: Loose): Record<string, string> => Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';
interface Metric {
  name: string;
  type: MetricType;
  service: string;
  /** Defined in the module's source, not one of prom-client's process metrics. */
  own: boolean;
}

/** What this test uses of prom-client, loaded from the service's own dependencies. */
interface PromClient {
  Registry: new () => { getMetricsAsArray(): Array<{ name: string; type: MetricType }> };
  collectDefaultMetrics(options: { register: unknown; prefix: string }): void;
}

/**
 * The metrics a service defines, parsed out of its metrics module: every `new Counter|Gauge|
 * Histogram|Summary({ name: '…' })`, plus prom-client's process metrics under the prefix its
 * `collectDefaultMetrics` call gives (listed by the prom-client the service itself loads).
 */
function metricsOf(service: string, module: string): Metric[] {
  const source = readFileSync(join(repoRoot, module), 'utf8');
  const metrics: Metric[] = [...source.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name: '([^']+)'/g)].map((m) => ({
    name: m[2]!,
    type: m[1]!.toLowerCase() as MetricType,
    service,
    own: true,
  }));
  const defaults = /collectDefaultMetrics\(\{[^}]*prefix: '([^']+)'/.exec(source);
  if (defaults) {
    const promClient = createRequire(join(repoRoot, module))('prom-client') as PromClient;
    const registry = new promClient.Registry();
    promClient.collectDefaultMetrics({ register: registry, prefix: defaults[1]! });
    for (const { name, type } of registry.getMetricsAsArray()) metrics.push({ name, type, service, own: false });
  }
  return metrics;
}

const allMetrics = () => SERVICES.flatMap((s) => metricsOf(s.service, s.module));

/**
 * Metric names a PromQL expression selects: strings, label matchers, ranges and grouping clauses
 * removed, then every identifier that is not a function call or a keyword.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  const names: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(') || keywords.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

/** A selected series name resolved to the metric that exports it (histograms export _bucket, _sum, _count). */
function resolve(name: string, metrics: Metric[]): Metric | undefined {
  const exact = metrics.find((m) => m.name === name && m.type !== 'histogram' && m.type !== 'summary');
  if (exact) return exact;
  const series = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!series) return undefined;
  const metric = metrics.find((m) => m.name === series[1] && (m.type === 'histogram' || (m.type === 'summary' && series[2] !== 'bucket')));
  return metric;
}

function dashboardTargets(): Array<{ panel: string; expr: string; datasource: Loose }> {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Loose;
  const panels = (dashboard.panels as Loose[]).flatMap((p) => [p, ...((p.panels as Loose[] | undefined) ?? [])]);
  return panels.flatMap((p) => ((p.targets as Loose[] | undefined) ?? []).map((t) => ({ panel: String(p.title), expr: String(t.expr), datasource: t.datasource ?? p.datasource })));
}

test('the monitoring profile: Prometheus and Grafana start only with --profile monitoring; the platform never needs them', () => {
  const services = compose().services as Loose;
  for (const name of MONITORING) {
    assert.ok(services[name], `service ${name} is defined`);
    assert.deepEqual(services[name].profiles, ['monitoring'], `${name} belongs to the monitoring profile only`);
    assert.match(String(services[name].image), /^[a-z/]+:v?\d+\.\d+\.\d+$/, `${name} runs a pinned image`);
    for (const port of services[name].ports ?? []) assert.match(String(port), /^127\.0\.0\.1:/, `${name} publishes on this machine only: ${port}`);
  }
  const profiled = new Set(Object.keys(services).filter((name) => services[name].profiles));
  assert.deepEqual([...profiled].sort(), [...MONITORING].sort(), 'no other service sits in a profile, so a plain `up` starts the whole platform');
  for (const [name, service] of Object.entries(services)) {
    if (profiled.has(name)) continue;
    // A service outside the profile that depends on one inside it would pull it into every `up`.
    const needs = Object.keys((service as Loose).depends_on ?? {});
    assert.deepEqual(needs.filter((n) => profiled.has(n)), [], `${name} does not depend on a monitoring service`);
  }
  assert.equal(services.grafana.depends_on?.prometheus?.condition, 'service_healthy', 'Grafana starts once Prometheus is ready');
  // Every file the two mount comes from this repository.
  for (const name of MONITORING) {
    for (const volume of services[name].volumes ?? []) {
      const source = String(volume).split(':')[0]!;
      if (!source.startsWith('.')) continue;
      assert.ok(existsSync(join(infra, source)), `${name} mounts ${source}, which exists under infra/`);
    }
  }
});

test('Prometheus scrapes /metrics of the collector, processor and dashboard on their compose hostnames and ports', () => {
  const services = compose().services as Loose;
  const config = parse(readFileSync(prometheusFile, 'utf8')) as Loose;
  const targets = (config.scrape_configs as Loose[]).flatMap((job) =>
    (job.static_configs as Loose[]).flatMap((s) => (s.targets as string[]).map((target) => ({ job: String(job.job_name), path: job.metrics_path ?? '/metrics', target }))),
  );
  assert.deepEqual(targets.map((t) => t.target.split(':')[0]).sort(), SERVICES.map((s) => s.service).sort(), 'one target per service');
  for (const { service, portVar } of SERVICES) {
    const target = targets.find((t) => t.target.startsWith(`${service}:`))!;
    const port = envOf(services[service])[portVar];
    assert.ok(port, `compose sets ${service}'s ${portVar}`);
    assert.equal(target.target, `${service}:${port}`, `${service} is scraped on the port compose gives it (${portVar})`);
    assert.ok(String(services[service].healthcheck?.test).includes(`127.0.0.1:${port}/`), `${service}'s health check uses the same port`);
    assert.equal(target.path, '/metrics');
    assert.match(target.job, new RegExp(`^clickstream-${service}$`));
  }
  // The prometheus.yml mounted is this one, where Prometheus reads it.
  assert.ok(services.prometheus.volumes.includes('./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
  assert.ok(services.prometheus.command.includes('--config.file=/etc/prometheus/prometheus.yml'));
});

test('Grafana is provisioned with the Prometheus data source and the dashboard folder it mounts', () => {
  const services = compose().services as Loose;
  const datasources = parse(readFileSync(join(grafanaDir, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as Loose;
  const [source] = datasources.datasources as Loose[];
  assert.equal(source!.type, 'prometheus');
  assert.equal(source!.url, 'http://prometheus:9090', 'the data source is the compose service, on the port its health check uses');
  assert.ok(String(services.prometheus.healthcheck.test).includes(':9090/'));
  const providers = parse(readFileSync(join(grafanaDir, 'provisioning', 'dashboards', 'clickstream.yml'), 'utf8')) as Loose;
  const dashboardsPath = String((providers.providers as Loose[])[0]!.options.path);
  const mounts = (services.grafana.volumes as string[]).map((v) => v.split(':'));
  assert.ok(mounts.some(([from, to]) => from === './monitoring/grafana/dashboards' && to === dashboardsPath), `the dashboards folder is mounted at ${dashboardsPath}`);
  assert.ok(mounts.some(([from, to]) => from === './monitoring/grafana/provisioning' && to === '/etc/grafana/provisioning'));
  for (const target of dashboardTargets()) {
    assert.equal(target.datasource?.uid, source!.uid, `panel "${target.panel}" queries the provisioned data source`);
  }
});

test('the PromQL reader finds the metric names of an expression, and only those', () => {
  assert.deepEqual(metricNamesIn('histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{job=~"x.*"}[5m])))'), ['a_seconds_bucket']);
  assert.deepEqual(metricNamesIn('sum by (outcome) (rate(b_total{outcome=~"too-late|x"}[1m])) / on(instance) c'), ['b_total', 'c']);
  assert.deepEqual(metricNamesIn('max(d_seconds) > bool 5'), ['d_seconds']);
});

test('every metric the Grafana dashboard queries is defined in a service metrics module', () => {
  const metrics = allMetrics();
  assert.ok(metrics.filter((m) => m.own).length >= 20, 'the three modules define their metrics');
  const targets = dashboardTargets();
  assert.ok(targets.length >= 20, 'the dashboard has its panels');
  const unknown: string[] = [];
  for (const { panel, expr } of targets) {
    const names = metricNamesIn(expr);
    assert.ok(names.length > 0, `panel "${panel}" selects a metric: ${expr}`);
    // `up` is Prometheus' own series of each scrape target.
    for (const name of names) if (name !== 'up' && !resolve(name, metrics)) unknown.push(`${panel}: ${name}`);
  }
  assert.deepEqual(unknown, [], 'metrics the dashboard queries that no service defines');
  // The same check fails for a name no module defines.
  assert.equal(resolve('clickstream_processor_dropped_engaged_milliseconds_total', metrics), undefined);
});

test('the dashboard shows throughput, latency, lag, checkpoint age and errors', () => {
  const exprs = dashboardTargets().map((t) => t.expr);
  const queries = (pattern: RegExp) => exprs.some((e) => pattern.test(e));
  const required: Array<[string, RegExp]> = [
    ['throughput: collector events in', /rate\(clickstream_collector_events_accepted_total/],
    ['throughput: processor events in', /rate\(clickstream_processor_events_total/],
    ['throughput: dashboard results in', /rate\(clickstream_dashboard_results_consumed_total/],
    ['latency: collector produce duration quantiles', /histogram_quantile\(0\.99, .*clickstream_collector_produce_duration_seconds_bucket/],
    ['latency: processor event-to-visible quantiles', /histogram_quantile\(0\.5, .*clickstream_processor_event_to_visible_seconds_bucket/],
    ['lag: consumer lag', /clickstream_processor_consumer_lag\b/],
    ['lag: watermark delay', /clickstream_processor_watermark_delay_seconds/],
    ['checkpoint age', /clickstream_processor_checkpoint_age_seconds/],
    ['errors: collector 5xx', /clickstream_collector_http_requests_total\{status=~"5\.\."\}/],
    ['errors: dashboard 5xx', /clickstream_dashboard_http_requests_total\{status=~"5\.\."\}/],
    ['errors: rejected events', /clickstream_collector_events_rejected_total/],
    ['errors: undecodable events', /clickstream_processor_events_total\{outcome=~"[^"]*undecodable/],
    ['errors: checkpoint failures', /clickstream_processor_checkpoint_failures_total/],
  ];
  const missing = required.filter(([, pattern]) => !queries(pattern)).map(([what]) => what);
  assert.deepEqual(missing, []);
});

test('metric names follow Prometheus conventions: one prefix per service, base units in the name, _total on counters only', () => {
  const problems: string[] = [];
  for (const metric of allMetrics()) {
    const { name, type, service } = metric;
    if (!name.startsWith(`clickstream_${service}_`)) problems.push(`${name}: not under clickstream_${service}_`);
    // prom-client's process metrics keep their well-known names (nodejs_active_handles_total is a gauge).
    if (!metric.own) continue;
    if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`${name}: not snake_case`);
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: a counter without _total`);
    if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: _total on a ${type}`);
    // Base units only: seconds and bytes, never milli-, micro- or kilo-anything.
    if (/_(milliseconds|ms|microseconds|us|minutes|hours|days|kilobytes|kb|megabytes|mb)(_|$)/.test(name)) problems.push(`${name}: not in a base unit`);
    if (/(duration|latency|age|delay|time)(_|$)/.test(name) && !/_seconds(_total)?$/.test(name)) problems.push(`${name}: a time without _seconds`);
    if (/(size|memory|heap)(_|$)/.test(name) && !/_bytes(_total)?$/.test(name)) problems.push(`${name}: a size without _bytes`);
  }
  assert.deepEqual(problems, []);
});

test('the metrics modules are where the services define their metrics', () => {
  // Otherwise a metric defined elsewhere could be queried but not checked above.
  const defining: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'web') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.ts$/.test(entry) && /new (Counter|Gauge|Histogram|Summary)\(/.test(readFileSync(path, 'utf8'))) defining.push(relative(repoRoot, path));
    }
  };
  for (const app of ['collector', 'processor', 'dashboard']) walk(join(repoRoot, 'apps', app, 'src'));
  assert.deepEqual(defining.sort(), SERVICES.map((s) => s.module).sort());
});
