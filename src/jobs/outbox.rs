//! The outbox worker (SPEC §8.2). Claims due rows with one `UPDATE … RETURNING` and a lease,
//! sends each through its workspace's provider, and settles it by what the provider's answer
//! proves: `sent`; retried later when nothing went out; `failed` on a refusal; `unknown` —
//! never retried by itself — when it may have gone. A row whose lease ran out (the process
//! died mid-send) is `unknown` too. So nothing is sent twice and nothing is lost.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::campaign;
use crate::domain::messages::Stored;
use crate::domain::suppression::{self, Via};
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::providers::email::Mailer;
use crate::providers::sms::Texter;
use crate::providers::{Email, EmailSender, Outcome, SmsSender, Text};
use crate::state::AppState;
use crate::storage;
use crate::storage::outbox::Claimed;

/// Sends in flight at once. Rows are claimed only into free slots, so no row sits leased while
/// it waits its turn (a crash would make it `unknown` though it never went out).
const IN_FLIGHT: usize = 16;
/// Free slots worth a claim of their own while others are still out.
const REFILL: usize = IN_FLIGHT / 2;
/// Fewer free slots are filled this long after the last claim.
const TOP_UP_AFTER: Duration = Duration::from_millis(100);
/// How long a workspace's provider settings are reused before being read again.
const SENDERS_FOR: Duration = Duration::from_secs(30);
/// Tries of a message refused before anything was sent, before it is `failed`.
const MAX_ATTEMPTS: i64 = 8;
const BACKOFF_CAP: Duration = Duration::from_secs(3600);

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    pub failed: usize,
    pub unknown: usize,
    pub later: usize,
}

impl std::fmt::Display for Drained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} sent, {} failed, {} may not have been sent, {} waiting to be tried again",
            self.sent, self.failed, self.unknown, self.later
        )
    }
}

