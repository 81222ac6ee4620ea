//! Who carries a leased row: each workspace's provider for its channel, looked up outside
//! any transaction and kept a while by the pump, and the per-minute sending rate each
//! provider is held to.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Channel;
use super::outbox::Leased;
use crate::domain::ids::WorkspaceId;
use crate::domain::workspace::{self, System, WorkspaceAccess};
use crate::providers::email::Mailer;
use crate::providers::sms::Texter;
use crate::state::AppState;

/// Sends per minute per workspace provider, kept by this process.
#[derive(Default)]
pub struct Rates(Mutex<HashMap<(String, Channel), VecDeque<Instant>>>);

impl Rates {
    /// Takes a slot in the last minute's window, or says when one frees up.
    pub(super) fn take(&self, ws: &str, channel: Channel, per_minute: u32) -> Result<(), Duration> {
        if per_minute == 0 {
            return Ok(());
        }
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let window = all.entry((ws.to_string(), channel)).or_default();
        let now = Instant::now();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            window.pop_front();
        }
        if window.len() < per_minute as usize {
            window.push_back(now);
            return Ok(());
        }
        let oldest = *window.front().expect("a full window has a first entry");
        Err(Duration::from_secs(60).saturating_sub(now.duration_since(oldest)))
    }
}

/// A workspace's provider for one channel, looked up once per while by the pump.
#[derive(Clone)]
pub enum Sender {
    Email(Arc<Mailer>),
    Text(Arc<Texter>),
    /// Why nothing can send it (no provider any more, secrets that do not open).
    Missing(String),
}

/// The pump's cache of workspaces and their providers, read again when settings change.
#[derive(Default)]
pub struct Senders {
    access: HashMap<String, Option<WorkspaceAccess>>,
    found: HashMap<(String, Channel), (Option<WorkspaceAccess>, Sender)>,
}

impl Senders {
    /// The workspace and provider for `row`, looked up (outside any transaction) before its
    /// send begins.
    pub async fn get(&mut self, state: &AppState, system: &System, row: &Leased) -> (Option<WorkspaceAccess>, Sender) {
        let key = (row.row.workspace_id.clone(), row.channel);
        if let Some(found) = self.found.get(&key) {
            return found.clone();
        }
        let ws = match self.access.get(&row.row.workspace_id) {
            Some(found) => found.clone(),
            None => {
                let found = match WorkspaceId::parse(&row.row.workspace_id) {
                    Some(id) => workspace::for_system(system, &state.db, &id)
                        .await
                        .ok()
                        .flatten()
                        .map(|(ws, _)| ws),
                    None => None,
                };
                self.access.insert(row.row.workspace_id.clone(), found.clone());
                found
            }
        };
        let sender = match &ws {
            None => Sender::Missing("the workspace is gone".into()),
            Some(ws) if row.channel == Channel::Email => match super::providers::mailer(state, ws).await {
                Ok(Some(m)) => Sender::Email(Arc::new(m)),
                Ok(None) => Sender::Missing("the workspace has no email provider any more".into()),
                Err(e) => Sender::Missing(e.public_message()),
            },
            Some(ws) => match super::providers::texter(state, ws).await {
                Ok(Some(t)) => Sender::Text(Arc::new(t)),
                Ok(None) => Sender::Missing("the workspace has no text provider any more".into()),
                Err(e) => Sender::Missing(e.public_message()),
            },
        };
        self.found.insert(key, (ws.clone(), sender.clone()));
        (ws, sender)
    }
}
