-- Up Migration
-- The erasure log (contract, "Erasure"): DELETE /api/v1/users/{userId} records one row per site;
-- from then on the processor drops that user's events with event time <= erased_at. The deleted
-- rows' keys are kept so deletion markers can be (re)sent to user-metrics and user-sessions until
-- markers_sent; `pnpm reconcile` replays the log.
CREATE TABLE user_erasures (
  seq             bigserial   PRIMARY KEY,
  site_id         text        NOT NULL,
  user_id         text        NOT NULL,
  erased_at       timestamptz NOT NULL,
  window_starts   timestamptz[] NOT NULL DEFAULT '{}',
  session_starts  timestamptz[] NOT NULL DEFAULT '{}',
  markers_sent    boolean     NOT NULL DEFAULT false
);
CREATE INDEX user_erasures_user_idx ON user_erasures (site_id, user_id);
CREATE INDEX user_erasures_pending_idx ON user_erasures (seq) WHERE NOT markers_sent;

-- One row that orders erasures against checkpoints: each checkpoint transaction holds it FOR
-- SHARE (checkpoints never wait for each other), an erasure FOR UPDATE. So every checkpoint either
-- committed before an erasure (whose DELETE then removes its rows) or sees the erasure and leaves
-- the erased user's rows out.
CREATE TABLE erasure_gate (id integer PRIMARY KEY CHECK (id = 1));
INSERT INTO erasure_gate VALUES (1);

-- Down Migration
DROP TABLE erasure_gate;
DROP TABLE user_erasures;
