//! Business rules, once, for every face (web, API, CLI, jobs).

pub mod actor;
pub mod api_key;
pub mod audit;
pub mod ids;
pub mod page;
pub mod user;
pub mod workspace;
