//! The outbox's rules (SPEC §8.2): every email and text pi-crm sends is a row here, written in
//! the transaction of what caused it, and moved on only by the transitions below:
//!
//! ```text
//!   pending ──claim──▶ sending ──settle──▶ sent | failed | unknown
//!      ▲                  │  └─(a retry, a hold)─▶ pending
//!      │                  └─(its lease ran out: the process died mid-send)─▶ unknown
//!   send again (a person's decision) writes a new row; a later delivery event may prove an
//!   unknown row `sent` (`confirm_sent`).
//! ```
//!
//! A row is settled by what the provider's answer proves: `sent`; back to `pending` when
//! nothing went out; `failed` on a refusal; `unknown` — never retried by itself — when it may
//! have gone. So nothing is sent twice and nothing is lost. A `Leased` row can only be had from
//! `claim`, and only a `Leased` row can be settled or given back. The pump that runs this is
//! `jobs::outbox`.

use std::time::Duration;

use sqlx::SqliteConnection;

use super::send::Stored;
use super::senders::Sender;
use super::suppression;
use super::{Channel, MessageStatus};
use crate::domain::campaign;
use crate::domain::ids::{OutboxId, WorkspaceId};
use crate::domain::workspace::{self, System, WorkspaceAccess};
use crate::error::AppResult;
use crate::providers::{Email, EmailSender, Outcome, SmsSender, Text};
use crate::state::AppState;
use crate::storage;
use crate::storage::outbox::Claimed;

/// Tries of a message refused before anything was sent, before it is `failed`.
const MAX_ATTEMPTS: i64 = 8;
const BACKOFF_CAP: Duration = Duration::from_secs(3600);
/// What a row whose lease ran out says: its process stopped mid-send.
const LAPSED: &str = "pi-crm stopped while sending it; it may have been sent";

/// Where a row is in its life, as the `state` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Sending,
    Sent,
    Failed,
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        [
            State::Pending,
            State::Sending,
            State::Sent,
            State::Failed,
            State::Unknown,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What a row is for, as the `purpose` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A contact's email or text, with its timeline entry.
    Message,
    /// A reviewer's link to a submitted campaign, with its approval row.
    Review,
    /// A person's weekly summary.
    Summary,
    /// About a person's account: a password reset link.
    Account,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Message => "message",
            Purpose::Review => "review",
            Purpose::Summary => "summary",
            Purpose::Account => "account",
        }
    }

    fn stored(text: &str) -> Purpose {
        match text {
            "review" => Purpose::Review,
            "summary" => Purpose::Summary,
            "account" => Purpose::Account,
            _ => Purpose::Message,
        }
    }
}

/// An email that is not a contact's message (a review link, a weekly summary): queued in the
/// caller's transaction with the row it belongs to, so the two commit together.
pub struct Notice<'a> {
    pub to: &'a str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues `notice` to go through `ws`'s email provider; gives the outbox row's id.
pub async fn queue_notice(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    purpose: Purpose,
    approval_id: Option<&str>,
    notice: Notice<'_>,
    at: &str,
) -> AppResult<OutboxId> {
    let message = Stored {
        subject: notice.subject,
        text: notice.text,
        html: Some(notice.html),
        headers: Vec::new(),
        template_id: None,
        to_name: None,
    };
    let id = OutboxId::generate();
    storage::outbox::insert(
        conn,
        ws,
        &storage::outbox::NewRow {
            id: id.as_str(),
            purpose: purpose.as_str(),
            communication_id: None,
            approval_id,
            channel: Channel::Email.as_str(),
            recipient: notice.to,
            message: &serde_json::to_string(&message).map_err(anyhow::Error::from)?,
            now: at,
            campaign_id: None,
        },
    )
    .await?;
    Ok(id)
}

/// Queues a contact's message (`message`: what the provider is given, as JSON) for timeline
/// entry `entry`, in the caller's transaction: a first send, or a person's "send again".
#[allow(clippy::too_many_arguments)]
pub(super) async fn queue_message(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    entry: &str,
    channel: &str,
    recipient: &str,
    message: &str,
    at: &str,
    campaign: Option<&str>,
) -> AppResult<OutboxId> {
    let id = OutboxId::generate();
    storage::outbox::insert(
        conn,
        ws,
        &storage::outbox::NewRow {
            id: id.as_str(),
            purpose: Purpose::Message.as_str(),
            communication_id: Some(entry),
            approval_id: None,
            channel,
            recipient,
            message,
            now: at,
            campaign_id: campaign,
        },
    )
    .await?;
    Ok(id)
}

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    pub failed: usize,
    pub unknown: usize,
    pub later: usize,
}

impl Drained {
    pub fn count(&mut self, settled: Settled) {
        match settled {
            Settled::Sent => self.sent += 1,
            Settled::Failed => self.failed += 1,
            Settled::Unknown => self.unknown += 1,
            Settled::Later => self.later += 1,
        }
    }
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

/// How a leased row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Sent,
    Failed,
    Unknown,
    /// Back to `pending` for later: a retry, quiet hours, a rate limit.
    Later,
}

