//! Writing to a contact from their page (SPEC §8.2): the email and text forms, what stops
//! them (no provider, no address, a suppression), and "send again".

use axum::extract::State;
use axum::response::Response;
use axum_extra::extract::Form;
use serde::Deserialize;

use super::show_contact;
use crate::auth::workspace::Editor;
use crate::domain::contact::ContactRecord;
use crate::domain::ids::{CommunicationId, ContactId, WorkspaceId};
use crate::domain::messaging::Channel;
use crate::domain::messaging::send::{self, MessageInput, TEXT_MAX_CHARS};
use crate::domain::messaging::suppression;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{PagePath, PageWs};
use crate::web::flash;
use crate::web::forms::FormErrors;

/// What the person had written, shown again beside its errors.
#[derive(Default)]
pub struct Typed {
    pub channel: String,
    pub subject: String,
    pub body: String,
    pub template_id: String,
    /// The draft came from AI (the page says so above it).
    pub from_ai: bool,
}

/// The send forms' state on the contact page: each channel is ready, or says why not.
pub struct SendBox {
    pub email_blocked: Option<String>,
    /// "Unsubscribed from marketing on Dec 6, 2026": said above the email form, which still
    /// works (an unsubscribe stops campaigns, not one person writing to another).
    pub email_marketing_off: Option<String>,
    pub text_blocked: Option<String>,
    /// Whether the person may set providers (the owner), for the "set one up" link.
    pub can_set_up: bool,
    pub typed: Typed,
    pub text_max: usize,
    /// The workspace's templates for each channel, `(id, name)`.
    pub email_templates: Vec<(String, String)>,
    pub text_templates: Vec<(String, String)>,
    /// The workspace has an AI service (else the page links to its settings).
    pub ai_ready: bool,
}

impl SendBox {
    pub async fn for_contact(
        state: &AppState,
        actor: &crate::domain::actor::Actor,
        ws: &WorkspaceAccess,
        c: &ContactRecord,
        typed: Typed,
    ) -> Result<SendBox, AppError> {
        let all = crate::domain::template::list(state, actor, ws, &Default::default()).await?;
        let (email_templates, text_templates): (Vec<_>, Vec<_>) = all.into_iter().partition(|t| t.channel == "email");
        let pick = |ts: Vec<crate::domain::template::Template>| ts.into_iter().map(|t| (t.id, t.name)).collect();
        let ai_ready = crate::domain::messaging::providers::ai(state, ws)
            .await
            .ok()
            .flatten()
            .is_some();
        let (email, sms) = crate::domain::messaging::providers::configured(state, ws).await?;
        let mut conn = state.db.acquire().await?;
        let blocked = |configured: bool, what: &str, address: Option<&String>, via: Channel| {
            let reason = if !configured {
                Some(format!("No {what} provider is set up for this workspace yet."))
            } else if address.is_none() {
                Some(format!(
                    "{} has no {}.",
                    c.display_name(),
                    if via == Channel::Email {
                        "email address"
                    } else {
                        "phone number"
                    }
                ))
            } else {
                None
            };
            (reason, address.cloned(), via)
        };
        let checks = [
            blocked(email, "email", c.base.primary_email.as_ref(), Channel::Email),
            blocked(sms, "text", c.base.primary_phone.as_ref(), Channel::Text),
        ];
        let mut out = Vec::new();
        let mut email_marketing_off = None;
        for (reason, address, via) in checks {
            let entry = match &address {
                Some(a) => suppression::find(&mut conn, ws, via, a).await?,
                None => None,
            };
            let reason = reason.or_else(|| match &entry {
                Some(e) if e.scope.stops(suppression::SendKind::OneToOne) => Some(format!("{}.", e.why_stopped())),
                _ => None,
            });
            if let Some(e) =
                entry.filter(|e| via == Channel::Email && e.scope == suppression::SuppressionScope::Marketing)
            {
                email_marketing_off = Some(marketing_off(&e));
            }
            out.push(reason);
        }
        let text_blocked = out.pop().flatten();
        let email_blocked = out.pop().flatten();
        Ok(SendBox {
            email_blocked,
            email_marketing_off,
            text_blocked,
            can_set_up: ws.is_owner(),
            typed,
            text_max: TEXT_MAX_CHARS,
            email_templates: pick(email_templates),
            text_templates: pick(text_templates),
            ai_ready,
        })
    }
}

