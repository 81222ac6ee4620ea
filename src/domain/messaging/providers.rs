//! A workspace's providers (SPEC §8.1): which service carries its email and its texts, set by
//! its owner only. Secrets are write-only: sealed with the data-dir key before they are
//! stored (`crate::sealed`), never answered, logged or audited; a `PUT` that leaves a secret
//! out keeps the one stored for the same kind of provider.

use serde_json::{Map, Value, json};

use crate::domain::actor::{Actor, Scope};
use crate::domain::audit;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::providers::email::{EmailProvider, Mailer};
use crate::providers::llm::AiProvider;
use crate::providers::sms::{SmsProvider, Texter};
use crate::state::AppState;
use crate::storage;

/// Which of a workspace's providers: the one for email, for texts, or for AI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Email,
    Sms,
    Ai,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Email => "email",
            Service::Sms => "sms",
            Service::Ai => "ai",
        }
    }

    /// `email`, `sms` or `ai` from a path; anything else is 404.
    pub fn from_path(text: &str) -> AppResult<Service> {
        match text {
            "email" => Ok(Service::Email),
            "sms" => Ok(Service::Sms),
            "ai" => Ok(Service::Ai),
            _ => Err(AppError::NotFound),
        }
    }

    fn secret_fields(self, kind: &str) -> &'static [&'static str] {
        match self {
            Service::Email => EmailProvider::secret_fields(kind),
            Service::Sms => SmsProvider::secret_fields(kind),
            Service::Ai => AiProvider::secret_fields(kind),
        }
    }

    fn destination_fields(self, kind: &str) -> &'static [&'static str] {
        match self {
            Service::Email => EmailProvider::destination_fields(kind),
            Service::Sms => SmsProvider::destination_fields(kind),
            Service::Ai => AiProvider::destination_fields(kind),
        }
    }
}

/// Each provider's public settings and which secrets are set.
#[derive(Debug)]
pub struct ProvidersView {
    pub email: Option<Value>,
    pub sms: Option<Value>,
    pub ai: Option<Value>,
    pub webhook_urls: WebhookUrls,
}

/// Where providers must post their webhooks (built from `public_url`; `null` without it).
#[derive(Debug)]
pub struct WebhookUrls {
    pub twilio_sms: Option<String>,
    pub twilio_status: Option<String>,
    pub mailgun_events: Option<String>,
}

impl WebhookUrls {
    pub fn for_workspace(state: &AppState, ws: &WorkspaceAccess) -> WebhookUrls {
        let url = |path: String| {
            state
                .config
                .public_url
                .as_deref()
                .map(|base| format!("{}{path}", base.trim_end_matches('/')))
        };
        WebhookUrls {
            twilio_sms: url(format!("/webhooks/twilio/{}/sms", ws.id())),
            twilio_status: url(format!("/webhooks/twilio/{}/status", ws.id())),
            mailgun_events: url(format!("/webhooks/mailgun/{}/events", ws.id())),
        }
    }
}

fn require_owner(actor: &Actor, ws: &WorkspaceAccess) -> AppResult<()> {
    actor.require(Scope::ManageWorkspaces)?;
    ws.require_owner("see or change its providers")
}

