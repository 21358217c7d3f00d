-- Up Migration
-- Live processor instances and their freshness figures (contract, "Pipeline freshness"), written
-- every few seconds by each instance and read by GET /api/v1/pipeline; a row not updated for a
-- while belongs to an instance that died.
CREATE TABLE processor_instances (
  instance_id    text        PRIMARY KEY,
  consumer_group text        NOT NULL,
  partitions     integer[]   NOT NULL DEFAULT '{}',
  freshness      jsonb       NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE processor_instances;
