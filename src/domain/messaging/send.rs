//! Sending one email or text to a contact (SPEC §8.2): checked here, then written as a
//! `queued` timeline entry and an outbox row in one transaction. The outbox worker
//! (`jobs::outbox`) sends it; webhooks move its status on.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::suppression;
use super::{Channel, MessageStatus};
use crate::domain::actor::{Actor, Scope};
use crate::domain::audit;
use crate::domain::comms::Kind;
use crate::domain::ids::{CommunicationId, ContactId, TemplateId};
use crate::domain::template::render::Rendered;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult, Invalids};
use crate::providers::sms::segments;
use crate::state::AppState;
use crate::storage;

/// A text may be at most this long (Twilio's limit).
pub const TEXT_MAX_CHARS: usize = 1600;
const EMAIL_BODY_MAX: usize = 256 * 1024;

#[derive(Debug)]
pub struct MessageInput {
    pub channel: String,
    pub template_id: Option<String>,
    /// Email only.
    pub subject: Option<String>,
    /// Plain text; an email's HTML part is made from it.
    pub body: Option<String>,
}

#[derive(Debug)]
pub struct Queued {
    pub communication_id: String,
    pub status: MessageStatus,
}

/// What the outbox keeps of a message until it is sent (the sender comes from the provider
/// at send time, so a changed "from" applies to what is still waiting).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The template it was filled in from (template performance insights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// The recipient's name for the `To:` header ("Ada Lovelace" <ada@…>), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_name: Option<String>,
}

impl Stored {
    /// This message, addressed by name to `contact` (an email; a text has no `To:` name).
    pub fn to(mut self, via: Channel, contact: &crate::domain::contact::ContactRecord) -> Stored {
        if via == Channel::Email {
            self.to_name = contact.full_name();
        }
        self
    }
}

pub async fn send(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact_id: &ContactId,
    input: MessageInput,
) -> AppResult<Queued> {
    actor.require(Scope::SendMessages)?;
    ws.require_editor()?;
    let via = Channel::parse(&input.channel).ok_or_else(|| AppError::invalid("channel", "channel is email or text"))?;
    let contact = storage::contacts::load(&state.db, ws, contact_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let template = input.template_id.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let stored = match template {
        None => {
            let (subject, body) = crate::domain::template::written::fill(
                state,
                actor,
                ws,
                &contact,
                input.subject.as_deref().unwrap_or(""),
                input.body.as_deref().unwrap_or(""),
            )
            .await?;
            compose(via, Some(&subject), Some(&body))?
        }
        Some(id) => from_template(state, actor, ws, via, id, &contact, input.subject.as_deref()).await?,
    }
    .to(via, &contact);
    let from = match via {
        Channel::Email => super::providers::mailer(state, ws)
            .await?
            .map(|m| m.provider.from().to_string()),
        Channel::Text => super::providers::texter(state, ws)
            .await?
            .map(|t| t.provider.from().to_string()),
    }
    .ok_or_else(|| {
        AppError::refused(
            "provider_not_configured",
            format!(
                "this workspace has no {} provider yet; its owner sets one under Settings → Providers",
                if via == Channel::Email { "email" } else { "text" }
            ),
        )
    })?;
    let to = match via {
        Channel::Email => contact.base.primary_email.clone(),
        Channel::Text => contact.base.primary_phone.clone(),
    }
    .ok_or_else(|| {
        AppError::refused(
            "no_address",
            match via {
                Channel::Email => "this contact has no email address",
                Channel::Text => "this contact has no phone number",
            },
        )
    })?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    suppression::refuse_if_suppressed(&mut tx, ws, via, &to, suppression::SendKind::OneToOne).await?;
    let at = state.clock.now_text();
    let out = Outgoing {
        via,
        from: &from,
        to: &to,
        message: &stored,
        campaign: None,
        at: &at,
    };
    let id = queue(&mut tx, actor, ws, contact_id, &out).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Queued {
        communication_id: id.to_string(),
        status: MessageStatus::Queued,
    })
}

