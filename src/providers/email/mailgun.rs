//! Mailgun's HTTP API: `POST {api_base}/v3/{domain}/messages`, Basic auth `api:<key>`, a
//! multipart form; the answer's `id` without its angle brackets is the provider id, which
//! Mailgun's events carry back as `message.headers.message-id`.

use serde::{Deserialize, Serialize};

use super::{check_base, check_present, join};
use crate::providers::http::answer;
use crate::providers::{Email, Outcome};

pub const US_BASE: &str = "https://api.mailgun.net";

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub domain: String,
    #[serde(default)]
    pub api_key: String,
    /// Checks the signature of Mailgun's webhooks (SPEC §8.3).
    #[serde(default)]
    pub webhook_signing_key: String,
    pub from: String,
    /// Where replies go when not to `from` (e.g. Andy\'s own inbox); empty: to `from`.
    #[serde(default)]
    pub reply_to: String,
    #[serde(default = "us_base")]
    pub api_base: String,
    #[serde(default)]
    pub per_minute: Option<u32>,
}

fn us_base() -> String {
    US_BASE.into()
}

impl Settings {
    pub(super) fn check(&self, out: &mut Vec<(String, String)>) {
        check_present(out, "domain", &self.domain);
        if self.domain.contains(['/', ' ', '?', '#']) {
            out.push(("domain".into(), "domain is a domain name such as mg.example.com".into()));
        }
        check_present(out, "api_key", &self.api_key);
        check_present(out, "webhook_signing_key", &self.webhook_signing_key);
        check_base(out, "api_base", &self.api_base);
    }
}

pub async fn send(s: &Settings, http: &reqwest::Client, email: &Email) -> Outcome {
    let mut form = reqwest::multipart::Form::new()
        .text("from", email.from.clone())
        .text(
            "to",
            super::mime::recipient(email)
                .map(|m| m.to_string())
                .unwrap_or_else(|_| email.to.clone()),
        )
        .text("subject", email.subject.clone())
        .text("text", email.text.clone())
        // An opaque id only: Mailgun shows user variables to the recipient.
        .text("v:outbox_id", email.outbox_id.clone())
        .text("h:Message-Id", super::mime::message_id(email));
    if let Some(html) = &email.html {
        form = form.text("html", html.clone());
    }
    if let Some(reply_to) = &email.reply_to {
        form = form.text("h:Reply-To", reply_to.clone());
    }
    for (name, value) in &email.headers {
        form = form.text(format!("h:{name}"), value.clone());
    }
    let url = join(&s.api_base, &format!("/v3/{}/messages", s.domain.trim()));
    let sent = http
        .post(url)
        .basic_auth("api", Some(&s.api_key))
        .multipart(form)
        .send()
        .await;
    match answer(sent, "Mailgun").await {
        Ok(body) => Outcome::Sent {
            provider_id: body
                .get("id")
                .and_then(|v| v.as_str())
                .map(|id| id.trim().trim_start_matches('<').trim_end_matches('>').to_string()),
        },
        Err(outcome) => outcome,
    }
}
