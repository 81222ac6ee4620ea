//! Business rules, once, for every face (web, API, CLI, jobs).

// The ids and pages every rule speaks of live below the domain, where storage reads them too.
pub use crate::model::{ids, page};

pub mod activity;
pub mod actor;
pub mod ai;
pub mod ai_reply;
pub mod api_key;
pub mod audit;
pub mod audit_export;
pub mod bulk;
pub mod campaign;
pub mod comms;
pub mod contact;
pub mod dates;
pub mod dav;
pub mod export;
pub mod field;
pub mod field_definition;
pub mod import;
pub mod insights;
pub mod invite;
pub mod list;
pub mod list_view;
pub mod merge;
pub mod messaging;
pub mod password_reset;
pub mod phone;
pub mod reachability;
pub mod replies;
pub mod search;
pub mod session;
pub mod stats_cache;
pub mod template;
pub mod today;
pub mod user;
pub mod weekly;
pub mod workspace;
