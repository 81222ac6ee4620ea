-- Household invites (SPEC §5): a one-time link, valid 7 days, on which the invited person sets
-- their name and password; it may share one of the inviter's workspaces at the same time.
-- Only the SHA-256 of the link's secret is stored.
CREATE TABLE invites (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,                          -- lower-case
    invited_by    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- Shared on acceptance; an invite outlives a workspace deleted meanwhile (it then only
    -- makes the account).
    workspace_id  TEXT REFERENCES workspaces(id) ON DELETE SET NULL,
    role          TEXT CHECK (role IN ('editor', 'viewer')),
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    accepted_at   TEXT,
    accepted_user TEXT REFERENCES users(id) ON DELETE SET NULL,
    revoked_at    TEXT
);
CREATE INDEX invites_by_inviter ON invites(invited_by, id);
