import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The processor's Prometheus metrics (`/metrics` on PROCESSOR_METRICS_PORT). Names follow
 * Prometheus' conventions: `clickstream_processor_` prefix, base units (`_seconds`) and `_total`
 * for counters; process metrics carry the same prefix.
 */
export interface ProcessorMetrics {
  registry: Registry;
  eventsIn: Counter<'outcome'>;
  windowsEmitted: Counter;
  openWindows: Gauge<'partition'>;
  checkpointDuration: Histogram;
  watermarkDelay: Gauge<'partition'>;
  consumerLag: Gauge<'partition'>;
  checkpointAge: Gauge;
  eventToVisible: Histogram;
  /** Takes milliseconds, as the operator counts them; exported in seconds. */
  droppedEngagedMs: { inc(milliseconds: number): void };
  /** Checkpoint rounds in which a partition's commit failed (the processor then reloads from the last checkpoint). */
  checkpointFailures: Counter;
}

export function createProcessorMetrics(): ProcessorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'clickstream_processor_' });
  return {
    registry,
    eventsIn: new Counter({
      name: 'clickstream_processor_events_total',
      help: 'Input records by outcome: counted, duplicate, late-counted, too-late, bot, erased, undecodable',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    windowsEmitted: new Counter({
      name: 'clickstream_processor_windows_emitted_total',
      help: 'Window results committed (first emissions and late revisions)',
      registers: [registry],
    }),
    openWindows: new Gauge({
      name: 'clickstream_processor_open_windows',
      help: 'Windows held in state (open, or fired and within allowed lateness)',
      labelNames: ['partition'],
      registers: [registry],
    }),
    checkpointDuration: new Histogram({
      name: 'clickstream_processor_checkpoint_duration_seconds',
      help: 'Time to commit one checkpoint of all owned partitions to PostgreSQL',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    watermarkDelay: new Gauge({
      name: 'clickstream_processor_watermark_delay_seconds',
      help: 'Wall clock minus the partition watermark',
      labelNames: ['partition'],
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'clickstream_processor_consumer_lag',
      help: 'Records on website-clicks not yet covered by a checkpoint',
      labelNames: ['partition'],
      registers: [registry],
    }),
    checkpointAge: new Gauge({
      name: 'clickstream_processor_checkpoint_age_seconds',
      help: 'Time since the last checkpoint of this instance committed',
      registers: [registry],
    }),
    eventToVisible: new Histogram({
      name: 'clickstream_processor_event_to_visible_seconds',
      help: 'From the collector receiving the newest event of a result to the checkpoint that made it readable',
      buckets: [0.25, 0.5, 1, 2, 4, 6, 8, 10, 15, 30, 60, 120],
      registers: [registry],
    }),
    droppedEngagedMs: secondsCounter(
      new Counter({
        name: 'clickstream_processor_dropped_engaged_seconds_total',
        help: 'Engaged time that fell in windows already past allowed lateness, dropped',
        registers: [registry],
      }),
    ),
    checkpointFailures: new Counter({
      name: 'clickstream_processor_checkpoint_failures_total',
      help: 'Checkpoints that failed to commit (the instance reloads its partitions from the last one)',
      registers: [registry],
    }),
  };
}

/** A counter in seconds fed milliseconds. */
function secondsCounter(counter: Counter): { inc(milliseconds: number): void } {
  return { inc: (milliseconds) => counter.inc(milliseconds / 1000) };
}
