-- Up Migration
-- Results of `pnpm reconcile` (contract, "Exactness audit"): one row per site and run, so the
-- dashboard's freshness panel can show when the last audit ran, over which range and whether it
-- matched. `summary` holds the counts per sink (matching / different / missing / extra), a few
-- example lines of each difference, and what was left out (windows not final yet); its shape is
-- described in packages/reconcile/src/report.ts (ReconcileSummary).
CREATE TABLE reconcile_runs (
  id           bigserial   PRIMARY KEY,
  site_id      text        NOT NULL,
  range_from   timestamptz NOT NULL,
  range_to     timestamptz NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL,
  ok           boolean     NOT NULL,
  summary      jsonb       NOT NULL
);
CREATE INDEX reconcile_runs_site_idx ON reconcile_runs (site_id, finished_at DESC);

-- Down Migration
DROP TABLE reconcile_runs;