pub async fn view(state: &AppState, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<ProvidersView> {
    require_owner(actor, ws)?;
    Ok(ProvidersView {
        email: public_view(state, ws, Service::Email).await?,
        sms: public_view(state, ws, Service::Sms).await?,
        ai: public_view(state, ws, Service::Ai).await?,
        webhook_urls: WebhookUrls::for_workspace(state, ws),
    })
}

/// The public settings of one provider, with `secrets_set` naming the secrets it holds.
async fn public_view(state: &AppState, ws: &WorkspaceAccess, channel: Service) -> AppResult<Option<Value>> {
    let Some(row) = storage::providers::get(&state.db, ws, channel.as_str()).await? else {
        return Ok(None);
    };
    let mut public: Map<String, Value> = serde_json::from_str(&row.settings).unwrap_or_default();
    // Which secrets are set is read from the sealed part; a part that does not open says so.
    let secrets = open_secrets(state, ws, channel, &row.secrets);
    let set: Vec<&str> = match &secrets {
        Ok(s) => channel
            .secret_fields(&row.kind)
            .iter()
            .copied()
            .filter(|f| *f != "pending_verifier")
            .filter(|f| s.get(*f).and_then(Value::as_str).is_some_and(|v| !v.is_empty()))
            .collect(),
        Err(_) => Vec::new(),
    };
    public.insert("kind".into(), json!(row.kind));
    public.insert("secrets_set".into(), json!(set));
    if let Err(e) = secrets {
        public.insert("problem".into(), json!(e.to_string()));
    }
    Ok(Some(Value::Object(public)))
}

/// Sets (or replaces) the workspace's provider for `channel` from a `PUT` body.
pub async fn put(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    channel: Service,
    body: Value,
) -> AppResult<Value> {
    require_owner(actor, ws)?;
    let Value::Object(mut given) = body else {
        return Err(AppError::invalid("", "the settings are a JSON object"));
    };
    let kind = given
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // A secret left out (or empty) keeps the one stored for the same kind of provider — as
    // long as it goes where it went: kept secrets are never sent to a new address.
    let mut kept = Vec::new();
    let stored = stored_secrets(state, ws, channel).await?.filter(|s| s.kind == kind);
    if let Some(stored) = &stored {
        for field in channel.secret_fields(&kind) {
            let missing = given.get(*field).and_then(Value::as_str).is_none_or(str::is_empty);
            if missing
                && let Some(v) = stored.secrets.get(*field)
                && v.as_str().is_some_and(|v| !v.is_empty())
            {
                given.insert((*field).to_string(), v.clone());
                kept.push(*field);
            }
        }
    }
    let full = Value::Object(given);
    let (kind, problems, normalised) = match channel {
        Service::Email => {
            let p: EmailProvider = parse(full)?;
            (p.kind(), p.problems(), serde_json::to_value(&p))
        }
        Service::Sms => {
            let p: SmsProvider = parse(full)?;
            (
                p.kind(),
                p.problems(&state.config.default_phone_region),
                serde_json::to_value(&p),
            )
        }
        Service::Ai => {
            let p: AiProvider = parse(full)?;
            (p.kind(), p.problems(), serde_json::to_value(&p))
        }
    };
    if !problems.is_empty() {
        return Err(AppError::InvalidMany(problems));
    }
    let Value::Object(mut all) = normalised.map_err(anyhow::Error::from)? else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "provider settings serialise as an object"
        )));
    };
    if let Some(stored) = &stored {
        let moved: Vec<&str> = channel
            .destination_fields(kind)
            .iter()
            .copied()
            .filter(|f| all.get(*f) != stored.settings.get(*f))
            .collect();
        if !moved.is_empty() && !kept.is_empty() {
            let why = format!(
                "give it again: {} changed, and a stored secret is never sent to a new address",
                moved.join(", ")
            );
            return Err(AppError::InvalidMany(
                kept.iter().map(|f| ((*f).to_string(), format!("{f}: {why}"))).collect(),
            ));
        }
    }
    all.remove("kind");
    let mut secrets = Map::new();
    for field in channel.secret_fields(kind) {
        if let Some(v) = all.remove(*field) {
            secrets.insert((*field).to_string(), v);
        }
    }
    let row = storage::providers::Row {
        kind: kind.to_string(),
        settings: Value::Object(all).to_string(),
        secrets: crate::sealed::seal(
            &state.secret,
            &context(ws, channel),
            Value::Object(secrets).to_string().as_bytes(),
        ),
    };
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::providers::put(&mut tx, ws, channel.as_str(), &row, &crate::clock::now_text()).await?;
    // The audit names the kind, never a setting: secrets stay out of the log.
    audit::in_workspace_with(
        &mut tx,
        actor,
        ws.id(),
        "provider.set",
        "provider",
        channel.as_str(),
        &json!({"kind": kind}),
    )
    .await?;
    tx.commit().await?;
    state
        .providers_changed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(public_view(state, ws, channel).await?.unwrap_or(Value::Null))
}

