//! `/`: the dashboard. For now: the person's workspaces and a form to create one.

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
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    first_name: String,
    workspaces: Vec<WorkspaceAccess>,
    errors: FormErrors,
    new_name: String,
    backups: BackupLine,
    /// Messages that failed, bounced or may not have been sent.
    trouble: Vec<crate::domain::messaging::send::Attention>,
    /// Workspaces with texts from unknown numbers, and how many.
    unknown_senders: Vec<(WorkspaceAccess, i64)>,
    /// Open insights: dates coming up, quiet contacts, stalls, AI ideas.
    insights: Vec<crate::domain::insights::Insight>,
    /// The last seven days per workspace.
    week: Vec<crate::domain::weekly::WorkspaceWeek>,
    /// Follow-ups due, the pipelines, recent activity.
    today: crate::domain::today::Today,
    /// Replies from contacts nobody has opened yet.
    replies: Vec<crate::domain::replies::Reply>,
    /// Campaigns waiting for the reviewer, and decisions nobody has opened yet.
    approvals: Vec<crate::domain::campaign::approval::Waiting>,
    /// Marketing texts waiting for quiet hours or tomorrow's limit.
    held_texts: Vec<crate::domain::campaign::texts::HeldTexts>,
    /// Campaigns rely on outsiders, who cannot reach pi-crm: why.
    unreachable: Option<String>,
}

/// The dashboard's word on backups (SPEC §12): when the last good one was made, or that the
/// daily one is failing.
struct BackupLine {
    last_good: Option<String>,
    failing: Option<String>,
}

async fn backup_line(state: &AppState) -> BackupLine {
    match crate::backup::status::of(state).await {
        Ok(s) => BackupLine {
            last_good: s.last_good.map(|b| crate::backup::status::ago(&b.created_at)),
            failing: s.failing,
        },
        Err(e) => BackupLine {
            last_good: None,
            failing: Some(e.to_string()),
        },
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    errors: FormErrors,
    new_name: String,
) -> DashboardPage {
    let workspaces = chrome.workspaces.clone();
    let mut lap = Lap::start();
    let (trouble, unknown_senders) = crate::domain::messaging::send::needing_attention(
        state,
        &user.actor(),
        &workspaces,
        8,
    )
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %crate::telemetry::chain(&e), "the dashboard could not read messages needing a look");
        Default::default()
    });
    lap.done("messages needing a look");
    let actor = user.actor();
    // Yearly dates are shown live, beside follow-ups (`today`); the job's copies would repeat them.
    let insights: Vec<_> = crate::domain::insights::list(state, &actor, &Default::default(), 24)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %crate::telemetry::chain(&e), "the dashboard could not read insights");
            Vec::new()
        })
        .into_iter()
        .filter(|i| i.kind != "upcoming_date")
        .take(12)
        .collect();
    lap.done("insights");
    let week = crate::domain::weekly::numbers(state, &actor, state.clock.now())
        .await
        .unwrap_or_default();
    lap.done("the week's numbers");
    let today = crate::domain::today::today(state, &actor, &workspaces)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %crate::telemetry::chain(&e), "the dashboard could not read today's work");
            Default::default()
        });
    lap.done("follow-ups, pipelines, activity");
    let replies = crate::domain::replies::for_dashboard(state, &actor, &workspaces)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %crate::telemetry::chain(&e), "the dashboard could not read replies");
            Vec::new()
        });
    lap.done("replies");
    let approvals = crate::domain::campaign::approval::waiting(state, &actor, &workspaces)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %crate::telemetry::chain(&e), "the dashboard could not read approvals");
            Vec::new()
        });
    lap.done("approvals");
    let held_texts = crate::domain::campaign::texts::held_texts(state, &actor, &workspaces)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %crate::telemetry::chain(&e), "the dashboard could not read waiting texts");
            Vec::new()
        });
    lap.done("held texts");
    let backups = backup_line(state).await;
    lap.done("backups");
    let unreachable = crate::domain::reachability::warning_for(state, &workspaces)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %crate::telemetry::chain(&e), "the dashboard could not read reachability");
            None
        });
    DashboardPage {
        approvals,
        held_texts,
        trouble,
        unknown_senders,
        insights,
        week,
        today,
        replies,
        chrome: chrome.in_section("home"),
        first_name: user.name.split_whitespace().next().unwrap_or(&user.name).to_string(),
        workspaces,
        errors,
        new_name,
        backups,
        unreachable,
    }
}

/// How long each widget took, at debug level (`PI_CRM_LOG=pi_crm::web::dashboard=debug`):
/// the dashboard reads across every workspace, so this is where a slow one shows first.
struct Lap(std::time::Instant);

impl Lap {
    fn start() -> Lap {
        Lap(std::time::Instant::now())
    }

    fn done(&mut self, widget: &str) {
        tracing::debug!(
            widget,
            ms = self.0.elapsed().as_secs_f64() * 1000.0,
            "dashboard widget read"
        );
        self.0 = std::time::Instant::now();
    }
}

pub async fn show(State(state): State<AppState>, user: CurrentUser, chrome: Chrome) -> Response {
    page(&state, &user, chrome, FormErrors::none(), String::new())
        .await
        .into_response()
}

#[derive(Deserialize)]
pub struct NewWorkspace {
    #[serde(default)]
    name: String,
}

pub async fn create_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Form(form): Form<NewWorkspace>,
) -> Result<Response, PageError> {
    match workspace::create(&state.db, &user.actor(), &form.name).await {
        Ok(ws) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/contacts", ws.id()),
            "success",
            "Workspace created. Add your first contacts, or import them.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error_on(e, "name")?;
            let status = if errors.has("name") {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            Ok((status, page(&state, &user, chrome, errors, form.name).await).into_response())
        }
    }
}

/// Dismisses one of the person's insights from the dashboard.
pub async fn dismiss_insight(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::web::extract::PagePath(id): crate::web::extract::PagePath<crate::domain::ids::InsightId>,
) -> Result<Response, PageError> {
    crate::domain::insights::dismiss(&state, &user.actor(), &id).await?;
    Ok(flash::redirect(&state, "/#insights", "success", "Dismissed."))
}
