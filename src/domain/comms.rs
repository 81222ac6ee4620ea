//! The communication log: everything that happened with a contact, newest first, pinned
//! notices on top. People add notes and calls; pi-crm itself writes stage changes, tracked
//! field changes, merges (and, with later features, emails, texts and AI actions).

use serde_json::Value;
use sqlx::{SqliteConnection, SqlitePool};

use super::actor::{Actor, Scope};
use super::audit;
use super::ids::{CommunicationId, ContactId};
use super::page::{DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::workspace::WorkspaceAccess;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::storage;
pub use crate::storage::comms::{Communication, TimelineCursor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Email,
    Text,
    Call,
    Ai,
    StageChange,
    Note,
    System,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Text => "text",
            Kind::Call => "call",
            Kind::Ai => "ai",
            Kind::StageChange => "stage_change",
            Kind::Note => "note",
            Kind::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [
            Kind::Email,
            Kind::Text,
            Kind::Call,
            Kind::Ai,
            Kind::StageChange,
            Kind::Note,
            Kind::System,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }

    /// The word a person reads for it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Email => "Email",
            Kind::Text => "Text",
            Kind::Call => "Call",
            Kind::Ai => "AI draft",
            Kind::StageChange => "Stage",
            Kind::Note => "Note",
            Kind::System => "Update",
        }
    }

    /// Kinds a person may log by hand; the rest are written by pi-crm as things happen.
    fn is_manual(self) -> bool {
        matches!(self, Kind::Note | Kind::Call | Kind::Email | Kind::Text)
    }
}

pub const STATUSES: &[&str] = &[
    "queued",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "failed",
    "unknown",
    "received",
];

impl Communication {
    /// A text value of its content (`subject`, `error`, `to` …).
    pub fn detail(&self, key: &str) -> Option<String> {
        self.content
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// An MMS's pictures and files: `(address, what it is)`.
    pub fn media(&self) -> Vec<(String, String)> {
        let Some(items) = self.content.get("media").and_then(Value::as_array) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|m| {
                let url = m.get("url").and_then(Value::as_str)?;
                let kind = m.get("content_type").and_then(Value::as_str).unwrap_or_default();
                let label = match kind.split('/').next() {
                    Some("image") => "Picture",
                    Some("video") => "Video",
                    Some("audio") => "Voice message",
                    _ => "Attachment",
                };
                Some((url.to_string(), format!("{label} ({kind})")))
            })
            .collect()
    }

    /// A note's or call's follow-up day (`YYYY-MM-DD`), as written.
    pub fn follow_up_on(&self) -> Option<String> {
        self.detail("follow_up_on")
    }

    /// The follow-up day as people read it ("December 8, 2026").
    pub fn follow_up_readable(&self) -> Option<String> {
        self.follow_up_on()
            .map(|day| super::field::readable(super::field::FieldType::Date, &day))
    }

    /// Its follow-up was marked done.
    pub fn follow_up_done(&self) -> bool {
        self.detail("follow_up_done").is_some()
    }

    /// Who a message went to, as a person reads it (a number formatted for its country).
    pub fn recipient(&self) -> Option<String> {
        let to = self.detail("to")?;
        Some(if self.kind == "text" {
            super::phone::display(&to)
        } else {
            to
        })
    }

    /// An email or text pi-crm sent, as opposed to one received or logged by hand.
    pub fn is_outgoing_message(&self) -> bool {
        matches!(self.kind.as_str(), "email" | "text") && self.status.as_deref() != Some("received")
    }

    /// Its status may still change soon: queued, or sent in the last ten minutes (delivery
    /// reports come within seconds). The timeline refreshes itself while one is.
    pub fn is_pending(&self) -> bool {
        match self.status.as_deref() {
            Some("queued") => true,
            Some("sent") => clock::parse(&self.timestamp)
                .is_some_and(|at| clock::now().duration_since(at) < jiff::SignedDuration::from_mins(10)),
            _ => false,
        }
    }

