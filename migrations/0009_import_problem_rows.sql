-- The rows of an import that had a problem (a value that could not be read, a row left out),
-- as they were in the file, so they can be downloaded as a CSV with a `problem` column, fixed
-- and imported again (SPEC §11.2). The uploaded file itself is removed once the import has
-- run, so the rows are kept here, in the import's own transaction. `imports.columns` is the
-- file's header for that CSV.
ALTER TABLE imports ADD COLUMN columns TEXT;             -- JSON array of column names

CREATE TABLE import_problem_rows (
    import_id    TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    line         INTEGER NOT NULL,                        -- the row's line in the file
    cells        TEXT NOT NULL,                           -- JSON array: the row as read
    problem      TEXT NOT NULL,                           -- what was wrong, for a person
    PRIMARY KEY (import_id, line),
    FOREIGN KEY (import_id, workspace_id) REFERENCES imports(id, workspace_id) ON DELETE CASCADE
) WITHOUT ROWID;
