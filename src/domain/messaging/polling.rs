//! Statuses without a way in (SPEC §8.5): what the webhooks would have pushed, asked for —
//! Mailgun's Events API, Twilio's Messages list (texts received) and resource (the status of
//! each text sent and not yet final) — and applied exactly as the webhooks apply it. Each
//! event keeps the key its webhook has, so whichever path brings it first, it is applied once.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::inbound::{self, InboundText};
use super::{Channel, providers};
use crate::error::AppResult;
use crate::model::access::WorkspaceAccess;
use crate::providers::email::{EmailProvider, mailgun, mailgun_events};
use crate::providers::sms::{SmsProvider, twilio, twilio_messages};
use crate::state::AppState;
use crate::storage;

/// Mailgun may list an event some minutes after it happened: each poll looks again this far
/// behind the newest event it saw (events already applied are skipped by their id).
const MAILGUN_LOOK_BACK: SignedDuration = SignedDuration::from_mins(30);
/// Mailgun keeps events at least this long: the first poll starts here.
const MAILGUN_KEEPS: SignedDuration = SignedDuration::from_hours(72);
/// Texts sent within this long are asked about until their status is final.
const TEXT_STATUS_FOR: SignedDuration = SignedDuration::from_hours(24 * 7);
/// At most this many sent texts are asked about per workspace and run.
const TEXT_STATUS_BATCH: i64 = 200;
/// Pages followed at most in one run, so a provider answering with endless pages cannot hold
/// the job.
const MAX_PAGES: usize = 1000;

/// What one run did in one workspace.
#[derive(Debug, Default, Clone)]
pub struct Polled {
    /// Events and texts read from the providers.
    pub read: usize,
    /// Those that changed something (the rest were known already).
    pub applied: usize,
    /// What could not be read, in words.
    pub errors: Vec<String>,
}

impl Polled {
    fn add(&mut self, other: Polled) {
        self.read += other.read;
        self.applied += other.applied;
        self.errors.extend(other.errors);
    }
}

/// Polls the workspace's Mailgun and Twilio: now, or — as a safety net behind webhooks that
/// reach pi-crm — each provider only when it was last polled at least `every` ago.
pub async fn poll(state: &AppState, ws: &WorkspaceAccess, every: Option<SignedDuration>) -> AppResult<Polled> {
    let mut done = Polled::default();
    let now = state.clock.now();
    if let Some(mailer) = providers::mailer(state, ws).await?
        && let EmailProvider::Mailgun(settings) = &mailer.provider
    {
        let cursor = storage::provider_events::cursor(&state.db, ws, "mailgun").await?;
        if due(cursor.as_ref(), now, every) {
            done.add(poll_mailgun(state, ws, settings, cursor, now).await?);
        }
    }
    if let Some(texter) = providers::texter(state, ws).await? {
        let SmsProvider::Twilio(settings) = &texter.provider;
        let cursor = storage::provider_events::cursor(&state.db, ws, "twilio").await?;
        if due(cursor.as_ref(), now, every) {
            done.add(poll_twilio(state, ws, settings, cursor, now).await?);
        }
    }
    Ok(done)
}

/// Whether a provider last polled as `cursor` says is due: always without `every`.
fn due(cursor: Option<&(String, String)>, now: Timestamp, every: Option<SignedDuration>) -> bool {
    let Some(every) = every else {
        return true;
    };
    match cursor.and_then(|(_, at)| crate::clock::parse(at)) {
        Some(at) => now.duration_since(at) >= every - SignedDuration::from_secs(5),
        None => true,
    }
}

/// Where a provider's polling left off (`position`) and when (`updated_at`).
type Cursor = Option<(String, String)>;

async fn poll_mailgun(
    state: &AppState,
    ws: &WorkspaceAccess,
    s: &mailgun::Settings,
    cursor: Cursor,
    now: Timestamp,
) -> AppResult<Polled> {
    let mut done = Polled::default();
    let newest_seen: Option<f64> = cursor.as_ref().and_then(|(p, _)| p.parse().ok());
    let start = match newest_seen {
        Some(t) => t - MAILGUN_LOOK_BACK.as_secs_f64(),
        None => (now - MAILGUN_KEEPS).as_second() as f64,
    };
    let mut newest = newest_seen.unwrap_or(start);
    let mut url = mailgun_events::first_page(s, start);
    for _ in 0..MAX_PAGES {
        let page = match mailgun_events::page(s, &state.http, &url).await {
            Ok(p) => p,
            Err(e) => {
                done.errors.push(e);
                break;
            }
        };
        if page.items.is_empty() {
            break;
        }
        // A page is applied in one transaction, with the cursor: a crash repeats at most a
        // page, whose events are then skipped by their ids.
        let mut tx = storage::db::begin_write(&state.db).await?;
        for item in &page.items {
            done.read += 1;
            if let Some(t) = item.get("timestamp").and_then(Value::as_f64) {
                newest = newest.max(t);
            }
            let Some(key) = inbound::mailgun_event_key(item) else {
                continue;
            };
            let recipient = item
                .get("recipient")
                .and_then(Value::as_str)
                .and_then(|r| Channel::Email.normalise(r, "", "recipient").ok());
            let event = inbound::mailgun_status(&key, None, item, recipient);
            if inbound::apply_status_in(&mut tx, ws, &event).await? {
                done.applied += 1;
            }
        }
        let position = format!("{newest:.6}");
        storage::provider_events::set_cursor(&mut tx, ws, "mailgun", &position, &crate::clock::format(now)).await?;
        tx.commit().await?;
        match page.next {
            Some(next) => url = next,
            None => break,
        }
    }
    if done.read == 0 && done.errors.is_empty() {
        mark_polled(
            state,
            ws,
            "mailgun",
            cursor.map(|(p, _)| p).unwrap_or(format!("{newest:.6}")),
            now,
        )
        .await?;
    }
    Ok(done)
}

