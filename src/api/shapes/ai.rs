//! The AI wizard's answers, a personal message's request and draft, token use, workflows.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ai;
use crate::domain::ids::ContactId;

/// The template wizard's answers.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct WizardInput {
    /// What the message should achieve ("tell past clients rates fell").
    #[schema(pattern = "\\S")]
    pub goal: Option<String>,
    /// Who receives it ("past clients", "first-time buyers").
    pub audience: Option<String>,
    /// "warm", "professional", "playful" …
    pub tone: Option<String>,
    /// `short`, `medium` or `long`.
    pub length: Option<String>,
    /// What the reader should do ("book a 15-minute call").
    pub call_to_action: Option<String>,
    /// `email` or `text`.
    pub channel: Option<String>,
}

impl From<WizardInput> for ai::WizardInput {
    fn from(i: WizardInput) -> Self {
        ai::WizardInput {
            goal: i.goal,
            audience: i.audience,
            tone: i.tone,
            length: i.length,
            call_to_action: i.call_to_action,
            channel: i.channel,
        }
    }
}

/// What a personal message is for: a contact, a goal, a channel.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct PersonalInput {
    pub contact_id: Option<ContactId>,
    pub goal: Option<String>,
    /// `email` or `text`.
    pub channel: Option<String>,
}

impl From<PersonalInput> for ai::PersonalInput {
    fn from(i: PersonalInput) -> Self {
        ai::PersonalInput {
            contact_id: i.contact_id,
            goal: i.goal,
            channel: i.channel,
        }
    }
}

/// A personal message drafted for one contact: edit it, then send it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Draft {
    /// Email only.
    pub subject: Option<String>,
    pub body: String,
}

impl From<ai::Draft> for Draft {
    fn from(d: ai::Draft) -> Self {
        Draft {
            subject: d.subject,
            body: d.body,
        }
    }
}

/// Tokens spent today against the daily limit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Usage {
    pub day: String,
    pub tokens: u64,
    pub limit: u64,
}

impl From<ai::Usage> for Usage {
    fn from(u: ai::Usage) -> Self {
        Usage {
            day: u.day,
            tokens: u.tokens,
            limit: u.limit,
        }
    }
}

/// `request_approval` submits a campaign for review (as `submit` does); `draft_campaign` asks
/// the model to name a campaign for a template and a goal and to choose, from the workspace's
/// list names only, who it is for — a draft to check.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WorkflowInput {
    /// `request_approval` or `draft_campaign`.
    #[schema(pattern = "^(request_approval|draft_campaign)$")]
    pub action: String,
    pub campaign_id: Option<String>,
    pub template_id: Option<String>,
    pub goal: Option<String>,
}

impl From<WorkflowInput> for ai::WorkflowInput {
    fn from(i: WorkflowInput) -> Self {
        ai::WorkflowInput {
            action: i.action,
            campaign_id: i.campaign_id,
            template_id: i.template_id,
            goal: i.goal,
        }
    }
}
