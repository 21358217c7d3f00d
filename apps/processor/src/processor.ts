import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload } from 'kafkajs';
import { kafkaLogCreator } from '@clickstream/shared';
import type { ProcessorConfig } from './env.js';
import { CheckpointStore, type Checkpoint, type PartitionRef } from './checkpoint-store.js';
import { FencedError } from './errors.js';
import { PartitionTask } from './partition-task.js';
import { KafkaOutboxSink } from './sinks/kafka-sink.js';
import { OutboxDelivery } from './outbox-delivery.js';
import type { ProcessorMetrics } from './metrics.js';
import { CrashPoints } from './crash-points.js';

export interface ProcessorDeps {
  clock?: () => number;
  log?: (message: string) => void;
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
 * Wires the pure window operators to Kafka and PostgreSQL: consumes `website-clicks` in a
 * consumer group, keeps one PartitionTask per owned partition, commits checkpoints to
 * PostgreSQL and then publishes their outbox to Kafka transactionally.
 */
export class Processor {
  private readonly kafka: Kafka;
  private readonly store: CheckpointStore;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly claiming = new Map<number, Promise<PartitionTask | undefined>>();
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointRunning: Promise<void> | undefined;
  private checkpointRequested = false;
  private running = false;
  /** Set by stop(): no new claims or recoveries start. */
  private stopping = false;
  private consumerHealthy = false;
  /** While set, input waits: state is being reloaded from the last checkpoint. */
  private recovering: Promise<void> | undefined;
  private readonly clock: () => number;
  private readonly log: (message: string) => void;

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
      logCreator: kafkaLogCreator('processor'),
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.store = new CheckpointStore(config.databaseUrl);
    this.crash = new CrashPoints(config.crashAt);
    this.delivery = new OutboxDelivery({ crash: this.crash, log: this.log, isRunning: () => this.running });
  }

  private readonly delivery: OutboxDelivery;

  private readonly metrics: ProcessorMetrics | undefined;
  private readonly crash: CrashPoints;

