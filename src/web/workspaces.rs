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
use crate::domain::campaign::settings::{self, ApprovalInput, CampaignSettings, QuietHours, SettingsInput};
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
    timezone_value: String,
    server_timezone: String,
    timezone_names: Vec<String>,
    /// Approval, quiet hours and the daily text limit (as saved, or as typed with errors).
    campaigns: CampaignSettings,
}

/// What the person typed into one of the page's forms, shown again with its error.
#[derive(Default)]
struct Typed {
    member_email: String,
    name: Option<String>,
    timezone: Option<String>,
    campaigns: Option<CampaignSettings>,
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    ws: WorkspaceAccess,
    errors: FormErrors,
    typed: Typed,
) -> Result<Response, PageError> {
    let members = workspace::members(&state.db, &ws).await?;
    let campaigns = match typed.campaigns {
        Some(c) => c,
        None => settings::load(&state.db, &ws).await?,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = WorkspacePage {
        chrome: chrome.in_section("workspace").with_workspace(&ws),
        is_owner: ws.role() == workspace::Role::Owner,
        me: user.id.to_string(),
        rename_value: typed.name.unwrap_or_else(|| ws.name().to_string()),
        timezone_value: typed
            .timezone
            .unwrap_or_else(|| ws.timezone().unwrap_or_default().to_string()),
        server_timezone: state
            .config
            .time_zone()
            .ok()
            .and_then(|z| z.iana_name().map(str::to_string))
            .unwrap_or_else(|| "UTC".into()),
        timezone_names: if ws.is_owner() {
            workspace::time_zone_names()
        } else {
            Vec::new()
        },
        ws,
        members,
        errors,
        member_email: typed.member_email,
        campaigns,
    };
    Ok((status, page).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    PageWs { user, ws, chrome, .. }: PageWs,
) -> Result<Response, PageError> {
    render(&state, &user, chrome, ws, FormErrors::none(), Typed::default()).await
}

#[derive(Deserialize)]
pub struct TimezoneForm {
    #[serde(default)]
    timezone: String,
}

pub async fn set_timezone(
    State(state): State<AppState>,
    PageWs {
        user,
        actor,
        ws,
        chrome,
        ..
    }: PageWs<Owner>,
    Form(form): Form<TimezoneForm>,
) -> Result<Response, PageError> {
    match workspace::set_timezone(&state.db, &actor, &ws, &form.timezone).await {
        Ok(ws) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}", ws.id()),
            "success",
            "Time zone saved.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error_on(e, "timezone")?;
            let typed = Typed {
                timezone: Some(form.timezone),
                ..Typed::default()
            };
            render(&state, &user, chrome, ws, errors, typed).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct CampaignSettingsForm {
    #[serde(default, deserialize_with = "crate::web::forms::checkbox")]
    approval_required: bool,
    #[serde(default)]
    reviewer_email: String,
    #[serde(default)]
    reviewer_name: String,
    #[serde(default)]
    quiet_start: String,
    #[serde(default)]
    quiet_end: String,
    #[serde(default)]
    daily_text_limit: String,
}

/// The owner's campaign settings: approval by a reviewer, quiet hours, the daily text limit.
pub async fn set_campaign_settings(
    State(state): State<AppState>,
    PageWs {
        user,
        actor,
        ws,
        chrome,
        ..
    }: PageWs<Owner>,
    Form(form): Form<CampaignSettingsForm>,
) -> Result<Response, PageError> {
    let limit = form.daily_text_limit.trim().parse::<u32>();
    let input = SettingsInput {
        approval: Some(ApprovalInput {
            required: Some(form.approval_required),
            reviewer_email: Some(form.reviewer_email.clone()),
            reviewer_name: Some(form.reviewer_name.clone()),
        }),
        quiet_hours: Some(QuietHours {
            start: form.quiet_start.clone(),
            end: form.quiet_end.clone(),
        }),
        daily_text_limit: limit.as_ref().ok().copied(),
    };
    let outcome = match limit {
        Err(_) => Err(crate::error::AppError::invalid(
            "daily_text_limit",
            "write a whole number of texts (0 stops marketing texts)",
        )),
        Ok(_) => settings::update(&state.db, &actor, &ws, &input).await,
    };
    match outcome {
        Ok(_) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}#campaign-settings", ws.id()),
            "success",
            "Campaign settings saved.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let mut typed = settings::load(&state.db, &ws).await?;
            typed.approval.required = form.approval_required;
            typed.approval.reviewer_email = Some(form.reviewer_email);
            typed.approval.reviewer_name = Some(form.reviewer_name);
            typed.quiet_hours = QuietHours {
                start: form.quiet_start,
                end: form.quiet_end,
            };
            let typed = Typed {
                campaigns: Some(typed),
                ..Typed::default()
            };
            render(&state, &user, chrome, ws, errors, typed).await
        }
    }
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
            let typed = Typed {
                name: Some(form.name),
                ..Typed::default()
            };
            render(&state, &user, chrome, ws, errors, typed).await
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
        return render(&state, &user, chrome, ws, errors, Typed::default()).await;
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
            let typed = Typed {
                member_email: form.email,
                ..Typed::default()
            };
            render(&state, &user, chrome, ws, errors, typed).await
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