/// A row this process holds: made only by `claim`, ended only by `deliver` (which settles it
/// or gives it back). Its workspace and provider were looked up before it was claimed.
pub struct Leased {
    pub(super) row: Claimed,
    purpose: Purpose,
    pub(super) channel: Channel,
}

/// Claims up to `room` due rows in one statement (`pending` → `sending`, leased for the
/// configured lease), oldest first.
pub async fn claim(state: &AppState, room: usize) -> AppResult<Vec<Leased>> {
    let now = state.clock.now();
    let lease = jiff::SignedDuration::from_secs(state.config.outbox_lease_seconds as i64);
    let rows = storage::outbox::claim(
        &state.db,
        &crate::clock::format(now),
        &crate::clock::format(now + lease),
        room as i64,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Leased {
            purpose: Purpose::stored(&row.purpose),
            channel: Channel::stored(&row.channel),
            row,
        })
        .collect())
}

/// Rows a dead process held (`sending` past their lease) become `unknown`, with what they were
/// for. Every workspace's access is resolved before the write lock is taken: a transaction
/// never waits for a second connection, which the sends in flight may all be holding.
pub async fn expire_leases(state: &AppState, system: &System) -> AppResult<usize> {
    let now = state.clock.now_text();
    let lapsed_in = storage::outbox::workspaces_with_lapsed_leases(&state.db, &now).await?;
    if lapsed_in.is_empty() {
        return Ok(0);
    }
    let mut workspaces = Vec::new();
    for id in lapsed_in.iter().filter_map(|id| WorkspaceId::parse(id)) {
        if let Some((ws, _)) = workspace::for_system(system, &state.db, &id).await? {
            workspaces.push(ws);
        }
    }
    let mut expired = 0;
    let mut tx = storage::db::begin_write(&state.db).await?;
    for ws in &workspaces {
        for row in storage::outbox::expire_leases(&mut tx, ws, &now, LAPSED).await? {
            let purpose = Purpose::stored(&row.purpose);
            follow(
                &mut tx,
                ws,
                purpose,
                row.communication_id.as_deref(),
                &row.id,
                Ended::Unknown(LAPSED),
            )
            .await?;
            if let Some(campaign) = &row.campaign_id {
                storage::campaigns::finish_if_done(&mut tx, ws, campaign).await?;
            }
            expired += 1;
        }
    }
    tx.commit().await?;
    if expired > 0 {
        tracing::warn!(
            count = expired,
            "messages whose send was interrupted are marked unknown"
        );
    }
    Ok(expired)
}

/// Sends one leased row through `sender` and settles it by the answer. Everything it needs
/// besides its own transaction was looked up before.
pub async fn deliver(
    state: AppState,
    row: Leased,
    (ws, sender): (Option<WorkspaceAccess>, Sender),
) -> anyhow::Result<Settled> {
    let state = &state;
    let Some(ws) = ws else {
        // The workspace was deleted with its rows; nothing is left to settle.
        return Ok(Settled::Failed);
    };
    let message: Stored = serde_json::from_str(&row.row.message)?;
    let per_minute = match &sender {
        Sender::Email(m) => m.provider.per_minute(),
        Sender::Text(t) => t.provider.per_minute(),
        Sender::Missing(_) => 0,
    };
    // Marketing texts keep the workspace's quiet hours and daily limit: they wait, unspent.
    if row.row.campaign_id.is_some() && row.channel == Channel::Text {
        let now = state.clock.now();
        if let Some((until, why)) = campaign::texts::text_hold(state, &ws, &row.row.id, now).await? {
            let at = crate::schedule::stored_text(until);
            return give_back(state, row, &at, Some(&why)).await;
        }
    }
    if let Err(wait) = state.send_rates.take(&row.row.workspace_id, row.channel, per_minute) {
        let at = crate::clock::format(state.clock.now() + wait + Duration::from_secs(1));
        return give_back(state, row, &at, None).await;
    }
    let outcome = match &sender {
        Sender::Missing(why) => Outcome::failed(why.clone()),
        Sender::Email(mailer) => {
            let email = Email {
                to_name: message.to_name,
                subject: message.subject,
                text: message.text,
                html: message.html,
                headers: message.headers,
                ..mailer.provider.email(row.row.recipient.clone(), row.row.id.clone())
            };
            mailer.send(&email).await
        }
        Sender::Text(texter) => {
            let text = Text {
                from: texter.provider.sender(&state.config.default_phone_region),
                to: row.row.recipient.clone(),
                body: message.text,
                status_callback: state.config.public_url.as_deref().map(|base| {
                    format!(
                        "{}/webhooks/twilio/{}/status?outbox={}",
                        base.trim_end_matches('/'),
                        ws.id(),
                        row.row.id
                    )
                }),
            };
            texter.send(&text).await
        }
    };
    settle(state, &ws, row, outcome).await
}

/// `sending` → `pending` without spending an attempt: nothing was tried (quiet hours, the
/// daily text limit, the provider's rate).
async fn give_back(state: &AppState, row: Leased, at: &str, why: Option<&str>) -> anyhow::Result<Settled> {
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::outbox::requeue(&mut tx, &row.row.id, at, why, false).await?;
    tx.commit().await?;
    Ok(Settled::Later)
}

