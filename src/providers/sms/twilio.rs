//! Twilio's REST API: `POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json`, Basic auth
//! `sid:token`, a form with `To`, `From`, `Body` and `StatusCallback` (our status webhook
//! with `?outbox=<id>`, so a status is matched even when the create answer was lost).

use serde::{Deserialize, Serialize};

use crate::providers::email::{check_base, check_present, join};
use crate::providers::http::{provider_message, read};
use crate::providers::{Outcome, Text};

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub account_sid: String,
    #[serde(default)]
    pub auth_token: String,
    /// The sending number (E.164) or a messaging service (`MG…`).
    pub from: String,
    #[serde(default = "api_base")]
    pub api_base: String,
    #[serde(default)]
    pub per_minute: Option<u32>,
}

fn api_base() -> String {
    "https://api.twilio.com".into()
}

/// The recipient replied STOP: Twilio will not deliver to them.
const OPTED_OUT: i64 = 21610;

impl Settings {
    pub(crate) fn check(&self, out: &mut Vec<(String, String)>, default_region: &str) {
        let sid = self.account_sid.trim();
        if !(sid.len() == 34 && sid.starts_with("AC") && sid[2..].chars().all(|c| c.is_ascii_hexdigit())) {
            out.push((
                "account_sid".into(),
                "account_sid is the AC… id on the Twilio console (34 characters)".into(),
            ));
        }
        check_present(out, "auth_token", &self.auth_token);
        let from = self.from.trim();
        if !from.starts_with("MG") && crate::domain::phone::Phone::parse(from, default_region, "from").is_err() {
            out.push((
                "from".into(),
                "from is the Twilio number texts come from (+14155550100) or a messaging service (MG…)".into(),
            ));
        }
        check_base(out, "api_base", &self.api_base);
    }

    /// The normalised sender: a number in E.164 or the messaging service id.
    pub fn sender(&self, default_region: &str) -> String {
        let from = self.from.trim();
        crate::domain::phone::Phone::parse(from, default_region, "from")
            .map(|p| p.into_string())
            .unwrap_or_else(|_| from.to_string())
    }
}

pub async fn send(s: &Settings, http: &reqwest::Client, text: &Text) -> Outcome {
    let from_field = if text.from.starts_with("MG") {
        "MessagingServiceSid"
    } else {
        "From"
    };
    let mut form = vec![
        ("To", text.to.clone()),
        (from_field, text.from.clone()),
        ("Body", text.body.clone()),
    ];
    if let Some(callback) = &text.status_callback {
        form.push(("StatusCallback", callback.clone()));
    }
    let url = join(
        &s.api_base,
        &format!("/2010-04-01/Accounts/{}/Messages.json", s.account_sid.trim()),
    );
    let sent = http
        .post(url)
        .basic_auth(s.account_sid.trim(), Some(&s.auth_token))
        .form(&form)
        .send()
        .await;
    let reply = match read(sent, "Twilio").await {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    // Twilio's error code decides before the status does: 21610 is a STOP.
    if !reply.status.is_success() && reply.body.get("code").and_then(|c| c.as_i64()) == Some(OPTED_OUT) {
        return Outcome::Failed {
            reason: format!(
                "Twilio: {}",
                provider_message("Twilio", &reply.body).unwrap_or_else(|| "the recipient replied STOP".into())
            ),
            suppress: true,
        };
    }
    match reply.judge("Twilio") {
        Ok(body) => Outcome::Sent {
            provider_id: body.get("sid").and_then(|v| v.as_str()).map(str::to_string),
        },
        Err(outcome) => outcome,
    }
}
