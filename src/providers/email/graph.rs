//! Microsoft 365 through Microsoft Graph: a client-credentials token, then a draft
//! (`POST /v1.0/users/{sender}/messages`, which gives the `internetMessageId` kept as the
//! provider id) and its send (`POST …/messages/{id}/send`). `sendMail` would answer 202 with
//! no id at all, so nothing could be matched later.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{check_base, check_present, join};
use crate::providers::http::answer;
use crate::providers::{Email, Outcome};

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub tenant_id: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// The mailbox that sends (its address or object id).
    pub sender: String,
    pub from: String,
    /// Where replies go when not to `from` (e.g. Andy\'s own inbox); empty: to `from`.
    #[serde(default)]
    pub reply_to: String,
    #[serde(default = "api_base")]
    pub api_base: String,
    #[serde(default = "login_base")]
    pub login_base: String,
    #[serde(default)]
    pub per_minute: Option<u32>,
}

fn api_base() -> String {
    "https://graph.microsoft.com".into()
}

fn login_base() -> String {
    "https://login.microsoftonline.com".into()
}

impl Settings {
    pub(super) fn check(&self, out: &mut Vec<(String, String)>) {
        check_present(out, "tenant_id", &self.tenant_id);
        check_present(out, "client_id", &self.client_id);
        check_present(out, "client_secret", &self.client_secret);
        check_present(out, "sender", &self.sender);
        check_base(out, "api_base", &self.api_base);
        check_base(out, "login_base", &self.login_base);
    }
}

pub async fn send(s: &Settings, http: &reqwest::Client, email: &Email) -> Outcome {
    let token = match token(s, http).await {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let mailbox = join(&s.api_base, &format!("/v1.0/users/{}", urlencode(s.sender.trim())));
    // Graph keeps only `x-` headers; one-to-one mail needs none of the others.
    let headers: Vec<_> = email
        .headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("x-"))
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect();
    let (content_type, content) = match &email.html {
        Some(html) => ("HTML", html.as_str()),
        None => ("Text", email.text.as_str()),
    };
    let mut draft = json!({
        "subject": email.subject,
        "body": {"contentType": content_type, "content": content},
        "toRecipients": [{"emailAddress": recipient(email)}],
    });
    if !headers.is_empty() {
        draft["internetMessageHeaders"] = json!(headers);
    }
    if let Some(reply_to) = email
        .reply_to
        .as_deref()
        .and_then(|r| r.parse::<lettre::message::Mailbox>().ok())
    {
        let mut address = json!({"address": reply_to.email.to_string()});
        if let Some(name) = reply_to.name.filter(|n| !n.trim().is_empty()) {
            address["name"] = json!(name);
        }
        draft["replyTo"] = json!([{"emailAddress": address}]);
    }
    let created = http
        .post(format!("{mailbox}/messages"))
        .bearer_auth(&token)
        .json(&draft)
        .send()
        .await;
    // A draft is not a sent message: whatever went wrong creating it, nothing went out.
    let (id, internet_id) = match answer(created, "Microsoft Graph").await {
        Ok(body) => (
            body.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
            body.get("internetMessageId")
                .and_then(|v| v.as_str())
                .map(|i| i.trim_matches(['<', '>']).to_string()),
        ),
        Err(Outcome::Unknown { reason }) => return Outcome::Retry { reason, after: None },
        Err(outcome) => return outcome,
    };
    if id.is_empty() {
        return Outcome::failed("Microsoft Graph created a draft without an id");
    }
    let sent = http
        .post(format!("{mailbox}/messages/{}/send", urlencode(&id)))
        .bearer_auth(&token)
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .send()
        .await;
    match answer(sent, "Microsoft Graph").await {
        Ok(_) => Outcome::Sent {
            provider_id: internet_id,
        },
        Err(outcome) => outcome,
    }
}

/// An app-only token for Graph. Refusals here sent nothing: bad credentials are `failed`.
async fn token(s: &Settings, http: &reqwest::Client) -> Result<String, Outcome> {
    let url = join(
        &s.login_base,
        &format!("/{}/oauth2/v2.0/token", urlencode(s.tenant_id.trim())),
    );
    let got = http
        .post(url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id.trim()),
            ("client_secret", s.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await;
    match answer(got, "Microsoft sign-in").await {
        Ok(body) => body
            .get("access_token")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| Outcome::failed("Microsoft sign-in answered without an access token")),
        Err(Outcome::Unknown { reason }) => Err(Outcome::Retry { reason, after: None }),
        Err(outcome) => Err(outcome),
    }
}

fn bare_address(mailbox: &str) -> String {
    mailbox
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| mailbox.to_string())
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Graph's `emailAddress`: the address, and the name when the contact has one.
fn recipient(email: &Email) -> serde_json::Value {
    let mut to = serde_json::json!({"address": bare_address(&email.to)});
    if let Some(name) = email.to_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        to["name"] = serde_json::json!(name);
    }
    to
}
