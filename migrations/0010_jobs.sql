-- Scheduled work (SPEC §15): one row per job. The server's scheduler and `pi-crm jobs run`
-- claim a run by setting `running_until` in one statement, so a run is never done twice;
-- a run whose process died is claimable again once that time has passed.
CREATE TABLE jobs (
    name          TEXT PRIMARY KEY,
    next_run_at   TEXT NOT NULL,
    last_run_at   TEXT,
    last_error    TEXT,              -- NULL when the last run succeeded
    running_until TEXT
);