pub async fn delete(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, channel: Service) -> AppResult<()> {
    require_owner(actor, ws)?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    if !storage::providers::delete(&mut tx, ws, channel.as_str()).await? {
        return Err(AppError::NotFound);
    }
    audit::in_workspace(&mut tx, actor, ws.id(), "provider.delete", "provider", channel.as_str()).await?;
    tx.commit().await?;
    state
        .providers_changed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// Which channels have a provider: `(email, text)`. For pages that offer sending.
pub async fn configured(state: &AppState, ws: &WorkspaceAccess) -> AppResult<(bool, bool)> {
    let email = storage::providers::get(&state.db, ws, Service::Email.as_str())
        .await?
        .is_some();
    let sms = storage::providers::get(&state.db, ws, Service::Sms.as_str())
        .await?
        .is_some();
    Ok((email, sms))
}

/// The workspace's email provider, ready to send; `None` when it has none.
pub async fn mailer(state: &AppState, ws: &WorkspaceAccess) -> AppResult<Option<Mailer>> {
    Ok(load::<EmailProvider>(state, ws, Service::Email)
        .await?
        .map(|provider| Mailer {
            provider,
            http: state.http.clone(),
        }))
}

pub async fn texter(state: &AppState, ws: &WorkspaceAccess) -> AppResult<Option<Texter>> {
    Ok(load::<SmsProvider>(state, ws, Service::Sms)
        .await?
        .map(|provider| Texter {
            provider,
            http: state.http.clone(),
        }))
}

/// The workspace's AI provider; `None` when it has none.
pub async fn ai(state: &AppState, ws: &WorkspaceAccess) -> AppResult<Option<AiProvider>> {
    load::<AiProvider>(state, ws, Service::Ai).await
}

/// The stored provider with its secrets opened. A sealed part that does not open is a clear
/// error (the key was replaced), never a provider with garbage credentials.
async fn load<P: serde::de::DeserializeOwned>(
    state: &AppState,
    ws: &WorkspaceAccess,
    channel: Service,
) -> AppResult<Option<P>> {
    let Some(row) = storage::providers::get(&state.db, ws, channel.as_str()).await? else {
        return Ok(None);
    };
    let secrets = open_secrets(state, ws, channel, &row.secrets).map_err(|e| AppError::conflict(e.to_string()))?;
    let mut all: Map<String, Value> = serde_json::from_str(&row.settings).unwrap_or_default();
    all.extend(secrets);
    all.insert("kind".into(), json!(row.kind));
    serde_json::from_value(Value::Object(all)).map(Some).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "stored {} provider settings do not read: {e}",
            channel.as_str()
        ))
    })
}

/// Replaces the stored secrets' `field` (the Gmail link keeps its verifier and token this way).
pub async fn set_secret(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    channel: Service,
    changes: &[(&str, &str)],
) -> AppResult<()> {
    require_owner(actor, ws)?;
    let Some(row) = storage::providers::get(&state.db, ws, channel.as_str()).await? else {
        return Err(AppError::NotFound);
    };
    let mut secrets = open_secrets(state, ws, channel, &row.secrets).map_err(|e| AppError::conflict(e.to_string()))?;
    for (field, value) in changes {
        secrets.insert((*field).to_string(), json!(value));
    }
    let row = storage::providers::Row {
        secrets: crate::sealed::seal(
            &state.secret,
            &context(ws, channel),
            Value::Object(secrets).to_string().as_bytes(),
        ),
        ..row
    };
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::providers::put(&mut tx, ws, channel.as_str(), &row, &crate::clock::now_text()).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "provider.link", "provider", channel.as_str()).await?;
    tx.commit().await?;
    state
        .providers_changed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// The provider stored for `channel`: its kind, public settings and opened secrets.
struct Stored {
    kind: String,
    settings: Map<String, Value>,
    secrets: Map<String, Value>,
}

