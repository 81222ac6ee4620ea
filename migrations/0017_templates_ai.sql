-- Templates and AI (SPEC §9): the template library, favourites and shares, the AI spend
-- counter, insights, and the weekly summaries already sent.

CREATE TABLE templates (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'text')),
    subject      TEXT NOT NULL DEFAULT '',
    preheader    TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,
    ai_generated INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX templates_workspace ON templates(workspace_id, name COLLATE NOCASE);

-- Favourites are each person's own.
CREATE TABLE template_favorites (
    template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, template_id)
) WITHOUT ROWID;

-- A template shown read-only to another person ("shared with me"); they copy it to use it.
CREATE TABLE template_shares (
    template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    shared_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    shared_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, template_id)
) WITHOUT ROWID;

-- Tokens spent per workspace per day (the day in the workspace's time zone).
CREATE TABLE ai_usage (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    tokens       INTEGER NOT NULL DEFAULT 0,
    calls        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day)
) WITHOUT ROWID;

-- Facts the daily job found (and AI ideas), per person. `fact_key` names the fact itself
-- (say, a birthday's contact, field and date), so the same fact is never added twice.
CREATE TABLE ai_insights (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    type         TEXT NOT NULL CHECK (type IN ('upcoming_date', 'stale_contact', 'pipeline_stall',
                                               'failed_messages', 'template_performance', 'ai_idea')),
    fact_key     TEXT NOT NULL,
    content      TEXT NOT NULL,   -- JSON {title, detail, contact_ids}
    confidence   REAL NOT NULL,
    created_at   TEXT NOT NULL,
    dismissed_at TEXT,
    UNIQUE (user_id, workspace_id, fact_key)
);
CREATE INDEX ai_insights_open ON ai_insights(user_id, dismissed_at, created_at);

-- One weekly summary per person per week: claimed before it is sent, so never twice.
CREATE TABLE weekly_summaries (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    week     TEXT NOT NULL,      -- ISO week in the person's zone, e.g. 2026-W48
    state    TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'dashboard_only')),
    detail   TEXT,
    at       TEXT NOT NULL,
    PRIMARY KEY (user_id, week)
) WITHOUT ROWID;
