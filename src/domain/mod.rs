//! Business rules, once, for every face (web, API, CLI, jobs).

pub mod activity;
pub mod actor;
pub mod api_key;
pub mod audit;
pub mod audit_export;
pub mod comms;
pub mod contact;
pub mod dates;
pub mod export;
pub mod field;
pub mod field_definition;
pub mod ids;
pub mod import;
pub mod invite;
pub mod list;
pub mod merge;
pub mod messages;
pub mod page;
pub mod phone;
pub mod providers;
pub mod search;
pub mod session;
pub mod suppression;
pub mod user;
pub mod workspace;
