-- Possible duplicates by name: contacts with the same first name, last name and company (case
-- folded) sit next to each other in this index, so each contact finds its next namesake with
-- one seek, and the duplicates view costs one pass over the workspace, never a self-join.
CREATE INDEX base_contacts_same_person ON base_contacts(
    workspace_id, lower(coalesce(last_name, '')), lower(coalesce(first_name, '')),
    lower(coalesce(company, '')), id);
