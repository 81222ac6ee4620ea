-- CardDAV (SPEC §16): what phones need beyond the contact itself.
--
-- `contact_changes` is the journal sync-collection (RFC 6578) reads: the last change to each
-- contact, numbered in one sequence for the whole database. A sync token is the highest
-- number a client has seen; the contacts changed since are those with a higher one, and a
-- deleted contact stays as a tombstone so its deletion reaches every phone. Triggers keep it,
-- so no write path — the API, the UI, an import, a merge, a list rename — can forget to.
CREATE TABLE contact_changes (
    contact_id   TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX contact_changes_seq ON contact_changes(seq);

-- What a phone's vCard carried that pi-crm has no field for (kept and served back, so a sync
-- never deletes what the phone knows), its UID, and the name the phone gave its resource
-- (`…/{name}.vcf`) when it created the contact. No foreign key: the name outlives the contact
-- as long as its tombstone does, so the deletion is reported under the href the phone knows.
CREATE TABLE contact_cards (
    contact_id   TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    uid          TEXT,
    extra        TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX contact_cards_name ON contact_cards(workspace_id, name);

-- A contact an import is still writing is in nobody's view: it is journalled when the import
-- clears its mark (the UPDATE below), not once per row and value while it runs.
CREATE TRIGGER contact_changes_on_insert AFTER INSERT ON base_contacts
WHEN NEW.import_pending IS NULL
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    VALUES (NEW.id, NEW.workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0)
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;

CREATE TRIGGER contact_changes_on_update AFTER UPDATE ON base_contacts
WHEN NEW.import_pending IS NULL
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    VALUES (NEW.id, NEW.workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0)
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;

-- A contact deleted with its whole workspace leaves no tombstone: nobody syncs that book again.
CREATE TRIGGER contact_changes_on_delete AFTER DELETE ON base_contacts
WHEN EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id)
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    VALUES (OLD.id, OLD.workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 1)
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 1;
    UPDATE contact_cards SET extra = NULL, uid = NULL WHERE contact_id = OLD.id;
END;

-- Values and memberships of a contact people can see; a cascade from a deleted contact (or
-- workspace) finds no contact (or workspace) and leaves the journal alone.
CREATE TRIGGER contact_changes_on_value_insert AFTER INSERT ON custom_fields
WHEN (SELECT import_pending FROM base_contacts WHERE id = NEW.contact_id) IS NULL
 AND EXISTS (SELECT 1 FROM base_contacts WHERE id = NEW.contact_id)
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    VALUES (NEW.contact_id, NEW.workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0)
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;

CREATE TRIGGER contact_changes_on_value_update AFTER UPDATE ON custom_fields
WHEN (SELECT import_pending FROM base_contacts WHERE id = NEW.contact_id) IS NULL
 AND EXISTS (SELECT 1 FROM base_contacts WHERE id = NEW.contact_id)
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    VALUES (NEW.contact_id, NEW.workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0)
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;

CREATE TRIGGER contact_changes_on_value_delete AFTER DELETE ON custom_fields
WHEN (SELECT import_pending FROM base_contacts WHERE id = OLD.contact_id) IS NULL
 AND EXISTS (SELECT 1 FROM base_contacts WHERE id = OLD.contact_id)
 AND EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id)
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    VALUES (OLD.contact_id, OLD.workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0)
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;

CREATE TRIGGER contact_changes_on_join AFTER INSERT ON contact_list_assignments
WHEN (SELECT import_pending FROM base_contacts WHERE id = NEW.contact_id) IS NULL
 AND EXISTS (SELECT 1 FROM base_contacts WHERE id = NEW.contact_id)
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    SELECT id, workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0
      FROM base_contacts WHERE id = NEW.contact_id
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;

CREATE TRIGGER contact_changes_on_leave AFTER DELETE ON contact_list_assignments
WHEN (SELECT import_pending FROM base_contacts WHERE id = OLD.contact_id) IS NULL
 AND EXISTS (SELECT 1 FROM base_contacts c JOIN workspaces w ON w.id = c.workspace_id
              WHERE c.id = OLD.contact_id)
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    SELECT id, workspace_id, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0
      FROM base_contacts WHERE id = OLD.contact_id
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;

-- A renamed list changes the CATEGORIES of every card in it.
CREATE TRIGGER contact_changes_on_list_rename AFTER UPDATE OF name ON contact_lists
WHEN NEW.name IS NOT OLD.name
BEGIN
    INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
    SELECT a.contact_id, NEW.workspace_id,
           (SELECT coalesce(max(seq), 0) FROM contact_changes) + row_number() OVER (), 0
      FROM contact_list_assignments a
     WHERE a.list_id = NEW.id
    ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0;
END;
