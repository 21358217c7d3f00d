import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface DashboardMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route'>;
  liveClients: Gauge;
  liveFrames: Counter<'outcome'>;
  resultsConsumed: Counter<'outcome'>;
  gapFillWindows: Counter;
}

/** Prometheus metrics of the dashboard process, served at /metrics. */
export function createDashboardMetrics(liveClientCount: () => number): DashboardMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'clickstream_dashboard_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'clickstream_dashboard_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'clickstream_dashboard_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    liveClients: new Gauge({
      name: 'clickstream_dashboard_live_clients',
      help: 'Connected live-feed WebSocket clients',
      registers: [registry],
      collect() {
        this.set(liveClientCount());
      },
    }),
    liveFrames: new Counter({
      name: 'clickstream_dashboard_live_frames_total',
      help: 'Live frames per client: delivered, or dropped because the client was too slow',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    resultsConsumed: new Counter({
      name: 'clickstream_dashboard_results_consumed_total',
      help: 'Committed user-metrics records read: fanned out, deleted (erasure markers, fanned out), or undecodable and skipped',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    gapFillWindows: new Counter({
      name: 'clickstream_dashboard_gap_fill_windows_total',
      help: 'Windows sent from PostgreSQL to reconnecting live clients',
      registers: [registry],
    }),
  };
}
