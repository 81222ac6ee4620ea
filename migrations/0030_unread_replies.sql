-- Replies are easy to miss (issue 34): a text or email a contact sent is unread until someone
-- of the workspace opens that contact's page. Replies already there count as read.
ALTER TABLE communication_logs ADD COLUMN read_at TEXT;
UPDATE communication_logs SET read_at = timestamp WHERE status = 'received';
CREATE INDEX communication_logs_unread ON communication_logs(workspace_id, contact_id)
 WHERE status = 'received' AND read_at IS NULL;
