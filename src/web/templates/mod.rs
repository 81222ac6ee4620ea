//! `/workspaces/{ws}/templates`: the template library (SPEC §9.1) — list with search and
//! favourites, the editor with a live preview for a chosen contact, copy, share, delete — and
//! `/templates/shared`, what others shared with the person. A template's HTML is never put
//! into pi-crm's own pages: previews are separate documents (`preview`), framed sandboxed.

pub mod preview;
pub mod wizard;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::flash;
use super::forms::FormErrors;
use crate::auth::workspace::Editor;
use crate::domain::actor::Actor;
use crate::domain::contact::ContactRecord;
use crate::domain::ids::{TemplateId, WorkspaceId};
use crate::domain::search::{self, ContactQuery};
use crate::domain::template::{self, ListQuery, SharedTemplate, Template as MessageTemplate, TemplateInput};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{PagePath, PageWs};

#[derive(Template, WebTemplate)]
#[template(path = "library/list.html")]
struct ListPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    items: Vec<MessageTemplate>,
    q: String,
    favorites: bool,
    can_edit: bool,
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    favorites: String,
}

pub async fn list(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let favorites = params.favorites == "1" || params.favorites == "true";
    let query = ListQuery {
        q: Some(params.q.clone()),
        favorites: Some(favorites),
    };
    let items = template::list(&state, &actor, &ws, &query).await?;
    Ok(ListPage {
        chrome: chrome.in_section("templates"),
        can_edit: ws.can_edit(),
        ws,
        items,
        q: params.q,
        favorites,
    }
    .into_response())
}

/// The editor: a new template, or one of the workspace's.
#[derive(Template, WebTemplate)]
#[template(path = "library/edit.html")]
struct EditPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    /// `None` for a new one.
    id: Option<String>,
    form: TemplateForm,
    ai_generated: bool,
    favorite: bool,
    errors: FormErrors,
    can_edit: bool,
    contacts: Vec<ContactRecord>,
    /// Other workspaces the person edits, for "Copy to".
    targets: Vec<WorkspaceAccess>,
    placeholders: Vec<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct TemplateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub preheader: String,
    #[serde(default)]
    pub body: String,
}

impl TemplateForm {
    fn input(&self) -> TemplateInput {
        TemplateInput {
            name: Some(self.name.clone()),
            channel: Some(self.channel.clone()),
            subject: Some(self.subject.clone()),
            preheader: Some(self.preheader.clone()),
            body: Some(self.body.clone()),
        }
    }

    fn of(t: &MessageTemplate) -> TemplateForm {
        TemplateForm {
            name: t.name.clone(),
            channel: t.channel.to_string(),
            subject: t.subject.clone(),
            preheader: t.preheader.clone(),
            body: t.body.clone(),
        }
    }

    pub fn is_email(&self) -> bool {
        self.channel != "text"
    }
}

struct Editing {
    id: Option<String>,
    form: TemplateForm,
    ai_generated: bool,
    favorite: bool,
}

async fn editor(
    state: &AppState,
    actor: &Actor,
    ws: WorkspaceAccess,
    chrome: Chrome,
    editing: Editing,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let contacts = search::run(&state.db, actor, &ws, &ContactQuery::newest(100))
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let targets = crate::domain::workspace::list(&state.db, actor)
        .await?
        .into_iter()
        .filter(|w| w.can_edit() && w.id() != ws.id())
        .collect();
    let placeholders = template::placeholders(state, &ws)
        .await?
        .into_iter()
        .map(|p| format!("{{{{ {p} }}}}"))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        EditPage {
            chrome: chrome.in_section("templates"),
            can_edit: ws.can_edit(),
            ws,
            id: editing.id,
            form: editing.form,
            ai_generated: editing.ai_generated,
            favorite: editing.favorite,
            errors,
            contacts,
            targets,
            placeholders,
        },
    )
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct NewParams {
    #[serde(default)]
    channel: String,
}

