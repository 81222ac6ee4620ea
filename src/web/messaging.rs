//! `/workspaces/{ws}/messaging`: the workspace's email and text providers (owner only;
//! secrets are never shown again — an empty secret input keeps the stored one), the test
//! buttons, the Gmail link, the webhook addresses to give the providers, and the suppression
//! list.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::chrome::Chrome;
use super::error::PageError;
use super::extract::{PagePath, PageWs};
use super::flash;
use super::forms::{FormErrors, Pairs};
use crate::auth::workspace::{Editor, Owner};
use crate::domain::ids::{SuppressionId, WorkspaceId};
use crate::domain::messaging::providers::{self, Service, WebhookUrls};
use crate::domain::messaging::suppression::{self, Suppression, SuppressionInput};
use crate::domain::page::PageRequest;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;

/// One configured (or being configured) provider, as the page shows it.
#[derive(Default)]
struct Shown {
    kind: String,
    values: HashMap<String, String>,
    secrets_set: Vec<String>,
    problem: Option<String>,
}

impl Shown {
    fn value(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or_default()
    }

    fn has_secret(&self, key: &str) -> bool {
        self.secrets_set.iter().any(|s| s == key)
    }

    fn from_view(view: Option<Value>) -> Shown {
        let Some(Value::Object(map)) = view else {
            return Shown::default();
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        Shown {
            kind: map.get("kind").map(text).unwrap_or_default(),
            secrets_set: map
                .get("secrets_set")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
            problem: map.get("problem").and_then(Value::as_str).map(str::to_string),
            values: map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "workspaces/messaging.html")]
struct MessagingPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    is_owner: bool,
    can_edit: bool,
    email: Shown,
    sms: Shown,
    ai: Shown,
    /// Today's AI tokens against the daily limit, with an AI provider.
    ai_usage: Option<crate::domain::ai::Usage>,
    hooks: Option<WebhookUrls>,
    suppressions: Vec<Suppression>,
    more_suppressions: bool,
    errors: FormErrors,
    /// The form the errors belong to (`mailgun`, `twilio`, `suppression` …).
    failed_form: String,
    /// A Gmail consent address to open, right after "Link Google account".
    consent_url: Option<String>,
    test_result: Option<(bool, String)>,
}

impl MessagingPage {
    fn shown(&self, channel: &str) -> &Shown {
        match channel {
            "sms" => &self.sms,
            "ai" => &self.ai,
            _ => &self.email,
        }
    }

    /// The provider a form of kind `form` belongs to.
    fn shown_for_form(&self, form: &str) -> &Shown {
        match form {
            "twilio" => &self.sms,
            "openai" => &self.ai,
            _ => &self.email,
        }
    }

