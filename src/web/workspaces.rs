//! `/workspaces/{ws}`: who has access, sharing, renaming and deleting.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::flash;
use super::forms::FormErrors;
use crate::auth::workspace::Owner;
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::workspace::{self, Member, WorkspaceAccess};
use crate::state::AppState;
use crate::web::extract::{PagePath, PageWs};

#[derive(Template, WebTemplate)]
#[template(path = "workspaces/show.html")]
struct WorkspacePage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    members: Vec<Member>,
    is_owner: bool,
    me: String,
    errors: FormErrors,
    member_email: String,
    rename_value: String,
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    ws: WorkspaceAccess,
    errors: FormErrors,
    member_email: String,
    rename_value: Option<String>,
) -> Result<Response, PageError> {
    let members = workspace::members(&state.db, &ws).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = WorkspacePage {
        chrome: chrome.in_section("workspace").with_workspace(&ws),
        is_owner: ws.role() == workspace::Role::Owner,
        me: user.id.to_string(),
        rename_value: rename_value.unwrap_or_else(|| ws.name().to_string()),
        ws,
        members,
        errors,
        member_email,
    };
    Ok((status, page).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    PageWs { user, ws, chrome, .. }: PageWs,
) -> Result<Response, PageError> {
    render(&state, &user, chrome, ws, FormErrors::none(), String::new(), None).await
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    PageWs {
        user,
        actor,
        ws,
        chrome,
        ..
    }: PageWs<Owner>,
    Form(form): Form<NameForm>,
) -> Result<Response, PageError> {
    match workspace::rename(&state.db, &actor, &ws, &form.name).await {
        Ok(ws) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}", ws.id()),
            "success",
            "Workspace renamed.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error_on(e, "name")?;
            render(&state, &user, chrome, ws, errors, String::new(), Some(form.name)).await
        }
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

pub async fn delete(
    State(state): State<AppState>,
    PageWs {
        user,
        actor,
        ws,
        chrome,
        ..
    }: PageWs<Owner>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, PageError> {
    ws.require_owner("delete it")?;
    if form.confirm.trim() != ws.name() {
        let errors = FormErrors::field("confirm", "type the workspace's name exactly to confirm");
        return render(&state, &user, chrome, ws, errors, String::new(), None).await;
    }
    workspace::delete(&state.db, &actor, &ws).await?;
    Ok(flash::redirect(
        &state,
        "/",
        "success",
        &format!("Workspace “{}” deleted.", ws.name()),
    ))
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    PageWs {
        user,
        actor,
        ws,
        chrome,
        ..
    }: PageWs<Owner>,
    Form(form): Form<MemberForm>,
) -> Result<Response, PageError> {
    match workspace::add_member(&state.db, &actor, &ws, &form.email, &form.role).await {
        Ok((m, added)) => {
            let msg = if added {
                format!("Shared with {} as {}.", m.email, m.role)
            } else {
                format!("{} is now {}.", m.email, m.role)
            };
            Ok(flash::redirect(
                &state,
                &format!("/workspaces/{}", ws.id()),
                "success",
                &msg,
            ))
        }
        Err(e) => {
            let errors = FormErrors::from_error_on(e, "email")?;
            render(&state, &user, chrome, ws, errors, form.email, None).await
        }
    }
}

pub async fn remove_member(
    State(state): State<AppState>,
    PageWs { user, actor, ws, .. }: PageWs,
    PagePath((_, member)): PagePath<(WorkspaceId, UserId)>,
) -> Result<Response, PageError> {
    workspace::remove_member(&state.db, &actor, &ws, &member).await?;
    if member == user.id {
        return Ok(flash::redirect(
            &state,
            "/",
            "success",
            &format!("You left “{}”.", ws.name()),
        ));
    }
    Ok(flash::redirect(
        &state,
        &format!("/workspaces/{}", ws.id()),
        "success",
        "Access removed.",
    ))
}
