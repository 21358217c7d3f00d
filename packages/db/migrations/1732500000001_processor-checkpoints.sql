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
  watermark      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- Sequence number of the last outbox entry written for this partition.
  outbox_seq     bigint      NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);

-- Open and recently fired windows, kept until allowed lateness has passed.
CREATE TABLE processor_windows (
  consumer_group text    NOT NULL,
  topic          text    NOT NULL,
  partition      integer NOT NULL,
  site_id        text    NOT NULL,
  user_id        text    NOT NULL,
  window_start   bigint  NOT NULL,
  state          jsonb   NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition, site_id, user_id, window_start)
);

-- Records committed here are delivered to Kafka in transactions that also record the last
-- delivered sequence number, so each is published exactly once.
CREATE TABLE processor_outbox (
  consumer_group text    NOT NULL,
  topic          text    NOT NULL,
  partition      integer NOT NULL,
  seq            bigint  NOT NULL,
  records        jsonb   NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition, seq)
);

-- Down Migration
DROP TABLE processor_outbox;
DROP TABLE processor_windows;
DROP TABLE processor_partitions;
