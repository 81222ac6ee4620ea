-- Campaigns and the approval queue (SPEC §10): each workspace's campaign settings, the
-- campaigns, every review and decision, and one row per recipient and occurrence.

-- The workspace's owner decides these (SPEC §2): whether marketing needs a reviewer's approval
-- (Loan Factory's compliance team), and when marketing texts may leave.
CREATE TABLE workspace_campaign_settings (
    workspace_id      TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    approval_required INTEGER NOT NULL DEFAULT 0,
    reviewer_email    TEXT,
    reviewer_name     TEXT,
    quiet_start       TEXT NOT NULL DEFAULT '21:00',
    quiet_end         TEXT NOT NULL DEFAULT '08:00',
    daily_text_limit  INTEGER NOT NULL DEFAULT 500
) WITHOUT ROWID;

CREATE TABLE campaigns (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'text')),
    template_id  TEXT REFERENCES templates(id) ON DELETE SET NULL,
    segment      TEXT NOT NULL,                 -- JSON {lists_any, lists_none, conditions}
    schedule     TEXT NOT NULL,                 -- JSON {kind: now | at | yearly, …}
    status       TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'rejected',
                                                 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
    -- What is sent: the template's words, the segment and the schedule as they were when it
    -- was submitted for review (or scheduled, when no review is needed). JSON.
    snapshot     TEXT,
    -- When the scheduler next looks at it: an `at` campaign's start, a yearly one's next scan.
    next_at      TEXT,
    created_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX campaigns_workspace ON campaigns(workspace_id, id);
CREATE INDEX campaigns_due ON campaigns(next_at) WHERE status IN ('scheduled', 'sending');

-- Every submission for review. The link's token is stored as its SHA-256, never itself.
CREATE TABLE campaign_approvals (
    id             TEXT PRIMARY KEY,
    campaign_id    TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    token_hash     TEXT NOT NULL UNIQUE,
    snapshot       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'void')),
    reviewer_email TEXT NOT NULL,
    reviewer_name  TEXT,
    submitted_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    decided_by     TEXT,                          -- the reviewer's name as they gave it
    decided_at     TEXT,
    notes          TEXT,
    -- Set when the owner recorded a decision received by phone or mail, not the reviewer.
    recorded_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    -- When someone of the workspace first saw the decision (the dashboard's "received").
    seen_at        TEXT
);
CREATE INDEX campaign_approvals_campaign ON campaign_approvals(campaign_id, id);
CREATE INDEX campaign_approvals_open ON campaign_approvals(workspace_id, status);

-- One row per contact per campaign and occurrence ('' for a one-off campaign, the year for a
-- yearly one): the primary key is what makes "never twice" hold across restarts and runners.
CREATE TABLE campaign_recipients (
    campaign_id      TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    occurrence       TEXT NOT NULL,
    contact_id       TEXT NOT NULL,
    workspace_id     TEXT NOT NULL,
    -- pending: resolved, not yet queued; queued: its message is in the outbox (its status is
    -- the timeline entry's); skipped: never queued, for `reason`; cancelled: dropped unsent.
    state            TEXT NOT NULL CHECK (state IN ('pending', 'queued', 'skipped', 'cancelled')),
    reason           TEXT CHECK (reason IN ('suppressed', 'no_address', 'render_error')),
    detail           TEXT,
    address          TEXT,
    communication_id TEXT,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, contact_id)
) WITHOUT ROWID;
CREATE INDEX campaign_recipients_pending ON campaign_recipients(campaign_id, occurrence, contact_id)
    WHERE state = 'pending';

-- A campaign's messages in the outbox: paused, resumed and cancelled together, and held to
-- quiet hours and the daily text limit.
ALTER TABLE outbox ADD COLUMN campaign_id TEXT;
CREATE INDEX outbox_campaign ON outbox(campaign_id, state) WHERE campaign_id IS NOT NULL;
CREATE INDEX outbox_campaign_texts ON outbox(workspace_id, finished_at)
    WHERE campaign_id IS NOT NULL AND channel = 'text';
