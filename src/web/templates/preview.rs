//! A template filled in, as its own document for a sandboxed `<iframe>`: its HTML is the
//! user's (perhaps another person's, shared), so it never runs in pi-crm's pages. The answer
//! carries its own Content-Security-Policy — `sandbox` (no scripts, an opaque origin even when
//! opened directly), no network at all, inline styles allowed as email needs them. Remote
//! images load only when the viewer asks (`images=1`): a shared template's tracking pixel
//! would otherwise tell its author who opened it, and when.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::TemplateForm;
use crate::domain::ids::{ContactId, TemplateId, WorkspaceId};
use crate::domain::messaging::Channel;
use crate::domain::template;
use crate::domain::template::render::{Rendered, Source, html_escape};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::chrome::CurrentUser;
use crate::web::error::PageError;
use crate::web::extract::{PagePath, PageWs};

const WITHOUT_REMOTE_IMAGES: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     font-src data:; frame-ancestors 'self'; form-action 'none'";
const WITH_REMOTE_IMAGES: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
     font-src https: data:; frame-ancestors 'self'; form-action 'none'";

/// Whether a preview loads remote images, and — when it does not — the address of the same
/// preview with them (a GET preview; a posted draft has its form's checkbox instead).
pub enum Images {
    Blocked { load: Option<String> },
    Loaded,
}

impl Images {
    /// From a GET preview's `images` parameter; `query` is the rest of its query string.
    pub fn from_query(images: &str, query: &str) -> Images {
        if images == "1" {
            Images::Loaded
        } else {
            let sep = if query.is_empty() { "" } else { "&" };
            Images::Blocked {
                load: Some(format!("?{query}{sep}images=1")),
            }
        }
    }
}

/// A GET preview's `images` parameter.
#[derive(Deserialize, Default)]
pub struct ImagesParam {
    #[serde(default)]
    pub images: String,
}

#[derive(Deserialize, Default)]
pub struct PreviewForm {
    #[serde(flatten)]
    template: TemplateForm,
    #[serde(default)]
    contact_id: String,
    /// "1" when the editor ticked "load remote images".
    #[serde(default)]
    images: String,
}

#[derive(Deserialize, Default)]
pub struct PreviewParams {
    #[serde(default)]
    contact: String,
    #[serde(default)]
    images: String,
}

fn contact(text: &str) -> Option<ContactId> {
    ContactId::parse(text.trim())
}

/// The editor's live preview of what is being written (posted into the frame).
pub async fn draft(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    Form(form): Form<PreviewForm>,
) -> Result<Response, PageError> {
    let channel = Channel::parse(&form.template.channel).unwrap_or(Channel::Email);
    let source = Source {
        channel,
        subject: &form.template.subject,
        preheader: &form.template.preheader,
        body: &form.template.body,
    };
    let rendered = template::preview_source(&state, &actor, &ws, &source, contact(&form.contact_id).as_ref()).await;
    let images = if form.images == "1" {
        Images::Loaded
    } else {
        Images::Blocked { load: None }
    };
    document(channel, rendered, images)
}

/// A saved template of the workspace, for `?contact=` (or the sample contact).
pub async fn saved(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, TemplateId)>,
    Query(params): Query<PreviewParams>,
) -> Result<Response, PageError> {
    let t = template::get(&state, &actor, &ws, &id).await?;
    let rendered = template::preview_source(&state, &actor, &ws, &t.source(), contact(&params.contact).as_ref()).await;
    let query = format!("contact={}", urlencode(&params.contact));
    document(t.channel(), rendered, Images::from_query(&params.images, &query))
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A template shared with the person, filled in for the sample contact.
pub async fn shared(
    State(state): State<AppState>,
    user: CurrentUser,
    PagePath(id): PagePath<TemplateId>,
    Query(params): Query<ImagesParam>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let t = template::shared_one(&state, &actor, &id).await?;
    let rendered = template::preview_shared(&state, &actor, &t).await;
    document(t.template.channel(), rendered, Images::from_query(&params.images, ""))
}

/// A line above an email whose remote images were not loaded.
fn images_held_back(load: Option<&str>) -> String {
    const LINE: &str = "font:12px/1.5 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#334155;background:#fef9c3;padding:6px 12px";
    let link = load
        .map(|href| {
            format!(
                " <a href=\"{}\" style=\"color:#3730a3\">Load images</a>",
                html_escape(href)
            )
        })
        .unwrap_or_default();
    format!(
        "<div style=\"{LINE}\">Remote images are not loaded, so opening this preview tells nobody that you did.{link}</div>"
    )
}

pub fn document(channel: Channel, rendered: AppResult<Rendered>, images: Images) -> Result<Response, PageError> {
    const FRAME: &str = "font:14px/1.5 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#0f172a";
    let html = match rendered {
        Ok(r) => match channel {
            Channel::Email => {
                let body = r.body_html.unwrap_or_default();
                let held_back = match &images {
                    Images::Blocked { load } if has_remote_content(&body) => images_held_back(load.as_deref()),
                    _ => String::new(),
                };
                format!(
                    "{held_back}<div style=\"{FRAME};background:#f8fafc;border-bottom:1px solid #e2e8f0;padding:8px 12px\"><b>Subject:</b> {}</div>{body}",
                    html_escape(&r.subject),
                )
            }
            Channel::Text => {
                let (chars, parts, _) = crate::providers::sms::segments::count(&r.body_text);
                format!(
                    "<div style=\"{FRAME};padding:12px\"><div style=\"display:inline-block;max-width:22rem;white-space:pre-wrap;background:#e0e7ff;border-radius:16px;padding:10px 14px\">{}</div><p style=\"color:#475569;font-size:12px\">{chars} characters · {parts} {}</p></div>",
                    html_escape(&r.body_text),
                    if parts == 1 { "text" } else { "texts" }
                )
            }
        },
        Err(e @ (crate::error::AppError::Invalid { .. } | crate::error::AppError::InvalidMany(_))) => {
            let problems = match e {
                crate::error::AppError::InvalidMany(all) => all,
                crate::error::AppError::Invalid { field, message } => vec![(field, message)],
                _ => Vec::new(),
            };
            let items: String = problems
                .iter()
                .map(|(f, m)| format!("<li><b>{}</b>: {}</li>", html_escape(f), html_escape(m)))
                .collect();
            format!(
                "<div style=\"{FRAME};padding:12px;color:#991b1b\"><p><b>This cannot be filled in yet:</b></p><ul>{items}</ul></div>"
            )
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let policy = match images {
        Images::Loaded => WITH_REMOTE_IMAGES,
        Images::Blocked { .. } => WITHOUT_REMOTE_IMAGES,
    };
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    Ok(response)
}

/// Whether the email refers to anything on the network (an image, a background, a font).
fn has_remote_content(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    lower.contains("http://") || lower.contains("https://") || lower.contains("src=\"//") || lower.contains("url(//")
}