/// A template of the workspace filled in for the contact; `subject`, when given, replaces the
/// template's own. The channel must be the template's.
async fn from_template(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    via: Channel,
    id: &str,
    contact: &crate::domain::contact::ContactRecord,
    subject: Option<&str>,
) -> AppResult<Stored> {
    let id = TemplateId::parse(id)
        .ok_or_else(|| AppError::invalid("template_id", "there is no template with this id in this workspace"))?;
    let (template, mut rendered) = crate::domain::template::fill_for(state, actor, ws, &id, contact).await?;
    if template.channel() != via {
        let hint = match template.channel() {
            Channel::Email => "this is an email template; send it as an email",
            Channel::Text => "this is a text template; send it as a text",
        };
        return Err(AppError::invalid("template_id", hint));
    }
    if let Some(subject) = subject.map(str::trim).filter(|s| !s.is_empty()) {
        let (subject, _) = crate::domain::template::written::fill(state, actor, ws, contact, subject, "").await?;
        rendered.subject = subject;
    }
    from_rendered(via, rendered, &template.id)
}

/// A filled-in template, checked and shaped for the outbox like a written message.
pub fn from_rendered(via: Channel, rendered: Rendered, template_id: &str) -> AppResult<Stored> {
    let mut stored = compose(via, Some(&rendered.subject), Some(&rendered.body_text))?;
    if via == Channel::Email {
        stored.html = rendered.body_html;
    }
    stored.template_id = Some(template_id.to_string());
    Ok(stored)
}

/// A subject (or a preheader): one line of at most 300 characters; `required`: not empty.
pub fn check_line(field: &str, text: &str, required: bool) -> AppResult<()> {
    if text.is_empty() && required {
        return Err(AppError::invalid(field, format!("write a {field}")));
    }
    if text.contains(['\r', '\n']) || text.chars().count() > 300 {
        return Err(AppError::invalid(
            field,
            format!("a {field} is one line of at most 300 characters"),
        ));
    }
    Ok(())
}

/// Checks what was written and shapes it for the outbox; every mistake at once.
fn compose(via: Channel, subject: Option<&str>, body: Option<&str>) -> AppResult<Stored> {
    let mut bad = Invalids::default();
    let body = body.unwrap_or("").trim();
    let subject = subject.unwrap_or("").trim();
    match via {
        Channel::Email => {
            bad.check(check_line("subject", subject, true))?;
            if body.is_empty() {
                bad.check::<()>(Err(AppError::invalid("body", "write the message")))?;
            } else if body.len() > EMAIL_BODY_MAX {
                bad.check::<()>(Err(AppError::invalid("body", "an email is at most 256 KiB")))?;
            }
            bad.finish()?;
            Ok(Stored {
                subject: subject.to_string(),
                text: body.to_string(),
                html: Some(text_to_html(body)),
                headers: Vec::new(),
                template_id: None,
                to_name: None,
            })
        }
        Channel::Text => {
            if body.is_empty() {
                bad.check::<()>(Err(AppError::invalid("body", "write the message")))?;
            } else if body.chars().count() > TEXT_MAX_CHARS {
                bad.check::<()>(Err(AppError::invalid(
                    "body",
                    format!("a text is at most {TEXT_MAX_CHARS} characters"),
                )))?;
            }
            bad.finish()?;
            Ok(Stored {
                subject: String::new(),
                text: body.to_string(),
                html: None,
                headers: Vec::new(),
                template_id: None,
                to_name: None,
            })
        }
    }
}

/// One message on its way to a contact, as `queue` writes it.
pub struct Outgoing<'a> {
    pub via: Channel,
    pub from: &'a str,
    pub to: &'a str,
    pub message: &'a Stored,
    /// The campaign it belongs to: named on its timeline entry and its outbox row.
    pub campaign: Option<&'a str>,
    /// When it is queued (the app's clock): from then on it is due.
    pub at: &'a str,
}

/// Writes the `queued` timeline entry and its outbox row (in the caller's transaction). A
/// campaign's messages are audited once, with the campaign; one of its own is audited here.
pub async fn queue(
    conn: &mut sqlx::SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    out: &Outgoing<'_>,
) -> AppResult<CommunicationId> {
    let Outgoing {
        via,
        from,
        to,
        message,
        campaign,
        at,
    } = *out;
    let (kind, mut content) = match via {
        Channel::Email => (
            Kind::Email,
            json!({"subject": message.subject, "body_html": message.html, "body_text": message.text,
                   "from": from, "to": to, "provider_message_id": null, "template_id": message.template_id}),
        ),
        Channel::Text => (
            Kind::Text,
            json!({"body": message.text, "from": from, "to": to, "provider_message_id": null,
                   "segments": segments::count(&message.text).1, "template_id": message.template_id}),
        ),
    };
    if let Some(campaign) = campaign {
        content["campaign_id"] = json!(campaign);
    }
    let id = crate::domain::comms::record(conn, actor, ws, contact, kind, content, Some("queued")).await?;
    let message = serde_json::to_string(message).map_err(anyhow::Error::from)?;
    super::outbox::queue_message(conn, ws, id.as_str(), via.as_str(), to, &message, at, campaign).await?;
    if campaign.is_none() {
        audit::in_workspace(conn, actor, ws.id(), "message.queue", "communication", id.as_str()).await?;
    }
    Ok(id)
}