async fn poll_twilio(
    state: &AppState,
    ws: &WorkspaceAccess,
    s: &twilio::Settings,
    cursor: Cursor,
    now: Timestamp,
) -> AppResult<Polled> {
    let mut done = Polled::default();
    let region = &state.config.default_phone_region;
    let sender = s.sender(region);
    // Texts received: from the day before the last poll (Twilio filters by UTC date), or the
    // last two days at first.
    let from_day = cursor
        .as_ref()
        .and_then(|(p, _)| p.parse::<jiff::civil::Date>().ok())
        .unwrap_or_else(|| utc_date(now - SignedDuration::from_hours(24)));
    let since = from_day
        .checked_sub(jiff::Span::new().days(1))
        .unwrap_or(from_day)
        .to_string();
    let to = (!sender.starts_with("MG")).then_some(sender.as_str());
    let mut url = twilio_messages::first_inbound_page(s, to, &since);
    let mut complete = true;
    for _ in 0..MAX_PAGES {
        let page = match twilio_messages::page(s, &state.http, &url).await {
            Ok(p) => p,
            Err(e) => {
                done.errors.push(e);
                complete = false;
                break;
            }
        };
        for m in &page.messages {
            if m.get("direction").and_then(Value::as_str) != Some("inbound") {
                continue;
            }
            let field = |name: &str| m.get(name).and_then(Value::as_str).unwrap_or_default();
            if field("sid").is_empty() || field("from").is_empty() {
                continue;
            }
            done.read += 1;
            // The list gives only a count of an MMS's pictures; their list is a request of its
            // own. If it fails, the text still arrives, and the failure is said.
            let mut media = Vec::new();
            if field("num_media").parse::<usize>().unwrap_or(0) > 0 {
                match twilio_messages::media(s, &state.http, field("sid")).await {
                    Ok(found) => {
                        media = found
                            .into_iter()
                            .take(inbound::MAX_MEDIA)
                            .map(|(url, kind)| inbound::Media::of(url, &kind))
                            .collect()
                    }
                    Err(e) => done.errors.push(e),
                }
            }
            let text = InboundText {
                sid: field("sid"),
                from: field("from"),
                to: field("to"),
                body: field("body"),
                media,
            };
            if inbound::receive_text(&state.db, region, ws, text).await? {
                done.applied += 1;
            }
        }
        match page.next {
            Some(next) => url = next,
            None => break,
        }
    }
    // Texts sent: each one not final yet, asked about by its id.
    let since = crate::clock::format(now - TEXT_STATUS_FOR);
    for (sid, outbox_id) in
        storage::provider_events::texts_awaiting_status(&state.db, ws, &since, TEXT_STATUS_BATCH).await?
    {
        let message = match twilio_messages::message(s, &state.http, &sid).await {
            Ok(m) => m,
            Err(e) => {
                done.errors.push(e);
                continue;
            }
        };
        done.read += 1;
        let reported = message.get("status").and_then(Value::as_str).unwrap_or_default();
        let error_code = message.get("error_code").map(|c| match c {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        });
        let key = inbound::twilio_status_key(&sid, reported);
        let to = message.get("to").and_then(Value::as_str);
        let event = inbound::twilio_status(&key, &sid, reported, error_code.as_deref(), to, Some(&outbox_id));
        if event.status.is_some() && inbound::apply_status(&state.db, ws, event).await? {
            done.applied += 1;
        }
    }
    if complete {
        mark_polled(state, ws, "twilio", utc_date(now).to_string(), now).await?;
    }
    Ok(done)
}

async fn mark_polled(
    state: &AppState,
    ws: &WorkspaceAccess,
    provider: &str,
    position: String,
    now: Timestamp,
) -> AppResult<()> {
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::provider_events::set_cursor(&mut tx, ws, provider, &position, &crate::clock::format(now)).await?;
    tx.commit().await?;
    Ok(())
}

fn utc_date(at: Timestamp) -> jiff::civil::Date {
    at.to_zoned(jiff::tz::TimeZone::UTC).date()
}
