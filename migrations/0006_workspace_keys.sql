-- Isolation backed by the schema: every row of workspace data names its workspace, and a row
-- that points at a contact, a list or an import points at one *in the same workspace*, through
-- composite foreign keys. A bug that mixed ids across workspaces now fails at the database
-- instead of leaking or corrupting another person's data.
--
-- SQLite cannot add a foreign key to an existing table, so each child table is rebuilt:
-- create the new shape, copy, drop the old one, rename. Nothing references these tables, so
-- the rename rewrites no other schema.

-- The parent keys: (id, workspace_id) must be unique for a composite key to point at it.
-- Ids are UUIDv7, so these indexes grow at their right edge and cost little to keep.
CREATE UNIQUE INDEX base_contacts_in_workspace ON base_contacts(id, workspace_id);
CREATE UNIQUE INDEX contact_lists_in_workspace ON contact_lists(id, workspace_id);
CREATE UNIQUE INDEX imports_in_workspace ON imports(id, workspace_id);

CREATE TABLE custom_fields_new (
    contact_id   TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    field_name   TEXT NOT NULL,
    field_value  TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (contact_id, field_name),
    FOREIGN KEY (contact_id, workspace_id) REFERENCES base_contacts(id, workspace_id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO custom_fields_new (contact_id, workspace_id, field_name, field_value, updated_at)
SELECT v.contact_id, c.workspace_id, v.field_name, v.field_value, v.updated_at
  FROM custom_fields v JOIN base_contacts c ON c.id = v.contact_id;
DROP TABLE custom_fields;
ALTER TABLE custom_fields_new RENAME TO custom_fields;
CREATE INDEX custom_fields_lookup ON custom_fields(workspace_id, field_name, field_value, contact_id);

CREATE TABLE contact_list_assignments_new (
    contact_id   TEXT NOT NULL,
    list_id      TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    is_primary   INTEGER NOT NULL DEFAULT 0,
    assigned_at  TEXT NOT NULL,
    PRIMARY KEY (contact_id, list_id),
    FOREIGN KEY (contact_id, workspace_id) REFERENCES base_contacts(id, workspace_id) ON DELETE CASCADE,
    FOREIGN KEY (list_id, workspace_id) REFERENCES contact_lists(id, workspace_id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO contact_list_assignments_new (contact_id, list_id, workspace_id, is_primary, assigned_at)
SELECT a.contact_id, a.list_id, c.workspace_id, a.is_primary, a.assigned_at
  FROM contact_list_assignments a
  JOIN base_contacts c ON c.id = a.contact_id
  JOIN contact_lists l ON l.id = a.list_id AND l.workspace_id = c.workspace_id;
DROP TABLE contact_list_assignments;
ALTER TABLE contact_list_assignments_new RENAME TO contact_list_assignments;
CREATE INDEX contact_list_assignments_list ON contact_list_assignments(list_id, contact_id);
CREATE UNIQUE INDEX contact_list_assignments_one_stage
    ON contact_list_assignments(contact_id) WHERE is_primary = 1;

CREATE TABLE communication_logs_new (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('email', 'text', 'call', 'ai', 'stage_change', 'note', 'system')),
    content      TEXT NOT NULL,
    status       TEXT CHECK (status IN ('queued', 'sent', 'delivered', 'opened', 'bounced', 'failed', 'received')),
    pinned       INTEGER NOT NULL DEFAULT 0,
    user_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    timestamp    TEXT NOT NULL,
    FOREIGN KEY (contact_id, workspace_id) REFERENCES base_contacts(id, workspace_id) ON DELETE CASCADE
);
INSERT INTO communication_logs_new (id, workspace_id, contact_id, type, content, status, pinned, user_id, timestamp)
SELECT g.id, c.workspace_id, g.contact_id, g.type, g.content, g.status, g.pinned, g.user_id, g.timestamp
  FROM communication_logs g JOIN base_contacts c ON c.id = g.contact_id;
DROP TABLE communication_logs;
ALTER TABLE communication_logs_new RENAME TO communication_logs;
CREATE INDEX communication_logs_contact ON communication_logs(contact_id, pinned, id);

-- Import items name their workspace too; the contact they list may be gone (deleted after
-- the import), so only the import is a foreign key.
CREATE TABLE import_items_new (
    import_id    TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('created', 'updated')),
    before       TEXT,
    line         INTEGER,
    PRIMARY KEY (import_id, contact_id),
    FOREIGN KEY (import_id, workspace_id) REFERENCES imports(id, workspace_id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO import_items_new (import_id, workspace_id, contact_id, action, before, line)
SELECT i.import_id, m.workspace_id, i.contact_id, i.action, i.before, i.line
  FROM import_items i JOIN imports m ON m.id = i.import_id;
DROP TABLE import_items;
ALTER TABLE import_items_new RENAME TO import_items;