    /// What its status means to a person.
    pub fn status_label(&self) -> Option<&'static str> {
        Some(match self.status.as_deref()? {
            "queued" => "sending…",
            "sent" => "sent",
            "delivered" => "delivered",
            "opened" => "opened",
            "clicked" => "clicked",
            "bounced" => "bounced",
            "failed" => "failed",
            "unknown" => "may not have been sent",
            "received" => "received",
            _ => return None,
        })
    }

    /// The badge colour of its status: good, bad, unsure or plain.
    pub fn status_tone(&self) -> &'static str {
        match self.status.as_deref() {
            Some("delivered" | "opened" | "clicked") => "badge-green",
            Some("failed" | "bounced") => "badge-red",
            Some("unknown") => "badge-amber",
            _ => "",
        }
    }

    /// The text a person reads in the timeline, whatever the kind.
    pub fn summary(&self) -> String {
        summary_of(&self.kind, &self.content)
    }
}

/// The text a person reads for an entry of `kind` with `content` (the timeline, the
/// dashboard's recent activity).
pub fn summary_of(kind: &str, content: &Value) -> String {
    let s = |k: &str| content.get(k).and_then(Value::as_str).map(str::to_string);
    match kind {
        "stage_change" => {
            let name = |k: &str| content.get(k).and_then(|v| v.get("name")).and_then(Value::as_str);
            match (name("from"), name("to")) {
                (Some(f), Some(t)) => format!("Moved from {f} to {t}"),
                (None, Some(t)) => format!("Moved to {t}"),
                (Some(f), None) => format!("Taken out of {f}"),
                (None, None) => "Stage changed".into(),
            }
        }
        "system" => s("message").unwrap_or_else(|| "Updated".into()),
        "email" => s("body_text")
            .or_else(|| s("body"))
            .or_else(|| s("subject"))
            .unwrap_or_default(),
        _ => s("body").or_else(|| s("subject")).unwrap_or_default(),
    }
}

/// An entry written by hand (or by another tool): `kind` is one of the timeline's kinds; notes
/// and calls need a non-empty `body` in `content`.
#[derive(Debug, Clone)]
pub struct CommunicationInput {
    pub kind: String,
    pub content: Value,
    pub status: Option<String>,
    pub pinned: bool,
}

/// Writes an entry as part of a larger change (in its transaction).
pub async fn record(
    conn: &mut SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    kind: Kind,
    content: Value,
    status: Option<&str>,
) -> AppResult<CommunicationId> {
    let entry = Communication {
        id: CommunicationId::generate().to_string(),
        contact_id: contact.to_string(),
        kind: kind.as_str().into(),
        content,
        status: status.map(str::to_string),
        timestamp: clock::now_text(),
        pinned: false,
        author: None,
    };
    storage::comms::insert(conn, ws, Some(&actor.user_id), &entry).await?;
    Ok(CommunicationId::parse(&entry.id).expect("a generated id parses"))
}

