-- Up Migration
-- Visits of the contract ("Sessions (visits)"): one row per (site, user, visit start), upserted
-- with a higher revision while the visit is open; deleted when it merges into another or its
-- start moves earlier.
CREATE TABLE user_sessions (
  site_id        text        NOT NULL,
  user_id        text        NOT NULL,
  session_start  timestamptz NOT NULL,
  session_end    timestamptz NOT NULL,
  duration_ms    bigint      NOT NULL CHECK (duration_ms >= 0),
  page_views     integer     NOT NULL CHECK (page_views >= 0),
  events         integer     NOT NULL CHECK (events >= 0),
  entry_page     text,
  exit_page      text,
  source         text        NOT NULL,
  utm_source     text,
  utm_medium     text,
  utm_campaign   text,
  country        text,
  browser        text        NOT NULL,
  os             text        NOT NULL,
  device_type    text        NOT NULL,
  bounce         boolean     NOT NULL,
  open           boolean     NOT NULL,
  revision       integer     NOT NULL CHECK (revision >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, user_id, session_start)
);

-- Stats queries read one site's visits by start time.
CREATE INDEX user_sessions_site_start_idx ON user_sessions (site_id, session_start);

-- Down Migration
DROP TABLE user_sessions;
