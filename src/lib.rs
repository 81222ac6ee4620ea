//! pi-crm: a self-hosted household CRM. `main.rs` only parses the command line and calls in.

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod body_deadline;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod download;
pub mod error;
pub mod health;
pub mod jobs;
pub mod model;
pub mod providers;
pub mod public;
pub mod schedule;
pub mod sealed;
pub mod serve;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod upload;
pub mod web;
pub mod webhooks;
