-- What an audited change replaced, when that is worth keeping: a note's or call's text
-- before it was edited or deleted (the history people can look up). JSON; NULL for most.
ALTER TABLE audit_logs ADD COLUMN details TEXT;
