-- Up Migration
-- Window results of the contract ("Window results"): one row per (site, user, 5-second window),
-- upserted with a higher revision when a late event corrects it.
CREATE TABLE user_metrics (
  site_id       text        NOT NULL,
  user_id       text        NOT NULL,
  window_start  timestamptz NOT NULL,
  window_end    timestamptz NOT NULL,
  events        integer     NOT NULL CHECK (events >= 0),
  page_views    integer     NOT NULL CHECK (page_views >= 0),
  clicks        integer     NOT NULL CHECK (clicks >= 0),
  custom_events integer     NOT NULL CHECK (custom_events >= 0),
  unique_pages  integer     NOT NULL CHECK (unique_pages >= 0),
  engaged_ms    integer     NOT NULL CHECK (engaged_ms BETWEEN 0 AND 5000),
  sessions      integer     NOT NULL CHECK (sessions >= 0),
  revision      integer     NOT NULL CHECK (revision >= 0),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, user_id, window_start)
);

-- Timeline and top-user queries scan one site's windows by time.
CREATE INDEX user_metrics_site_window_idx ON user_metrics (site_id, window_start);

-- Down Migration
DROP TABLE user_metrics;