/// Queues a message whose outcome was `unknown` or `failed` once more, on the same timeline
/// entry (a person decided: they know whether the first one arrived).
pub async fn send_again(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    id: &CommunicationId,
) -> AppResult<()> {
    actor.require(Scope::SendMessages)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    let (_, status) = storage::comms::message_state(&mut tx, ws, contact, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !matches!(status.as_deref(), Some("unknown" | "failed")) {
        return Err(AppError::conflict(
            "only a message that failed or may not have been sent can be sent again",
        ));
    }
    let (_, channel, recipient, message, campaign) = storage::outbox::last_for_communication(&mut tx, ws, id.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = if campaign.is_some() {
        suppression::SendKind::Marketing
    } else {
        suppression::SendKind::OneToOne
    };
    suppression::refuse_if_suppressed(&mut tx, ws, Channel::stored(&channel), &recipient, kind).await?;
    let now = state.clock.now_text();
    super::outbox::queue_message(
        &mut tx,
        ws,
        id.as_str(),
        &channel,
        &recipient,
        &message,
        &now,
        campaign.as_deref(),
    )
    .await?;
    storage::comms::set_status(&mut tx, ws, id.as_str(), "queued").await?;
    storage::comms::set_content_key(&mut tx, ws, id.as_str(), "error", None).await?;
    audit::in_workspace(
        &mut tx,
        actor,
        ws.id(),
        "message.send_again",
        "communication",
        id.as_str(),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(())
}

/// Plain text as simple, safe HTML: escaped, blank lines make paragraphs, single newlines
/// breaks.
pub fn text_to_html(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let paragraphs: Vec<String> = text
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!doctype html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5\">\n{}\n</body></html>\n",
        paragraphs.join("\n")
    )
}

/// A message someone should look at (the dashboard): it failed, bounced, or may not have gone.
pub struct Attention {
    pub workspace: WorkspaceAccess,
    pub message: storage::comms::Trouble,
}

/// Messages needing a look and unknown senders, across the caller's workspaces: the newest
/// `limit` messages, and how many unknown-sender texts each workspace holds.
pub async fn needing_attention(
    state: &AppState,
    actor: &Actor,
    workspaces: &[WorkspaceAccess],
    limit: usize,
) -> AppResult<(Vec<Attention>, Vec<(WorkspaceAccess, i64)>)> {
    if !actor.has_scope(Scope::ReadContacts) {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut messages = Vec::new();
    let mut senders = Vec::new();
    for ws in workspaces {
        for m in storage::comms::trouble(&state.db, ws, limit as i64).await? {
            messages.push(Attention {
                workspace: ws.clone(),
                message: m,
            });
        }
        let unknown = storage::inbox::count(&state.db, ws).await?;
        if unknown > 0 {
            senders.push((ws.clone(), unknown));
        }
    }
    messages.sort_by(|a, b| b.message.id.cmp(&a.message.id));
    messages.truncate(limit);
    Ok((messages, senders))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_from_text_is_escaped_and_keeps_paragraphs() {
        let html = text_to_html("Hi <Ada> & Bob,\r\n\r\nRates fell.\nCall me.");
        assert!(html.contains("<p>Hi &lt;Ada&gt; &amp; Bob,</p>"));
        assert!(html.contains("<p>Rates fell.<br>\nCall me.</p>"));
    }

    #[test]
    fn a_message_is_checked_whole() {
        let e = compose(Channel::Email, Some(""), Some("")).unwrap_err();
        assert!(matches!(e, AppError::InvalidMany(ref all) if all.len() == 2));
        assert!(compose(Channel::Email, Some("a\nb"), Some("x")).is_err());
        assert!(compose(Channel::Text, None, Some(&"a".repeat(1601))).is_err());
        assert!(compose(Channel::Text, None, Some(&"a".repeat(1600))).is_ok());
    }
}
