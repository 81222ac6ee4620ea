-- The contact search finds the text of notes and calls too (SPEC §7). Documents of contacts
-- that have any are written again with it; the expression is the one in
-- `storage::contacts::search_document_sql` as of this version.
DELETE FROM contact_search WHERE rowid IN (
    SELECT c.rowid FROM base_contacts c
     WHERE EXISTS (SELECT 1 FROM communication_logs g WHERE g.contact_id = c.id AND g.type IN ('note', 'call')));
INSERT INTO contact_search (rowid, body)
SELECT c.rowid,
       coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.primary_email, '')
       || ' ' || coalesce(c.primary_phone, '') || ' ' || coalesce(c.company, '') || ' ' ||
       coalesce((SELECT group_concat(v.field_value, ' ') FROM custom_fields v WHERE v.contact_id = c.id), '') || ' ' ||
       coalesce((SELECT group_concat(json_extract(g.content, '$.body'), ' ') FROM communication_logs g
                  WHERE g.contact_id = c.id AND g.type IN ('note', 'call')), '')
  FROM base_contacts c
 WHERE EXISTS (SELECT 1 FROM communication_logs g WHERE g.contact_id = c.id AND g.type IN ('note', 'call'));
