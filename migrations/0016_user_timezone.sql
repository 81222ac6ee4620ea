-- Each person's own time zone (SPEC §5, `/api/v1/me`): every time the UI shows them is in it.
-- NULL: the workspace's zone, else the server's.
ALTER TABLE users ADD COLUMN timezone TEXT;