  get ownedPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.running = true;
    await this.store.ping();
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.startConsumer();
    this.scheduleCheckpoint();
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
    const claim = this.claim(partition).finally(() => this.claiming.delete(partition));
    this.claiming.set(partition, claim);
  }

  /** Takes a partition: new epoch in PostgreSQL, fenced Kafka producer, restored windows. */
  private async claim(partition: number): Promise<PartitionTask | undefined> {
    const ref = this.ref(partition);
    for (let attempt = 0; this.running && !this.stopping; attempt++) {
      const sink = new KafkaOutboxSink(this.kafka, this.admin!, this.config.topics, ref, this.config.transactionTimeoutMs, this.crash);
      try {
        const claimed = await this.store.claim(ref, await this.clusterId());
        if (claimed.clusterChanged) this.log(`partition ${partition}: the Kafka cluster changed since the checkpoint; reading from its start`);
        const deliveredSeq = await sink.init();
        const { low, high } = await this.logBounds(partition);
        let start = claimed.nextOffset < 0 ? low : claimed.nextOffset;
        if (start < low) {
          this.log(`partition ${partition}: offsets ${start}..${low - 1} were removed by retention before processing`);
          start = low;
        }
        if (start > high) {
          // The log is shorter than what was processed: the topic was deleted and created again.
          this.log(`partition ${partition}: checkpoint offset ${start} is past the log end ${high}; the topic was recreated, reading from its start`);
          start = low;
        }
        const task = new PartitionTask(ref, claimed, start, this.config.operator, this.clock(), sink);
        task.deliveredSeq = deliveredSeq;
        if (deliveredSeq < claimed.outboxSeq) task.undelivered.push(...(await this.store.readOutbox(ref, deliveredSeq, 10_000)));
        this.tasks.set(partition, task);
        this.consumer?.seek({ topic: ref.topic, partition, offset: String(start) });
        this.log(
          `partition ${partition}: epoch ${task.epoch}, resuming at offset ${start}, ${task.operator.windowCount} windows restored, ` +
            `${task.undelivered.length} outbox entries to deliver`,
        );
        this.scheduleDelivery(task);
        return task;
      } catch (error) {
        await sink.reset();
        this.log(`partition ${partition}: claim failed (${(error as Error).message}); retrying`);
        await sleep(Math.min(5000, 250 * 2 ** attempt));
      }
    }
    return undefined;
  }

  private async logBounds(partition: number): Promise<{ low: number; high: number }> {
    const offsets = await this.admin!.fetchTopicOffsets(this.config.topics.clicks);
    const entry = offsets.find((o) => o.partition === partition);
    return { low: Number(entry?.low ?? 0), high: Number(entry?.high ?? 0) };
  }

  /** Asked at every claim, not cached: a broker whose data was reset has a new cluster id. */
  private async clusterId(): Promise<string> {
    return (await this.admin!.describeCluster()).clusterId;
  }

  private release(partition: number, task: PartitionTask): void {
    task.revoked = true;
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
    for (const [outcome, count] of outcomes) this.metrics?.eventsIn.inc({ outcome }, count);
    if (counted > 0) await heartbeat();
    // Live traffic: a window just became due, so commit it now rather than at the next interval.
    // During a catch-up the due windows are old and regular, larger checkpoints are cheaper.
    const due = task.operator.dueWindowEnd;
    if (due !== undefined && now - due < LIVE_WINDOW_AGE_MS) this.requestCheckpoint();
  }

  /** Runs a checkpoint as soon as the one in flight (if any) is done. */
  private requestCheckpoint(): void {
    if (this.checkpointRequested || this.stopping) return;
    this.checkpointRequested = true;
    if (!this.checkpointRunning) {
      clearTimeout(this.checkpointTimer);
      this.runCheckpoint();
    }
  }

  private scheduleCheckpoint(): void {
    if (!this.running || this.stopping) return;
    const delay = this.checkpointRequested ? 0 : this.config.checkpointIntervalMs;
    this.checkpointTimer = setTimeout(() => this.runCheckpoint(), delay);
  }

  private runCheckpoint(): void {
    this.checkpointRequested = false;
    this.checkpointRunning = this.checkpointAll()
      .catch((error: Error) => this.log(`checkpoint failed: ${error.message}`))
      .finally(() => {
        this.checkpointRunning = undefined;
        this.scheduleCheckpoint();
      });
  }

  /** One checkpoint of every owned partition. */
  async checkpointAll(): Promise<void> {
    if (this.recovering) return;
    const now = this.clock();
    const cuts: Array<{ task: PartitionTask; checkpoint: Checkpoint }> = [];
    for (const task of this.tasks.values()) cuts.push({ task, checkpoint: task.cutCheckpoint(now) });
    const started = performance.now();
    let failed = false;
    await Promise.all(
      cuts.map(async ({ task, checkpoint }) => {
        try {
          this.crash.reach('before-checkpoint-commit');
          await this.store.commit(checkpoint);
          this.crash.reach('after-checkpoint-commit');
          task.committedOffset = checkpoint.nextOffset;
          if (checkpoint.outbox.length > 0) {
            task.undelivered.push(...checkpoint.outbox);
            this.metrics?.windowsEmitted.inc(checkpoint.results.length);
            this.scheduleDelivery(task);
          }
          this.metrics?.openWindows.set({ partition: String(task.ref.partition) }, task.operator.windowCount);
        } catch (error) {
          if (error instanceof FencedError) {
            this.log(`${error.message}; dropping it`);
            if (this.tasks.get(task.ref.partition) === task) this.release(task.ref.partition, task);
            return;
          }
          failed = true;
          this.log(`partition ${task.ref.partition}: checkpoint commit failed: ${(error as Error).message}`);
        }
      }),
    );
    this.metrics?.checkpointDuration.observe((performance.now() - started) / 1000);
    if (failed) {
      // In-memory state ran ahead of what committed: go back to the last checkpoint.
      await this.recoverFromCheckpoint();
      return;
    }
    await this.commitConsumerOffsets(cuts.map((c) => c.task));
    this.updateLagMetrics(now);
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

  private scheduleDelivery(task: PartitionTask): void {
    this.delivery.schedule(task);
  }

  private updateLagMetrics(now: number): void {
    if (!this.metrics) return;
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
    for (const task of this.tasks.values()) {
      if (task.committedOffset !== task.nextOffset || task.undelivered.length > 0) return false;
    }
    return this.claiming.size === 0;
  }

  /** SIGTERM: a last checkpoint and delivery, then leave the group. */
  async stop(): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    clearTimeout(this.checkpointTimer);
    await this.consumer?.stop().catch(() => {});
    await this.checkpointRunning;
    if (!this.recovering) {
      await this.checkpointAll().catch((error: Error) => this.log(`final checkpoint failed: ${error.message}`));
      const deadline = Date.now() + 10_000;
      while ([...this.tasks.values()].some((t) => t.undelivered.length > 0) && Date.now() < deadline) await sleep(50);
    }
    this.running = false;
    await this.consumer?.disconnect().catch(() => {});
    for (const task of this.tasks.values()) await task.sink.close();
    this.tasks.clear();
    await this.admin?.disconnect().catch(() => {});
    await this.store.close().catch(() => {});
  }
}
