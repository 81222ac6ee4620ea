//! The Gmail API for a Google account linked by OAuth (an installed app with PKCE; SPEC §8.1):
//! the refresh token gives an access token, and `users.messages.send` takes the RFC 5322
//! message pi-crm built, base64url-encoded.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{check_base, check_present, join};
use crate::providers::http::answer;
use crate::providers::{Email, Outcome};

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    pub from: String,
    /// Where replies go when not to `from` (e.g. Andy\'s own inbox); empty: to `from`.
    #[serde(default)]
    pub reply_to: String,
    /// Set once the account is linked (the paste-back step).
    #[serde(default)]
    pub refresh_token: String,
    /// The PKCE verifier of a link in progress.
    #[serde(default)]
    pub pending_verifier: String,
    #[serde(default = "auth_base")]
    pub auth_base: String,
    #[serde(default = "token_base")]
    pub token_base: String,
    #[serde(default = "api_base")]
    pub api_base: String,
    #[serde(default)]
    pub per_minute: Option<u32>,
}

fn auth_base() -> String {
    "https://accounts.google.com".into()
}

fn token_base() -> String {
    "https://oauth2.googleapis.com".into()
}

fn api_base() -> String {
    "https://gmail.googleapis.com".into()
}

/// Where Google sends the browser after consent: a desktop client may use any loopback port;
/// the page will not load, and the person pastes its address back into pi-crm.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8765/";

impl Settings {
    pub(super) fn check(&self, out: &mut Vec<(String, String)>) {
        check_present(out, "client_id", &self.client_id);
        check_present(out, "client_secret", &self.client_secret);
        check_base(out, "auth_base", &self.auth_base);
        check_base(out, "token_base", &self.token_base);
        check_base(out, "api_base", &self.api_base);
    }

    /// Google's consent page for this client, with the PKCE challenge of `verifier`.
    pub fn consent_url(&self, verifier: &str, state: &str) -> String {
        use sha2::Digest;
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", self.client_id.trim())
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("response_type", "code")
            .append_pair("scope", "https://www.googleapis.com/auth/gmail.send")
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state)
            .finish();
        join(&self.auth_base, &format!("/o/oauth2/v2/auth?{query}"))
    }

    /// Trades the code from the pasted-back address for a refresh token.
    pub async fn redeem(&self, http: &reqwest::Client, code: &str) -> Result<String, String> {
        let got = http
            .post(join(&self.token_base, "/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", self.client_id.trim()),
                ("client_secret", self.client_secret.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", self.pending_verifier.as_str()),
            ])
            .send()
            .await;
        match answer(got, "Google sign-in").await {
            Ok(body) => body
                .get("refresh_token")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| "Google answered without a refresh token; link the account again".into()),
            Err(outcome) => Err(reason_of(outcome)),
        }
    }
}

pub async fn send(s: &Settings, http: &reqwest::Client, email: &Email) -> Outcome {
    if s.refresh_token.is_empty() {
        return Outcome::failed("the Google account is not linked yet: finish the link on the providers page");
    }
    let token = match access_token(s, http).await {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let message = match super::mime::build(email) {
        Ok(m) => m,
        Err(reason) => return Outcome::failed(reason),
    };
    let raw = URL_SAFE_NO_PAD.encode(message.formatted());
    let sent = http
        .post(join(&s.api_base, "/gmail/v1/users/me/messages/send"))
        .bearer_auth(token)
        .json(&json!({ "raw": raw }))
        .send()
        .await;
    match answer(sent, "Gmail").await {
        // Gmail's own id; our Message-ID is in the message too.
        Ok(body) => Outcome::Sent {
            provider_id: body.get("id").and_then(|v| v.as_str()).map(str::to_string),
        },
        Err(outcome) => outcome,
    }
}

async fn access_token(s: &Settings, http: &reqwest::Client) -> Result<String, Outcome> {
    let got = http
        .post(join(&s.token_base, "/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", s.refresh_token.as_str()),
            ("client_id", s.client_id.trim()),
            ("client_secret", s.client_secret.as_str()),
        ])
        .send()
        .await;
    match answer(got, "Google sign-in").await {
        Ok(body) => body
            .get("access_token")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| Outcome::failed("Google sign-in answered without an access token")),
        // Asking for a token sends no mail.
        Err(Outcome::Unknown { reason }) => Err(Outcome::Retry { reason, after: None }),
        Err(outcome) => Err(outcome),
    }
}

fn reason_of(outcome: Outcome) -> String {
    match outcome {
        Outcome::Retry { reason, .. } | Outcome::Failed { reason, .. } | Outcome::Unknown { reason } => reason,
        Outcome::Sent { .. } => String::new(),
    }
}
