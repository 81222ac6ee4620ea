-- Free-text contact search: one trigram FTS5 document per contact (names, email, phone,
-- company and every custom value), so `LIKE '%word%'` is an index lookup, not a scan of every
-- contact and value. The row id is the contact's rowid. pi-crm refreshes a contact's document
-- after each write to it (storage::contacts::refresh_search); the trigger covers deletions,
-- including those cascading from a deleted workspace.

CREATE VIRTUAL TABLE contact_search USING fts5(body, tokenize = 'trigram');

CREATE TRIGGER contact_search_forget AFTER DELETE ON base_contacts BEGIN
    DELETE FROM contact_search WHERE rowid = old.rowid;
END;

INSERT INTO contact_search (rowid, body)
SELECT c.rowid,
       coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.primary_email, '') || ' ' ||
       coalesce(c.primary_phone, '') || ' ' || coalesce(c.company, '') || ' ' ||
       coalesce((SELECT group_concat(v.field_value, ' ') FROM custom_fields v WHERE v.contact_id = c.id), '')
  FROM base_contacts c;
