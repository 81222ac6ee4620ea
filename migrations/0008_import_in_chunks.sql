-- Imports commit a chunk at a time instead of holding the write lock for their whole run.
-- What a running import has written stays invisible until it is done:
--   * a contact it created carries the import's id in `import_pending`; contacts are read
--     only where that is empty or names a finished import (storage::contacts::VISIBLE), and
--     the mark is cleared in small steps after the import is done;
--   * a row of the file that updates a contact people can already see waits in
--     `import_deferred` and is applied in the import's last transaction.
-- A running import holds a lease (`lease_token` until `lease_until`), renewed by every chunk;
-- an import whose lease ran out was abandoned (a crash): what it wrote is deleted and it
-- runs again.
ALTER TABLE base_contacts ADD COLUMN import_pending TEXT;
CREATE INDEX base_contacts_pending ON base_contacts(import_pending) WHERE import_pending IS NOT NULL;

ALTER TABLE imports ADD COLUMN lease_token TEXT;
ALTER TABLE imports ADD COLUMN lease_until TEXT;

CREATE TABLE import_deferred (
    import_id  TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    row        TEXT NOT NULL,                  -- JSON of the planned row (base and custom values)
    PRIMARY KEY (import_id, line)
) WITHOUT ROWID;
