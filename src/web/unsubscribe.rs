//! `/u/{token}`: the unsubscribe link of a campaign email. No login, no CSRF token (a mail
//! client's one-click POST carries neither; the token itself is the proof), no redirect.
//! `GET` asks and changes nothing — mail scanners open links — and `POST` unsubscribes.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::PageError;
use crate::domain::messaging::unsubscribe::{self, Target};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/u/{token}", get(ask).post(confirm))
}

#[derive(PartialEq)]
enum Step {
    Ask,
    Done,
    Already,
    Invalid,
}

#[derive(Template, WebTemplate)]
#[template(path = "unsubscribe.html")]
struct Page {
    step: Step,
    token: String,
    address: String,
    sender: String,
    asset_version: &'static str,
}

fn page(step: Step, token: String, target: Option<&Target>) -> Response {
    let status = if step == Step::Invalid {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let page = Page {
        step,
        token,
        address: target.map(|t| t.address.clone()).unwrap_or_default(),
        sender: target.map(|t| t.ws.name().to_string()).unwrap_or_default(),
        asset_version: crate::assets::version(),
    };
    (status, [("cache-control", "no-store")], page).into_response()
}

async fn ask(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let target = unsubscribe::look_up(&state.db, &state.secret, &token).await?;
    Ok(match target {
        Some(t) if t.already => page(Step::Already, token, Some(&t)),
        Some(t) => page(Step::Ask, token, Some(&t)),
        None => page(Step::Invalid, token, None),
    })
}

async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let target = unsubscribe::confirm(&state.db, &state.secret, &token).await?;
    Ok(match target {
        Some(t) => page(Step::Done, token, Some(&t)),
        None => page(Step::Invalid, token, None),
    })
}
