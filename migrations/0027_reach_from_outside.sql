-- Issue 30: the last reachability check (SPEC §8.5), and where the provider-events job left
-- off in each workspace's provider (Mailgun's Events API timestamp).
CREATE TABLE reachability_checks (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    public_url  TEXT,
    reachable   INTEGER NOT NULL,
    https       INTEGER NOT NULL,
    checked_at  TEXT NOT NULL,
    detail      TEXT NOT NULL
);

CREATE TABLE provider_event_cursors (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    position     TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, provider)
);
