-- Which custom fields each person shows as columns on a workspace's contacts list (issue 13's
-- column chooser): a personal view, so one row per person and workspace.
CREATE TABLE contact_list_columns (
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    columns      TEXT NOT NULL,            -- JSON array of field names, in the order shown
    PRIMARY KEY (user_id, workspace_id)
) WITHOUT ROWID;