pub async fn new_page(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    Query(params): Query<NewParams>,
) -> Result<Response, PageError> {
    let channel = if params.channel == "text" { "text" } else { "email" };
    let form = TemplateForm {
        channel: channel.into(),
        body: if channel == "email" {
            "<p>Hi {{ first_name | default(\"there\") }},</p>\n\n<p></p>\n\n<p>{{ sender.name }}</p>".into()
        } else {
            "Hi {{ first_name | default(\"there\") }}, ".into()
        },
        ..TemplateForm::default()
    };
    let editing = Editing {
        id: None,
        form,
        ai_generated: false,
        favorite: false,
    };
    editor(&state, &actor, ws.clone(), chrome, editing, FormErrors::none()).await
}

pub async fn create(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, PageError> {
    match template::create(&state, &actor, &ws, form.input(), false).await {
        Ok(t) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/templates/{}", ws.id(), t.id),
            "success",
            "Template saved.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let editing = Editing {
                id: None,
                form,
                ai_generated: false,
                favorite: false,
            };
            editor(&state, &actor, ws.clone(), chrome, editing, errors).await
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, TemplateId)>,
) -> Result<Response, PageError> {
    let t = template::get(&state, &actor, &ws, &id).await?;
    let editing = Editing {
        id: Some(t.id.clone()),
        form: TemplateForm::of(&t),
        ai_generated: t.ai_generated,
        favorite: t.favorite,
    };
    editor(&state, &actor, ws.clone(), chrome, editing, FormErrors::none()).await
}

pub async fn update(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, TemplateId)>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, PageError> {
    match template::update(&state, &actor, &ws, &id, form.input()).await {
        Ok(t) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/templates/{}", ws.id(), t.id),
            "success",
            "Template saved.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            let current = template::get(&state, &actor, &ws, &id).await?;
            let editing = Editing {
                id: Some(current.id.clone()),
                form,
                ai_generated: current.ai_generated,
                favorite: current.favorite,
            };
            editor(&state, &actor, ws.clone(), chrome, editing, errors).await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, TemplateId)>,
) -> Result<Response, PageError> {
    template::delete(&state, &actor, &ws, &id).await?;
    Ok(flash::redirect(
        &state,
        &format!("/workspaces/{}/templates", ws.id()),
        "success",
        "Template deleted.",
    ))
}

#[derive(Deserialize, Default)]
pub struct FavoriteForm {
    #[serde(default)]
    on: String,
    /// Where to come back to (the list or the editor).
    #[serde(default)]
    back: String,
}

pub async fn favorite(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, TemplateId)>,
    Form(form): Form<FavoriteForm>,
) -> Result<Response, PageError> {
    let on = form.on == "1";
    template::set_favorite(&state, &actor, &ws, &id, on).await?;
    let back = if form.back == "list" {
        format!("/workspaces/{}/templates", ws.id())
    } else {
        format!("/workspaces/{}/templates/{id}", ws.id())
    };
    let said = if on {
        "Added to your favourites."
    } else {
        "Taken out of your favourites."
    };
    Ok(flash::redirect(&state, &back, "success", said))
}

#[derive(Deserialize, Default)]
pub struct CopyForm {
    #[serde(default)]
    workspace_id: String,
}

pub async fn copy(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs,
    PagePath((_, id)): PagePath<(WorkspaceId, TemplateId)>,
    Form(form): Form<CopyForm>,
) -> Result<Response, PageError> {
    let target = match form.workspace_id.trim() {
        "" => None,
        other => Some(WorkspaceId::found(other)?),
    };
    let back = format!("/workspaces/{}/templates/{id}", ws.id());
    match template::copy(&state, &actor, &ws, &id, target.as_ref()).await {
        Ok(t) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/templates/{}", t.workspace_id, t.id),
            "success",
            "Copied. This is the copy.",
        )),
        Err(e) => refused(&state, &back, "Not copied", e),
    }
}

#[derive(Deserialize, Default)]
pub struct ShareForm {
    #[serde(default)]
    email: String,
}

