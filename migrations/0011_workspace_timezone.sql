-- A workspace's own time zone (SPEC §2 and §15): what "today", quiet hours and send times
-- mean for its people. NULL: the server's `timezone` setting.
ALTER TABLE workspaces ADD COLUMN timezone TEXT;
