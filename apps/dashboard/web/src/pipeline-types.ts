/** The answer of GET /api/v1/pipeline (the contract's "Pipeline freshness"). Types only. */
export interface Threshold {
  amber: number;
  red: number;
}

export interface PipelineFigures {
  eventToVisibleMs: { p50: number | null; p99: number | null };
  watermarkLagMs: number | null;
  consumerLag: number | null;
  checkpointAgeMs: number | null;
  eventsInPerSec: number | null;
  resultsOutPerSec: number | null;
}

export interface PipelineInstance extends PipelineFigures {
  instanceId: string;
  consumerGroup: string;
  partitions: number[];
  samples: number;
  updatedAt: string;
  ageMs: number;
  stale: boolean;
}

export interface ReconcileRun {
  id: string;
  siteId: string;
  from: string;
  to: string;
  startedAt: string;
  finishedAt: string | null;
  ok: boolean | null;
  summary: unknown;
}

export interface Pipeline {
  staleAfterMs: number;
  thresholds: Record<'eventToVisibleMs' | 'watermarkLagMs' | 'consumerLag' | 'checkpointAgeMs', Threshold>;
  total: PipelineFigures & { instances: number; level: 'ok' | 'amber' | 'red' };
  instances: PipelineInstance[];
  lastReconcile: ReconcileRun | null;
}