pub async fn share(
    State(state): State<AppState>,
    PageWs { actor, ws, .. }: PageWs<Editor>,
    PagePath((_, id)): PagePath<(WorkspaceId, TemplateId)>,
    Form(form): Form<ShareForm>,
) -> Result<Response, PageError> {
    let back = format!("/workspaces/{}/templates/{id}", ws.id());
    match template::share(&state, &actor, &ws, &id, &form.email).await {
        Ok(()) => Ok(flash::redirect(
            &state,
            &back,
            "success",
            &format!(
                "Shared with {}: they find it under Templates → Shared with me.",
                form.email.trim()
            ),
        )),
        Err(e) => refused(&state, &back, "Not shared", e),
    }
}

/// `/templates/shared`: what others shared with the person, read-only, to copy.
#[derive(Template, WebTemplate)]
#[template(path = "library/shared.html")]
struct SharedPage {
    chrome: Chrome,
    items: Vec<SharedTemplate>,
    targets: Vec<WorkspaceAccess>,
    offer: Option<FieldOffer>,
}

/// A copy that needs fields the chosen workspace lacks: which, to make them with one click.
struct FieldOffer {
    template_id: String,
    workspace: WorkspaceAccess,
    fields: String,
    count: usize,
}

#[derive(Deserialize, Default)]
pub struct SharedQuery {
    #[serde(default)]
    copy: String,
    #[serde(default)]
    into: String,
}

pub async fn shared(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Query(q): Query<SharedQuery>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let items = template::shared_with_me(&state, &actor).await?;
    let targets: Vec<WorkspaceAccess> = crate::domain::workspace::list(&state.db, &actor)
        .await?
        .into_iter()
        .filter(WorkspaceAccess::can_edit)
        .collect();
    let offer = match (
        TemplateId::parse(&q.copy),
        targets.iter().find(|w| w.id().as_str() == q.into),
    ) {
        (Some(id), Some(ws)) => {
            let fields = template::shared_copy_needs(&state, &actor, &id, ws.id()).await?;
            (!fields.is_empty()).then(|| FieldOffer {
                template_id: id.to_string(),
                workspace: ws.clone(),
                fields: template::needs::describe(&fields),
                count: fields.len(),
            })
        }
        _ => None,
    };
    Ok(SharedPage {
        chrome: chrome.in_section("home"),
        items,
        targets,
        offer,
    }
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct SharedCopyForm {
    #[serde(default)]
    workspace_id: String,
    /// "1" from the offer to make the fields the template needs.
    #[serde(default)]
    create_fields: String,
}

/// Copies a shared template. When it names fields the workspace lacks, the page comes back
/// with an offer naming them ("create these fields and copy") instead of a dead end.
pub async fn copy_shared(
    State(state): State<AppState>,
    user: CurrentUser,
    PagePath(id): PagePath<TemplateId>,
    Form(form): Form<SharedCopyForm>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    let target = WorkspaceId::parse(form.workspace_id.trim());
    let create = form.create_fields == "1";
    match template::copy_shared(&state, &actor, &id, target.as_ref(), create).await {
        Ok(t) => {
            let made = if create {
                " The fields it needed were made there too."
            } else {
                ""
            };
            Ok(flash::redirect(
                &state,
                &format!("/workspaces/{}/templates/{}", t.workspace_id, t.id),
                "success",
                &format!("Copied into your workspace. It is yours to change.{made}"),
            ))
        }
        Err(e @ AppError::InvalidMany(_)) => match target {
            Some(into)
                if !template::shared_copy_needs(&state, &actor, &id, &into)
                    .await?
                    .is_empty() =>
            {
                Ok(Redirect::to(&format!("/templates/shared?copy={id}&into={into}#offer-{id}")).into_response())
            }
            _ => refused(&state, "/templates/shared", "Not copied", e),
        },
        Err(e) => refused(&state, "/templates/shared", "Not copied", e),
    }
}

/// A mistake the person can act on (a bad address, a placeholder the other workspace lacks)
/// comes back as a message on `back`; anything else is the error page.
fn refused(state: &AppState, back: &str, what: &str, e: AppError) -> Result<Response, PageError> {
    match e {
        AppError::Invalid { .. } | AppError::InvalidMany(_) => Ok(flash::redirect(
            state,
            back,
            "error",
            &format!("{what}: {}", e.public_message()),
        )),
        other => Err(other.into()),
    }
}
