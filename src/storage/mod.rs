//! SQL lives here, one file per aggregate. Workspace data is only reachable through a
//! `WorkspaceAccess` resolved by `domain::workspace::resolve`.

pub mod ai_usage;
pub mod api_keys;
pub mod audit;
pub mod campaign_approvals;
pub mod campaign_recipients;
pub mod campaign_settings;
pub mod campaigns;
pub mod comms;
pub mod contact_search;
pub mod contacts;
pub mod db;
pub mod duplicates;
pub mod fields;
pub mod freshness;
pub mod import_problems;
pub mod imports;
pub mod inbox;
pub mod insights;
pub mod invites;
pub mod jobs;
pub mod list_columns;
pub mod lists;
pub mod outbox;
pub mod paused_indexes;
pub mod providers;
pub mod segments;
pub mod sessions;
pub mod suppressions;
pub mod templates;
pub mod today;
pub mod upload_files;
pub mod users;
pub mod webhook_events;
pub mod weekly;
pub mod workspaces;
