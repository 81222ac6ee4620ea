//! `/setup`, `/login`, `/logout` exactly as SPEC §5 names them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::{Chrome, safe_next};
use super::error::PageError;
use super::flash;
use super::forms::FormErrors;
use crate::auth::client_ip::client_ip;
use crate::auth::rate_limit::LoginAttempt;
use crate::auth::session::{self, Session};
use crate::domain::actor::Via;
use crate::domain::session as domain_session;
use crate::domain::user;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    chrome: Chrome,
    errors: FormErrors,
    name: String,
    email: String,
}

pub async fn setup_page(State(state): State<AppState>, chrome: Chrome) -> Result<Response, PageError> {
    if user::any_exist(&state.db).await? {
        return Err(AppError::NotFound.into());
    }
    Ok(SetupPage {
        chrome,
        errors: FormErrors::none(),
        name: String::new(),
        email: String::new(),
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub async fn setup_submit(
    State(state): State<AppState>,
    chrome: Chrome,
    parts: RequestInfo,
    Form(form): Form<SetupForm>,
) -> Result<Response, PageError> {
    if user::any_exist(&state.db).await? {
        return Err(AppError::NotFound.into());
    }
    let created = match user::create_first(&state.db, Via::Ui, &form.email, &form.name, &form.password).await {
        Ok(u) => u,
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let page = SetupPage {
                chrome,
                errors,
                name: form.name,
                email: form.email,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let started = domain_session::login(
        &state.db,
        &created.id,
        None,
        parts.ip.as_deref(),
        parts.user_agent.as_deref(),
    )
    .await?;
    let cookie = session::cookie_for(&state, &started);
    let mut response = flash::redirect(
        &state,
        "/",
        "success",
        "Your account is ready. Create a workspace to begin.",
    );
    session::add_cookie(&mut response, &cookie);
    Ok(response)
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
struct LoginPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    chrome: Chrome,
    session: Option<axum::Extension<Session>>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    if !user::any_exist(&state.db).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    let next = safe_next(q.next.as_deref());
    if session.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(LoginPage {
        chrome,
        errors: FormErrors::none(),
        email: String::new(),
        next,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    chrome: Chrome,
    info: RequestInfo,
    headers: HeaderMap,
    previous: Option<axum::Extension<Session>>,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let account = form.email.trim().to_lowercase();
    let source = info.source.as_deref().unwrap_or("unknown");
    let known_device = crate::auth::device::known(&state, &headers, &account);
    let attempt = match LoginAttempt::begin(&state.limits, &account, source, known_device) {
        Ok(attempt) => attempt,
        Err(wait) => return Ok(too_many(chrome, form.email, next, wait)),
    };
    let Some(found) = user::authenticate(&state.db, &form.email, &form.password).await? else {
        tracing::info!(ip = info.ip.as_deref().unwrap_or("-"), "failed login");
        if let Some(wait) = attempt.must_succeed {
            // Past the account's spent budget only the right password counts: a wrong one
            // is answered exactly as a throttled attempt.
            return Ok(too_many(chrome, form.email, next, wait));
        }
        let page = LoginPage {
            chrome,
            errors: FormErrors::general_message("That email and password do not match an account."),
            email: form.email,
            next,
        };
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    attempt.succeeded();

    // Whatever session this browser had ends here; the new one has a fresh id (rotation).
    let old = previous.map(|axum::Extension(Session(old))| old.id);
    let started = domain_session::login(
        &state.db,
        &found.id,
        old.as_ref(),
        info.ip.as_deref(),
        info.user_agent.as_deref(),
    )
    .await?;
    let cookie = session::cookie_for(&state, &started);
    let mut response = Redirect::to(&next).into_response();
    session::add_cookie(&mut response, &cookie);
    session::add_cookie(&mut response, &crate::auth::device::cookie(&state, &account));
    Ok(response)
}

fn too_many(chrome: Chrome, email: String, next: String, wait: u64) -> Response {
    let minutes = wait.div_ceil(60);
    let page = LoginPage {
        chrome,
        errors: FormErrors::general_message(format!(
            "Too many sign-in attempts. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        )),
        email,
        next,
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, wait.into());
    response
}

pub async fn logout(
    State(state): State<AppState>,
    session: Option<axum::Extension<Session>>,
) -> Result<Response, PageError> {
    if let Some(axum::Extension(Session(row))) = session {
        domain_session::logout(&state.db, &row).await?;
    }
    let mut response = flash::redirect(&state, "/login", "success", "You have been logged out.");
    session::add_cookie(&mut response, &session::clear_cookie(&state));
    Ok(response)
}

/// The client's address and browser, for session records and login throttling.
pub struct RequestInfo {
    pub ip: Option<String>,
    /// The source attempts are counted against (the address, or its IPv6 /64).
    pub source: Option<String>,
    pub user_agent: Option<String>,
}

impl axum::extract::FromRequestParts<AppState> for RequestInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, &state.config.trusted_proxies);
        Ok(RequestInfo {
            ip: ip.map(|ip| ip.to_string()),
            source: ip.map(|ip| crate::auth::client_ip::source_of(ip).to_string()),
            user_agent: user_agent(&parts.headers),
        })
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
