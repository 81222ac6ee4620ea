-- Imports write in short transactions instead of one that holds the write lock for the whole
-- file (SPEC §11.2, issue 10): other people keep working beside a million-row import, and the
-- import stays all-or-nothing as people see it.
--
-- A contact an import writes carries its import's id in `import_pending`. While that import
-- is listed in `hidden_imports` — from before its first row is written until the transaction
-- that finishes it — the contact is in no read: every read of contacts goes through the
-- `contacts` view below. Finishing an import deletes its one row here, so all of its contacts
-- appear in the same commit, whatever their number; a failed or crashed import's contacts are
-- deleted while still hidden. `import_pending` is cleared afterwards, a batch at a time, so
-- that reads meet NULL and never look further.

ALTER TABLE base_contacts ADD COLUMN import_pending TEXT;

CREATE TABLE hidden_imports (
    import_id TEXT PRIMARY KEY
) WITHOUT ROWID;

-- The contacts of one import, to delete when it fails or to clear once it is done. New
-- contacts of one import share the key's first part and grow at its right edge: cheap to keep.
CREATE INDEX base_contacts_pending ON base_contacts(import_pending)
    WHERE import_pending IS NOT NULL;

-- Counting a workspace's contacts reads only this index: it now holds the column that says
-- whether a contact can be seen.
DROP INDEX base_contacts_recent;
CREATE INDEX base_contacts_recent ON base_contacts(workspace_id, id, import_pending);

-- Every contact people can see. Writes go to `base_contacts`; reads come here. `rowid` is the
-- contact's search document id (`contact_search`).
CREATE VIEW contacts AS
SELECT rowid AS rowid, id, workspace_id, created_on, first_name, last_name, primary_email,
       primary_phone, company
  FROM base_contacts
 WHERE import_pending IS NULL OR import_pending NOT IN (SELECT import_id FROM hidden_imports);

-- Rows an import could not write until it finishes: duplicates of contacts people can see,
-- to update or merge (SPEC §4) in the transaction that makes the import visible.
CREATE TABLE import_deferred_rows (
    import_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    workspace_id TEXT NOT NULL,
    row          TEXT NOT NULL,
    PRIMARY KEY (import_id, seq),
    FOREIGN KEY (import_id, workspace_id) REFERENCES imports(id, workspace_id) ON DELETE CASCADE
) WITHOUT ROWID;

-- A running import's claim: renewed by every transaction of the run, so a run whose process
-- died (its claim lapsed) is told from one still going in another process (the server and
-- the CLI share the database). A lapsed run's contacts are deleted and it is queued again.
ALTER TABLE imports ADD COLUMN lease_until TEXT;
