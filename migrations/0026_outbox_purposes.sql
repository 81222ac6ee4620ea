-- Every email goes through the outbox (issue 29): besides a contact's messages, the reviewer's
-- link (committed with its approval row, so no link ever points at nothing) and each person's
-- weekly summary. And the messaging tables are tied to their parents *in the same workspace*
-- by composite foreign keys, as the contact tables are since 0006.

-- Parents of composite keys: (id, workspace_id) must be unique for a key to point at it.
CREATE UNIQUE INDEX communication_logs_in_workspace ON communication_logs(id, workspace_id);
CREATE UNIQUE INDEX campaigns_in_workspace ON campaigns(id, workspace_id);

-- Reviews: their campaign in their workspace. Nothing points at this table yet.
CREATE TABLE campaign_approvals_new (
    id             TEXT PRIMARY KEY,
    campaign_id    TEXT NOT NULL,
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
    seen_at        TEXT,
    CONSTRAINT campaign_approvals_in_workspace UNIQUE (id, workspace_id),
    FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns(id, workspace_id) ON DELETE CASCADE
);
INSERT INTO campaign_approvals_new
SELECT a.id, a.campaign_id, a.workspace_id, a.token_hash, a.snapshot, a.status, a.reviewer_email,
       a.reviewer_name, a.submitted_by, a.created_at, a.expires_at, a.decided_by, a.decided_at,
       a.notes, a.recorded_by, a.seen_at
  FROM campaign_approvals a
 WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.id = a.campaign_id AND c.workspace_id = a.workspace_id);
DROP TABLE campaign_approvals;
ALTER TABLE campaign_approvals_new RENAME TO campaign_approvals;
CREATE INDEX campaign_approvals_campaign ON campaign_approvals(campaign_id, id);
CREATE INDEX campaign_approvals_open ON campaign_approvals(workspace_id, status);

-- Recipients: their campaign and their contact, both in the recipient's workspace. A contact
-- deleted takes its rows with it (its timeline entries went already). The triggers that copy
-- a message's status here name this table, so they are made again around the rebuild.
DROP TRIGGER campaign_recipients_follow_status;
DROP TRIGGER campaign_recipients_follow_delete;
CREATE TABLE campaign_recipients_new (
    campaign_id      TEXT NOT NULL,
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
    message_status   TEXT,
    PRIMARY KEY (campaign_id, occurrence, contact_id),
    FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns(id, workspace_id) ON DELETE CASCADE,
    FOREIGN KEY (contact_id, workspace_id) REFERENCES base_contacts(id, workspace_id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO campaign_recipients_new
SELECT r.campaign_id, r.occurrence, r.contact_id, r.workspace_id, r.state, r.reason, r.detail,
       r.address, r.communication_id, r.created_at, r.message_status
  FROM campaign_recipients r
 WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.id = r.campaign_id AND c.workspace_id = r.workspace_id)
   AND EXISTS (SELECT 1 FROM base_contacts b WHERE b.id = r.contact_id AND b.workspace_id = r.workspace_id);
DROP TABLE campaign_recipients;
ALTER TABLE campaign_recipients_new RENAME TO campaign_recipients;
CREATE INDEX campaign_recipients_pending ON campaign_recipients(campaign_id, occurrence, contact_id)
    WHERE state = 'pending';
CREATE INDEX campaign_recipients_counts
    ON campaign_recipients(campaign_id, workspace_id, state, message_status, reason);
CREATE INDEX campaign_recipients_communication
    ON campaign_recipients(communication_id) WHERE communication_id IS NOT NULL;
-- Deleting a contact looks its recipient rows up by this.
CREATE INDEX campaign_recipients_contact ON campaign_recipients(contact_id, workspace_id);

CREATE TRIGGER campaign_recipients_follow_status
AFTER UPDATE OF status ON communication_logs
WHEN NEW.status IS NOT OLD.status
BEGIN
    UPDATE campaign_recipients SET message_status = NEW.status WHERE communication_id = NEW.id;
END;

CREATE TRIGGER campaign_recipients_follow_delete
AFTER DELETE ON communication_logs
BEGIN
    UPDATE campaign_recipients SET message_status = 'cancelled' WHERE communication_id = OLD.id;
END;

-- The outbox: what each row is for, and its timeline entry or review in its own workspace.
--   message: a contact's email or text, with its timeline entry;
--   review:  the reviewer's link to a submitted campaign, with its approval row;
--   summary: a person's weekly summary (`weekly_summaries.outbox_id` names it).
CREATE TABLE outbox_new (
    id                  TEXT PRIMARY KEY,          -- UUIDv7: claimed in the order written
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    purpose             TEXT NOT NULL CHECK (purpose IN ('message', 'review', 'summary')),
    communication_id    TEXT,
    approval_id         TEXT,
    channel             TEXT NOT NULL CHECK (channel IN ('email', 'text')),
    recipient           TEXT NOT NULL,             -- lower-case email or E.164
    message             TEXT NOT NULL,             -- JSON: what the provider is given
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
INSERT INTO outbox_new (id, workspace_id, purpose, communication_id, channel, recipient, message, state,
                        attempts, next_at, lease_until, provider_message_id, last_error, created_at,
                        finished_at, campaign_id)
SELECT o.id, o.workspace_id, 'message', o.communication_id, o.channel, o.recipient, o.message, o.state,
       o.attempts, o.next_at, o.lease_until, o.provider_message_id, o.last_error, o.created_at,
       o.finished_at, o.campaign_id
  FROM outbox o
 WHERE EXISTS (SELECT 1 FROM communication_logs l WHERE l.id = o.communication_id AND l.workspace_id = o.workspace_id);
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

-- A weekly summary queued in the outbox: `sending` until its row settles there.
ALTER TABLE weekly_summaries ADD COLUMN outbox_id TEXT REFERENCES outbox(id) ON DELETE SET NULL;
CREATE INDEX weekly_summaries_outbox ON weekly_summaries(outbox_id) WHERE outbox_id IS NOT NULL;
