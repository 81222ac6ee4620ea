//! Email providers: the settings each takes (public fields and secrets together; the domain
//! seals the secrets before they are stored) and one `Mailer` that sends through whichever is
//! configured.

pub mod gmail;
pub mod graph;
pub mod mailgun;
pub mod mailgun_events;
pub mod mime;
pub mod smtp;
pub mod smtp_tls;

use serde::{Deserialize, Serialize};

use super::{Email, EmailSender, Outcome};

/// A workspace's email provider, as `PUT …/providers/email` takes it (SPEC §8.1).
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EmailProvider {
    Mailgun(mailgun::Settings),
    Smtp(smtp::Settings),
    Graph(graph::Settings),
    Gmail(gmail::Settings),
}

impl EmailProvider {
    pub fn kind(&self) -> &'static str {
        match self {
            EmailProvider::Mailgun(_) => "mailgun",
            EmailProvider::Smtp(_) => "smtp",
            EmailProvider::Graph(_) => "graph",
            EmailProvider::Gmail(_) => "gmail",
        }
    }

    /// The fields that are secrets: stored sealed, never shown again.
    pub fn secret_fields(kind: &str) -> &'static [&'static str] {
        match kind {
            "mailgun" => &["api_key", "webhook_signing_key"],
            "smtp" => &["password"],
            "graph" => &["client_secret"],
            "gmail" => &["client_secret", "refresh_token", "pending_verifier"],
            _ => &[],
        }
    }

    /// The settings that say where the secrets go: when one changes, the secrets must be
    /// given again, so a stored key is never sent to a new address.
    pub fn destination_fields(kind: &str) -> &'static [&'static str] {
        match kind {
            "mailgun" => &["api_base"],
            // A weaker `security` would send the password to the same host in the clear.
            "smtp" => &["host", "port", "security"],
            "graph" => &["tenant_id", "client_id", "api_base", "login_base"],
            "gmail" => &["client_id", "auth_base", "token_base", "api_base"],
            _ => &[],
        }
    }

    /// The address mail is sent from.
    pub fn from(&self) -> &str {
        match self {
            EmailProvider::Mailgun(s) => &s.from,
            EmailProvider::Smtp(s) => &s.from,
            EmailProvider::Graph(s) => &s.from,
            EmailProvider::Gmail(s) => &s.from,
        }
    }

    /// Where replies go, when set apart from `from`.
    pub fn reply_to(&self) -> Option<&str> {
        let reply_to = match self {
            EmailProvider::Mailgun(s) => &s.reply_to,
            EmailProvider::Smtp(s) => &s.reply_to,
            EmailProvider::Graph(s) => &s.reply_to,
            EmailProvider::Gmail(s) => &s.reply_to,
        };
        Some(reply_to.trim()).filter(|r| !r.is_empty())
    }

    /// An email from this provider's sender (and its Reply-To) to `to`.
    pub fn email(&self, to: String, outbox_id: String) -> Email {
        Email {
            from: self.from().to_string(),
            reply_to: self.reply_to().map(str::to_string),
            to,
            to_name: None,
            subject: String::new(),
            text: String::new(),
            html: None,
            headers: Vec::new(),
            outbox_id,
        }
    }

    /// Messages a minute the worker keeps to (`0`: no limit).
    pub fn per_minute(&self) -> u32 {
        match self {
            EmailProvider::Mailgun(s) => s.per_minute.unwrap_or(600),
            EmailProvider::Smtp(s) => s.per_minute.unwrap_or(60),
            EmailProvider::Graph(s) => s.per_minute.unwrap_or(30),
            EmailProvider::Gmail(s) => s.per_minute.unwrap_or(60),
        }
    }

    /// Every problem with the settings, as `(field, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        mime::check_from(&mut out, self.from());
        mime::check_reply_to(&mut out, self.reply_to());
        match self {
            EmailProvider::Mailgun(s) => s.check(&mut out),
            EmailProvider::Smtp(s) => s.check(&mut out),
            EmailProvider::Graph(s) => s.check(&mut out),
            EmailProvider::Gmail(s) => s.check(&mut out),
        }
        check_per_minute(&mut out, self.per_minute());
        out
    }
}

/// An email provider ready to send.
pub struct Mailer {
    pub provider: EmailProvider,
    pub http: reqwest::Client,
}

impl EmailSender for Mailer {
    async fn send(&self, email: &Email) -> Outcome {
        match &self.provider {
            EmailProvider::Mailgun(s) => mailgun::send(s, &self.http, email).await,
            EmailProvider::Smtp(s) => smtp::send(s, email).await,
            EmailProvider::Graph(s) => graph::send(s, &self.http, email).await,
            EmailProvider::Gmail(s) => gmail::send(s, &self.http, email).await,
        }
    }
}

pub(crate) fn check_per_minute(out: &mut Vec<(String, String)>, n: u32) {
    if n > 100_000 {
        out.push(("per_minute".into(), "per_minute is at most 100000 (0: no limit)".into()));
    }
}

/// A required text setting.
pub(crate) fn check_present(out: &mut Vec<(String, String)>, field: &str, value: &str) {
    if value.trim().is_empty() {
        out.push((field.into(), format!("{field} is required")));
    }
}

/// An `http` or `https` base address (plain http is allowed: fakes in tests, a LAN server).
pub(crate) fn check_base(out: &mut Vec<(String, String)>, field: &str, value: &str) {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => out.push((field.into(), format!("{field} must be an http or https address"))),
    }
}

/// `base` without a trailing slash, then `path`.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}
