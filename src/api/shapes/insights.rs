//! An insight: a computed fact or an AI idea about a workspace's contacts.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::insights;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Insight {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    /// `upcoming_date`, `stale_contact`, `pipeline_stall`, `failed_messages`,
    /// `template_performance`, or `ai_idea`.
    #[serde(rename = "type")]
    pub kind: String,
    pub content: Content,
    /// 1.0 for a computed fact; lower for an AI idea.
    pub confidence: f64,
    pub created_at: String,
    pub dismissed_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Content {
    pub title: String,
    pub detail: String,
    /// The contacts it is about.
    pub contact_ids: Vec<String>,
}

impl From<insights::Insight> for Insight {
    fn from(i: insights::Insight) -> Self {
        Insight {
            id: i.id,
            workspace_id: i.workspace_id,
            workspace_name: i.workspace_name,
            kind: i.kind,
            content: Content {
                title: i.content.title,
                detail: i.content.detail,
                contact_ids: i.content.contact_ids,
            },
            confidence: i.confidence,
            created_at: i.created_at,
            dismissed_at: i.dismissed_at,
        }
    }
}
