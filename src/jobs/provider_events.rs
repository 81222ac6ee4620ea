//! The `provider-events` job (SPEC §8.5, §15): every minute, for each workspace with Mailgun
//! or Twilio, asks the provider for what its webhooks would have pushed
//! (`domain::messaging::polling`). Without a reachable `public_url` that is the only way
//! statuses, replies and STOPs arrive, so each provider is polled every minute; once the
//! reachability check passes, webhooks bring them and a poll every 15 minutes is a safety net.

use jiff::{SignedDuration, Timestamp};

use crate::domain::ids::WorkspaceId;
use crate::domain::messaging::polling::{self, Polled};
use crate::domain::workspace::{self, System};
use crate::state::AppState;

/// How often a provider is polled when webhooks reach pi-crm (otherwise at every run).
pub const BEHIND_WEBHOOKS: SignedDuration = SignedDuration::from_mins(15);

/// The job runs every minute.
pub fn next_after(after: Timestamp) -> anyhow::Result<Timestamp> {
    Ok(after.checked_add(SignedDuration::from_mins(1))?)
}

pub async fn run(state: &AppState) -> anyhow::Result<String> {
    let every = if crate::domain::reachability::is_reachable(state)
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?
    {
        Some(BEHIND_WEBHOOKS)
    } else {
        None
    };
    let system = System::acting();
    let mut total = Polled::default();
    let mut workspaces = 0;
    for id in crate::storage::provider_events::pollable_workspaces(&state.db).await? {
        let Some(id) = WorkspaceId::parse(&id) else { continue };
        let Some((ws, _)) = workspace::for_system(&system, &state.db, &id)
            .await
            .map_err(|e| anyhow::anyhow!(e.public_message()))?
        else {
            continue;
        };
        workspaces += 1;
        match polling::poll(state, &ws, every).await {
            Ok(done) => {
                for e in &done.errors {
                    tracing::warn!(workspace = %ws.id(), error = %e, "polling a provider for events failed; trying again next run");
                }
                total.read += done.read;
                total.applied += done.applied;
                total.errors.extend(done.errors);
            }
            Err(e) => {
                e.log_if_internal();
                total.errors.push(e.public_message());
            }
        }
    }
    let mut line = format!(
        "{} events and texts read from providers in {workspaces} workspaces, {} new",
        total.read, total.applied
    );
    if !total.errors.is_empty() {
        line.push_str(&format!(
            "; {} could not be read: {}",
            total.errors.len(),
            total.errors.join("; ")
        ));
    }
    Ok(line)
}
