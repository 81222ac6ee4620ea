-- A date or date-time field can be a follow-up field (SPEC §6 `is_follow_up`): its values are
-- due dates, listed on the dashboard's "Follow-ups" when today or overdue.
ALTER TABLE custom_field_definitions ADD COLUMN is_follow_up INTEGER NOT NULL DEFAULT 0;

-- The dashboard's recent activity: a workspace's newest entries, read from the end.
CREATE INDEX communication_logs_recent ON communication_logs(workspace_id, id);
