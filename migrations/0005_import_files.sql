-- Uploaded files now wait on disk (<data dir>/imports/<id>), not in `imports.file`, which
-- stays for imports queued before this version (moved out at start). Each item remembers the
-- file line it came from, so a later row can be told which line already holds its phone.
ALTER TABLE import_items ADD COLUMN line INTEGER;
