import type { Admin, Kafka } from 'kafkajs';
import type { ProcessorConfig } from '../env.js';
import type { CheckpointStore, PartitionRef } from '../state/checkpoint-store.js';
import type { CrashPoints } from '../crash-points.js';
import { KafkaOutboxSink } from '../sinks/kafka-sink.js';
import { PartitionTask } from './partition-task.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ClaimDeps {
  kafka: Kafka;
  admin: Admin;
  store: CheckpointStore;
  config: ProcessorConfig;
  crash: CrashPoints;
  clock: () => number;
  log: (message: string) => void;
  /** False once the processor stops: a claim in progress gives up. */
  wanted: () => boolean;
}

/**
 * Takes a partition: a new epoch in PostgreSQL (fencing older owners), a fenced transactional
 * producer, the operator state restored from the state log and the committed outbox entries that
 * Kafka does not have yet. Retries until it succeeds or is no longer wanted.
 */
export async function claimPartition(deps: ClaimDeps, ref: PartitionRef): Promise<PartitionTask | undefined> {
  const { config, log } = deps;
  const partition = ref.partition;
  for (let attempt = 0; deps.wanted(); attempt++) {
    const sink = new KafkaOutboxSink(deps.kafka, deps.admin, config.topics, ref, config.transactionTimeoutMs, deps.crash);
    try {
      const claimed = await deps.store.claim(ref, (await deps.admin.describeCluster()).clusterId);
      if (claimed.clusterChanged) log(`partition ${partition}: the Kafka cluster changed since the checkpoint; reading from its start`);
      const deliveredSeq = await sink.init();
      const { low, high } = await logBounds(deps.admin, ref);
      let start = claimed.nextOffset < 0 ? low : claimed.nextOffset;
      if (start < low) {
        log(`partition ${partition}: offsets ${start}..${low - 1} were removed by retention before processing`);
        start = low;
      }
      if (start > high) {
        // The log is shorter than what was processed: the topic was deleted and created again.
        log(`partition ${partition}: checkpoint offset ${start} is past the log end ${high}; the topic was recreated, reading from its start`);
        start = low;
      }
      const task = new PartitionTask(ref, claimed, start, config.operator, deps.clock(), sink);
      const undelivered = deliveredSeq < claimed.outboxSeq ? await deps.store.readOutbox(ref, deliveredSeq, 10_000) : [];
      task.resumeDelivery(deliveredSeq, undelivered);
      log(
        `partition ${partition}: epoch ${task.epoch}, resuming at offset ${start}, ${task.operator.windowCount} windows restored, ` +
          `${task.undelivered.length} outbox entries to deliver`,
      );
      return task;
    } catch (error) {
      await sink.reset();
      log(`partition ${partition}: claim failed (${(error as Error).message}); retrying`);
      await sleep(Math.min(5000, 250 * 2 ** attempt));
    }
  }
  return undefined;
}

async function logBounds(admin: Admin, ref: PartitionRef): Promise<{ low: number; high: number }> {
  const offsets = await admin.fetchTopicOffsets(ref.topic);
  const entry = offsets.find((o) => o.partition === ref.partition);
  return { low: Number(entry?.low ?? 0), high: Number(entry?.high ?? 0) };
}
