import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload } from 'kafkajs';
import { kafkaLogCreator } from '@clickstream/shared';
import type { ProcessorConfig } from '../env.js';
import { CheckpointStore, type Checkpoint, type PartitionRef } from '../state/checkpoint-store.js';
import { FencedError } from '../errors.js';
import { OutboxDelivery } from '../sinks/outbox-delivery.js';
import type { ProcessorMetrics } from '../metrics.js';
import { CrashPoints } from '../crash-points.js';
import type { PartitionTask } from './partition-task.js';
import { claimPartition } from './partition-claimer.js';
import { CheckpointScheduler } from './checkpoint-scheduler.js';
import type { Erasure } from '../operators/erasure.js';
import { FreshnessTracker, type InstanceFreshness } from './freshness.js';
import { InstanceHeartbeat } from './instance-heartbeat.js';

export interface ProcessorDeps {
  clock?: () => number;
  log?: (message: string) => void;
  /** Where kafkajs' warnings and errors go; default stderr. */
  kafkaLog?: (line: string) => void;
  metrics?: ProcessorMetrics;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Windows that became due within this age count as live and are committed at once. */
const LIVE_WINDOW_AGE_MS = 30_000;

/**
 * Small fetches keep a batch's decoded messages inside V8's young generation (the start script
 * sets --max-semi-space-size=32), where they die cheaply. With kafkajs' 10 MB fetches they
 * outlived a scavenge, got promoted, and the drain cost ~13 µs of CPU per event instead of ~10.
 * Per partition the limit is the broker's default message.max.bytes, so any record batch the
 * broker accepted fits a fetch even when it is not the first partition in it.
 */
export const FETCH_LIMITS = Object.freeze({ maxBytes: 2 * 1024 * 1024, maxBytesPerPartition: 1_048_588 });

/**
 * The job: consumes `website-clicks` in a consumer group and keeps one PartitionTask per owned
 * partition. Claims (partition-claimer), checkpoint timing (checkpoint-scheduler), the store and
 * the Kafka delivery each live in their own module; this class owns the consumer's lifecycle,
 * the batch loop, recovery after a failed checkpoint and shutdown.
 */
export class Processor {
  private readonly kafka: Kafka;
  private readonly store: CheckpointStore;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly claiming = new Map<number, Promise<PartitionTask | undefined>>();
  private readonly scheduler: CheckpointScheduler;
  private readonly delivery: OutboxDelivery;
  private readonly metrics: ProcessorMetrics | undefined;
  private readonly crash: CrashPoints;
  private running = false;
  /** The last erasure every owned partition has applied (claims load the recent ones themselves). */
  private erasureSeq = 0;
  /** Set by stop(): no new claims or recoveries start. */
  private stopping = false;
  private consumerHealthy = false;
  /** While set, input waits: state is being reloaded from the last checkpoint. */
  private recovering: Promise<void> | undefined;
  private readonly clock: () => number;
  private readonly log: (message: string) => void;
  private readonly freshness = new FreshnessTracker();
  private readonly heartbeat: InstanceHeartbeat;
  private lastConsumerLag = 0;

