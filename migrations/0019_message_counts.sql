-- The last seven days' message counts (dashboard, weekly summary): messages have a status,
-- notes and calls do not, so the counts read only messages, newest first, from the index.
CREATE INDEX communication_logs_messages ON communication_logs(workspace_id, id, status)
    WHERE status IS NOT NULL;
