-- Forgotten passwords without the command line (issue 34): a one-time link, valid for an
-- hour, emailed through the person's first workspace with an email provider, or made for a
-- household member by whoever invited them. Only the token's SHA-256 is kept.
CREATE TABLE password_resets (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    made_by     TEXT REFERENCES users(id) ON DELETE SET NULL,   -- NULL: asked for by email
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX password_resets_user ON password_resets(user_id);

-- The outbox learns a fourth purpose, `account`: a reset link or an invite, about a person's
-- account rather than a contact. SQLite cannot change a CHECK, so the table is copied. Its
-- weekly summaries' links are kept aside first: dropping the old table would set them NULL.
CREATE TABLE keep_summary_outbox AS
SELECT user_id, week, outbox_id FROM weekly_summaries WHERE outbox_id IS NOT NULL;

CREATE TABLE outbox_new (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    purpose             TEXT NOT NULL CHECK (purpose IN ('message', 'review', 'summary', 'account')),
    communication_id    TEXT,
    approval_id         TEXT,
    channel             TEXT NOT NULL CHECK (channel IN ('email', 'text')),
    recipient           TEXT NOT NULL,
    message             TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_at             TEXT NOT NULL,
    lease_until         TEXT,
    provider_message_id TEXT,
    last_error          TEXT,
    created_at          TEXT NOT NULL,
    finished_at         TEXT,
    campaign_id         TEXT,
    CHECK ((purpose = 'message') = (communication_id IS NOT NULL)),
    CHECK ((purpose = 'review') = (approval_id IS NOT NULL)),
    CHECK (purpose = 'message' OR channel = 'email'),
    FOREIGN KEY (communication_id, workspace_id) REFERENCES communication_logs(id, workspace_id) ON DELETE CASCADE,
    FOREIGN KEY (approval_id, workspace_id) REFERENCES campaign_approvals(id, workspace_id) ON DELETE CASCADE
);
INSERT INTO outbox_new SELECT id, workspace_id, purpose, communication_id, approval_id, channel, recipient,
       message, state, attempts, next_at, lease_until, provider_message_id, last_error, created_at,
       finished_at, campaign_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_leased ON outbox(lease_until) WHERE state = 'sending';
CREATE INDEX outbox_communication ON outbox(communication_id, workspace_id) WHERE communication_id IS NOT NULL;
CREATE INDEX outbox_approval ON outbox(approval_id, workspace_id) WHERE approval_id IS NOT NULL;
CREATE INDEX outbox_provider_id ON outbox(workspace_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX outbox_campaign ON outbox(campaign_id, state) WHERE campaign_id IS NOT NULL;
CREATE INDEX outbox_campaign_texts ON outbox(workspace_id, finished_at)
    WHERE campaign_id IS NOT NULL AND channel = 'text';

UPDATE weekly_summaries SET outbox_id = (
    SELECT k.outbox_id FROM keep_summary_outbox k
     WHERE k.user_id = weekly_summaries.user_id AND k.week = weekly_summaries.week)
 WHERE EXISTS (SELECT 1 FROM keep_summary_outbox k
                WHERE k.user_id = weekly_summaries.user_id AND k.week = weekly_summaries.week);
DROP TABLE keep_summary_outbox;
