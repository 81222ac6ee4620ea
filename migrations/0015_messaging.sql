-- Email and text (SPEC §8): provider settings, the outbox, suppressions, webhook events
-- already applied, and the unknown-senders inbox.

-- A message's status may now be `clicked`, and `unknown` (the provider may or may not have
-- taken it: never retried by itself). SQLite cannot change a CHECK, so the log is rebuilt;
-- nothing points at it yet, so no foreign key needs switching off.
CREATE TABLE communication_logs_new (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('email', 'text', 'call', 'ai', 'stage_change', 'note', 'system')),
    content      TEXT NOT NULL,
    status       TEXT CHECK (status IN ('queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced',
                                        'failed', 'unknown', 'received')),
    pinned       INTEGER NOT NULL DEFAULT 0,
    user_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    timestamp    TEXT NOT NULL,
    FOREIGN KEY (contact_id, workspace_id) REFERENCES base_contacts(id, workspace_id) ON DELETE CASCADE
);
INSERT INTO communication_logs_new (id, workspace_id, contact_id, type, content, status, pinned, user_id, timestamp)
SELECT id, workspace_id, contact_id, type, content, status, pinned, user_id, timestamp FROM communication_logs;
DROP TABLE communication_logs;
ALTER TABLE communication_logs_new RENAME TO communication_logs;
CREATE INDEX communication_logs_contact ON communication_logs(contact_id, pinned, id);
-- The dashboard's "failed or unknown messages".
CREATE INDEX communication_logs_trouble ON communication_logs(workspace_id, id)
    WHERE status IN ('failed', 'unknown', 'bounced');

-- One email, one text and one AI provider per workspace. `settings` is the public part (JSON);
-- `secrets` is a JSON object sealed with XChaCha20-Poly1305 under a key derived from the
-- data dir's secret.key, bound to its workspace and channel: nonce (24 bytes) || ciphertext.
CREATE TABLE provider_settings (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'ai')),
    kind         TEXT NOT NULL,
    settings     TEXT NOT NULL,
    secrets      BLOB NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, channel)
) WITHOUT ROWID;

-- Every outgoing message, written in the same transaction as its timeline entry. The worker
-- claims `pending` rows whose `next_at` has come with one UPDATE … RETURNING, which sets
-- `sending` and a lease; a lease that runs out means the send may have happened: `unknown`.
CREATE TABLE outbox (
    id                  TEXT PRIMARY KEY,          -- UUIDv7: claimed in the order written
    workspace_id        TEXT NOT NULL,
    communication_id    TEXT NOT NULL,
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
    FOREIGN KEY (communication_id) REFERENCES communication_logs(id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id) REFERENCES workspaces(id) ON DELETE CASCADE
);
CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_leased ON outbox(lease_until) WHERE state = 'sending';
CREATE INDEX outbox_communication ON outbox(communication_id);
CREATE INDEX outbox_provider_id ON outbox(workspace_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

-- Addresses and numbers no send may reach (SPEC §8.4).
CREATE TABLE suppressions (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'text')),
    address      TEXT NOT NULL,                    -- lower-case email or E.164
    reason       TEXT NOT NULL CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'stop', 'manual')),
    created_at   TEXT NOT NULL,
    CONSTRAINT suppressions_address UNIQUE (workspace_id, channel, address)
);

-- Webhook deliveries already applied: providers retry, and a retry must change nothing.
CREATE TABLE webhook_events (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (workspace_id, provider, event_key)
) WITHOUT ROWID;

-- Texts from numbers no contact has: kept until someone makes a contact of the sender.
CREATE TABLE inbox_messages (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    from_number         TEXT NOT NULL,
    to_number           TEXT,
    body                TEXT NOT NULL,
    provider_message_id TEXT,
    received_at         TEXT NOT NULL
);
CREATE INDEX inbox_messages_workspace ON inbox_messages(workspace_id, id);
CREATE INDEX inbox_messages_sender ON inbox_messages(workspace_id, from_number);