    /// The value to show in a provider form's input: what was typed, else what is stored.
    fn val(&self, form: &str, key: &str) -> String {
        let shown = self.shown_for_form(form);
        if shown.kind == form {
            shown.values.get(key).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }

    fn secret_set(&self, form: &str, key: &str) -> bool {
        let shown = self.shown_for_form(form);
        shown.kind == form && shown.secrets_set.iter().any(|s| s == key)
    }

    fn err(&self, form: &str, key: &str) -> Option<&str> {
        if self.failed_form == form {
            self.errors.get(key)
        } else {
            None
        }
    }
}

#[derive(Default)]
struct Extra {
    errors: FormErrors,
    failed_form: String,
    typed: Option<(Service, Map<String, Value>)>,
    consent_url: Option<String>,
    test_result: Option<(bool, String)>,
}

async fn render(state: &AppState, pw: PageWs, extra: Extra) -> Result<Response, PageError> {
    let PageWs { actor, ws, chrome, .. } = pw;
    let (mut email, mut sms, mut ai, hooks) = if ws.is_owner() {
        let view = providers::view(state, &actor, &ws).await?;
        (
            Shown::from_view(view.email),
            Shown::from_view(view.sms),
            Shown::from_view(view.ai),
            Some(view.webhook_urls),
        )
    } else {
        (Shown::default(), Shown::default(), Shown::default(), None)
    };
    let ai_usage = if ws.is_owner() {
        crate::domain::ai::usage(state, &actor, &ws).await?
    } else {
        None
    };
    if let Some((channel, typed)) = extra.typed {
        let shown = Shown::from_view(Some(Value::Object(typed)));
        let target = match channel {
            Service::Sms => &mut sms,
            Service::Ai => &mut ai,
            Service::Email => &mut email,
        };
        let secrets = std::mem::take(&mut target.secrets_set);
        *target = Shown {
            secrets_set: if target.kind == shown.kind { secrets } else { Vec::new() },
            ..shown
        };
    }
    let page = suppression::list(
        &state.db,
        &actor,
        &ws,
        &PageRequest {
            limit: Some(200),
            cursor: None,
        },
    )
    .await?;
    let status = if extra.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = MessagingPage {
        chrome: chrome.in_section("messaging").with_workspace(&ws),
        is_owner: ws.is_owner(),
        can_edit: ws.can_edit(),
        email,
        sms,
        ai,
        ai_usage,
        hooks,
        more_suppressions: page.next_cursor.is_some(),
        suppressions: page.items,
        errors: extra.errors,
        failed_form: extra.failed_form,
        consent_url: extra.consent_url,
        test_result: extra.test_result,
        ws,
    };
    Ok((status, page).into_response())
}

/// The page again with `e` shown on the form `form` (an error that is no user's mistake goes
/// to the error page instead).
async fn with_errors(
    state: &AppState,
    pw: PageWs,
    e: AppError,
    form: &str,
    typed: Option<(Service, Map<String, Value>)>,
) -> Result<Response, PageError> {
    let extra = Extra {
        errors: FormErrors::from_error(e)?,
        failed_form: form.to_string(),
        typed,
        ..Extra::default()
    };
    render(state, pw, extra).await
}

pub async fn page(State(state): State<AppState>, pw: PageWs) -> Result<Response, PageError> {
    render(&state, pw, Extra::default()).await
}

fn url(ws: &WorkspaceAccess) -> String {
    format!("/workspaces/{}/messaging", ws.id())
}

/// The form's fields as the API's JSON body: numbers where the API takes numbers, and blank
/// inputs left out (so defaults apply and stored secrets are kept).
fn settings_body(form: &Pairs) -> Map<String, Value> {
    let mut body = Map::new();
    for (key, value) in &form.0 {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let v = match key.as_str() {
            "port" | "per_minute" | "daily_token_limit" | "timeout_seconds" | "max_answer_kib" => value
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(value)),
            _ => Value::from(value),
        };
        body.insert(key.clone(), v);
    }
    body
}

pub async fn save(
    State(state): State<AppState>,
    pw: PageWs<Owner>,
    PagePath((_, channel)): PagePath<(WorkspaceId, String)>,
    Form(form): Form<Pairs>,
) -> Result<Response, PageError> {
    let channel = Service::from_path(&channel)?;
    let body = settings_body(&form);
    let kind = form.first("kind").to_string();
    let pw = pw.any_role();
    match providers::put(&state, &pw.actor, &pw.ws, channel, Value::Object(body.clone())).await {
        Ok(_) => Ok(flash::redirect(
            &state,
            &url(&pw.ws),
            "success",
            "Provider saved. Send a test to check it.",
        )),
        Err(e) => with_errors(&state, pw, e, &kind, Some((channel, body))).await,
    }
}

pub async fn remove(
    State(state): State<AppState>,
    pw: PageWs<Owner>,
    PagePath((_, channel)): PagePath<(WorkspaceId, String)>,
) -> Result<Response, PageError> {
    let channel = Service::from_path(&channel)?;
    providers::delete(&state, &pw.actor, &pw.ws, channel).await?;
    Ok(flash::redirect(&state, &url(&pw.ws), "success", "Provider removed."))
}

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    to: String,
}

