-- no-transaction
-- Phones are not unique any more (SPEC v2 §4): spouses, co-borrowers and colleagues share a
-- landline. SQLite cannot drop a table constraint, so `base_contacts` is rebuilt without
-- `base_contacts_phone`, and a plain index serves look-ups by phone instead.
--
-- Rebuilding a table that others point at needs foreign keys off (dropping the old table
-- would otherwise cascade into every custom value, list assignment and log entry), and that
-- pragma does nothing inside a transaction: hence `no-transaction` above, and the rebuild in
-- a transaction of its own. Every row keeps its rowid, which is its search document's id.
-- Run again after a crash before sqlx recorded it, the script rebuilds the same table again.

PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE base_contacts_new (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_on    TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    primary_email TEXT,                      -- trimmed, lower-case
    primary_phone TEXT,                      -- E.164; shared phones are allowed
    company       TEXT,
    -- SQLite lets any number of NULLs through a UNIQUE constraint: only real emails collide.
    CONSTRAINT base_contacts_email UNIQUE (workspace_id, primary_email)
);
INSERT INTO base_contacts_new
       (rowid, id, workspace_id, created_on, first_name, last_name, primary_email, primary_phone, company)
SELECT rowid, id, workspace_id, created_on, first_name, last_name, primary_email, primary_phone, company
  FROM base_contacts;
DROP TABLE base_contacts;
ALTER TABLE base_contacts_new RENAME TO base_contacts;

CREATE INDEX base_contacts_recent ON base_contacts(workspace_id, id);
CREATE INDEX base_contacts_by_name ON base_contacts(
    workspace_id, lower(coalesce(last_name, '')), lower(coalesce(first_name, '')), id);
CREATE UNIQUE INDEX base_contacts_in_workspace ON base_contacts(id, workspace_id);
CREATE INDEX base_contacts_same_person ON base_contacts(
    workspace_id, lower(coalesce(last_name, '')), lower(coalesce(first_name, '')),
    lower(coalesce(company, '')), id);
-- The contacts that have a number, next to each other: an import's "is this person already
-- here?", an inbound text's sender, and the duplicates view's shared-phone chain.
CREATE INDEX base_contacts_phone ON base_contacts(workspace_id, primary_phone, id)
    WHERE primary_phone IS NOT NULL;

CREATE TRIGGER contact_search_forget AFTER DELETE ON base_contacts BEGIN
    DELETE FROM contact_search WHERE rowid = old.rowid;
END;

COMMIT;
PRAGMA foreign_keys = ON;
