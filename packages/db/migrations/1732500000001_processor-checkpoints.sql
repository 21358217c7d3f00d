-- Up Migration
-- The processor's checkpoint lives here, next to the results it produced, so one PostgreSQL
-- transaction commits input offsets, open-window state, window rows and the Kafka outbox
-- together (see apps/processor/ARCHITECTURE.md).

-- One row per input partition a consumer group has owned.
CREATE TABLE processor_partitions (
  consumer_group text        NOT NULL,
  topic          text        NOT NULL,
  partition      integer     NOT NULL,
  -- Bumped by every new owner; a checkpoint commits only while its epoch is current, which
  -- fences a zombie that lost the partition in a rebalance but does not know yet.
  epoch          bigint      NOT NULL DEFAULT 0,
  -- The next input offset to process; -1 until the first checkpoint.
  next_offset    bigint      NOT NULL DEFAULT -1,
  -- The Kafka cluster the offset belongs to: a new cluster (a reset broker) starts over.
  cluster_id     text,
  watermark      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- Sequence number of the last outbox entry written for this partition.
  outbox_seq     bigint      NOT NULL DEFAULT 0,
  -- Sequence number of the last state-log entry written for this partition.
  state_seq      bigint      NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);

-- Open and recently fired windows (kept until allowed lateness has passed), as an append-only
-- log per partition: each checkpoint appends one 'delta' (the windows it changed or purged), and
-- now and then a 'snapshot' of all windows replaces the entries before it. Appending one opaque
-- value per checkpoint costs PostgreSQL far less than upserting every changed window as a row.
CREATE TABLE processor_state_log (
  consumer_group text    NOT NULL,
  topic          text    NOT NULL,
  partition      integer NOT NULL,
  seq            bigint  NOT NULL,
  kind           text    NOT NULL CHECK (kind IN ('delta', 'snapshot')),
  payload        text    NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition, seq)
);

-- Records committed here are delivered to Kafka in transactions that also record the last
-- delivered sequence number, so each is published exactly once.
CREATE TABLE processor_outbox (
  consumer_group text    NOT NULL,
  topic          text    NOT NULL,
  partition      integer NOT NULL,
  seq            bigint  NOT NULL,
  -- JSON text, not jsonb: PostgreSQL only stores it, and parsing megabytes of jsonb per checkpoint
  -- would cost more than the rest of the checkpoint.
  records        text    NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition, seq)
);

-- Down Migration
DROP TABLE processor_outbox;
DROP TABLE processor_state_log;
DROP TABLE processor_partitions;
