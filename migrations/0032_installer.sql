-- The person who set up pi-crm (the first account, made by /setup or `pi-crm user create` on
-- an empty database). Only they may download a backup from the web: a backup holds every
-- household member's data. Kept as a mark rather than "the oldest account", so deleting that
-- account hands the right to nobody rather than to whoever is next.
ALTER TABLE users ADD COLUMN is_installer INTEGER NOT NULL DEFAULT 0;
UPDATE users SET is_installer = 1
 WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);