  constructor(
    private readonly config: ProcessorConfig,
    deps: ProcessorDeps = {},
  ) {
    this.clock = deps.clock ?? Date.now;
    this.log = deps.log ?? ((m) => process.stdout.write(`${m}\n`));
    this.metrics = deps.metrics;
    this.kafka = new Kafka({
      clientId: `${config.consumerGroup}-${process.pid}`,
      brokers: [...config.kafkaBrokers],
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator('processor', deps.kafkaLog),
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.store = new CheckpointStore(config.databaseUrl);
    this.crash = new CrashPoints(config.crashAt);
    this.delivery = new OutboxDelivery({ crash: this.crash, log: this.log, isRunning: () => this.running });
    this.heartbeat = new InstanceHeartbeat(this.store.pool, config.consumerGroup, async () => ({
      partitions: this.ownedPartitions,
      freshness: await this.currentFreshness(),
    }));
    this.scheduler = new CheckpointScheduler(
      config.checkpointIntervalMs,
      () => this.checkpointAll(),
      (error) => this.log(`checkpoint failed: ${error.message}`),
    );
  }

  get ownedPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.running = true;
    await this.store.ping();
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.startConsumer();
    this.scheduler.start();
    this.heartbeat.start();
  }

  /** This instance's "Pipeline freshness" figures (also on /metrics and in processor_instances). */
  async currentFreshness(): Promise<InstanceFreshness> {
    const lag = await this.consumerLag().catch(() => undefined);
    if (lag) this.lastConsumerLag = Object.values(lag).reduce((a, b) => a + b, 0);
    const watermarks = [...this.tasks.values()].map((t) => t.operator.currentWatermark);
    return this.freshness.snapshot(this.clock(), watermarks, this.lastConsumerLag);
  }

  /** Healthy when PostgreSQL answers and the consumer is in its group. */
  async healthy(): Promise<{ ok: boolean; database: boolean; kafka: boolean }> {
    const database = await this.store.ping().then(
      () => true,
      () => false,
    );
    return { ok: database && this.consumerHealthy, database, kafka: this.consumerHealthy };
  }

  private ref(partition: number): PartitionRef {
    return { consumerGroup: this.config.consumerGroup, topic: this.config.topics.clicks, partition };
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.config.consumerGroup,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: 1000,
      rebalanceTimeout: 30_000,
      // New partitions of website-clicks are found within this bound and trigger a rebalance.
      metadataMaxAge: 10_000,
      maxWaitTimeInMs: 100,
      ...FETCH_LIMITS,
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.consumerHealthy = true;
      const assigned = payload.memberAssignment[this.config.topics.clicks] ?? [];
      this.onAssignment(assigned);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.consumerHealthy = false;
      this.log(`consumer crashed (${payload.error.message}); restart=${payload.restart}`);
      if (!payload.restart && this.running) void this.restartConsumer();
    });
    consumer.on(consumer.events.DISCONNECT, () => {
      this.consumerHealthy = false;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.config.topics.clicks, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private async restartConsumer(): Promise<void> {
    await sleep(1000);
    if (!this.running) return;
    this.log('restarting the consumer');
    await this.consumer?.disconnect().catch(() => {});
    this.dropAllTasks();
    await this.startConsumer().catch((error: Error) => {
      this.log(`consumer restart failed: ${error.message}`);
      void this.restartConsumer();
    });
  }

  private onAssignment(assigned: number[]): void {
    const wanted = new Set(assigned);
    for (const [partition, task] of this.tasks) {
      if (!wanted.has(partition)) this.release(partition, task);
    }
    for (const partition of wanted) {
      if (!this.tasks.has(partition) && !this.claiming.has(partition)) this.claimInBackground(partition);
    }
    this.log(`assigned partitions [${[...wanted].sort((a, b) => a - b).join(', ')}]`);
  }

  private claimInBackground(partition: number): void {
    const ref = this.ref(partition);
    const claim = claimPartition(
      {
        kafka: this.kafka,
        admin: this.admin!,
        store: this.store,
        config: this.config,
        crash: this.crash,
        clock: this.clock,
        log: this.log,
        wanted: () => this.running && !this.stopping,
      },
      ref,
    )
      .then((task) => {
        if (!task) return undefined;
        this.erasureSeq = Math.max(this.erasureSeq, task.erasureSeq);
        this.tasks.set(partition, task);
        this.consumer?.seek({ topic: ref.topic, partition, offset: String(task.nextOffset) });
        this.delivery.schedule(task);
        return task;
      })
      .finally(() => this.claiming.delete(partition));
    this.claiming.set(partition, claim);
  }

  private release(partition: number, task: PartitionTask): void {
    task.revoke();
    this.tasks.delete(partition);
    void task.sink.close();
    this.metrics?.openWindows.set({ partition: String(partition) }, 0);
  }

  private dropAllTasks(): void {
    for (const [partition, task] of this.tasks) this.release(partition, task);
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (this.recovering) await this.recovering;
    const partition = batch.partition;
    let task = this.tasks.get(partition);
    if (!task) task = await this.claiming.get(partition);
    // The loop below never yields, so nothing can revoke the task, seek or stop the consumer
    // while it runs: one check before it covers the whole batch.
    if (!task || task.revoked || this.tasks.get(partition) !== task || !isRunning() || isStale()) return;
    const now = this.clock();
    let counted = 0;
    // Resolved once per batch: kafkajs does Long arithmetic on every resolveOffset call.
    let lastApplied: string | undefined;
    const outcomes = new Map<string, number>();
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      const outcome = task.apply(offset, message.value, now);
      this.crash.reach('mid-batch');
      if (outcome === 'gap') {
        // A batch fetched before our rewind took effect. kafkajs can lose a seek that races an
        // in-flight fetch, so ask again; nothing past the checkpoint is applied until it lands.
        this.consumer?.seek({ topic: batch.topic, partition, offset: String(task.nextOffset) });
        break;
      }
      lastApplied = message.offset;
      if (outcome !== 'replayed') {
        counted += 1;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    if (lastApplied !== undefined) resolveOffset(lastApplied);
    task.backlog = Math.max(0, Number(batch.highWatermark) - task.nextOffset);
    for (const [outcome, count] of outcomes) this.metrics?.eventsIn.inc({ outcome }, count);
    if (counted > 0) this.freshness.recordEvents(counted, now);
    if (counted > 0) await heartbeat();
    // Live traffic: a window just became due, so commit it now rather than at the next interval.
    // During a catch-up the due windows are old and regular, larger checkpoints are cheaper.
    const due = task.operator.dueWindowEnd;
    if (due !== undefined && now - due < LIVE_WINDOW_AGE_MS) this.scheduler.request();
  }

  /** One checkpoint of every owned partition. */
  async checkpointAll(): Promise<void> {
    if (this.recovering) return;
    const now = this.clock();
    const cuts: Array<{ task: PartitionTask; checkpoint: Checkpoint }> = [];
    for (const task of this.tasks.values()) cuts.push({ task, checkpoint: task.cutCheckpoint(now) });
    const started = performance.now();
    let failed = false;
    const knownErasureSeq = this.erasureSeq;
    const learnt = new Map<number, Erasure>();
    // One transaction for every owned partition (see CheckpointStore.commitAll). A fenced
    // partition fails it for all: that partition is dropped and the rest committed again.
    let pending = cuts;
    while (pending.length > 0) {
      try {
        for (let i = 0; i < pending.length; i++) this.crash.reach('before-checkpoint-commit');
        const committed = await this.store.commitAll(
          pending.map((c) => c.checkpoint),
          knownErasureSeq,
        );
        for (let i = 0; i < pending.length; i++) this.crash.reach('after-checkpoint-commit');
        for (const erasure of committed.erasures) learnt.set(erasure.seq, erasure);
        const visibleAt = this.clock();
        pending.forEach(({ task, checkpoint }, i) => {
          const written = committed.checkpoints[i]!;
          task.checkpointCommitted(written);
          this.freshness.recordCheckpoint(visibleAt, checkpoint.resultsReceivedAt);
          for (const at of checkpoint.resultsReceivedAt) if (at > 0 && at <= visibleAt) this.metrics?.eventToVisible.observe((visibleAt - at) / 1000);
          if (written.outbox.length > 0) {
            this.metrics?.windowsEmitted.inc(written.results.length);
            this.delivery.schedule(task);
          }
          this.metrics?.openWindows.set({ partition: String(task.ref.partition) }, task.operator.windowCount);
        });
        break;
      } catch (error) {
        if (error instanceof FencedError) {
          this.log(`${error.message}; dropping it`);
          const fenced = pending.find((c) => c.task.ref.partition === error.partition)?.task;
          if (fenced) {
            if (this.tasks.get(fenced.ref.partition) === fenced) this.release(fenced.ref.partition, fenced);
            pending = pending.filter((c) => c.task !== fenced);
            continue;
          }
        }
        failed = true;
        this.log(`checkpoint commit of partitions [${pending.map((c) => c.task.ref.partition).join(', ')}] failed: ${(error as Error).message}`);
        break;
      }
    }
    this.metrics?.checkpointDuration.observe((performance.now() - started) / 1000);
    this.applyErasures([...learnt.values()]);
    if (failed) {
      this.metrics?.checkpointFailures.inc();
      // In-memory state ran ahead of what committed: go back to the last checkpoint.
      await this.recoverFromCheckpoint();
      return;
    }
    await this.commitConsumerOffsets(cuts.map((c) => c.task));
    this.updateLagMetrics(now);
  }

  /**
   * Erasures a checkpoint learnt of: its rows were already left out; now every partition's state
   * forgets the users, and later events up to the erasure time are dropped.
   */
  private applyErasures(erasures: Erasure[]): void {
    for (const erasure of erasures.sort((a, b) => a.seq - b.seq)) {
      for (const task of this.tasks.values()) task.operator.erase(erasure.siteId, erasure.userId, erasure.erasedAt);
      this.erasureSeq = Math.max(this.erasureSeq, erasure.seq);
      this.log(`erasure ${erasure.seq} applied: site ${erasure.siteId}, events up to ${new Date(erasure.erasedAt).toISOString()}`);
    }
  }

  /**
   * Group offsets are only a hint for where fetching starts; the truth is the checkpoint's offset,
   * which is never behind them, so records before it are skipped.
   */
  private async commitConsumerOffsets(tasks: PartitionTask[]): Promise<void> {
    const offsets = tasks
      .filter((t) => !t.revoked)
      .map((t) => ({ topic: t.ref.topic, partition: t.ref.partition, offset: String(t.committedOffset) }));
    if (offsets.length === 0) return;
    await this.consumer?.commitOffsets(offsets).catch(() => {});
  }

  private async recoverFromCheckpoint(): Promise<void> {
    if (this.recovering) return this.recovering;
    if (this.stopping) return;
    this.recovering = (async () => {
      const partitions = [...this.tasks.keys()];
      this.log(`reloading partitions [${partitions.join(', ')}] from the last checkpoint`);
      this.dropAllTasks();
      for (const partition of partitions) if (!this.claiming.has(partition)) this.claimInBackground(partition);
      await Promise.all([...this.claiming.values()]);
    })().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private updateLagMetrics(now: number): void {
    if (!this.metrics) return;
    let dropped = 0;
    for (const task of this.tasks.values()) dropped += task.operator.takeDroppedEngagedMs();
    if (dropped > 0) this.metrics.droppedEngagedMs.inc(dropped);
    for (const task of this.tasks.values()) {
      const watermark = task.operator.currentWatermark;
      if (Number.isFinite(watermark)) {
        this.metrics.watermarkDelay.set({ partition: String(task.ref.partition) }, Math.max(0, (now - watermark) / 1000));
      }
    }
  }

  /** Consumer lag per owned partition: log end offset minus the checkpointed offset. */
  async consumerLag(): Promise<Record<number, number>> {
    if (!this.admin) return {};
    const offsets = await this.admin.fetchTopicOffsets(this.config.topics.clicks);
    const lag: Record<number, number> = {};
    for (const task of this.tasks.values()) {
      const high = Number(offsets.find((o) => o.partition === task.ref.partition)?.high ?? 0);
      lag[task.ref.partition] = Math.max(0, high - task.committedOffset);
    }
    return lag;
  }

  /** Pending work for tests and shutdown: every input up to `nextOffset` committed and delivered. */
  get idle(): boolean {
    for (const task of this.tasks.values()) if (!task.idle) return false;
    return this.claiming.size === 0;
  }

  /** SIGTERM: a last checkpoint and delivery, then leave the group. */
  async stop(): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    const checkpointsStopped = this.scheduler.stop();
    await this.consumer?.stop().catch(() => {});
    await checkpointsStopped;
    if (!this.recovering) {
      await this.checkpointAll().catch((error: Error) => this.log(`final checkpoint failed: ${error.message}`));
      const deadline = Date.now() + 10_000;
      while ([...this.tasks.values()].some((t) => t.undelivered.length > 0) && Date.now() < deadline) await sleep(50);
    }
    this.running = false;
    await this.heartbeat.stop();
    await this.consumer?.disconnect().catch(() => {});
    for (const task of this.tasks.values()) await task.sink.close();
    this.tasks.clear();
    await this.admin?.disconnect().catch(() => {});
    await this.store.close().catch(() => {});
  }
}
