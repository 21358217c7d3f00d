import type { EnrichedEvent, VisitResult } from '@clickstream/shared';
import { SiteAggregates, type SiteAggregatesOutput } from './site-aggregates.js';
import { SessionWindows, type SessionsDelta, type VisitDeletion, type VisitSnapshot } from './session-windows.js';
import { WindowOperator, type FiredOutput, type OperatorDelta, type OperatorSnapshot, type ProcessOutcome, type WindowOperatorConfig } from './window-operator.js';

export interface PartitionOperatorConfig extends WindowOperatorConfig {
  /** Inactivity that ends a visit (SESSION_GAP_MS). */
  sessionGapMs: number;
  /**
   * Visits and site aggregates (SITE_ANALYTICS, default on); off, the processor computes per-user
   * windows only - for deployments that want engagement alone, and the bench's baseline.
   */
  siteAnalytics?: boolean;
}

/** Everything one input partition holds, as stored at a checkpoint. */
export interface PartitionSnapshot extends OperatorSnapshot {
  visits: VisitSnapshot[];
  nextVisitId: number;
}

export interface PartitionDelta extends OperatorDelta {
  visits: SessionsDelta;
  nextVisitId: number;
}

export interface PartitionOutput extends FiredOutput {
  visits: VisitResult[];
  visitDeletions: VisitDeletion[];
  site: SiteAggregatesOutput;
}

/**
 * The operators of one input partition wired together, as Flink chains them: the window operator
 * (watermark, bots, event-id dedup, tumbling windows) decides whether an event counts, and every
 * counted event - only those - goes on to the session windows and the site aggregates. Pure and
 * clock-injected; the site aggregates hold only what the next checkpoint writes.
 */
export class PartitionOperator {
  private readonly windows: WindowOperator;
  private readonly sessions: SessionWindows;
  private readonly site: SiteAggregates;
  private readonly siteAnalytics: boolean;

  constructor(config: PartitionOperatorConfig, now: number, restored?: PartitionSnapshot) {
    this.windows = new WindowOperator(config, now, restored);
    this.siteAnalytics = config.siteAnalytics !== false;
    this.site = new SiteAggregates(config.allowedLatenessMs);
    this.sessions = new SessionWindows(
      { gapMs: config.sessionGapMs, allowedLatenessMs: config.allowedLatenessMs },
      restored && { visits: restored.visits ?? [], nextVid: restored.nextVisitId ?? 1 },
    );
  }

  get currentWatermark(): number {
    return this.windows.currentWatermark;
  }

  get dueWindowEnd(): number | undefined {
    return this.windows.dueWindowEnd;
  }

  get windowCount(): number {
    return this.windows.windowCount;
  }

  get retiredWindowCount(): number {
    return this.windows.retiredWindowCount;
  }

  get visitCount(): number {
    return this.sessions.visitCount;
  }

  /** Engaged time dropped (past allowed lateness) since the last call. */
  takeDroppedEngagedMs(): number {
    const dropped = this.windows.counters.droppedEngagedMs;
    this.windows.counters.droppedEngagedMs = 0;
    return dropped;
  }

  process(event: EnrichedEvent, now: number): ProcessOutcome {
    const watermarkBefore = this.windows.currentWatermark;
    const outcome = this.windows.process(event, now);
    if (this.siteAnalytics && (outcome === 'counted' || outcome === 'late-counted')) {
      this.sessions.add(event, watermarkBefore);
      this.site.add(event);
    }
    return outcome;
  }

  /**
   * Fires what the watermark closed. `emitOpenVisits` false (the runtime is working off a
   * backlog) holds back open visits that changed, so a catch-up does not rewrite every visit at
   * every checkpoint; they go out once live again, or when they close.
   */
  onTimer(now: number, emitOpenVisits = true): PartitionOutput {
    const fired = this.windows.onTimer(now);
    const visits = this.sessions.onTimer(this.windows.currentWatermark, emitOpenVisits);
    return { ...fired, visits: visits.visits, visitDeletions: visits.deletions, site: this.site.take(this.windows.currentWatermark) };
  }

  /** Applies an erasure to every operator (see the contract's "Erasure"). */
  erase(siteId: string, userId: string, erasedAt: number): void {
    this.windows.erase(siteId, userId, erasedAt);
    this.sessions.erase(siteId, userId, erasedAt);
    this.site.erase(siteId, userId, erasedAt);
  }

  takeDelta(): PartitionDelta {
    return { ...this.windows.takeDelta(), visits: this.sessions.takeDelta(), nextVisitId: this.sessions.visitIdWatermark };
  }

  snapshot(): PartitionSnapshot {
    return { ...this.windows.snapshot(), visits: this.sessions.snapshot(), nextVisitId: this.sessions.visitIdWatermark };
  }
}
