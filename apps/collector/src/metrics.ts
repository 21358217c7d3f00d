import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The collector's Prometheus metrics, in a registry of its own so several apps can share a process
 * (tests). Names follow Prometheus' conventions: `clickstream_collector_` prefix, base units
 * (`_seconds`, `_bytes`) and `_total` for counters; process metrics carry the same prefix.
 */
export class CollectorMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'clickstream_collector_http_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'clickstream_collector_events_accepted_total',
    help: 'Events acknowledged by Kafka on website-clicks',
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'clickstream_collector_events_rejected_total',
    help: 'Events that failed validation (written to website-clicks-invalid)',
    registers: [this.registry],
  });
  readonly eventsRefused = new Counter({
    name: 'clickstream_collector_events_unavailable_total',
    help: 'Valid events answered 503 because Kafka could not take them',
    registers: [this.registry],
  });
  readonly produceLatency = new Histogram({
    name: 'clickstream_collector_produce_duration_seconds',
    help: 'Time from a produce call to its acks=all acknowledgement',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly produceBatchSize = new Histogram({
    name: 'clickstream_collector_produce_batch_messages',
    help: 'Messages per produce call after coalescing requests',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    registers: [this.registry],
  });
  readonly produceErrors = new Counter({
    name: 'clickstream_collector_produce_errors_total',
    help: 'Produce calls that failed',
    registers: [this.registry],
  });
  readonly kafkaUp = new Gauge({
    name: 'clickstream_collector_kafka_up',
    help: '1 when the producer is connected to Kafka',
    registers: [this.registry],
  });

  private readonly requestCounters = new Map<string, { inc: () => void }>();

  /** Counts an answered request; the labelled child is cached, since prom-client hashes labels on every inc(). */
  countRequest(route: string, status: number): void {
    const key = `${route} ${status}`;
    let counter = this.requestCounters.get(key);
    if (!counter) {
      counter = this.requests.labels(route, String(status));
      this.requestCounters.set(key, counter);
    }
    counter.inc();
  }

  constructor({ processMetrics = false } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'clickstream_collector_' });
  }
}
