-- Up Migration
-- For the dashboard (apps/dashboard/src/server/timeline-rollup.ts).
--
-- Live gap fill: windows written since a time.
CREATE INDEX user_metrics_updated_at_idx ON user_metrics (updated_at);

-- Site totals per 5-second window, so a day's timeline reads 17,280 rows instead of every user's
-- windows. Statement-level triggers append one aggregated delta row per (site, window) touched by
-- each write; they never update a shared row, so writers add no lock contention or deadlocks.
-- The dashboard folds deltas into totals in the background; a timeline reads totals + deltas in
-- one snapshot, so it is exact whether or not a fold has run.
CREATE TABLE site_window_totals (
  site_id      text        NOT NULL,
  window_start timestamptz NOT NULL,
  active_users bigint      NOT NULL,
  events       bigint      NOT NULL,
  page_views   bigint      NOT NULL,
  clicks       bigint      NOT NULL,
  engaged_ms   bigint      NOT NULL,
  PRIMARY KEY (site_id, window_start)
);

CREATE TABLE site_window_deltas (
  site_id      text        NOT NULL,
  window_start timestamptz NOT NULL,
  active_users bigint      NOT NULL,
  events       bigint      NOT NULL,
  page_views   bigint      NOT NULL,
  clicks       bigint      NOT NULL,
  engaged_ms   bigint      NOT NULL
);
CREATE INDEX site_window_deltas_site_window_idx ON site_window_deltas (site_id, window_start);

CREATE FUNCTION user_metrics_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO site_window_deltas (site_id, window_start, active_users, events, page_views, clicks, engaged_ms)
  SELECT site_id, window_start, count(*), sum(events), sum(page_views), sum(clicks), sum(engaged_ms)
    FROM rollup_new GROUP BY site_id, window_start;
  RETURN NULL;
END $$;

CREATE FUNCTION user_metrics_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO site_window_deltas (site_id, window_start, active_users, events, page_views, clicks, engaged_ms)
  SELECT site_id, window_start, sum(n), sum(events), sum(page_views), sum(clicks), sum(engaged_ms)
    FROM (SELECT site_id, window_start, 1 AS n, events, page_views, clicks, engaged_ms FROM rollup_new
          UNION ALL
          SELECT site_id, window_start, -1, -events, -page_views, -clicks, -engaged_ms FROM rollup_old) AS d
   GROUP BY site_id, window_start;
  RETURN NULL;
END $$;

CREATE FUNCTION user_metrics_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO site_window_deltas (site_id, window_start, active_users, events, page_views, clicks, engaged_ms)
  SELECT site_id, window_start, -count(*), -sum(events), -sum(page_views), -sum(clicks), -sum(engaged_ms)
    FROM rollup_old GROUP BY site_id, window_start;
  RETURN NULL;
END $$;

CREATE FUNCTION user_metrics_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM site_window_deltas;
  DELETE FROM site_window_totals;
  RETURN NULL;
END $$;

CREATE TRIGGER user_metrics_rollup_insert AFTER INSERT ON user_metrics
  REFERENCING NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_insert();
CREATE TRIGGER user_metrics_rollup_update AFTER UPDATE ON user_metrics
  REFERENCING OLD TABLE AS rollup_old NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_update();
CREATE TRIGGER user_metrics_rollup_delete AFTER DELETE ON user_metrics
  REFERENCING OLD TABLE AS rollup_old FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_delete();
CREATE TRIGGER user_metrics_rollup_truncate AFTER TRUNCATE ON user_metrics
  FOR EACH STATEMENT EXECUTE FUNCTION user_metrics_rollup_truncate();

-- Rows written before this migration (the triggers block writers until it commits).
INSERT INTO site_window_totals (site_id, window_start, active_users, events, page_views, clicks, engaged_ms)
SELECT site_id, window_start, count(*), sum(events), sum(page_views), sum(clicks), sum(engaged_ms)
  FROM user_metrics GROUP BY site_id, window_start;

-- Down Migration
DROP TRIGGER user_metrics_rollup_truncate ON user_metrics;
DROP TRIGGER user_metrics_rollup_delete ON user_metrics;
DROP TRIGGER user_metrics_rollup_update ON user_metrics;
DROP TRIGGER user_metrics_rollup_insert ON user_metrics;
DROP FUNCTION user_metrics_rollup_truncate();
DROP FUNCTION user_metrics_rollup_delete();
DROP FUNCTION user_metrics_rollup_update();
DROP FUNCTION user_metrics_rollup_insert();
DROP TABLE site_window_deltas;
DROP TABLE site_window_totals;
DROP INDEX user_metrics_updated_at_idx;
