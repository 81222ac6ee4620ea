-- The dashboard's yearly dates are computed live (SPEC §11.1, v3): "which date values fall on
-- the next 14 month-days" is one range of this index per workspace. Only values that end in
-- `MM-DD` (dates: `1980-07-04`, `--07-04`) are in it, so other values cost nothing.
CREATE INDEX custom_fields_month_day ON custom_fields(workspace_id, substr(field_value, -5), field_name)
 WHERE field_value GLOB '*[0-9][0-9]-[0-9][0-9]';