async fn stored_secrets(state: &AppState, ws: &WorkspaceAccess, channel: Service) -> AppResult<Option<Stored>> {
    let Some(row) = storage::providers::get(&state.db, ws, channel.as_str()).await? else {
        return Ok(None);
    };
    let settings = match serde_json::from_str(&row.settings) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    // Secrets that no longer open are as good as none: the owner is entering new ones.
    Ok(open_secrets(state, ws, channel, &row.secrets)
        .ok()
        .map(|secrets| Stored {
            kind: row.kind,
            settings,
            secrets,
        }))
}

fn open_secrets(
    state: &AppState,
    ws: &WorkspaceAccess,
    channel: Service,
    sealed: &[u8],
) -> Result<Map<String, Value>, crate::sealed::CannotOpen> {
    let plain = crate::sealed::open(&state.secret, &context(ws, channel), sealed)?;
    serde_json::from_slice(&plain).map_err(|_| crate::sealed::CannotOpen)
}

/// What a sealed part is bound to: it opens only for its own workspace and channel.
fn context(ws: &WorkspaceAccess, channel: Service) -> String {
    format!("provider-settings/{}/{}", ws.id(), channel.as_str())
}

/// Reads a body as a provider's settings; serde's complaint becomes a 422 naming the field.
fn parse<P: serde::de::DeserializeOwned>(body: Value) -> AppResult<P> {
    serde_json::from_value(body).map_err(|e| {
        let text = e.to_string();
        let unknown_kind = text.starts_with("unknown variant") || text.contains("missing field `kind`");
        let field = if unknown_kind {
            "kind"
        } else if text.starts_with("missing field") {
            text.split('`').nth(1).unwrap_or_default()
        } else {
            ""
        }
        .to_string();
        let message = if unknown_kind {
            "kind is one of the providers pi-crm knows (email: mailgun, smtp, graph, gmail; sms: twilio; ai: openai)"
                .to_string()
        } else {
            text
        };
        AppError::Invalid { field, message }
    })
}

/// What a test send came to: the provider's id, or its own words for the refusal.
#[derive(Debug)]
pub struct TestResult {
    pub ok: bool,
    pub provider_message_id: Option<String>,
    /// The provider's error text when it refused.
    pub error: Option<String>,
}

/// Sends one test message straight away (not through the outbox), to `to`, or for email to
/// the owner's own address.
pub async fn test_send(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    channel: Service,
    to: Option<&str>,
) -> AppResult<TestResult> {
    use crate::providers::{EmailSender, SmsSender};
    require_owner(actor, ws)?;
    let to = to.map(str::trim).filter(|t| !t.is_empty());
    let outcome = match channel {
        Service::Email => {
            let mailer = mailer(state, ws)
                .await?
                .ok_or_else(|| AppError::refused("provider_not_configured", "set an email provider first"))?;
            let to = match to {
                Some(t) => super::Channel::Email.normalise(t, "", "to")?,
                None => storage::users::find(&state.db, &actor.user_id)
                    .await?
                    .ok_or(AppError::NotFound)?
                    .email
                    .to_string(),
            };
            let email = crate::providers::Email {
                subject: "pi-crm test message".into(),
                text: format!(
                    "This is a test from pi-crm's workspace \"{}\". If you can read it, email through {} works.",
                    ws.name(),
                    mailer.provider.kind()
                ),
                ..mailer
                    .provider
                    .email(to, crate::domain::ids::OutboxId::generate().to_string())
            };
            match (mailer.send(&email).await, &mailer.provider) {
                // Below a refusal in the server's own SMTP words, one sentence (and what the
                // settings themselves suggest): the test must not tell a closed port from an
                // open one that speaks something else.
                (
                    crate::providers::Outcome::Retry { .. } | crate::providers::Outcome::Unknown { .. },
                    crate::providers::email::EmailProvider::Smtp(settings),
                ) => crate::providers::Outcome::failed(format!(
                    "no SMTP exchange with the mail server at the configured host and port: nothing answered there, it refused, it is not a mail server, or TLS failed{}",
                    crate::providers::email::smtp::likely_cause(settings)
                )),
                (outcome, _) => outcome,
            }
        }
        Service::Sms => {
            let texter = texter(state, ws)
                .await?
                .ok_or_else(|| AppError::refused("provider_not_configured", "set a text provider first"))?;
            let region = &state.config.default_phone_region;
            let to = to.ok_or_else(|| AppError::invalid("to", "give the number to send the test text to"))?;
            let to = super::Channel::Text.normalise(to, region, "to")?;
            let text = crate::providers::Text {
                from: texter.provider.sender(region),
                to,
                body: format!("pi-crm test text from \"{}\": texting works.", ws.name()),
                status_callback: None,
            };
            texter.send(&text).await
        }
        Service::Ai => {
            let provider = ai(state, ws)
                .await?
                .ok_or_else(|| AppError::refused("ai_not_configured", "set an AI provider first"))?;
            let ask = [crate::providers::llm::Message::user("Reply with the single word: OK")];
            match crate::providers::llm::chat(provider.settings(), &ask, 10).await {
                Ok(_) => crate::providers::Outcome::Sent { provider_id: None },
                Err(f) => crate::providers::Outcome::failed(f.message()),
            }
        }
    };
    Ok(match outcome {
        crate::providers::Outcome::Sent { provider_id } => TestResult {
            ok: true,
            provider_message_id: provider_id,
            error: None,
        },
        crate::providers::Outcome::Retry { reason, .. }
        | crate::providers::Outcome::Failed { reason, .. }
        | crate::providers::Outcome::Unknown { reason } => TestResult {
            ok: false,
            provider_message_id: None,
            error: Some(reason),
        },
    })
}

