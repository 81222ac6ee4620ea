//! Message templates, shared ones, and a template filled in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::Channel;
use crate::domain::template::{self, render};

/// A message template of a workspace.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Template {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub channel: Channel,
    pub subject: String,
    pub preheader: String,
    /// HTML for email, plain text for a text message.
    pub body: String,
    pub ai_generated: bool,
    /// A favourite of the caller's.
    pub favorite: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<template::Template> for Template {
    fn from(t: template::Template) -> Self {
        Template {
            id: t.id,
            workspace_id: t.workspace_id,
            name: t.name,
            channel: t.channel.into(),
            subject: t.subject,
            preheader: t.preheader,
            body: t.body,
            ai_generated: t.ai_generated,
            favorite: t.favorite,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A template shared with the caller (read-only: they copy it to use it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SharedTemplate {
    #[serde(flatten)]
    pub template: Template,
    pub shared_by: Option<String>,
    pub shared_at: String,
}

impl From<template::SharedTemplate> for SharedTemplate {
    fn from(s: template::SharedTemplate) -> Self {
        SharedTemplate {
            template: s.template.into(),
            shared_by: s.shared_by,
            shared_at: s.shared_at,
        }
    }
}

/// `POST` takes every field but `preheader`; `PATCH` takes any of them.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct TemplateInput {
    pub name: Option<String>,
    #[schema(value_type = Option<Channel>)]
    pub channel: Option<String>,
    pub subject: Option<String>,
    pub preheader: Option<String>,
    pub body: Option<String>,
}

impl From<TemplateInput> for template::TemplateInput {
    fn from(i: TemplateInput) -> Self {
        template::TemplateInput {
            name: i.name,
            channel: i.channel,
            subject: i.subject,
            preheader: i.preheader,
            body: i.body,
        }
    }
}

/// A template filled in: `{subject, body_html, body_text}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rendered {
    pub subject: String,
    /// Email only: the HTML part, with the preheader hidden at its top.
    pub body_html: Option<String>,
    /// The text of a text message, or an email's plain-text part.
    pub body_text: String,
}

impl From<render::Rendered> for Rendered {
    fn from(r: render::Rendered) -> Self {
        Rendered {
            subject: r.subject,
            body_html: r.body_html,
            body_text: r.body_text,
        }
    }
}
