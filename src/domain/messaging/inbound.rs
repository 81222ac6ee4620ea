//! What the providers tell pi-crm (SPEC §8.3), after the webhook's signature was checked:
//! inbound texts (onto every contact with that number, or the unknown-senders inbox), opt-out
//! and opt-in words, delivery statuses, bounces, complaints and unsubscribes. Every delivery is
//! applied once: a provider's retry changes nothing.

use serde_json::{Value, json};
use sqlx::SqlitePool;

use super::suppression;
use super::{Channel, MessageStatus};
use crate::domain::actor::{Actor, Scope};
use crate::domain::audit;
use crate::domain::comms::Communication;
use crate::domain::contact::{self, ContactInput};
use crate::domain::field::FieldType;
use crate::domain::ids::{CommunicationId, ContactId, InboxMessageId};
use crate::domain::page::{Page, PageRequest};
use crate::domain::phone::Phone;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::providers::sms::segments;
use crate::storage;
pub use crate::storage::inbox::InboxMessage;

/// Replies that opt a number out of every text (Twilio's Advanced Opt-Out list).
pub const OPT_OUT_WORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
/// Replies that opt it back in.
pub const OPT_IN_WORDS: &[&str] = &["START", "UNSTOP", "YES"];

/// An inbound text, as Twilio posts it.
pub struct InboundText<'a> {
    pub sid: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    /// An MMS's pictures and files: where Twilio keeps each, and its type.
    pub media: Vec<Media>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Media {
    pub url: String,
    pub content_type: String,
}

/// Twilio sends at most ten media with one message.
pub const MAX_MEDIA: usize = 10;

impl Media {
    /// A media link as a webhook gives it: an `https` address (anything else is not kept).
    pub fn parse(url: &str, content_type: &str) -> Option<Media> {
        let parsed = url::Url::parse(url.trim()).ok()?;
        (parsed.scheme() == "https" && parsed.host_str().is_some()).then(|| Media::of(parsed.to_string(), content_type))
    }

    /// A media link pi-crm made itself on the provider's configured address (polling).
    pub fn of(url: String, content_type: &str) -> Media {
        Media {
            url,
            content_type: content_type.trim().chars().take(100).collect(),
        }
    }
}