/// How a row ended, for what it was for.
enum Ended<'a> {
    Sent(Option<&'a str>),
    Failed(&'a str),
    Unknown(&'a str),
}

/// `sending` → `sent` | `pending` (a retry) | `failed` | `unknown`, by what the provider's answer
/// proved, in one transaction with what the row was for (its timeline entry, its summary).
async fn settle(state: &AppState, ws: &WorkspaceAccess, row: Leased, outcome: Outcome) -> anyhow::Result<Settled> {
    let now = state.clock.now_text();
    let r = &row.row;
    let mut tx = storage::db::begin_write(&state.db).await?;
    let gave_up;
    let ended = match &outcome {
        Outcome::Sent { provider_id } => Ended::Sent(provider_id.as_deref()),
        Outcome::Retry { reason, after } if r.attempts < MAX_ATTEMPTS => {
            let wait = after.unwrap_or_default().max(backoff(state, r.attempts));
            let at = crate::clock::format(state.clock.now() + wait);
            tracing::info!(outbox = %r.id, attempts = r.attempts, reason = %reason, "a send will be tried again");
            storage::outbox::requeue(&mut tx, &r.id, &at, Some(reason), true).await?;
            tx.commit().await?;
            return Ok(Settled::Later);
        }
        Outcome::Retry { reason, .. } => {
            gave_up = format!("gave up after {MAX_ATTEMPTS} tries: {reason}");
            Ended::Failed(&gave_up)
        }
        Outcome::Failed { reason, .. } => Ended::Failed(reason),
        Outcome::Unknown { reason } => Ended::Unknown(reason),
    };
    let (to, settled, provider_id, error) = match &ended {
        Ended::Sent(pid) => (State::Sent, Settled::Sent, *pid, None),
        Ended::Failed(why) => (State::Failed, Settled::Failed, None, Some(*why)),
        Ended::Unknown(why) => (State::Unknown, Settled::Unknown, None, Some(*why)),
    };
    // A row whose lease ran out meanwhile was settled `unknown` already; an answer that proves
    // it went makes it `sent` after all, as a delivery report would.
    if !storage::outbox::settle(&mut tx, &r.id, to.as_str(), provider_id, error, &now).await? && to == State::Sent {
        storage::outbox::confirm_sent(&mut tx, &r.id, provider_id).await?;
    }
    follow(&mut tx, ws, row.purpose, r.communication_id.as_deref(), &r.id, ended).await?;
    if let Outcome::Failed { suppress: true, .. } = &outcome {
        let reason = if row.channel == Channel::Text {
            "stop"
        } else {
            "bounced"
        };
        suppression::suppress(&mut tx, ws, row.channel, &r.recipient, reason).await?;
    }
    if let Some(campaign) = &r.campaign_id {
        storage::campaigns::finish_if_done(&mut tx, ws, campaign).await?;
    }
    tx.commit().await?;
    Ok(settled)
}

/// What a row's end means for what it was for: a message's timeline entry takes the status
/// (and the provider's id, or the error); a weekly summary is `sent` or `failed`; a review
/// link's approval shows its row's state as it is.
async fn follow(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    purpose: Purpose,
    communication: Option<&str>,
    outbox_id: &str,
    ended: Ended<'_>,
) -> anyhow::Result<()> {
    match (purpose, communication) {
        (Purpose::Message, Some(entry)) => {
            let (status, key, value) = match ended {
                Ended::Sent(pid) => (MessageStatus::Sent, "provider_message_id", pid),
                Ended::Failed(why) => (MessageStatus::Failed, "error", Some(why)),
                Ended::Unknown(why) => (MessageStatus::Unknown, "error", Some(why)),
            };
            super::status::advance(conn, ws, entry, status).await?;
            if value.is_some() {
                storage::comms::set_content_key(conn, ws, entry, key, value).await?;
            }
        }
        (Purpose::Summary, _) => {
            let (state, detail) = match ended {
                Ended::Sent(_) => ("sent", None),
                Ended::Failed(why) | Ended::Unknown(why) => ("failed", Some(why)),
            };
            storage::weekly::settle(conn, outbox_id, state, detail).await?;
        }
        (Purpose::Review | Purpose::Account, _) | (Purpose::Message, None) => {}
    }
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

/// When the pump next has something to do: a pending row falls due, or a lease runs out.
pub async fn until_next_due(state: &AppState) -> Option<Duration> {
    let next = storage::outbox::next_wake(&state.db).await.ok()??;
    let at = crate::clock::parse(&next)?;
    let wait = at.duration_since(state.clock.now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO) + Duration::from_millis(200))
}

/// Webhook deliveries are remembered a week: providers stop retrying within a day or two, and
/// a repeat after that changes nothing anyway (statuses only move forward).
pub async fn forget_old_webhook_events(state: &AppState) -> anyhow::Result<()> {
    let before = crate::clock::format(state.clock.now() - jiff::SignedDuration::from_hours(24 * 7));
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::webhook_events::forget_before(&mut tx, &before).await?;
    tx.commit().await?;
    Ok(())
}