pub async fn add(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    input: CommunicationInput,
) -> AppResult<Communication> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let kind = Kind::parse(input.kind.trim()).ok_or_else(|| {
        AppError::invalid(
            "type",
            "type is one of email, text, call, ai, stage_change, note, system",
        )
    })?;
    if !kind.is_manual() {
        return Err(AppError::invalid(
            "type",
            format!("{} entries are written by pi-crm itself", kind.as_str()),
        ));
    }
    let Value::Object(map) = &input.content else {
        return Err(AppError::invalid("content", "content is a JSON object"));
    };
    let body = map.get("body").and_then(Value::as_str).map(str::trim).unwrap_or("");
    if matches!(kind, Kind::Note | Kind::Call) && body.is_empty() {
        return Err(AppError::invalid("content", "write something in content.body"));
    }
    let follow_up = match map.get("follow_up_on") {
        None | Some(Value::Null) => None,
        Some(_) if !matches!(kind, Kind::Note | Kind::Call) => {
            return Err(AppError::invalid(
                "content.follow_up_on",
                "only notes and calls carry a follow-up date",
            ));
        }
        Some(value) => Some(follow_up_day(value.as_str().unwrap_or(""), "content.follow_up_on")?),
    };
    let mut content = input.content;
    if let Some(day) = follow_up {
        content["follow_up_on"] = Value::String(day.to_string());
    }
    if serde_json::to_string(&content).map(|s| s.len()).unwrap_or(0) > 64 * 1024 {
        return Err(AppError::invalid("content", "content is at most 64 KiB"));
    }
    let status = match input.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if STATUSES.contains(&s) => Some(s.to_string()),
        Some(s) => return Err(AppError::invalid("status", format!("unknown status {s:?}"))),
        None => None,
    };
    let entry = Communication {
        id: CommunicationId::generate().to_string(),
        contact_id: contact.to_string(),
        kind: kind.as_str().into(),
        content,
        status,
        timestamp: clock::now_text(),
        pinned: input.pinned,
        author: super::user::name_of(db, &actor.user_id).await?,
    };
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::contacts::exists(&mut tx, ws, contact).await? {
        return Err(AppError::NotFound);
    }
    storage::comms::insert(&mut tx, ws, Some(&actor.user_id), &entry).await?;
    // What was said on a call or written in a note is found by the contact search.
    if matches!(kind, Kind::Note | Kind::Call) {
        storage::contacts::refresh_search(&mut tx, ws, contact.as_str()).await?;
    }
    audit::in_workspace(
        &mut tx,
        actor,
        ws.id(),
        "communication.create",
        "communication",
        &entry.id,
    )
    .await?;
    tx.commit().await?;
    Ok(entry)
}

/// Changes the text of a note or call; the text it had is kept in the audit log.
pub async fn edit_text(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
    body: &str,
) -> AppResult<()> {
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::invalid("body", "write something, or delete the entry"));
    }
    if body.len() > 60 * 1024 {
        return Err(AppError::invalid("body", "a note is at most 60 KiB"));
    }
    change_written(db, actor, ws, contact, id, Some(body)).await
}

/// A note's or call's follow-up day as the API and the form send it: `YYYY-MM-DD`.
fn follow_up_day(text: &str, field: &str) -> AppResult<jiff::civil::Date> {
    text.trim().parse().map_err(|_| {
        AppError::invalid(
            field,
            format!("{text:?} is not a date; write the follow-up day as YYYY-MM-DD"),
        )
    })
}

/// What happens to a note's or call's follow-up.
pub enum FollowUpChange {
    /// Due on this day (`YYYY-MM-DD`), open again if it was done; `None` takes it away.
    On(Option<String>),
    /// Done: it leaves the dashboard and the entry says when it was done.
    Done,
    /// Not done after all: back on the dashboard.
    Reopen,
}

