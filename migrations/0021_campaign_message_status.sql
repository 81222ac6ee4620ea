-- A campaign's counts and log read one table: each recipient keeps its message's status,
-- copied by triggers whenever the timeline entry's status moves (the outbox, webhooks) or the
-- entry is deleted. The campaign page then counts 10,000 recipients from one covering index
-- instead of joining each to the timeline.

ALTER TABLE campaign_recipients ADD COLUMN message_status TEXT;

UPDATE campaign_recipients
   SET message_status = (SELECT status FROM communication_logs WHERE id = campaign_recipients.communication_id)
 WHERE communication_id IS NOT NULL;

CREATE INDEX campaign_recipients_counts
    ON campaign_recipients(campaign_id, workspace_id, state, message_status, reason);
CREATE INDEX campaign_recipients_communication
    ON campaign_recipients(communication_id) WHERE communication_id IS NOT NULL;

CREATE TRIGGER campaign_recipients_follow_status
AFTER UPDATE OF status ON communication_logs
WHEN NEW.status IS NOT OLD.status
BEGIN
    UPDATE campaign_recipients SET message_status = NEW.status WHERE communication_id = NEW.id;
END;

CREATE TRIGGER campaign_recipients_follow_delete
AFTER DELETE ON communication_logs
BEGIN
    UPDATE campaign_recipients SET message_status = 'cancelled' WHERE communication_id = OLD.id;
END;

-- Why a campaign that should be sending cannot (its provider was removed, or its snapshot no
-- longer fills in): shown on its page until a pass gets through.
ALTER TABLE campaigns ADD COLUMN problem TEXT;
