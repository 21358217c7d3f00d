-- Up Migration
-- Site aggregates by event dimension (contract, "Stats query API"): summable counts per site,
-- bucket, dimension ('' for the site total, 'event:page', 'event:name', 'event:props:<key>') and
-- value. The processor adds each checkpoint's deltas to all three granularities in the
-- checkpoint's own transaction; a query reads days where whole UTC days fit its range, hours
-- where whole hours fit, and minutes at the edges.
CREATE TABLE site_stats_minute (
  site_id      text        NOT NULL,
  bucket_start timestamptz NOT NULL,
  dimension    text        NOT NULL,
  value        text        NOT NULL,
  pageviews    bigint      NOT NULL,
  events       bigint      NOT NULL,
  PRIMARY KEY (site_id, dimension, bucket_start, value)
);
CREATE TABLE site_stats_hour (LIKE site_stats_minute INCLUDING ALL);
CREATE TABLE site_stats_day (LIKE site_stats_minute INCLUDING ALL);

-- Users seen with a dimension value per quarter hour (every UTC offset in use is a multiple of
-- 15 minutes, so any day in any time zone is a whole number of quarters): visitors over a range
-- are counted exactly, as distinct users, never as a sum of buckets. Personal data: erasure
-- removes a user's rows.
CREATE TABLE visitor_presence (
  site_id      text        NOT NULL,
  dimension    text        NOT NULL,
  bucket_start timestamptz NOT NULL,
  value        text        NOT NULL,
  user_id      text        NOT NULL,
  PRIMARY KEY (site_id, dimension, bucket_start, value, user_id)
);
CREATE INDEX visitor_presence_user_idx ON visitor_presence (site_id, user_id);

-- Down Migration
DROP TABLE visitor_presence;
DROP TABLE site_stats_day;
DROP TABLE site_stats_hour;
DROP TABLE site_stats_minute;
