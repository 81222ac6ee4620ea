//! Adapters to the services that carry messages (SPEC §8.1). Each implements `EmailSender` or
//! `SmsSender` and knows nothing of the database: it is given a message and its settings, and
//! answers with an `Outcome` that says exactly what the worker may do next.

pub mod email;
pub mod http;
pub mod llm;
pub mod sms;

use std::time::Duration;

/// What a provider's answer means for the message, by what it proves about delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Taken by the provider; its id for the message when it gave one.
    Sent { provider_id: Option<String> },
    /// Refused before anything was sent (connection refused, 429, 503): safe to try again,
    /// after `after` when the provider said how long.
    Retry { reason: String, after: Option<Duration> },
    /// Refused for good (a bad address, bad credentials); `suppress` when the refusal says the
    /// recipient opted out (Twilio 21610), so no send reaches them again.
    Failed { reason: String, suppress: bool },
    /// It may or may not have gone (a timeout after sending, a 5xx, a reset connection): never
    /// retried by itself, or the recipient could get it twice.
    Unknown { reason: String },
}

impl Outcome {
    pub fn failed(reason: impl Into<String>) -> Outcome {
        Outcome::Failed {
            reason: reason.into(),
            suppress: false,
        }
    }
}

/// One email as a provider is given it. `text` is always present (the plain-text part every
/// mail carries); `html` when the message has one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Email {
    pub from: String,
    /// `Reply-To:`, when replies go somewhere other than `from`.
    #[serde(default)]
    pub reply_to: Option<String>,
    pub to: String,
    /// The recipient's name for `To:` (RFC 2047-encoded in the header when not ASCII).
    #[serde(default)]
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Extra MIME headers (`List-Unsubscribe` …), in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Our id for it: carried to the provider so its events can be matched back.
    pub outbox_id: String,
}

/// One text message.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Text {
    pub from: String,
    pub to: String,
    pub body: String,
    /// Where the provider reports the delivery status (with our id in it), when pi-crm has a
    /// public address.
    pub status_callback: Option<String>,
}

pub trait EmailSender {
    fn send(&self, email: &Email) -> impl std::future::Future<Output = Outcome> + Send;
}

pub trait SmsSender {
    fn send(&self, text: &Text) -> impl std::future::Future<Output = Outcome> + Send;
}

/// Limits a provider error text to something a timeline can show.
pub fn short(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(500) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
