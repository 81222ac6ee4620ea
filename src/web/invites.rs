//! Household invites in the UI: Settings → People (invite, the link to copy, pending invites,
//! revoke) and the link's own page, `/invite/{token}`, where the invited person sets their
//! name and password and is signed in.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::auth_pages::RequestInfo;
use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::extract::PagePath;
use super::flash;
use super::forms::FormErrors;
use crate::auth::session;
use crate::domain::ids::WorkspaceId;
use crate::domain::invite::{self, Invite};
use crate::domain::session as domain_session;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "settings/people.html")]
struct PeoplePage {
    chrome: Chrome,
    tab: &'static str,
    invites: Vec<Invite>,
    owned: Vec<WorkspaceAccess>,
    errors: FormErrors,
    email: String,
    /// The link just made, shown this once.
    link: Option<String>,
    /// A reset link just made for someone the person invited, shown this once.
    reset_link: Option<String>,
    /// The people the person invited: `(id, name, email)`, each can get a reset link.
    invited: Vec<(String, String, String)>,
}

async fn people_page(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    link: Option<String>,
) -> Result<Response, PageError> {
    people_page_full(state, user, chrome, errors, email, link, None).await
}

/// The People page with a reset link just made for someone (`password_reset::make_link`).
pub async fn people_page_with_reset(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    reset_link: String,
) -> Result<Response, PageError> {
    people_page_full(
        state,
        user,
        chrome,
        FormErrors::none(),
        String::new(),
        None,
        Some(reset_link),
    )
    .await
}

async fn people_page_full(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    link: Option<String>,
    reset_link: Option<String>,
) -> Result<Response, PageError> {
    let invites = invite::list(&state.db, &user.actor()).await?;
    let invited = crate::domain::password_reset::invited_people(&state.db, &user.actor()).await?;
    let owned = chrome.workspaces.iter().filter(|w| w.is_owner()).cloned().collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = PeoplePage {
        chrome: chrome.in_section("settings"),
        tab: "people",
        invites,
        owned,
        errors,
        email,
        link,
        reset_link,
        invited,
    };
    Ok((status, page).into_response())
}

pub async fn page(State(state): State<AppState>, user: CurrentUser, chrome: Chrome) -> Result<Response, PageError> {
    people_page(&state, &user, chrome, FormErrors::none(), String::new(), None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    /// A workspace id to share, or empty.
    #[serde(default)]
    workspace: String,
    #[serde(default)]
    role: String,
    /// "Email it to them" ticked.
    #[serde(default)]
    send: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Form(form): Form<InviteForm>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let made = async {
        let ws = match form.workspace.trim() {
            "" => None,
            id => {
                let id = WorkspaceId::parse(id)
                    .ok_or_else(|| AppError::invalid("workspace", "choose one of your workspaces"))?;
                Some(workspace::resolve(&state.db, &actor, &id).await?)
            }
        };
        invite::create(
            &state.db,
            &actor,
            &form.email,
            ws.as_ref().map(|w| (w, form.role.as_str())),
        )
        .await
    }
    .await;
    match made {
        Ok(made) => {
            let link = invite::link(state.config.public_url.as_deref(), &made.token);
            let emailed = match form.send {
                Some(_) => Some(invite::email_link(&state, &actor, &made).await?),
                None => None,
            };
            let chrome = match emailed {
                Some(None) => {
                    chrome.with_flash("success", format!("The invite is on its way to {}.", made.invite.email))
                }
                Some(Some(why)) => chrome.with_flash("warning", why.to_string()),
                None => chrome,
            };
            people_page(&state, &user, chrome, FormErrors::none(), String::new(), Some(link)).await
        }
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            people_page(&state, &user, chrome, errors, form.email, None).await
        }
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    PagePath(id): PagePath<String>,
) -> Result<Response, PageError> {
    invite::revoke(&state.db, &user.actor(), &id).await?;
    Ok(flash::redirect(
        &state,
        "/settings/people",
        "success",
        "Invite revoked: its link no longer works.",
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/invite.html")]
struct AcceptPage {
    chrome: Chrome,
    errors: FormErrors,
    token: String,
    email: String,
    workspace: Option<String>,
    role: Option<String>,
    name: String,
}

pub async fn accept_page(
    State(state): State<AppState>,
    chrome: Chrome,
    PagePath(token): PagePath<String>,
) -> Result<Response, PageError> {
    let opened = invite::open(&state.db, &token).await?;
    Ok(AcceptPage {
        chrome,
        errors: FormErrors::none(),
        token,
        email: opened.email,
        workspace: opened.workspace,
        role: opened.role,
        name: String::new(),
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub async fn accept(
    State(state): State<AppState>,
    chrome: Chrome,
    parts: RequestInfo,
    PagePath(token): PagePath<String>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, PageError> {
    let user = match invite::accept(&state.db, &token, &form.name, &form.password).await {
        Ok(user) => user,
        Err(AppError::NotFound) => return Err(AppError::NotFound.into()),
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let opened = invite::open(&state.db, &token).await?;
            let page = AcceptPage {
                chrome,
                errors,
                token,
                email: opened.email,
                workspace: opened.workspace,
                role: opened.role,
                name: form.name,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let started = domain_session::login(
        &state.db,
        &user.id,
        None,
        parts.ip.as_deref(),
        parts.user_agent.as_deref(),
    )
    .await?;
    let cookie = session::cookie_for(&state, &started);
    let mut response = flash::redirect(&state, "/", "success", "Welcome to pi-crm. Your account is ready.");
    session::add_cookie(&mut response, &cookie);
    Ok(response)
}
