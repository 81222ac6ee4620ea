//! What an HTTP provider's answer proves, shared by Mailgun, Twilio, Graph and Gmail: a
//! connection that never opened, a 429 or a 503 sent nothing (retry); another 4xx is a
//! refusal (failed); a timeout once the request went out, a reset, or another 5xx may have
//! sent it (unknown).

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{Outcome, short};

/// How long a provider may take to answer before the outcome is unknown.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// One client for every provider call: its connections are pooled.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(ANSWER_WITHIN)
        .user_agent(concat!("pi-crm/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds (rustls with ring)")
}

/// A provider's answer, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: Value,
    pub text: String,
}

/// Reads the answer, or the outcome of a transport failure.
pub async fn read(result: Result<Response, reqwest::Error>, provider: &str) -> Result<Reply, Outcome> {
    let response = result.map_err(|e| transport_error(&e, provider))?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let text = response.text().await.map_err(|e| transport_error(&e, provider))?;
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
        let said = provider_message(&self.body).unwrap_or_else(|| short(&self.text));
        let reason = if said.is_empty() {
            format!("{provider} answered {status}")
        } else {
            format!("{provider} answered {status}: {said}")
        };
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Outcome::Retry {
                reason,
                after: self.retry_after,
            },
            s if s.is_client_error() => Outcome::failed(reason),
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
        return Outcome::Retry {
            reason: format!("could not reach {provider}: {}", root_cause(e)),
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

/// The sentence a provider put in its error body: `message` (Mailgun, Twilio),
/// `error.message` (Graph, Google), `error_description` (OAuth), or `error` as text.
pub fn provider_message(body: &Value) -> Option<String> {
    let text = body
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| body.pointer("/error/message").and_then(Value::as_str))
        .or_else(|| body.get("error_description").and_then(Value::as_str))
        .or_else(|| body.get("error").and_then(Value::as_str))?;
    Some(short(text))
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
