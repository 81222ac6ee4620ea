-- Imports: durable jobs. The uploaded file waits in `file` until the job has run; what the
-- job created or changed is listed in `import_items`, so it can be reverted.

CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    filename     TEXT NOT NULL,
    format       TEXT NOT NULL,
    encoding     TEXT NOT NULL,
    -- draft: uploaded, mapping not chosen yet (the UI's second step)
    status       TEXT NOT NULL CHECK (status IN ('draft', 'queued', 'running', 'done', 'failed', 'reverted')),
    mapping      TEXT,                         -- JSON, SPEC §11
    file         BLOB,                         -- cleared once the import has run
    rows_total   INTEGER NOT NULL DEFAULT 0,
    report       TEXT,                         -- JSON: created, updated, duplicates, skipped, errors
    via          TEXT NOT NULL DEFAULT 'ui',
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX imports_workspace ON imports(workspace_id, id);
CREATE INDEX imports_status ON imports(status, id);

CREATE TABLE import_items (
    import_id  TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('created', 'updated')),
    before     TEXT,                           -- JSON of the contact before an update
    PRIMARY KEY (import_id, contact_id)
) WITHOUT ROWID;