/// The first half of linking a Google account (SPEC §8.1): a fresh PKCE verifier is kept
/// (sealed) and the consent address is given to the owner to open in their browser.
pub async fn gmail_consent(state: &AppState, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<String> {
    require_owner(actor, ws)?;
    let settings = gmail_settings(state, ws).await?;
    let verifier = crate::auth::tokens::random_hex(32);
    set_secret(state, actor, ws, Service::Email, &[("pending_verifier", &verifier)]).await?;
    Ok(settings.consent_url(&verifier, &link_state(&verifier)))
}

/// The second half: the address Google's consent page sent the browser to (it does not load;
/// the owner pastes it here). Its `code` is traded for a refresh token, kept sealed.
pub async fn gmail_link(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, pasted: &str) -> AppResult<()> {
    require_owner(actor, ws)?;
    let settings = gmail_settings(state, ws).await?;
    let bad = |m: &str| AppError::invalid("redirect_url", m);
    let url = url::Url::parse(pasted.trim())
        .map_err(|_| bad("paste the whole address from the browser's address bar (it starts with http://127.0.0.1)"))?;
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    if let Some(error) = query.get("error") {
        return Err(bad(&format!("Google did not give access: {error}")));
    }
    let code = query
        .get("code")
        .ok_or_else(|| bad("this address has no code in it; start the link again"))?;
    if settings.pending_verifier.is_empty() || query.get("state") != Some(&link_state(&settings.pending_verifier)) {
        return Err(bad(
            "this address belongs to another link attempt; press \"Link Google account\" again",
        ));
    }
    let refresh = settings
        .redeem(&state.http, code)
        .await
        .map_err(|e| AppError::invalid("redirect_url", e))?;
    set_secret(
        state,
        actor,
        ws,
        Service::Email,
        &[("refresh_token", &refresh), ("pending_verifier", "")],
    )
    .await
}

async fn gmail_settings(state: &AppState, ws: &WorkspaceAccess) -> AppResult<crate::providers::email::gmail::Settings> {
    match load::<EmailProvider>(state, ws, Service::Email).await? {
        Some(EmailProvider::Gmail(s)) => Ok(s),
        _ => Err(AppError::conflict("set a Gmail provider (client id and secret) first")),
    }
}

/// The OAuth `state` of a link attempt: ties the pasted address to the verifier kept for it.
fn link_state(verifier: &str) -> String {
    crate::auth::tokens::sha256_hex(verifier)[..24].to_string()
}
