-- Suppression scopes (SPEC §8.4, v3): an unsubscribe stops marketing on its channel and lets
-- one-to-one messages through (CAN-SPAM's opt-out covers commercial messages); a hard bounce,
-- a complaint, STOP and a manual entry stop everything on their channel.
ALTER TABLE suppressions ADD COLUMN scope TEXT NOT NULL DEFAULT 'all' CHECK (scope IN ('marketing', 'all'));
UPDATE suppressions SET scope = 'marketing' WHERE reason = 'unsubscribed';