/// "Unsubscribed from marketing on Dec 6, 2026: campaigns skip this address; email you write
/// to them still goes."
pub fn marketing_off(entry: &suppression::Suppression) -> String {
    format!(
        "Unsubscribed from marketing on {}: campaigns skip this address; email you write to them still goes.",
        entry.day()
    )
}

#[derive(Deserialize)]
pub struct SendForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    template_id: String,
}

pub async fn send(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Form(form): Form<SendForm>,
) -> Result<Response, PageError> {
    let input = MessageInput {
        channel: form.channel.clone(),
        template_id: Some(form.template_id.clone()).filter(|t| !t.trim().is_empty()),
        subject: Some(form.subject.clone()),
        body: Some(form.body.clone()),
    };
    let url = format!("/workspaces/{}/contacts/{id}#timeline", ws.id());
    match send::send(&state, &actor, &ws, &id, input).await {
        Ok(_) => {
            let what = if form.channel == "text" { "Text" } else { "Email" };
            Ok(flash::redirect(&state, &url, "success", &format!("{what} on its way.")))
        }
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidMany(_))) => {
            let errors = FormErrors::from_error(e)?.prefixed("message_");
            let typed = Typed {
                channel: form.channel,
                subject: form.subject,
                body: form.body,
                template_id: form.template_id,
                from_ai: false,
            };
            show_contact(&state, &actor, &ws, chrome, &id, None, super::Redraw { errors, typed }).await
        }
        Err(AppError::Refused { message, .. }) => Ok(flash::redirect(&state, &url, "error", &message)),
        Err(e) => Err(e.into()),
    }
}

pub async fn send_again(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id, entry)): PagePath<(WorkspaceId, ContactId, CommunicationId)>,
) -> Result<Response, PageError> {
    let url = format!("/workspaces/{}/contacts/{id}#timeline", ws.id());
    match send::send_again(&state, &actor, &ws, &id, &entry).await {
        Ok(()) => Ok(flash::redirect(&state, &url, "success", "Sending it again.")),
        Err(AppError::Refused { message, .. } | AppError::Conflict { message, .. }) => {
            Ok(flash::redirect(&state, &url, "error", &message))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AiDraftForm {
    #[serde(default)]
    goal: String,
    #[serde(default)]
    channel: String,
}

/// "Draft with AI": a personal message for this contact, put into the send form to edit.
pub async fn ai_draft(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, ContactId)>,
    Form(form): Form<AiDraftForm>,
) -> Result<Response, PageError> {
    let input = crate::domain::ai::PersonalInput {
        contact_id: Some(id.clone()),
        goal: Some(form.goal.clone()),
        channel: Some(form.channel.clone()),
    };
    let redraw = match crate::domain::ai::personal_message(&state, &actor, &ws, &input).await {
        Ok(draft) => super::Redraw {
            errors: FormErrors::none(),
            typed: Typed {
                channel: form.channel,
                subject: draft.subject.unwrap_or_default(),
                body: draft.body,
                template_id: String::new(),
                from_ai: true,
            },
        },
        Err(e @ (AppError::Upstream { .. } | AppError::OverLimit { .. } | AppError::Refused { .. })) => super::Redraw {
            errors: FormErrors::general_message(format!("No draft: {}", e.public_message())),
            typed: Typed::default(),
        },
        Err(e) => super::Redraw {
            errors: FormErrors::from_error(e)?.prefixed("ai_"),
            typed: Typed::default(),
        },
    };
    show_contact(&state, &actor, &ws, chrome, &id, None, redraw).await
}
