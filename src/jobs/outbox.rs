//! The outbox pump: claims due rows into free slots, hands each to
//! `domain::messaging::outbox::deliver` (which sends and settles it), and claims again as
//! slots free up. The rules — what a provider's answer does to a row — are the domain's.

use std::time::{Duration, Instant};

use crate::domain::messaging::outbox::{self, Drained};
use crate::domain::messaging::senders::Senders;
use crate::domain::workspace::System;
use crate::state::AppState;

/// Sends in flight at once. Rows are claimed only into free slots, so no row sits leased while
/// it waits its turn (a crash would make it `unknown` though it never went out).
const IN_FLIGHT: usize = 16;
/// Free slots worth a claim of their own while others are still out.
const REFILL: usize = IN_FLIGHT / 2;
/// Fewer free slots are filled this long after the last claim.
const TOP_UP_AFTER: Duration = Duration::from_millis(100);
/// How long a workspace's provider settings are reused before being read again.
const SENDERS_FOR: Duration = Duration::from_secs(30);

/// The server's worker: keeps up to `IN_FLIGHT` sends going, claims more as soon as a slot
/// frees, a message is queued (the bell), or queued work falls due. A slow provider holds
/// only its own slots.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = pump(&state, false).await {
                tracing::warn!(error = %crate::telemetry::chain(&e), "the outbox worker failed; it tries again shortly");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    })
}

/// Sends everything due now and returns what became of it (`pi-crm jobs run outbox`, tests).
pub async fn drain(state: &AppState) -> anyhow::Result<Drained> {
    pump(state, true).await
}

/// Claims and sends, `IN_FLIGHT` at a time. With `until_idle` it returns once nothing is due
/// and nothing is in flight; otherwise it runs until an error.
async fn pump(state: &AppState, until_idle: bool) -> anyhow::Result<Drained> {
    let system = System::acting();
    let mut done = Drained::default();
    // Each send is its own task: it holds a database connection while it settles, and must
    // not wait for this loop to poll it while the loop itself waits for a connection.
    let mut in_flight = tokio::task::JoinSet::new();
    let mut leases_checked: Option<Instant> = None;
    let mut last_claim: Option<Instant> = None;
    let mut senders = Senders::default();
    let mut senders_since = Instant::now();
    let mut senders_generation = state.providers_changed.load(std::sync::atomic::Ordering::Relaxed);
    loop {
        // A lease lasts minutes: looking for expired ones once a second is plenty.
        if leases_checked.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            outbox::expire_leases(state, &system).await?;
            leases_checked = Some(Instant::now());
        }
        // Providers are read again when one was changed (or after a while, for another
        // process's change), so a new setting applies to what is sent next.
        let generation = state.providers_changed.load(std::sync::atomic::Ordering::Relaxed);
        if senders_since.elapsed() >= SENDERS_FOR || generation != senders_generation {
            senders = Senders::default();
            senders_since = Instant::now();
            senders_generation = generation;
        }
        let room = IN_FLIGHT - in_flight.len();
        // Claims come a batch at a time while sends finish quickly (one statement for many
        // rows), and top up the last free slots soon after when they do not (a slow provider).
        let batch_due = room >= REFILL || last_claim.is_none_or(|t| t.elapsed() >= TOP_UP_AFTER);
        if room > 0 && batch_due {
            last_claim = Some(Instant::now());
            for row in outbox::claim(state, room).await? {
                let sender = senders.get(state, &system, &row).await;
                in_flight.spawn(outbox::deliver(state.clone(), row, sender));
            }
        }
        if in_flight.is_empty() {
            if until_idle {
                return Ok(done);
            }
            let wait = outbox::until_next_due(state).await.unwrap_or(Duration::from_secs(30));
            tokio::select! {
                _ = state.outbox.notified() => {}
                _ = tokio::time::sleep(wait.min(Duration::from_secs(30))) => {}
            }
            continue;
        }
        tokio::select! {
            Some(joined) = in_flight.join_next() => match joined {
                Ok(Ok(settled)) => done.count(settled),
                // Its row stays leased and becomes `unknown` when the lease runs out: the
                // send may have happened before recording it failed.
                Ok(Err(e)) => tracing::error!(error = %crate::telemetry::chain(&e), "recording a send failed"),
                Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), "a send stopped unexpectedly"),
            },
            // Claim what was queued meanwhile, while slow sends are still out.
            _ = state.outbox.notified(), if !until_idle => {}
            _ = tokio::time::sleep(TOP_UP_AFTER) => {}
        }
    }
}
