//! What an HTTP provider's answer proves, shared by Mailgun, Twilio, Graph and Gmail: a
//! connection that never opened, a 429 or a 503 sent nothing (retry); another 4xx is a
//! refusal (failed); a timeout once the request went out, a reset, or another 5xx may have
//! sent it (unknown).
//!
//! An owner chooses where a provider lives (a LAN model server is a real use), so these calls
//! must not become a way to read the house's other services: no redirect is followed, an
//! answer is read up to a cap, a connection failure is one sentence whatever the cause (no
//! port scan by error message), and an answer's own words are shown only when they have the
//! provider's documented error shape.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{Outcome, short};

/// How long a provider may take to answer before the outcome is unknown.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(30);
/// The most of a provider's answer that is read (its JSON is a few kilobytes).
pub const ANSWER_CAP: usize = 1024 * 1024;

/// One client for every provider call: its connections are pooled; it follows no redirect.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(ANSWER_WITHIN)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("pi-crm/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds (rustls with ring)")
}

/// Why an answer could not be read.
pub enum BodyError {
    Transport(reqwest::Error),
    /// Longer than the cap: the rest is not read.
    TooLong,
}

/// Reads an answer's body up to `cap` bytes, chunk by chunk, so a huge answer never lands in
/// memory whole.
pub async fn body_capped(response: &mut Response, cap: usize) -> Result<String, BodyError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLong);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if bytes.len() + chunk.len() > cap {
            return Err(BodyError::TooLong);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A provider's answer, read whole (up to `ANSWER_CAP`).
pub struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: Value,
    pub text: String,
}

/// Reads the answer, or the outcome of a transport failure.
pub async fn read(result: Result<Response, reqwest::Error>, provider: &str) -> Result<Reply, Outcome> {
    let mut response = result.map_err(|e| transport_error(&e, provider))?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let text = match body_capped(&mut response, ANSWER_CAP).await {
        Ok(text) => text,
        Err(BodyError::Transport(e)) => return Err(transport_error(&e, provider)),
        // The request went out and was answered: what it did is not known.
        Err(BodyError::TooLong) => {
            return Err(Outcome::Unknown {
                reason: format!(
                    "{provider} answered {status} with more than {} KiB, which pi-crm does not read: check the address in the settings",
                    ANSWER_CAP / 1024
                ),
            });
        }
    };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        retry_after,
        body,
        text,
    })
}

impl Reply {
    /// The JSON body of a success, or what the refusal means.
    pub fn judge(self, provider: &str) -> Result<Value, Outcome> {
        if self.status.is_success() {
            return Ok(self.body);
        }
        let status = self.status;
        let reason = if status.is_redirection() {
            format!(
                "{provider} answered {status}, a redirect, which pi-crm does not follow: check the address in the settings"
            )
        } else {
            match provider_message(provider, &self.body) {
                Some(said) => format!("{provider} answered {status}: {said}"),
                None => format!("{provider} answered {status}{}", not_its_words(provider, status)),
            }
        };
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Outcome::Retry {
                reason,
                after: self.retry_after,
            },
            s if s.is_client_error() || s.is_redirection() => Outcome::failed(reason),
            _ => Outcome::Unknown { reason },
        })
    }
}

/// A successful answer's JSON body, or the outcome that ends the send.
pub async fn answer(result: Result<Response, reqwest::Error>, provider: &str) -> Result<Value, Outcome> {
    read(result, provider).await?.judge(provider)
}

/// A failure below HTTP: before the connection opened nothing was sent; after, it may have been.
pub fn transport_error(e: &reqwest::Error, provider: &str) -> Outcome {
    if e.is_connect() {
        // One sentence for refused, unreachable, no such name and a failed handshake alike.
        return Outcome::Retry {
            reason: format!(
                "could not connect to {provider} at the configured address (nothing answered there, it refused, or its certificate did not match)"
            ),
            after: None,
        };
    }
    if e.is_builder() {
        return Outcome::failed(format!(
            "the request to {provider} could not be made: {}",
            root_cause(e)
        ));
    }
    if e.is_timeout() {
        return Outcome::Unknown {
            reason: format!("{provider} did not answer within {} seconds", ANSWER_WITHIN.as_secs()),
        };
    }
    Outcome::Unknown {
        reason: format!("the connection to {provider} broke: {}", root_cause(e)),
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `Retry-After` in seconds (the form Twilio, Mailgun and Graph use), capped at an hour.
fn retry_after(response: &Response) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// The sentence a provider put in its error body — only when the body has that provider's
/// documented error shape, so an address pointed at some other service never echoes it:
/// Mailgun `{"message"}` alone; Twilio `{"code", "message", "more_info"}`; Graph, Gmail and
/// OpenAI-compatible servers `{"error": {"message", "code" | "type" | "status"}}`; OAuth sign-in
/// `{"error", "error_description"}`.
pub fn provider_message(provider: &str, body: &Value) -> Option<String> {
    let obj = body.as_object()?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(short);
    let said = match provider {
        "Mailgun" => (obj.keys().all(|k| k == "message" || k == "id")).then(|| text(obj.get("message")))??,
        "Twilio" => (obj.get("code").is_some_and(Value::is_number) && obj.contains_key("more_info"))
            .then(|| text(obj.get("message")))??,
        "Microsoft sign-in" | "Google sign-in" => {
            (obj.get("error").is_some_and(Value::is_string)).then(|| text(obj.get("error_description")))??
        }
        _ => {
            let error = obj.get("error")?.as_object()?;
            let typed = ["code", "type", "status"].iter().any(|k| error.contains_key(*k));
            typed.then(|| text(error.get("message")))??
        }
    };
    Some(said)
}

/// What is said instead of an answer without the provider's error shape.
fn not_its_words(provider: &str, status: StatusCode) -> String {
    match status.as_u16() {
        401 | 403 => " — check the key or password in the settings".into(),
        _ => {
            format!(", not in {provider}'s error format, so its answer is not shown: check the address in the settings")
        }
    }
}

/// Same scheme, host and port.
pub fn same_origin(base: &str, url: &str) -> bool {
    match (url::Url::parse(base), url::Url::parse(url)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// What a failed call says, for the job's line and log.
pub fn reason(o: &Outcome) -> String {
    match o {
        Outcome::Retry { reason, .. } | Outcome::Failed { reason, .. } | Outcome::Unknown { reason } => reason.clone(),
        Outcome::Sent { .. } => "answered without a page".into(),
    }
}
