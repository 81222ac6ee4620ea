//! An OpenAI-compatible chat-completions endpoint (SPEC §9.2): OpenAI, Ollama, llama.cpp and
//! the like differ only in `base_url`, `api_key` and `model`. Read leniently (local servers
//! leave `usage` out, some answer `content: null`), with plain errors for everything else.

use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::email::{check_base, check_present, join};
use super::http::{BodyError, body_capped, provider_message};

/// How long to wait for a connection: a LAN box or the internet answers quickly or not at all.
const CONNECT_WITHIN: Duration = Duration::from_secs(5);
/// How long to wait for the answer by default: a local model on a Pi can take minutes.
pub const ANSWER_WITHIN_SECS: u64 = 120;
pub const DAILY_TOKEN_LIMIT: u64 = 200_000;

/// A workspace's AI provider, as `PUT …/providers/ai` takes it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum AiProvider {
    /// Any OpenAI-compatible server (`ollama` and `llamacpp` are the same wire protocol).
    #[serde(rename = "openai", alias = "ollama", alias = "llamacpp")]
    OpenAi(Settings),
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Up to and including `/v1`: `https://api.openai.com/v1`, `http://localhost:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// Secret; empty for a local server that needs none.
    #[serde(default)]
    pub api_key: String,
    /// Tokens the workspace may spend a day (default 200,000).
    #[serde(default)]
    pub daily_token_limit: Option<u64>,
    /// Seconds to wait for an answer (default 120).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// The most of an answer read, in KiB (default 1024): a longer one is an error, never
    /// read into memory whole.
    #[serde(default)]
    pub max_answer_kib: Option<u32>,
}

impl AiProvider {
    pub fn kind(&self) -> &'static str {
        "openai"
    }

    pub fn secret_fields(_kind: &str) -> &'static [&'static str] {
        &["api_key"]
    }

    /// The settings that say where the key goes (see `EmailProvider::destination_fields`).
    pub fn destination_fields(_kind: &str) -> &'static [&'static str] {
        &["base_url"]
    }

    pub fn settings(&self) -> &Settings {
        match self {
            AiProvider::OpenAi(s) => s,
        }
    }

    pub fn problems(&self) -> Vec<(String, String)> {
        let s = self.settings();
        let mut out = Vec::new();
        check_base(&mut out, "base_url", &s.base_url);
        check_present(&mut out, "model", &s.model);
        if s.daily_token_limit.is_some_and(|n| n == 0 || n > 1_000_000_000) {
            out.push((
                "daily_token_limit".into(),
                "daily_token_limit is between 1 and 1,000,000,000".into(),
            ));
        }
        if s.timeout_seconds.is_some_and(|n| !(5..=900).contains(&n)) {
            out.push(("timeout_seconds".into(), "timeout_seconds is between 5 and 900".into()));
        }
        if s.max_answer_kib.is_some_and(|n| !(16..=65536).contains(&n)) {
            out.push((
                "max_answer_kib".into(),
                "max_answer_kib is between 16 and 65536 (64 MiB)".into(),
            ));
        }
        out
    }
}

impl Settings {
    pub fn daily_limit(&self) -> u64 {
        self.daily_token_limit.unwrap_or(DAILY_TOKEN_LIMIT)
    }

    fn answer_within(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.unwrap_or(ANSWER_WITHIN_SECS))
    }

    fn answer_cap(&self) -> usize {
        self.max_answer_kib
            .map(|k| (k.max(1) as usize) * 1024)
            .unwrap_or(super::http::ANSWER_CAP)
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: "system".into(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: "user".into(),
            content: content.into(),
        }
    }
}

/// The model's answer and what it cost.
#[derive(Debug, Clone)]
pub struct Reply {
    pub content: String,
    pub total_tokens: u64,
    /// The server gave no `usage` (Ollama, llama.cpp): tokens estimated at 4 characters each.
    pub estimated: bool,
}

/// Why there is no answer, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout(String),
    Failed(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Timeout(m) | Failure::Failed(m) => m,
        }
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(CONNECT_WITHIN)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pi-crm/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds (rustls with ring)")
    })
}

/// Asks the model; `max_tokens` bounds the answer.
pub async fn chat(settings: &Settings, messages: &[Message], max_tokens: u32) -> Result<Reply, Failure> {
    let url = join(&settings.base_url, "/chat/completions");
    let body = json!({"model": settings.model, "messages": messages, "temperature": 0.7,
                      "max_tokens": max_tokens, "stream": false});
    let mut request = client().post(&url).timeout(settings.answer_within()).json(&body);
    if !settings.api_key.trim().is_empty() {
        request = request.bearer_auth(settings.api_key.trim());
    }
    let mut response = request.send().await.map_err(|e| transport(&e, settings))?;
    let status = response.status();
    let text = match body_capped(&mut response, settings.answer_cap()).await {
        Ok(text) => text,
        Err(BodyError::Transport(e)) => return Err(transport(&e, settings)),
        Err(BodyError::TooLong) => {
            return Err(Failure::Failed(format!(
                "the AI service's answer was longer than {} KiB, which pi-crm does not read (max_answer_kib raises it)",
                settings.answer_cap() / 1024
            )));
        }
    };
    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        let hint = match status.as_u16() {
            301..=308 => " (a redirect, which pi-crm does not follow: check the base URL)",
            401 | 403 => " (check the API key)",
            404 => " (check the base URL — it usually ends in /v1 — and the model name)",
            429 => " (the AI service's own rate limit or quota; try again later)",
            _ => "",
        };
        // Its own words only in the OpenAI error shape: a base URL pointed at another service
        // never echoes that service's page.
        let said = match parsed.as_ref().and_then(|b| provider_message("AI", b)) {
            Some(said) => format!(": {said}"),
            None => ", not in the OpenAI error format, so its answer is not shown".into(),
        };
        return Err(Failure::Failed(format!("the AI service answered {status}{hint}{said}")));
    }
    let parsed = parsed
        .ok_or_else(|| Failure::Failed("the AI service answered, but not with JSON: check the base URL".into()))?;
    let content = parsed
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            let why = parsed
                .pointer("/choices/0/finish_reason")
                .and_then(Value::as_str)
                .map(|r| format!(" (finish_reason: {r})"))
                .unwrap_or_default();
            Failure::Failed(format!("the model answered without any text{why}"))
        })?
        .to_string();
    let (total_tokens, estimated) = match parsed.pointer("/usage/total_tokens").and_then(Value::as_u64) {
        Some(n) => (n, false),
        None => {
            let chars: usize =
                messages.iter().map(|m| m.content.chars().count()).sum::<usize>() + content.chars().count();
            ((chars as u64).div_ceil(4), true)
        }
    };
    Ok(Reply {
        content,
        total_tokens,
        estimated,
    })
}

fn transport(e: &reqwest::Error, settings: &Settings) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout(format!(
            "the AI service did not answer within {} seconds; try again, or raise timeout_seconds for a slow local model",
            settings.answer_within().as_secs()
        ));
    }
    if e.is_connect() {
        return Failure::Failed(format!(
            "could not connect to the AI service at {}: is it running, and is the address right?",
            settings.base_url
        ));
    }
    Failure::Failed("the connection to the AI service broke before it answered".into())
}
