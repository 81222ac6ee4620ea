//! Text-message providers (Twilio today).

pub mod segments;
pub mod twilio;
pub mod twilio_messages;

use serde::{Deserialize, Serialize};

use super::{Outcome, SmsSender, Text};

/// A workspace's text provider, as `PUT …/providers/sms` takes it (SPEC §8.1).
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SmsProvider {
    Twilio(twilio::Settings),
}

impl SmsProvider {
    pub fn kind(&self) -> &'static str {
        match self {
            SmsProvider::Twilio(_) => "twilio",
        }
    }

    pub fn secret_fields(kind: &str) -> &'static [&'static str] {
        match kind {
            "twilio" => &["auth_token"],
            _ => &[],
        }
    }

    /// The settings that say where the secrets go (see `EmailProvider::destination_fields`).
    pub fn destination_fields(kind: &str) -> &'static [&'static str] {
        match kind {
            "twilio" => &["account_sid", "api_base"],
            _ => &[],
        }
    }

    pub fn from(&self) -> &str {
        match self {
            SmsProvider::Twilio(s) => &s.from,
        }
    }

    /// What texts are sent from, normalised (a number in E.164, or a messaging service id).
    pub fn sender(&self, default_region: &str) -> String {
        match self {
            SmsProvider::Twilio(s) => s.sender(default_region),
        }
    }

    pub fn per_minute(&self) -> u32 {
        match self {
            SmsProvider::Twilio(s) => s.per_minute.unwrap_or(60),
        }
    }

    pub fn problems(&self, default_region: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match self {
            SmsProvider::Twilio(s) => s.check(&mut out, default_region),
        }
        super::email::check_per_minute(&mut out, self.per_minute());
        out
    }
}

pub struct Texter {
    pub provider: SmsProvider,
    pub http: reqwest::Client,
}

impl SmsSender for Texter {
    async fn send(&self, text: &Text) -> Outcome {
        match &self.provider {
            SmsProvider::Twilio(s) => twilio::send(s, &self.http, text).await,
        }
    }
}