/// Sets, clears or completes a note's or call's follow-up, audited with what it was before.
pub async fn set_follow_up(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
    change: FollowUpChange,
) -> AppResult<()> {
    let day = match &change {
        FollowUpChange::On(Some(text)) => Some(follow_up_day(text, "follow_up_on")?),
        _ => None,
    };
    let (mut tx, mut content) = open_written(db, actor, ws, contact, id).await?;
    let details = serde_json::json!({"before": {
        "follow_up_on": content.get("follow_up_on").cloned().unwrap_or(Value::Null),
        "follow_up_done": content.get("follow_up_done").cloned().unwrap_or(Value::Null),
    }});
    let Value::Object(map) = &mut content else {
        return Err(AppError::NotFound);
    };
    match change {
        FollowUpChange::On(_) => {
            map.remove("follow_up_done");
            match day {
                Some(day) => map.insert("follow_up_on".into(), Value::String(day.to_string())),
                None => map.remove("follow_up_on"),
            };
        }
        FollowUpChange::Done | FollowUpChange::Reopen if !map.contains_key("follow_up_on") => {
            return Err(AppError::invalid("follow_up_done", "this entry has no follow-up day"));
        }
        FollowUpChange::Done => {
            map.insert("follow_up_done".into(), Value::String(clock::now_text()));
        }
        FollowUpChange::Reopen => {
            map.remove("follow_up_done");
        }
    }
    storage::comms::set_content(&mut tx, ws, id, &content.to_string()).await?;
    audit::in_workspace_with(
        &mut tx,
        actor,
        ws.id(),
        "communication.update",
        "communication",
        id.as_str(),
        &details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a note or call (other entries are the record of what happened and stay); its text
/// is kept in the audit log.
pub async fn delete_written(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
) -> AppResult<()> {
    change_written(db, actor, ws, contact, id, None).await
}

/// A write transaction holding a note or call of `contact` (404 for anything else), and its
/// content as it is: where every change to what a person wrote begins.
async fn open_written<'a>(
    db: &'a SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
) -> AppResult<(sqlx::Transaction<'a, sqlx::Sqlite>, Value)> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(db).await?;
    let old = storage::comms::written_content(&mut tx, ws, contact, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let content = serde_json::from_str(&old).unwrap_or_else(|_| serde_json::json!({}));
    Ok((tx, content))
}

/// Gives a note or call new text (`Some`) or deletes it (`None`), in one transaction with its
/// contact's search document and an audit entry holding the text it had (`details.before`).
async fn change_written(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
    body: Option<&str>,
) -> AppResult<()> {
    let (mut tx, mut content) = open_written(db, actor, ws, contact, id).await?;
    let details = serde_json::json!({"before": content.get("body").cloned().unwrap_or(Value::Null)});
    let action = match body {
        Some(body) => {
            content["body"] = Value::String(body.to_string());
            storage::comms::set_content(&mut tx, ws, id, &content.to_string()).await?;
            "communication.update"
        }
        None => {
            storage::comms::delete(&mut tx, ws, id).await?;
            "communication.delete"
        }
    };
    storage::contacts::refresh_search(&mut tx, ws, contact.as_str()).await?;
    audit::in_workspace_with(&mut tx, actor, ws.id(), action, "communication", id.as_str(), &details).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_pinned(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
    pinned: bool,
) -> AppResult<()> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::comms::set_pinned(&mut tx, ws, contact, id, pinned).await? {
        return Err(AppError::NotFound);
    }
    let action = if pinned {
        "communication.pin"
    } else {
        "communication.unpin"
    };
    audit::in_workspace(&mut tx, actor, ws.id(), action, "communication", id.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

impl TimelineCursor {
    fn parse(text: &str) -> AppResult<TimelineCursor> {
        let bad = || AppError::invalid("cursor", "this cursor is not valid");
        let (flag, id) = text.split_once('.').ok_or_else(bad)?;
        let pinned = match flag {
            "p" => true,
            "u" => false,
            _ => return Err(bad()),
        };
        CommunicationId::parse(id).ok_or_else(bad)?;
        Ok(TimelineCursor {
            pinned,
            id: id.to_string(),
        })
    }

    fn of(c: &Communication) -> String {
        format!("{}.{}", if c.pinned { "p" } else { "u" }, c.id)
    }
}

pub async fn timeline(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> AppResult<Page<Communication>> {
    actor.require(Scope::ReadContacts)?;
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(AppError::invalid(
            "limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let after = cursor
        .filter(|c| !c.is_empty())
        .map(TimelineCursor::parse)
        .transpose()?;
    let mut conn = db.acquire().await?;
    if !storage::contacts::exists(&mut conn, ws, contact).await? {
        return Err(AppError::NotFound);
    }
    let mut rows = storage::comms::page(db, ws, contact, after.as_ref(), i64::from(limit) + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(TimelineCursor::of)
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