/// Sends per minute per workspace provider, kept by this process.
#[derive(Default)]
pub struct Rates(Mutex<HashMap<(String, &'static str), VecDeque<Instant>>>);

impl Rates {
    /// Takes a slot in the last minute's window, or says when one frees up.
    fn take(&self, ws: &str, channel: &'static str, per_minute: u32) -> Result<(), Duration> {
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

async fn until_next_due(state: &AppState) -> Option<Duration> {
    let next = storage::outbox::next_wake(&state.db).await.ok()??;
    let at = crate::clock::parse(&next)?;
    let wait = at - crate::clock::now();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO) + Duration::from_millis(200))
}

/// Sends everything due now and returns what became of it (`pi-crm jobs run outbox`, tests).
pub async fn drain(state: &AppState) -> anyhow::Result<Drained> {
    pump(state, true).await
}

/// Claims and sends, `IN_FLIGHT` at a time. With `until_idle` it returns once nothing is due
/// and nothing is in flight; otherwise it runs until an error.
async fn pump(state: &AppState, until_idle: bool) -> anyhow::Result<Drained> {
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
        // A lease lasts minutes: looking for expired ones once a second is plenty, and each
        // look takes the write lock.
        if leases_checked.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            expire_leases(state).await?;
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
            let now = crate::clock::now();
            let lease = time::Duration::seconds(state.config.outbox_lease_seconds as i64);
            let claimed = storage::outbox::claim(
                &state.db,
                &crate::clock::format(now),
                &crate::clock::format(now + lease),
                room as i64,
            )
            .await?;
            for row in claimed {
                let sender = senders.get(state, &row).await;
                in_flight.spawn(deliver(state.clone(), row, sender));
            }
        }
        if in_flight.is_empty() {
            if until_idle {
                return Ok(done);
            }
            let wait = until_next_due(state).await.unwrap_or(Duration::from_secs(30));
            tokio::select! {
                _ = state.outbox.notified() => {}
                _ = tokio::time::sleep(wait.min(Duration::from_secs(30))) => {}
            }
            continue;
        }
        tokio::select! {
            Some(joined) = in_flight.join_next() => match joined {
                Ok(Ok(Settled::Sent)) => done.sent += 1,
                Ok(Ok(Settled::Failed)) => done.failed += 1,
                Ok(Ok(Settled::Unknown)) => done.unknown += 1,
                Ok(Ok(Settled::Later)) => done.later += 1,
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

/// Rows a dead process held become `unknown`, with their timeline entries.
async fn expire_leases(state: &AppState) -> anyhow::Result<()> {
    if !storage::outbox::any_lease_expired(&state.db, &crate::clock::now_text()).await? {
        return Ok(());
    }
    let mut tx = storage::db::begin_write(&state.db).await?;
    let expired = storage::outbox::expire_leases(&mut tx, &crate::clock::now_text()).await?;
    let mut access = HashMap::new();
    for (ws_id, communication) in &expired {
        if let Some(ws) = system_access(state, &mut access, ws_id).await? {
            storage::comms::advance_status(&mut tx, &ws, communication, "unknown").await?;
            storage::comms::set_content_key(
                &mut tx,
                &ws,
                communication,
                "error",
                Some("pi-crm stopped while sending it; it may have been sent"),
            )
            .await?;
        }
    }
    tx.commit().await?;
    if !expired.is_empty() {
        tracing::warn!(
            count = expired.len(),
            "messages whose send was interrupted are marked unknown"
        );
    }
    Ok(())
}

async fn system_access(
    state: &AppState,
    cache: &mut HashMap<String, Option<WorkspaceAccess>>,
    ws_id: &str,
) -> anyhow::Result<Option<WorkspaceAccess>> {
    if let Some(found) = cache.get(ws_id) {
        return Ok(found.clone());
    }
    let found = match crate::domain::ids::WorkspaceId::parse(ws_id) {
        Some(id) => workspace::for_system(&state.db, &id).await?.map(|(ws, _)| ws),
        None => None,
    };
    cache.insert(ws_id.to_string(), found.clone());
    Ok(found)
}

/// A workspace's provider for one channel, looked up once per drain.
#[derive(Clone)]
enum Sender {
    Email(std::sync::Arc<Mailer>),
    Text(std::sync::Arc<Texter>),
    /// Why nothing can send it (no provider any more, secrets that do not open).
    Missing(String),
}

#[derive(Default)]
struct Senders {
    access: HashMap<String, Option<WorkspaceAccess>>,
    found: HashMap<(String, String), (Option<WorkspaceAccess>, Sender)>,
}

impl Senders {
    async fn get(&mut self, state: &AppState, row: &Claimed) -> (Option<WorkspaceAccess>, Sender) {
        let key = (row.workspace_id.clone(), row.channel.clone());
        if let Some(found) = self.found.get(&key) {
            return found.clone();
        }
        let ws = system_access(state, &mut self.access, &row.workspace_id)
            .await
            .ok()
            .flatten();
        let sender = match &ws {
            None => Sender::Missing("the workspace is gone".into()),
            Some(ws) if row.channel == "email" => match crate::domain::providers::mailer(state, ws).await {
                Ok(Some(m)) => Sender::Email(std::sync::Arc::new(m)),
                Ok(None) => Sender::Missing("the workspace has no email provider any more".into()),
                Err(e) => Sender::Missing(e.public_message()),
            },
            Some(ws) => match crate::domain::providers::texter(state, ws).await {
                Ok(Some(t)) => Sender::Text(std::sync::Arc::new(t)),
                Ok(None) => Sender::Missing("the workspace has no text provider any more".into()),
                Err(e) => Sender::Missing(e.public_message()),
            },
        };
        self.found.insert(key, (ws.clone(), sender.clone()));
        (ws, sender)
    }
}

enum Settled {
    Sent,
    Failed,
    Unknown,
    Later,
}

async fn deliver(
    state: AppState,
    row: Claimed,
    (ws, sender): (Option<WorkspaceAccess>, Sender),
) -> anyhow::Result<Settled> {
    let state = &state;
    let Some(ws) = ws else {
        // The workspace was deleted with its rows; nothing is left to settle.
        return Ok(Settled::Failed);
    };
    let message: Stored = serde_json::from_str(&row.message)?;
    let per_minute = match &sender {
        Sender::Email(m) => m.provider.per_minute(),
        Sender::Text(t) => t.provider.per_minute(),
        Sender::Missing(_) => 0,
    };
    let channel = Via::of_outbox(&row.channel).as_str();
    // Marketing texts keep the workspace's quiet hours and daily limit: they wait, unspent.
    if row.campaign_id.is_some() && Via::of_outbox(&row.channel) == Via::Text {
        let now = crate::schedule::to_timestamp(crate::clock::now());
        if let Some((until, why)) = campaign::texts::text_hold(state, &ws, &row.id, now).await? {
            let at = crate::schedule::stored_text(until);
            let mut tx = storage::db::begin_write(&state.db).await?;
            storage::outbox::requeue(&mut tx, &row.id, &at, Some(&why), false).await?;
            tx.commit().await?;
            return Ok(Settled::Later);
        }
    }
    if let Err(wait) = state.send_rates.take(&row.workspace_id, channel, per_minute) {
        let at = crate::clock::format(crate::clock::now() + wait + Duration::from_secs(1));
        let mut tx = storage::db::begin_write(&state.db).await?;
        storage::outbox::requeue(&mut tx, &row.id, &at, None, false).await?;
        tx.commit().await?;
        return Ok(Settled::Later);
    }
    let outcome = match &sender {
        Sender::Missing(why) => Outcome::failed(why.clone()),
        Sender::Email(mailer) => {
            let email = Email {
                from: mailer.provider.from().to_string(),
                to: row.recipient.clone(),
                subject: message.subject,
                text: message.text,
                html: message.html,
                headers: message.headers,
                outbox_id: row.id.clone(),
            };
            mailer.send(&email).await
        }
        Sender::Text(texter) => {
            let text = Text {
                from: texter.provider.sender(&state.config.default_phone_region),
                to: row.recipient.clone(),
                body: message.text,
                status_callback: state.config.public_url.as_deref().map(|base| {
                    format!(
                        "{}/webhooks/twilio/{}/status?outbox={}",
                        base.trim_end_matches('/'),
                        ws.id(),
                        row.id
                    )
                }),
            };
            texter.send(&text).await
        }
    };
    settle(state, &ws, &row, outcome).await
}

/// Records what the provider's answer proved, in one transaction with the timeline entry.
async fn settle(state: &AppState, ws: &WorkspaceAccess, row: &Claimed, outcome: Outcome) -> anyhow::Result<Settled> {
    let now = crate::clock::now_text();
    let mut tx = storage::db::begin_write(&state.db).await?;
    let settled = match outcome {
        Outcome::Sent { provider_id } => {
            storage::outbox::settle(&mut tx, &row.id, "sent", provider_id.as_deref(), None, &now).await?;
            storage::comms::advance_status(&mut tx, ws, &row.communication_id, "sent").await?;
            if let Some(pid) = &provider_id {
                storage::comms::set_content_key(&mut tx, ws, &row.communication_id, "provider_message_id", Some(pid))
                    .await?;
            }
            Settled::Sent
        }
        Outcome::Retry { reason, after } if row.attempts < MAX_ATTEMPTS => {
            let wait = after.unwrap_or_default().max(backoff(state, row.attempts));
            let at = crate::clock::format(crate::clock::now() + wait);
            tracing::info!(outbox = %row.id, attempts = row.attempts, reason = %reason, "a send will be tried again");
            storage::outbox::requeue(&mut tx, &row.id, &at, Some(&reason), true).await?;
            Settled::Later
        }
        Outcome::Retry { reason, .. } => {
            let reason = format!("gave up after {MAX_ATTEMPTS} tries: {reason}");
            fail(&mut tx, ws, row, &reason, &now).await?;
            Settled::Failed
        }
        Outcome::Failed { reason, suppress } => {
            fail(&mut tx, ws, row, &reason, &now).await?;
            if suppress {
                let via = Via::of_outbox(&row.channel);
                let reason = if via == Via::Text { "stop" } else { "bounced" };
                suppression::suppress(&mut tx, ws, via, &row.recipient, reason).await?;
            }
            Settled::Failed
        }
        Outcome::Unknown { reason } => {
            storage::outbox::settle(&mut tx, &row.id, "unknown", None, Some(&reason), &now).await?;
            storage::comms::advance_status(&mut tx, ws, &row.communication_id, "unknown").await?;
            storage::comms::set_content_key(&mut tx, ws, &row.communication_id, "error", Some(&reason)).await?;
            Settled::Unknown
        }
    };
    if let Some(campaign) = &row.campaign_id {
        storage::campaigns::finish_if_done(&mut tx, ws, campaign).await?;
    }
    tx.commit().await?;
    Ok(settled)
}

async fn fail(
    tx: &mut sqlx::SqliteConnection,
    ws: &WorkspaceAccess,
    row: &Claimed,
    reason: &str,
    now: &str,
) -> anyhow::Result<()> {
    storage::outbox::settle(tx, &row.id, "failed", None, Some(reason), now).await?;
    storage::comms::advance_status(tx, ws, &row.communication_id, "failed").await?;
    storage::comms::set_content_key(tx, ws, &row.communication_id, "error", Some(reason)).await?;
    Ok(())
}

/// `base · 2^(attempt-1)`, capped at an hour, with ±20 % jitter so retries spread out.
fn backoff(state: &AppState, attempt: i64) -> Duration {
    let base = state.config.outbox_retry_base_seconds as f64;
    let exp = base * 2f64.powi((attempt - 1).clamp(0, 20) as i32);
    let capped = exp.min(BACKOFF_CAP.as_secs_f64());
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let jitter = 0.8 + 0.4 * (f64::from(byte[0]) / 255.0);
    Duration::from_secs_f64(capped * jitter)
}

/// Webhook deliveries are remembered a week: providers stop retrying within a day or two, and
/// a repeat after that changes nothing anyway (statuses only move forward).
pub async fn forget_old_webhook_events(state: &AppState) -> anyhow::Result<()> {
    let before = crate::clock::text_from_now(time::Duration::days(-7));
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::webhook_events::forget_before(&mut tx, &before).await?;
    tx.commit().await?;
    Ok(())
}
