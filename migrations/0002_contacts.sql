-- Contacts: six data fields, everything else in typed custom fields (EAV), lists and pipeline
-- stages, and the communication log.

CREATE TABLE base_contacts (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_on    TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    primary_email TEXT,                      -- trimmed, lower-case
    primary_phone TEXT,                      -- E.164
    company       TEXT,
    -- SQLite lets any number of NULLs through a UNIQUE constraint: only real values collide.
    CONSTRAINT base_contacts_email UNIQUE (workspace_id, primary_email),
    CONSTRAINT base_contacts_phone UNIQUE (workspace_id, primary_phone)
);
-- Newest first, and by name, within a workspace: the two orders of the contact list.
CREATE INDEX base_contacts_recent ON base_contacts(workspace_id, id);
CREATE INDEX base_contacts_by_name ON base_contacts(
    workspace_id, lower(coalesce(last_name, '')), lower(coalesce(first_name, '')), id);

CREATE TABLE custom_field_definitions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id  TEXT REFERENCES workspaces(id) ON DELETE CASCADE,   -- NULL: user-global
    field_name    TEXT NOT NULL,
    label         TEXT NOT NULL,
    field_type    TEXT NOT NULL CHECK (field_type IN ('text', 'long_text', 'number', 'date', 'datetime',
                       'boolean', 'email', 'phone', 'url', 'select', 'json')),
    is_required   INTEGER NOT NULL DEFAULT 0,
    default_value TEXT,
    options       TEXT,                       -- JSON array, for select
    is_tracked    INTEGER NOT NULL DEFAULT 0, -- changes are logged on the contact's timeline
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX custom_field_definitions_global
    ON custom_field_definitions(user_id, field_name) WHERE workspace_id IS NULL;
CREATE UNIQUE INDEX custom_field_definitions_workspace
    ON custom_field_definitions(workspace_id, field_name) WHERE workspace_id IS NOT NULL;

-- Values outlive their definitions (orphans), so they carry no reference to one.
CREATE TABLE custom_fields (
    contact_id   TEXT NOT NULL REFERENCES base_contacts(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    field_name   TEXT NOT NULL,
    field_value  TEXT NOT NULL,               -- canonical text for the field's type
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (contact_id, field_name)
) WITHOUT ROWID;
-- "Contacts where field = value" in one index range, at any size.
CREATE INDEX custom_fields_lookup ON custom_fields(workspace_id, field_name, field_value, contact_id);

CREATE TABLE contact_lists (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    is_primary   INTEGER NOT NULL DEFAULT 0,  -- 1: a pipeline stage
    position     INTEGER NOT NULL DEFAULT 0,  -- order of stages on the board
    created_at   TEXT NOT NULL,
    CONSTRAINT contact_lists_name UNIQUE (workspace_id, name)
);

CREATE TABLE contact_list_assignments (
    contact_id  TEXT NOT NULL REFERENCES base_contacts(id) ON DELETE CASCADE,
    list_id     TEXT NOT NULL REFERENCES contact_lists(id) ON DELETE CASCADE,
    is_primary  INTEGER NOT NULL DEFAULT 0,   -- copied from the list, so the index below can hold
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (contact_id, list_id)
) WITHOUT ROWID;
CREATE INDEX contact_list_assignments_list ON contact_list_assignments(list_id, contact_id);
-- A contact is in at most one pipeline stage, whatever the code does.
CREATE UNIQUE INDEX contact_list_assignments_one_stage
    ON contact_list_assignments(contact_id) WHERE is_primary = 1;

CREATE TABLE communication_logs (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL REFERENCES base_contacts(id) ON DELETE CASCADE,
    type         TEXT NOT NULL CHECK (type IN ('email', 'text', 'call', 'ai', 'stage_change', 'note', 'system')),
    content      TEXT NOT NULL,               -- JSON
    status       TEXT CHECK (status IN ('queued', 'sent', 'delivered', 'opened', 'bounced', 'failed', 'received')),
    pinned       INTEGER NOT NULL DEFAULT 0,
    user_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    timestamp    TEXT NOT NULL
);
CREATE INDEX communication_logs_contact ON communication_logs(contact_id, pinned, id);
