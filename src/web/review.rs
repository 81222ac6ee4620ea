//! `/review/{token}`: Loan Factory's reviewer decides on a campaign without an account (SPEC
//! §10). No login and no CSRF token: the unguessable token in the path is the proof, as for
//! `/u/{token}`. `GET` shows the frozen snapshot and changes nothing; `POST` records the one
//! decision, with the reviewer's name and notes.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::Form;
use serde::Deserialize;

use super::error::PageError;
use crate::domain::campaign::approval::{self, LinkState, Review};
use crate::domain::messaging::Channel;
use crate::domain::template::render::Rendered;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/review/{token}", get(show).post(decide))
        .route("/review/{token}/sample", get(sample))
}

#[derive(Template, WebTemplate)]
#[template(path = "review.html")]
struct Page {
    r: Review,
    token: String,
    /// What happened on this visit (a decision just made), or why it could not be.
    message: Option<String>,
    problem: Option<String>,
    name: String,
    notes: String,
    asset_version: &'static str,
}

impl Page {
    fn when(&self, stored: &str) -> String {
        super::times::local(stored, &self.r.zone)
    }

    fn is_open(&self) -> bool {
        self.r.state == LinkState::Open
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "review_missing.html")]
struct Missing {
    asset_version: &'static str,
}

fn missing() -> Response {
    (
        StatusCode::NOT_FOUND,
        [("cache-control", "no-store")],
        Missing {
            asset_version: crate::assets::version(),
        },
    )
        .into_response()
}

fn page(status: StatusCode, page: Page) -> Response {
    (
        status,
        [("cache-control", "no-store"), ("referrer-policy", "no-referrer")],
        page,
    )
        .into_response()
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let r = match approval::review(&state, &token).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return Ok(missing()),
        Err(e) => return Err(e.into()),
    };
    let status = match r.state {
        LinkState::Expired | LinkState::Void => StatusCode::GONE,
        _ => StatusCode::OK,
    };
    let name = r.reviewer_name.clone().unwrap_or_default();
    Ok(page(
        status,
        Page {
            r,
            token,
            message: None,
            problem: None,
            name,
            notes: String::new(),
            asset_version: crate::assets::version(),
        },
    ))
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    notes: String,
}

async fn decide(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let approve = match form.decision.as_str() {
        "approve" => Some(true),
        "reject" => Some(false),
        _ => None,
    };
    let outcome = match approve {
        Some(approve) => approval::decide_by_link(&state, &token, approve, &form.name, &form.notes).await,
        None => Err(AppError::invalid("decision", "choose Approve or Reject")),
    };
    let (status, message, problem) = match outcome {
        Ok(()) => (
            StatusCode::OK,
            Some(if approve == Some(true) {
                "Approved. Thank you — the sender is told, and only this version can be sent.".to_string()
            } else {
                "Rejected. Thank you — the sender is told and sees your notes.".to_string()
            }),
            None,
        ),
        Err(AppError::NotFound) => return Ok(missing()),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidMany(_))) => {
            (StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.public_message()))
        }
        Err(e @ (AppError::Conflict { .. } | AppError::Refused { .. })) => {
            (StatusCode::CONFLICT, None, Some(e.public_message()))
        }
        Err(e) => return Err(e.into()),
    };
    let r = approval::review(&state, &token).await?;
    Ok(page(
        status,
        Page {
            r,
            token,
            message,
            problem,
            name: form.name,
            notes: form.notes,
            asset_version: crate::assets::version(),
        },
    ))
}

/// The sample message as its own sandboxed document (its HTML never runs in this page).
async fn sample(
    State(state): State<AppState>,
    Path(token): Path<String>,
    axum::extract::Query(params): axum::extract::Query<super::templates::preview::ImagesParam>,
) -> Result<Response, PageError> {
    let r = match approval::review(&state, &token).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return Ok(missing()),
        Err(e) => return Err(e.into()),
    };
    let channel = Channel::parse(&r.snapshot.channel).unwrap_or(Channel::Email);
    let rendered = r
        .snapshot
        .sample
        .map(|s| Rendered {
            subject: s.subject,
            body_html: s.body_html,
            body_text: s.body_text,
        })
        .ok_or(AppError::NotFound);
    let images = super::templates::preview::Images::from_query(&params.images, "");
    super::templates::preview::document(channel, rendered, images)
}
