//! Black-box tests: the real server over real HTTP with a real SQLite file.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod adapters;
mod ai;
mod api_keys;
mod audit;
mod backups;
mod campaign_crash;
mod campaigns;
mod campaigns_ui;
mod carddav;
mod cli;
mod contacts;
mod contacts_list;
mod contacts_ui;
mod deploy;
mod errors_and_headers;
mod export;
mod fuzz_inputs;
mod fuzz_readers;
mod hardening;
mod import_reading;
mod imports;
mod imports_ui;
mod insights;
mod invites;
mod isolation;
mod limits;
mod me;
mod messaging;
mod messaging_ui;
mod migrations;
mod outbox_crash;
mod password_reset;
mod provider_events;
mod providers_guarded;
mod reach;
mod slow_clients;
mod templates;
mod templates_ui;
mod today;
mod ui_pages;
mod webhooks;
mod workspaces;