/// Takes a text received; false when it was known already (by Twilio's id).
pub async fn receive_text(
    db: &SqlitePool,
    region: &str,
    ws: &WorkspaceAccess,
    text: InboundText<'_>,
) -> AppResult<bool> {
    let now = crate::clock::now_text();
    // Twilio writes numbers in E.164; a short code or alphanumeric sender stays as it came.
    let from = Phone::parse(text.from, region, "From")
        .map(Phone::into_string)
        .unwrap_or_else(|_| text.from.trim().to_string());
    let fields = crate::domain::field_definition::applicable(db, ws).await?;
    let phone_fields: Vec<String> = fields
        .0
        .iter()
        .filter(|d| d.field_type == FieldType::Phone)
        .map(|d| d.field_name.clone())
        .collect();
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::webhook_events::first_time(&mut tx, ws, "twilio", &format!("sms:{}", text.sid), &now).await? {
        return Ok(false);
    }
    let word = text.body.trim().to_ascii_uppercase();
    if OPT_OUT_WORDS.contains(&word.as_str()) {
        suppression::suppress(&mut tx, ws, Channel::Text, &from, "stop").await?;
    } else if OPT_IN_WORDS.contains(&word.as_str()) {
        storage::suppressions::delete_stop(&mut tx, ws, &from).await?;
    }
    let contacts = storage::inbox::contacts_with_number(&mut tx, ws, &from, &phone_fields).await?;
    if contacts.is_empty() {
        // The inbox keeps text only: the links follow the words, so a picture is not lost.
        let links = text.media.iter().map(|m| m.url.as_str());
        let body = std::iter::once(text.body.trim_end())
            .filter(|b| !b.is_empty())
            .chain(links)
            .collect::<Vec<_>>()
            .join("\n");
        let message = InboxMessage {
            id: InboxMessageId::generate().to_string(),
            from: from.clone(),
            to: Some(text.to.trim().to_string()).filter(|t| !t.is_empty()),
            body,
            provider_message_id: Some(text.sid.to_string()),
            received_at: now.clone(),
        };
        storage::inbox::insert(&mut tx, ws, &message).await?;
    }
    for contact in contacts {
        log_received(&mut tx, ws, &contact, &from, &text, &now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn log_received(
    conn: &mut sqlx::SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &str,
    from: &str,
    text: &InboundText<'_>,
    at: &str,
) -> AppResult<()> {
    let mut content = json!({"body": text.body, "from": from, "to": text.to, "provider_message_id": text.sid,
                             "segments": segments::count(text.body).1});
    if !text.media.is_empty() {
        content["media"] = json!(text.media);
    }
    let entry = Communication {
        id: CommunicationId::generate().to_string(),
        contact_id: contact.to_string(),
        kind: "text".into(),
        content,
        status: Some("received".into()),
        timestamp: at.to_string(),
        pinned: false,
        author: None,
    };
    storage::comms::insert(conn, ws, None, &entry).await?;
    Ok(())
}

/// A delivery status for a message we sent: matched by our outbox id or the provider's id,
/// and only ever moving the status forward.
pub struct StatusEvent<'a> {
    pub provider: &'a str,
    /// The event's own identity, the same whichever path brought it (a webhook or polling):
    /// applied once.
    pub event_key: &'a str,
    /// The webhook delivery's own key, when it has one (Mailgun's signed token): a token seen
    /// before is not accepted again, whatever event it now carries.
    pub delivery_key: Option<&'a str>,
    pub outbox_id: Option<&'a str>,
    pub provider_id: Option<&'a str>,
    /// The status it means: `sent`, `delivered`, `opened`, `clicked`, `bounced`, `failed`, or
    /// `None` when it changes no status.
    pub status: Option<MessageStatus>,
    /// Why it failed, in the provider's words.
    pub error: Option<String>,
    /// An address or number to put on the suppression list, and why.
    pub suppress: Option<(Channel, String, &'static str)>,
}

/// Applies a status event; false when it was a repeat.
pub async fn apply_status(db: &SqlitePool, ws: &WorkspaceAccess, event: StatusEvent<'_>) -> AppResult<bool> {
    let mut tx = storage::db::begin_write(db).await?;
    let applied = apply_status_in(&mut tx, ws, &event).await?;
    tx.commit().await?;
    Ok(applied)
}

/// `apply_status` inside the caller's write transaction (polling applies a page at once).
pub async fn apply_status_in(
    tx: &mut sqlx::SqliteConnection,
    ws: &WorkspaceAccess,
    event: &StatusEvent<'_>,
) -> AppResult<bool> {
    let now = crate::clock::now_text();
    if let Some(delivery) = event.delivery_key
        && !storage::webhook_events::first_time(tx, ws, event.provider, delivery, &now).await?
    {
        return Ok(false);
    }
    if !storage::webhook_events::first_time(tx, ws, event.provider, event.event_key, &now).await? {
        return Ok(false);
    }
    if let Some((via, address, reason)) = &event.suppress {
        suppression::suppress(tx, ws, *via, address, reason).await?;
    }
    let found = storage::outbox::communication_for(tx, ws, event.outbox_id, event.provider_id).await?;
    if let (Some((outbox_id, communication)), Some(status)) = (found, event.status) {
        if status.went_out() {
            storage::outbox::confirm_sent(tx, &outbox_id, event.provider_id).await?;
        }
        if super::status::advance(tx, ws, &communication, status).await? {
            if status.went_out() {
                storage::comms::set_content_key(tx, ws, &communication, "error", None).await?;
            }
            if let Some(error) = &event.error {
                storage::comms::set_content_key(tx, ws, &communication, "error", Some(error)).await?;
            }
        }
    }
    Ok(true)
}

pub async fn inbox(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    page: &PageRequest,
) -> AppResult<Page<InboxMessage>> {
    actor.require(Scope::ReadContacts)?;
    let spec = page.parse()?;
    let rows = storage::inbox::page(db, ws, &spec).await?;
    Ok(Page::from_rows(rows, &spec, |m| m.id.clone()))
}

/// Makes a contact of an unknown sender; every text that number sent moves from the inbox
/// onto the new contact's timeline.
pub async fn create_contact_from(
    db: &SqlitePool,
    region: &str,
    actor: &Actor,
    ws: &WorkspaceAccess,
    message_id: &InboxMessageId,
    mut input: ContactInput,
) -> AppResult<ContactId> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let message = {
        let mut conn = db.acquire().await?;
        storage::inbox::find(&mut conn, ws, message_id.as_str())
            .await?
            .ok_or(AppError::NotFound)?
    };
    input.primary_phone = Some(Some(message.from.clone()));
    let created = contact::create(db, actor, ws, region, input).await?;
    let id = ContactId::parse(&created.id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a new contact has a bad id")))?;
    let mut tx = storage::db::begin_write(db).await?;
    let moved = storage::inbox::take_from(&mut tx, ws, &message.from).await?;
    for m in &moved {
        let sid = m.provider_message_id.as_deref().unwrap_or_default();
        // The inbox kept an MMS's links in its text; they stay there.
        let text = InboundText {
            sid,
            from: &m.from,
            to: m.to.as_deref().unwrap_or_default(),
            body: &m.body,
            media: Vec::new(),
        };
        log_received(&mut tx, ws, &created.id, &m.from, &text, &m.received_at).await?;
    }
    audit::in_workspace_with(
        &mut tx,
        actor,
        ws.id(),
        "inbox.to_contact",
        "contact",
        &created.id,
        &json!({"texts": moved.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The key a Mailgun event is applied once by: its `id`, which the webhook's `event-data` and
/// the Events API's item share; `None` for an event without one.
pub fn mailgun_event_key(data: &Value) -> Option<String> {
    data.get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(|id| format!("event:{id}"))
}

/// Mailgun's `event-data` as the status event it means (SPEC §8.3).
pub fn mailgun_status<'a>(
    event_key: &'a str,
    delivery_key: Option<&'a str>,
    data: &'a Value,
    region_free_recipient: Option<String>,
) -> StatusEvent<'a> {
    let event = data.get("event").and_then(Value::as_str).unwrap_or_default();
    let permanent = data.get("severity").and_then(Value::as_str) == Some("permanent");
    let reason = data
        .pointer("/delivery-status/message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .or_else(|| data.pointer("/delivery-status/description").and_then(Value::as_str))
        .or_else(|| data.get("reason").and_then(Value::as_str))
        .map(crate::providers::short);
    let (status, suppress_reason): (Option<MessageStatus>, Option<&'static str>) = match event {
        "delivered" => (Some(MessageStatus::Delivered), None),
        "opened" => (Some(MessageStatus::Opened), None),
        "clicked" => (Some(MessageStatus::Clicked), None),
        "failed" if permanent => (Some(MessageStatus::Bounced), Some("bounced")),
        "complained" => (None, Some("complained")),
        "unsubscribed" => (None, Some("unsubscribed")),
        // Temporary failures, `accepted`, `rejected` …: Mailgun keeps trying; nothing changes.
        _ => (None, None),
    };
    StatusEvent {
        provider: "mailgun",
        event_key,
        delivery_key,
        outbox_id: data.pointer("/user-variables/outbox_id").and_then(Value::as_str),
        provider_id: data.pointer("/message/headers/message-id").and_then(Value::as_str),
        status,
        error: if status == Some(MessageStatus::Bounced) {
            reason
        } else {
            None
        },
        suppress: suppress_reason.and_then(|why| region_free_recipient.map(|r| (Channel::Email, r, why))),
    }
}

/// The key a Twilio status report is applied once by, on either path.
pub fn twilio_status_key(sid: &str, reported: &str) -> String {
    format!("status:{sid}:{reported}")
}

/// A Twilio status report (`MessageStatus` and `ErrorCode`, from the status webhook or the
/// Messages resource) as the status event it means.
pub fn twilio_status<'a>(
    key: &'a str,
    sid: &'a str,
    reported: &str,
    error_code: Option<&str>,
    to: Option<&str>,
    outbox_id: Option<&'a str>,
) -> StatusEvent<'a> {
    let status = match reported {
        "sent" => Some(MessageStatus::Sent),
        "delivered" | "read" => Some(MessageStatus::Delivered),
        "undelivered" | "failed" => Some(MessageStatus::Failed),
        _ => None,
    };
    let error_code = error_code.map(str::trim).filter(|c| !c.is_empty() && *c != "null");
    // 21610: the recipient replied STOP, and Twilio will not deliver to them.
    let suppress = (error_code == Some("21610"))
        .then(|| to.map(|to| (Channel::Text, to.to_string(), "stop")))
        .flatten();
    StatusEvent {
        provider: "twilio",
        event_key: key,
        delivery_key: None,
        outbox_id,
        provider_id: Some(sid),
        status,
        error: error_code.map(|c| format!("Twilio error {c}")),
        suppress,
    }
}
