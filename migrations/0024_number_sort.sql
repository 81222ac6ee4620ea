-- Custom values that are numbers, by workspace, field and numeric value (issue 13: a list
-- sorted by a number field read and sorted every value of that field, 40-60 ms at 100k
-- contacts). Partial: only values written the way `domain::field` stores a number
-- (`-?digits(.digits)?`), so text, dates and emails cost nothing here. A query uses it only
-- when it repeats these very conditions (`storage::contact_search::number_shaped`). Large
-- imports set it aside and build it again, like `custom_fields_lookup`.
CREATE INDEX custom_fields_numbers
    ON custom_fields(workspace_id, field_name, CAST(field_value AS REAL), contact_id)
    WHERE field_value GLOB '[0-9-]*' AND field_value NOT GLOB '?*[^0-9.]*';