pub async fn test(
    State(state): State<AppState>,
    pw: PageWs<Owner>,
    PagePath((_, channel)): PagePath<(WorkspaceId, String)>,
    Form(form): Form<TestForm>,
) -> Result<Response, PageError> {
    let channel = Service::from_path(&channel)?;
    let pw = pw.any_role();
    let to = Some(form.to.as_str()).filter(|t| !t.trim().is_empty());
    let result = match providers::test_send(&state, &pw.actor, &pw.ws, channel, to).await {
        Ok(r) if r.ok && channel == Service::Ai => (true, "The AI service answered. AI is ready.".to_string()),
        Ok(r) if r.ok => (
            true,
            "The provider took the test message. Check that it arrived.".to_string(),
        ),
        Ok(r) => (false, r.error.unwrap_or_else(|| "the provider refused it".into())),
        Err(e @ (AppError::Invalid { .. } | AppError::Refused { .. })) => (false, e.public_message()),
        Err(e) => return Err(e.into()),
    };
    render(
        &state,
        pw,
        Extra {
            test_result: Some(result),
            ..Extra::default()
        },
    )
    .await
}

pub async fn gmail_consent(State(state): State<AppState>, pw: PageWs<Owner>) -> Result<Response, PageError> {
    let pw = pw.any_role();
    let consent = providers::gmail_consent(&state, &pw.actor, &pw.ws).await?;
    render(
        &state,
        pw,
        Extra {
            consent_url: Some(consent),
            ..Extra::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    redirect_url: String,
}

pub async fn gmail_link(
    State(state): State<AppState>,
    pw: PageWs<Owner>,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    let pw = pw.any_role();
    match providers::gmail_link(&state, &pw.actor, &pw.ws, &form.redirect_url).await {
        Ok(()) => Ok(flash::redirect(
            &state,
            &url(&pw.ws),
            "success",
            "Google account linked.",
        )),
        Err(e) => with_errors(&state, pw, e, "gmail_link", None).await,
    }
}

#[derive(Deserialize)]
pub struct SuppressForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    scope: String,
}

pub async fn suppress(
    State(state): State<AppState>,
    pw: PageWs<Editor>,
    Form(form): Form<SuppressForm>,
) -> Result<Response, PageError> {
    let pw = pw.any_role();
    let input = SuppressionInput {
        address: form.address,
        channel: form.channel,
        reason: Some("manual".into()),
        scope: Some(form.scope),
    };
    match suppression::add(&state.db, &state.config.default_phone_region, &pw.actor, &pw.ws, input).await {
        Ok((s, true)) => Ok(flash::redirect(
            &state,
            &url(&pw.ws),
            "success",
            &match s.scope {
                suppression::SuppressionScope::All => format!("Nothing will be sent to {} any more.", s.address),
                suppression::SuppressionScope::Marketing => {
                    format!(
                        "Campaigns will not be sent to {} any more; your own messages still go.",
                        s.address
                    )
                }
            },
        )),
        Ok((s, false)) => Ok(flash::redirect(
            &state,
            &url(&pw.ws),
            "success",
            &format!("{} was already on the list.", s.address),
        )),
        Err(e) => with_errors(&state, pw, e, "suppression", None).await,
    }
}

pub async fn unsuppress(
    State(state): State<AppState>,
    pw: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, SuppressionId)>,
) -> Result<Response, PageError> {
    suppression::remove(&state.db, &pw.actor, &pw.ws, &id).await?;
    Ok(flash::redirect(
        &state,
        &url(&pw.ws),
        "success",
        "Removed from the suppression list.",
    ))
}

