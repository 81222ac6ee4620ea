-- Foundation: people, their sessions, workspaces and sharing, API keys, the audit trail.
-- Timestamps are UTC RFC 3339 text (`2026-11-26T10:00:00Z`), which sorts as it reads.
-- Ids are UUIDv7 text: unique, and ordered by creation (cursor pagination relies on it).

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    name                TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,             -- public handle, shown in settings
    token_hash   TEXT NOT NULL UNIQUE,         -- SHA-256 of the cookie value; the value is never stored
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,  -- the owner
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT workspaces_owner_name UNIQUE (user_id, name)
);

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    added_at     TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members(user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    prefix       TEXT NOT NULL UNIQUE,
    key_hash     TEXT NOT NULL UNIQUE,         -- SHA-256 of the whole key
    description  TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL,                -- JSON array of scope names
    -- A pinned key dies with its workspace rather than silently widening to all of them.
    workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE audit_logs (
    id           TEXT PRIMARY KEY,
    user_id      TEXT,                         -- NULL for system jobs
    workspace_id TEXT,                         -- kept after the workspace is gone, on purpose
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT,
    via          TEXT NOT NULL CHECK (via IN ('ui', 'api', 'cli', 'job')),
    detail       TEXT,                         -- JSON; never a secret
    timestamp    TEXT NOT NULL
);
CREATE INDEX audit_logs_user ON audit_logs(user_id, id);
CREATE INDEX audit_logs_workspace ON audit_logs(workspace_id, id);
