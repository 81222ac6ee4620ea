//! Sending, the suppression list, unknown senders' texts, and the providers' settings.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::enums::{Channel, MessageStatus, SuppressionScope};
use crate::domain::messaging::{inbound, providers, send, suppression};

#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageInput {
    #[schema(value_type = Channel)]
    pub channel: String,
    pub template_id: Option<String>,
    /// Email only.
    pub subject: Option<String>,
    /// Plain text; an email's HTML part is made from it.
    pub body: Option<String>,
}

impl From<MessageInput> for send::MessageInput {
    fn from(i: MessageInput) -> Self {
        send::MessageInput {
            channel: i.channel,
            template_id: i.template_id,
            subject: i.subject,
            body: i.body,
        }
    }
}

/// A message taken: it is on the timeline as `queued`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub communication_id: String,
    pub status: MessageStatus,
}

impl From<send::Queued> for Queued {
    fn from(q: send::Queued) -> Self {
        Queued {
            communication_id: q.communication_id,
            status: q.status.into(),
        }
    }
}

/// An address or number nothing (or no campaign) may go to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suppression {
    pub id: String,
    pub channel: Channel,
    pub address: String,
    pub reason: String,
    /// `marketing`: campaigns skip the address, one-to-one messages go; `all`: nothing goes.
    pub scope: SuppressionScope,
    pub created_at: String,
}

impl From<suppression::Suppression> for Suppression {
    fn from(s: suppression::Suppression) -> Self {
        Suppression {
            id: s.id,
            channel: s.channel.into(),
            address: s.address,
            reason: s.reason,
            scope: s.scope.into(),
            created_at: s.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SuppressionInput {
    pub address: String,
    #[schema(value_type = Channel)]
    pub channel: String,
    /// unsubscribed, bounced, complained, stop or manual (the default).
    pub reason: Option<String>,
    /// What it stops: `marketing` (campaigns only) or `all`. By default an unsubscribe is
    /// `marketing` and every other reason `all`.
    #[schema(value_type = Option<SuppressionScope>)]
    pub scope: Option<String>,
}

impl From<SuppressionInput> for suppression::SuppressionInput {
    fn from(i: SuppressionInput) -> Self {
        suppression::SuppressionInput {
            address: i.address,
            channel: i.channel,
            reason: i.reason,
            scope: i.scope,
        }
    }
}

/// A text from a number no contact has.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxMessage {
    pub id: String,
    pub from: String,
    pub to: Option<String>,
    pub body: String,
    pub provider_message_id: Option<String>,
    pub received_at: String,
}

impl From<inbound::InboxMessage> for InboxMessage {
    fn from(m: inbound::InboxMessage) -> Self {
        InboxMessage {
            id: m.id,
            from: m.from,
            to: m.to,
            body: m.body,
            provider_message_id: m.provider_message_id,
            received_at: m.received_at,
        }
    }
}

/// Each provider's public settings and which secrets are set.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvidersView {
    #[schema(value_type = Option<Object>)]
    pub email: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub sms: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub ai: Option<Value>,
    pub webhook_urls: WebhookUrls,
}

/// Where providers must post their webhooks (built from `public_url`; `null` without it).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookUrls {
    pub twilio_sms: Option<String>,
    pub twilio_status: Option<String>,
    pub mailgun_events: Option<String>,
}

impl From<providers::ProvidersView> for ProvidersView {
    fn from(v: providers::ProvidersView) -> Self {
        let urls = v.webhook_urls;
        ProvidersView {
            email: v.email,
            sms: v.sms,
            ai: v.ai,
            webhook_urls: WebhookUrls {
                twilio_sms: urls.twilio_sms,
                twilio_status: urls.twilio_status,
                mailgun_events: urls.mailgun_events,
            },
        }
    }
}

/// What a test send came to: the provider's id, or its own words for the refusal.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    pub ok: bool,
    pub provider_message_id: Option<String>,
    /// The provider's error text when it refused.
    pub error: Option<String>,
}

impl From<providers::TestResult> for TestResult {
    fn from(r: providers::TestResult) -> Self {
        TestResult {
            ok: r.ok,
            provider_message_id: r.provider_message_id,
            error: r.error,
        }
    }
}