/// One input of a provider form.
struct Input {
    key: &'static str,
    label: &'static str,
    /// `text`, `password` (a secret), `number`, `email` or `select`.
    kind: &'static str,
    value: String,
    error: Option<String>,
    /// For a secret: one is stored, and an empty input keeps it.
    is_set: bool,
    hint: &'static str,
    options: &'static [(&'static str, &'static str)],
    required: bool,
}

/// A provider's form on the page.
struct ProviderForm {
    kind: &'static str,
    channel: &'static str,
    title: &'static str,
    blurb: &'static str,
    inputs: Vec<Input>,
    /// It is the provider in use.
    current: bool,
}

type Spec = (&'static str, &'static str, &'static str, &'static str, bool);

impl MessagingPage {
    fn forms(&self) -> Vec<ProviderForm> {
        const MAILGUN: &[Spec] = &[
            ("domain", "Sending domain", "text", "e.g. mg.example.com", true),
            ("from", "From", "text", "e.g. Andy Lee <andy@mg.example.com>", true),
            (
                "reply_to",
                "Replies go to (optional)",
                "text",
                "e.g. andy@lee-family.example, when replies should reach another inbox than From",
                false,
            ),
            (
                "api_key",
                "API key",
                "password",
                "Mailgun → Sending → Domain settings → Sending API keys",
                true,
            ),
            (
                "webhook_signing_key",
                "Webhook signing key",
                "password",
                "Mailgun → Sending → Webhooks → HTTP webhook signing key",
                true,
            ),
            ("api_base", "Region", "select", "", false),
            (
                "per_minute",
                "Messages per minute",
                "number",
                "600 if empty; 0 for no limit",
                false,
            ),
        ];
        const SMTP: &[Spec] = &[
            (
                "host",
                "Server",
                "text",
                "e.g. smtp.gmail.com or smtp.office365.com",
                true,
            ),
            ("port", "Port", "number", "587 for STARTTLS, 465 for TLS", true),
            ("security", "Security", "select", "", true),
            ("username", "Username", "text", "Usually your email address", false),
            (
                "password",
                "Password",
                "password",
                "For Gmail: an app password (Google Account → Security → App passwords)",
                false,
            ),
            ("from", "From", "text", "e.g. Andy Lee <andy@example.com>", true),
            (
                "reply_to",
                "Replies go to (optional)",
                "text",
                "e.g. andy@lee-family.example, when replies should reach another inbox than From",
                false,
            ),
            (
                "ca_pem",
                "Certificate to trust (optional)",
                "textarea",
                "Only for a mail server on your own network with its own certificate: paste it as PEM",
                false,
            ),
            ("per_minute", "Messages per minute", "number", "60 if empty", false),
        ];
        const GRAPH: &[Spec] = &[
            (
                "tenant_id",
                "Directory (tenant) ID",
                "text",
                "Entra admin center → App registrations → your app",
                true,
            ),
            ("client_id", "Application (client) ID", "text", "", true),
            (
                "client_secret",
                "Client secret",
                "password",
                "The app needs the Mail.Send application permission",
                true,
            ),
            (
                "sender",
                "Mailbox that sends",
                "email",
                "e.g. andy@lee-family.example",
                true,
            ),
            ("from", "From", "text", "e.g. Andy Lee <andy@lee-family.example>", true),
            (
                "reply_to",
                "Replies go to (optional)",
                "text",
                "e.g. andy@lee-family.example, when replies should reach another inbox than From",
                false,
            ),
            ("per_minute", "Messages per minute", "number", "30 if empty", false),
        ];
        const GMAIL: &[Spec] = &[
            (
                "client_id",
                "OAuth client ID",
                "text",
                "Google Cloud console → Credentials → OAuth client (Desktop app)",
                true,
            ),
            ("client_secret", "OAuth client secret", "password", "", true),
            ("from", "From", "text", "e.g. Andy Lee <andy.lee@gmail.com>", true),
            (
                "reply_to",
                "Replies go to (optional)",
                "text",
                "e.g. andy@lee-family.example, when replies should reach another inbox than From",
                false,
            ),
            ("per_minute", "Messages per minute", "number", "60 if empty", false),
        ];
        const TWILIO: &[Spec] = &[
            ("account_sid", "Account SID", "text", "AC… on the Twilio console", true),
            ("auth_token", "Auth token", "password", "", true),
            (
                "from",
                "Sending number",
                "text",
                "e.g. +1 415 555 0100, or a messaging service MG…",
                true,
            ),
            ("per_minute", "Messages per minute", "number", "60 if empty", false),
        ];
        const OPENAI: &[Spec] = &[
            (
                "base_url",
                "Address",
                "text",
                "https://api.openai.com/v1 · Ollama: http://localhost:11434/v1 · llama.cpp: http://localhost:8081/v1 (run it with --port 8081: pi-crm has 8080)",
                true,
            ),
            ("model", "Model", "text", "e.g. gpt-4o-mini, llama3.2", true),
            (
                "api_key",
                "API key",
                "password",
                "Needed for OpenAI; leave empty for a local server without one",
                false,
            ),
            (
                "daily_token_limit",
                "Tokens a day",
                "number",
                "200000 if empty; AI stops for the day past it",
                false,
            ),
            (
                "timeout_seconds",
                "Wait for an answer (seconds)",
                "number",
                "120 if empty; allow minutes for a model on this Pi",
                false,
            ),
            (
                "max_answer_kib",
                "Longest answer read (KiB)",
                "number",
                "1024 if empty; a longer answer is refused, never read into memory whole",
                false,
            ),
        ];
        let make = |kind: &'static str, channel: &'static str, title, blurb, specs: &[Spec]| {
            let shown = self.shown(channel);
            ProviderForm {
                kind,
                channel,
                title,
                blurb,
                current: shown.kind == kind,
                inputs: specs
                    .iter()
                    .map(|(key, label, input_kind, hint, required)| Input {
                        key,
                        label,
                        kind: input_kind,
                        value: if *input_kind == "password" {
                            String::new()
                        } else {
                            self.val(kind, key)
                        },
                        error: self.err(kind, key).map(str::to_string),
                        is_set: self.secret_set(kind, key),
                        hint,
                        options: match *key {
                            "api_base" => &[
                                ("https://api.mailgun.net", "US (api.mailgun.net)"),
                                ("https://api.eu.mailgun.net", "EU (api.eu.mailgun.net)"),
                            ],
                            "security" => &[
                                ("starttls", "STARTTLS (port 587)"),
                                ("tls", "TLS (port 465)"),
                                ("none", "None (a relay on your own network)"),
                            ],
                            _ => &[],
                        },
                        required: *required && !(*input_kind == "password" && self.secret_set(kind, key)),
                    })
                    .collect(),
            }
        };
        vec![
            make(
                "mailgun",
                "email",
                "Mailgun",
                "Best for campaigns: delivery, opens and bounces come back to the timeline.",
                MAILGUN,
            ),
            make(
                "smtp",
                "email",
                "SMTP",
                "Gmail with an app password, Google Workspace, Microsoft 365, or any mail server.",
                SMTP,
            ),
            make(
                "graph",
                "email",
                "Microsoft 365 (Graph)",
                "Sends as your Microsoft 365 mailbox. One-to-one mail only: Graph cannot carry one-click unsubscribe.",
                GRAPH,
            ),
            make(
                "gmail",
                "email",
                "Gmail (Google sign-in)",
                "Sends as your Google account through the Gmail API; you link the account once.",
                GMAIL,
            ),
            make(
                "twilio",
                "sms",
                "Twilio",
                "Texts, delivery statuses, replies and STOP handling.",
                TWILIO,
            ),
            make(
                "openai",
                "ai",
                "OpenAI-compatible service",
                "OpenAI, or a model on your own network (Ollama, llama.cpp): drafts templates and personal messages.",
                OPENAI,
            ),
        ]
    }
}
