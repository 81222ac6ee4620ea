//! "Forgot password?" (`/forgot`) and the link's page (`/reset/{token}`), and the reset link
//! an inviter makes in Settings → People (issue 34). The rules are `domain::password_reset`'s.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::extract::PagePath;
use super::flash;
use super::forms::FormErrors;
use crate::domain::ids::UserId;
use crate::domain::password_reset::{self, Asked};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    /// What happened, the same sentence whatever the address.
    sent: Option<String>,
}

pub async fn forgot_page(chrome: Chrome) -> Response {
    ForgotPage {
        chrome,
        errors: FormErrors::none(),
        email: String::new(),
        sent: None,
    }
    .into_response()
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    chrome: Chrome,
    Form(form): Form<ForgotForm>,
) -> Result<Response, PageError> {
    match password_reset::request(&state, &form.email).await {
        Ok(asked) => {
            let sent = match asked {
                Asked::Maybe => format!(
                    "If {} has an account here, a link to choose a new password is on its way. It works for an hour, once.",
                    form.email.trim()
                ),
                Asked::NoPublicUrl => "pi-crm cannot email you a link: it has no public address yet. Ask whoever set up pi-crm to make you a reset link in Settings → People, or to run `pi-crm user reset-password` on the Pi.".to_string(),
            };
            Ok(ForgotPage {
                chrome,
                errors: FormErrors::none(),
                email: String::new(),
                sent: Some(sent),
            }
            .into_response())
        }
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let page = ForgotPage {
                chrome,
                errors,
                email: form.email,
                sent: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    chrome: Chrome,
    errors: FormErrors,
    token: String,
    email: String,
}

/// The link's page: asks for the new password; changes nothing (mail scanners open links).
pub async fn reset_page(
    State(state): State<AppState>,
    chrome: Chrome,
    PagePath(token): PagePath<String>,
) -> Result<Response, PageError> {
    let email = password_reset::open(&state, &token).await?.ok_or(AppError::NotFound)?;
    Ok(ResetPage {
        chrome,
        errors: FormErrors::none(),
        token,
        email,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn reset(
    State(state): State<AppState>,
    chrome: Chrome,
    PagePath(token): PagePath<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    match password_reset::complete(&state, &token, &form.password).await {
        Ok(()) => Ok(flash::redirect(
            &state,
            "/login",
            "success",
            "Your password is changed, and you are signed out everywhere. Log in with the new one.",
        )),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let email = password_reset::open(&state, &token).await?.ok_or(AppError::NotFound)?;
            let page = ResetPage {
                chrome,
                errors,
                token,
                email,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Settings → People: a reset link for someone the person invited, shown once to pass on.
pub async fn make_link(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    PagePath(id): PagePath<UserId>,
) -> Result<Response, PageError> {
    let link = password_reset::make_for(&state, &user.actor(), &id).await?;
    super::invites::people_page_with_reset(&state, &user, chrome, link).await
}
