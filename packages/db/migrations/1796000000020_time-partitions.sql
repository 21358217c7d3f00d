-- Up Migration
-- Bounded storage (README, "Storage"): the tables that grow with traffic become partitioned by
-- time (declarative RANGE partitioning on their time column), so rows older than RETENTION_DAYS
-- go by dropping whole partitions - no DELETE, no bloat, no vacuum debt - and the processor's
-- partition maintenance (packages/db/src/partitions.ts) creates partitions ahead of time.
--
--   table               key            partitions  why
--   user_metrics        window_start   daily       one row per active user per 5 s: the biggest
--   visitor_presence    bucket_start   daily       a row per user, dimension value and quarter hour
--   site_stats_minute   bucket_start   daily       a row per site, minute and dimension value
--   user_sessions       session_start  weekly      a row per visit: ~100x fewer than windows
--   site_stats_hour     bucket_start   monthly     1/60 and 1/1440 of the minute rollup
--   site_stats_day      bucket_start   monthly
--   site_window_totals  window_start   monthly     17,280 rows per site and day
--
-- Daily partitions for the tables written per event keep each partition (and each drop) to a
-- day of traffic and keep rows at most a day past RETENTION_DAYS; the smaller tables use longer
-- periods so that 400 days stay ~60 (weekly) or ~14 (monthly) partitions rather than 400, which
-- keeps planning of queries that cannot prune (erasure by user) cheap. Partition bounds are whole
-- UTC days, ISO weeks (from Monday) and months; a partition is named <table>_p<YYYYMMDD> of its
-- first day. Primary keys already hold the partition key, so they stay unique across partitions
-- and the processor's ON CONFLICT upserts work unchanged.
--
-- Each table also gets a DEFAULT partition, a safety net so that no row can ever fail a
-- checkpoint for want of a partition. It stays empty in normal operation: partitions exist from
-- RAW_RETENTION_DAYS back (no older event can still be read from website-clicks) to 7 days and
-- more ahead, event times are never later than the collector's clock, and the processor only
-- writes a window while it is within ALLOWED_LATENESS_MS of its watermark. What lands there
-- anyway (a device clock decades off on a partition's first event) is moved into a partition of
-- its own, or deleted past RETENTION_DAYS, by the next maintenance run.
--
-- Existing rows are copied: each table is renamed away, recreated partitioned under its own name
-- with partitions for every period that holds rows plus the current one and those ahead, filled
-- with INSERT ... SELECT, and the old table dropped; then primary keys and indexes are built (once,
-- after the copy) and the timeline rollup's statement triggers are recreated on user_metrics
-- (statement-level AFTER triggers with transition tables are allowed on partitioned tables and see
-- the rows of every partition a statement touched; row-level ones are not). The copy writes no
-- timeline deltas: site_window_totals already holds those rows, and is copied too. Writers wait
-- for this migration (it holds the tables' locks until it commits).

-- One partition of `parent` for the period of `unit` that starts at `period_start` (UTC wall time).
CREATE FUNCTION pg_temp.clickstream_add_partition(parent text, unit text, period_start timestamp) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  period_end timestamp := period_start + ('1 ' || unit)::interval;
  name text := parent || '_p' || to_char(period_start, 'YYYYMMDD');
BEGIN
  EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', name, parent,
                 to_char(period_start, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), to_char(period_end, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
END $$;

-- Recreates `tbl` partitioned by `key` with partitions for every `unit` holding rows, the current
-- one and `ahead` more, and a DEFAULT partition, and copies the rows. Keys and indexes come after.
CREATE FUNCTION pg_temp.clickstream_partition_table(tbl text, key text, unit text, ahead integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  old_name text := tbl || '_unpartitioned';
  this_period timestamp := date_trunc(unit, now() AT TIME ZONE 'UTC');
  period timestamp;
BEGIN
  EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old_name);
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE) PARTITION BY RANGE (%I)',
                 tbl, old_name, key);
  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
  FOR period IN EXECUTE format(
      'SELECT DISTINCT date_trunc(%L, %I AT TIME ZONE ''UTC'') FROM %I WHERE isfinite(%I)
       UNION SELECT generate_series($1, $1 + $2 * (''1 '' || %L)::interval, (''1 '' || %L)::interval)',
      unit, key, old_name, key, unit, unit)
    USING this_period, ahead
  LOOP
    PERFORM pg_temp.clickstream_add_partition(tbl, unit, period);
  END LOOP;
  EXECUTE format('INSERT INTO %I SELECT * FROM %I', tbl, old_name);
  EXECUTE format('DROP TABLE %I', old_name);
END $$;

SELECT pg_temp.clickstream_partition_table('user_metrics', 'window_start', 'day', 7);
ALTER TABLE user_metrics ADD PRIMARY KEY (site_id, user_id, window_start);
CREATE INDEX user_metrics_site_window_idx ON user_metrics (site_id, window_start);
CREATE INDEX user_metrics_updated_at_idx ON user_metrics (updated_at);
CREATE TRIGGER user_metrics_rollup_insert AFTER INSERT ON user_metrics
  REFERENCING NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_insert();
CREATE TRIGGER user_metrics_rollup_update AFTER UPDATE ON user_metrics
  REFERENCING OLD TABLE AS rollup_old NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_update();
CREATE TRIGGER user_metrics_rollup_delete AFTER DELETE ON user_metrics
  REFERENCING OLD TABLE AS rollup_old FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_delete();
CREATE TRIGGER user_metrics_rollup_truncate AFTER TRUNCATE ON user_metrics
  FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_truncate();

SELECT pg_temp.clickstream_partition_table('visitor_presence', 'bucket_start', 'day', 7);
ALTER TABLE visitor_presence ADD PRIMARY KEY (site_id, dimension, bucket_start, value, user_id);
CREATE INDEX visitor_presence_user_idx ON visitor_presence (site_id, user_id);

SELECT pg_temp.clickstream_partition_table('site_stats_minute', 'bucket_start', 'day', 7);
ALTER TABLE site_stats_minute ADD PRIMARY KEY (site_id, dimension, bucket_start, value);

SELECT pg_temp.clickstream_partition_table('user_sessions', 'session_start', 'week', 2);
ALTER TABLE user_sessions ADD PRIMARY KEY (site_id, user_id, session_start);
CREATE INDEX user_sessions_site_start_idx ON user_sessions (site_id, session_start);

SELECT pg_temp.clickstream_partition_table('site_stats_hour', 'bucket_start', 'month', 2);
ALTER TABLE site_stats_hour ADD PRIMARY KEY (site_id, dimension, bucket_start, value);

SELECT pg_temp.clickstream_partition_table('site_stats_day', 'bucket_start', 'month', 2);
ALTER TABLE site_stats_day ADD PRIMARY KEY (site_id, dimension, bucket_start, value);

SELECT pg_temp.clickstream_partition_table('site_window_totals', 'window_start', 'month', 2);
ALTER TABLE site_window_totals ADD PRIMARY KEY (site_id, window_start);

DROP FUNCTION pg_temp.clickstream_partition_table(text, text, text, integer);
DROP FUNCTION pg_temp.clickstream_add_partition(text, text, timestamp);

-- Down Migration
-- Back to plain tables, rows kept (whatever the partitions hold, DEFAULT included).
CREATE FUNCTION pg_temp.clickstream_unpartition_table(tbl text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, tbl || '_partitioned');
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', tbl, tbl || '_partitioned');
  EXECUTE format('INSERT INTO %I SELECT * FROM %I', tbl, tbl || '_partitioned');
  EXECUTE format('DROP TABLE %I', tbl || '_partitioned');
END $$;

SELECT pg_temp.clickstream_unpartition_table('user_metrics');
ALTER TABLE user_metrics ADD PRIMARY KEY (site_id, user_id, window_start);
CREATE INDEX user_metrics_site_window_idx ON user_metrics (site_id, window_start);
CREATE INDEX user_metrics_updated_at_idx ON user_metrics (updated_at);
CREATE TRIGGER user_metrics_rollup_insert AFTER INSERT ON user_metrics
  REFERENCING NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_insert();
CREATE TRIGGER user_metrics_rollup_update AFTER UPDATE ON user_metrics
  REFERENCING OLD TABLE AS rollup_old NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_update();
CREATE TRIGGER user_metrics_rollup_delete AFTER DELETE ON user_metrics
  REFERENCING OLD TABLE AS rollup_old FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_delete();
CREATE TRIGGER user_metrics_rollup_truncate AFTER TRUNCATE ON user_metrics
  FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_truncate();

SELECT pg_temp.clickstream_unpartition_table('visitor_presence');
ALTER TABLE visitor_presence ADD PRIMARY KEY (site_id, dimension, bucket_start, value, user_id);
CREATE INDEX visitor_presence_user_idx ON visitor_presence (site_id, user_id);

SELECT pg_temp.clickstream_unpartition_table('site_stats_minute');
ALTER TABLE site_stats_minute ADD PRIMARY KEY (site_id, dimension, bucket_start, value);

SELECT pg_temp.clickstream_unpartition_table('user_sessions');
ALTER TABLE user_sessions ADD PRIMARY KEY (site_id, user_id, session_start);
CREATE INDEX user_sessions_site_start_idx ON user_sessions (site_id, session_start);

SELECT pg_temp.clickstream_unpartition_table('site_stats_hour');
ALTER TABLE site_stats_hour ADD PRIMARY KEY (site_id, dimension, bucket_start, value);

SELECT pg_temp.clickstream_unpartition_table('site_stats_day');
ALTER TABLE site_stats_day ADD PRIMARY KEY (site_id, dimension, bucket_start, value);

SELECT pg_temp.clickstream_unpartition_table('site_window_totals');
ALTER TABLE site_window_totals ADD PRIMARY KEY (site_id, window_start);

DROP FUNCTION pg_temp.clickstream_unpartition_table(text);
