//! The template library (SPEC §9.1): email (subject, preheader, HTML body; the plain-text part
//! is derived) and text templates, each person's favourites, copies and shares. Placeholders
//! are checked when a template is saved — unknown names and bad syntax are 422s naming the
//! part and the line — and filled in by the sandbox in `render`.

pub mod guard;
pub mod needs;
pub mod plain;
pub mod render;
pub mod written;

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::actor::{Actor, Scope};
use super::audit;
use super::contact::{BaseFields, ContactRecord};
use super::field::FieldType;
use super::field_definition::{self, FieldSet};
use super::ids::{ContactId, TemplateId, WorkspaceId};
use super::messaging::Channel;
use super::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult, Invalids};
use crate::state::AppState;
use crate::storage;
use render::{Compiled, Rendered, Sender, Source};

/// A template, with whether it is a favourite of the one who asked.
#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub channel: Channel,
    pub subject: String,
    pub preheader: String,
    /// HTML for email, plain text for a text message.
    pub body: String,
    pub ai_generated: bool,
    /// A favourite of the caller's.
    pub favorite: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<storage::templates::Row> for Template {
    fn from(r: storage::templates::Row) -> Self {
        Template {
            id: r.id,
            workspace_id: r.workspace_id,
            name: r.name,
            channel: Channel::stored(&r.channel),
            subject: r.subject,
            preheader: r.preheader,
            body: r.body,
            ai_generated: r.ai_generated,
            favorite: r.favorite,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Template {
    pub fn channel(&self) -> Channel {
        self.channel
    }

    pub fn source(&self) -> Source<'_> {
        Source {
            channel: self.channel(),
            subject: &self.subject,
            preheader: &self.preheader,
            body: &self.body,
        }
    }
}

/// A template shared with the caller (read-only: they copy it to use it).
#[derive(Debug, Clone)]
pub struct SharedTemplate {
    pub template: Template,
    pub shared_by: Option<String>,
    pub shared_at: String,
    /// The name of the workspace it lives in (`workspace.name` in its preview).
    pub workspace_name: String,
}

/// `POST` takes every field but `preheader`; `PATCH` takes any of them.
#[derive(Debug, Default, Clone)]
pub struct TemplateInput {
    pub name: Option<String>,
    pub channel: Option<String>,
    pub subject: Option<String>,
    pub preheader: Option<String>,
    pub body: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Words in the name, subject or body.
    pub q: Option<String>,
    /// Only the caller's favourites.
    pub favorites: Option<bool>,
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    query: &ListQuery,
) -> AppResult<Vec<Template>> {
    actor.require(Scope::ReadTemplates)?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let rows = storage::templates::list(&state.db, ws, &actor.user_id, q, query.favorites.unwrap_or(false)).await?;
    Ok(rows.into_iter().map(Template::from).collect())
}

pub async fn get(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &TemplateId) -> AppResult<Template> {
    actor.require(Scope::ReadTemplates)?;
    find(state, actor, ws, id).await
}

async fn find(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &TemplateId) -> AppResult<Template> {
    storage::templates::find(&state.db, ws, &actor.user_id, id)
        .await?
        .map(Template::from)
        .ok_or(AppError::NotFound)
}

/// A template's fields once checked.
struct Checked {
    name: String,
    channel: Channel,
    subject: String,
    preheader: String,
    body: String,
}

/// Checks a whole template: every problem at once, placeholders against the workspace's fields.
async fn check(state: &AppState, ws: &WorkspaceAccess, input: TemplateInput) -> AppResult<Checked> {
    check_with(state, ws, input, &[]).await
}

/// `check`, as if the workspace also had the fields `adding` (made in the same transaction).
async fn check_with(
    state: &AppState,
    ws: &WorkspaceAccess,
    input: TemplateInput,
    adding: &[field_definition::FieldDefinition],
) -> AppResult<Checked> {
    let mut bad = Invalids::default();
    let name = input.name.as_deref().unwrap_or("").trim().to_string();
    if name.is_empty() {
        bad.check::<()>(Err(AppError::invalid("name", "give the template a name")))?;
    } else if name.chars().count() > 200 {
        bad.check::<()>(Err(AppError::invalid("name", "a name is at most 200 characters")))?;
    }
    let channel = match input.channel.as_deref().and_then(Channel::parse) {
        Some(c) => c,
        None => {
            bad.check::<()>(Err(AppError::invalid("channel", "channel is email or text")))?;
            bad.finish()?;
            unreachable!("finish fails when a problem was kept")
        }
    };
    let subject = input.subject.unwrap_or_default().trim().to_string();
    let preheader = input.preheader.unwrap_or_default().trim().to_string();
    let body = input.body.unwrap_or_default();
    if channel == Channel::Email {
        bad.check(super::messaging::send::check_line("subject", &subject, true))?;
        bad.check(super::messaging::send::check_line("preheader", &preheader, false))?;
    }
    if body.trim().is_empty() {
        bad.check::<()>(Err(AppError::invalid("body", "write the message")))?;
    } else if body.len() > render::BODY_MAX {
        bad.check::<()>(Err(AppError::invalid("body", "a template body is at most 256 KiB")))?;
    }
    bad.finish()?;
    let (subject, preheader) = match channel {
        Channel::Email => (subject, preheader),
        Channel::Text => (String::new(), String::new()),
    };
    let checked = Checked {
        name,
        channel,
        subject,
        preheader,
        body,
    };
    let mut fields = field_definition::applicable(&state.db, ws).await?;
    fields.0.extend(adding.iter().cloned());
    verify(&checked.source(), &fields)?;
    Ok(checked)
}

impl Checked {
    fn source(&self) -> Source<'_> {
        Source {
            channel: self.channel,
            subject: &self.subject,
            preheader: &self.preheader,
            body: &self.body,
        }
    }
}

/// Every placeholder a template of this workspace may use: pi-crm's own, then
/// `custom.<field_name>` for each field that applies here.
pub async fn placeholders(state: &AppState, ws: &WorkspaceAccess) -> AppResult<Vec<String>> {
    let fields = field_definition::applicable(&state.db, ws).await?;
    let mut all: Vec<String> = render::PLACEHOLDERS.iter().map(|p| p.to_string()).collect();
    all.extend(fields.0.iter().map(|d| format!("custom.{}", d.field_name)));
    Ok(all)
}

/// Parses, checks the placeholders, and fills the template in once for a sample contact (so an
/// unknown filter or a loop that never ends is found now, not at send time).
pub fn verify(source: &Source, fields: &FieldSet) -> AppResult<Compiled> {
    let compiled = Compiled::new(source).map_err(AppError::InvalidMany)?;
    let custom: BTreeSet<String> = fields.0.iter().map(|d| d.field_name.clone()).collect();
    let unknown = compiled.unknown_placeholders(&custom);
    if !unknown.is_empty() {
        return Err(AppError::InvalidMany(unknown));
    }
    let sample = render::context(
        &sample_contact(fields),
        fields,
        &sample_sender(),
        "Workspace",
        Some("https://example.com/u"),
    );
    compiled.render(&sample).map_err(|p| AppError::InvalidMany(vec![p]))?;
    Ok(compiled)
}

/// A contact with every field filled, for checking a template and for previews without one.
pub fn sample_contact(fields: &FieldSet) -> ContactRecord {
    ContactRecord {
        id: String::new(),
        workspace_id: String::new(),
        created_on: String::new(),
        base: BaseFields {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            primary_email: Some("ada@example.com".into()),
            primary_phone: Some("+14155550123".into()),
            company: Some("Analytical Engines".into()),
        },
        custom: fields
            .0
            .iter()
            .map(|d| {
                let value = match d.field_type {
                    FieldType::Date => "--12-10".to_string(),
                    FieldType::Number => "350000".to_string(),
                    FieldType::Boolean => "true".to_string(),
                    FieldType::Datetime => "2026-12-10T09:00:00Z".to_string(),
                    FieldType::Email => "ada@example.com".to_string(),
                    FieldType::Phone => "+14155550187".to_string(),
                    FieldType::Url => "https://example.com".to_string(),
                    FieldType::Select => d.options.first().cloned().unwrap_or_default(),
                    _ => d.label.clone(),
                };
                (d.field_name.clone(), value)
            })
            .collect(),
        lists: Vec::new(),
    }
}

fn sample_sender() -> Sender {
    Sender {
        name: "Andy".into(),
        email: "andy@example.com".into(),
    }
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: TemplateInput,
    ai_generated: bool,
) -> AppResult<Template> {
    actor.require(Scope::WriteTemplates)?;
    ws.require_editor()?;
    let checked = check(state, ws, input).await?;
    let id = TemplateId::generate();
    let mut tx = storage::db::begin_write(&state.db).await?;
    insert(&mut tx, actor, ws, &id, &checked, ai_generated).await?;
    tx.commit().await?;
    find(state, actor, ws, &id).await
}

async fn insert(
    conn: &mut sqlx::SqliteConnection,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    t: &Checked,
    ai_generated: bool,
) -> AppResult<()> {
    let now = crate::clock::now_text();
    storage::templates::insert(
        conn,
        ws,
        &storage::templates::New {
            id,
            name: &t.name,
            channel: t.channel.as_str(),
            subject: &t.subject,
            preheader: &t.preheader,
            body: &t.body,
            ai_generated,
            created_by: &actor.user_id,
            now: &now,
        },
    )
    .await?;
    audit::in_workspace(conn, actor, ws.id(), "template.create", "template", id.as_str()).await
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    input: TemplateInput,
) -> AppResult<Template> {
    actor.require(Scope::WriteTemplates)?;
    ws.require_editor()?;
    let current = find(state, actor, ws, id).await?;
    let merged = TemplateInput {
        name: input.name.or(Some(current.name)),
        channel: input.channel.or(Some(current.channel.to_string())),
        subject: input.subject.or(Some(current.subject)),
        preheader: input.preheader.or(Some(current.preheader)),
        body: input.body.or(Some(current.body)),
    };
    let checked = check(state, ws, merged).await?;
    let now = crate::clock::now_text();
    let mut tx = storage::db::begin_write(&state.db).await?;
    let updated = storage::templates::update(
        &mut tx,
        ws,
        &storage::templates::New {
            id,
            name: &checked.name,
            channel: checked.channel.as_str(),
            subject: &checked.subject,
            preheader: &checked.preheader,
            body: &checked.body,
            ai_generated: current.ai_generated,
            created_by: &actor.user_id,
            now: &now,
        },
    )
    .await?;
    if !updated {
        return Err(AppError::NotFound);
    }
    audit::in_workspace(&mut tx, actor, ws.id(), "template.update", "template", id.as_str()).await?;
    tx.commit().await?;
    find(state, actor, ws, id).await
}

pub async fn delete(state: &AppState, actor: &Actor, ws: &WorkspaceAccess, id: &TemplateId) -> AppResult<()> {
    actor.require(Scope::WriteTemplates)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(&state.db).await?;
    if !storage::templates::delete(&mut tx, ws, id).await? {
        return Err(AppError::NotFound);
    }
    audit::in_workspace(&mut tx, actor, ws.id(), "template.delete", "template", id.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

/// Copies a template, into the same workspace ("Copy of …") or another the caller edits; its
/// placeholders must suit the target workspace's fields.
pub async fn copy(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    target: Option<&WorkspaceId>,
) -> AppResult<Template> {
    actor.require(Scope::ReadTemplates)?;
    let original = find(state, actor, ws, id).await?;
    let target = copy_target(state, actor, target.unwrap_or(ws.id())).await?;
    copy_into(state, actor, original, &target, &[]).await
}

/// A workspace the caller edits, to copy a template into.
async fn copy_target(state: &AppState, actor: &Actor, target: &WorkspaceId) -> AppResult<WorkspaceAccess> {
    actor.require(Scope::WriteTemplates)?;
    let target = workspace::resolve(&state.db, actor, target)
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::invalid("workspace_id", "you have no workspace with this id"),
            other => other,
        })?;
    target.require_editor()?;
    Ok(target)
}

/// Copies `original` into `target`, making the fields `adding` there in the same transaction.
async fn copy_into(
    state: &AppState,
    actor: &Actor,
    original: Template,
    target: &WorkspaceAccess,
    adding: &[field_definition::FieldDefinition],
) -> AppResult<Template> {
    if !adding.is_empty() {
        actor.require(Scope::WriteContacts)?;
    }
    let name = if target.id().as_str() == original.workspace_id {
        format!("Copy of {}", original.name)
    } else {
        original.name.clone()
    };
    let name: String = name.chars().take(200).collect();
    let input = TemplateInput {
        name: Some(name),
        channel: Some(original.channel.to_string()),
        subject: Some(original.subject.clone()),
        preheader: Some(original.preheader.clone()),
        body: Some(original.body.clone()),
    };
    let checked = check_with(state, target, input, adding).await?;
    let new_id = TemplateId::generate();
    let mut tx = storage::db::begin_write(&state.db).await?;
    for def in adding {
        field_definition::insert(&mut tx, actor, field_definition::Home::Workspace(target), def).await?;
    }
    insert(&mut tx, actor, target, &new_id, &checked, original.ai_generated).await?;
    tx.commit().await?;
    find(state, actor, target, &new_id).await
}

/// Shows the template, read-only, to another person of this pi-crm (by email).
pub async fn share(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    email: &str,
) -> AppResult<()> {
    actor.require(Scope::WriteTemplates)?;
    ws.require_editor()?;
    let template = find(state, actor, ws, id).await?;
    let email = super::user::Email::parse(email, "email")?;
    let other = storage::users::find_by_email(&state.db, email.as_str())
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "email",
                "nobody with this email has a pi-crm account here; invite them first",
            )
        })?;
    if other.id == actor.user_id {
        return Err(AppError::invalid("email", "this is your own address"));
    }
    let mut tx = storage::db::begin_write(&state.db).await?;
    let template_id = TemplateId::found(&template.id)?;
    storage::templates::share(
        &mut tx,
        ws,
        &template_id,
        &other.id,
        &actor.user_id,
        &crate::clock::now_text(),
    )
    .await?
    .then_some(())
    .ok_or(AppError::NotFound)?;
    audit::in_workspace_with(
        &mut tx,
        actor,
        ws.id(),
        "template.share",
        "template",
        &template.id,
        &json!({"with": other.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Templates others shared with the caller.
pub async fn shared_with_me(state: &AppState, actor: &Actor) -> AppResult<Vec<SharedTemplate>> {
    actor.require(Scope::ReadTemplates)?;
    let rows = storage::templates::shared_with(&state.db, &actor.user_id).await?;
    Ok(rows.into_iter().map(shared).collect())
}

pub async fn shared_one(state: &AppState, actor: &Actor, id: &TemplateId) -> AppResult<SharedTemplate> {
    actor.require(Scope::ReadTemplates)?;
    storage::templates::shared_one(&state.db, &actor.user_id, id)
        .await?
        .map(shared)
        .ok_or(AppError::NotFound)
}

fn shared(r: storage::templates::SharedRow) -> SharedTemplate {
    SharedTemplate {
        template: r.template.into(),
        shared_by: r.shared_by_name,
        shared_at: r.shared_at,
        workspace_name: r.workspace_name,
    }
}

/// Copies a template shared with the caller into one of their workspaces. With
/// `create_missing_fields`, the custom fields its placeholders name that the workspace lacks are
/// made there first, like the sharer's (see `needs`); without, such a copy is a 422 naming them.
pub async fn copy_shared(
    state: &AppState,
    actor: &Actor,
    id: &TemplateId,
    target: Option<&WorkspaceId>,
    create_missing_fields: bool,
) -> AppResult<Template> {
    let original = shared_one(state, actor, id).await?.template;
    let target = target.ok_or_else(|| AppError::invalid("workspace_id", "choose the workspace to copy it into"))?;
    let target = copy_target(state, actor, target).await?;
    let adding = if create_missing_fields {
        needs::fields_to_make(state, actor, &original, &target).await?
    } else {
        Vec::new()
    };
    copy_into(state, actor, original, &target, &adding).await
}

/// The fields a shared template's copy into `target` would need made there (empty when none).
pub async fn shared_copy_needs(
    state: &AppState,
    actor: &Actor,
    id: &TemplateId,
    target: &WorkspaceId,
) -> AppResult<Vec<field_definition::FieldDefinition>> {
    let original = shared_one(state, actor, id).await?.template;
    let target = copy_target(state, actor, target).await?;
    needs::fields_to_make(state, actor, &original, &target).await
}

pub async fn set_favorite(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    on: bool,
) -> AppResult<Template> {
    // A favourite is the person's own bookmark: viewers may keep them too.
    actor.require(Scope::ReadTemplates)?;
    storage::templates::set_favorite(&state.db, ws, &actor.user_id, id, on)
        .await?
        .then_some(())
        .ok_or(AppError::NotFound)?;
    find(state, actor, ws, id).await
}

/// The template filled in for a contact of the workspace (or the sample contact).
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    contact: Option<&ContactId>,
) -> AppResult<Rendered> {
    actor.require(Scope::ReadTemplates)?;
    let template = find(state, actor, ws, id).await?;
    preview_source(state, actor, ws, &template.source(), contact).await
}

/// A template as being written (the editor's live preview), filled in for a contact.
pub async fn preview_source(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    source: &Source<'_>,
    contact: Option<&ContactId>,
) -> AppResult<Rendered> {
    actor.require(Scope::ReadTemplates)?;
    let fields = field_definition::applicable(&state.db, ws).await?;
    let compiled = verify(source, &fields)?;
    let record = match contact {
        Some(id) => storage::contacts::load(&state.db, ws, id)
            .await?
            .ok_or_else(|| AppError::invalid("contact_id", "there is no contact with this id in this workspace"))?,
        None => sample_contact(&fields),
    };
    Filler::new(state, actor, ws, compiled, fields)
        .await?
        .fill(state, &record)
}

/// A template shared with the caller, filled in for the sample contact with the fields of the
/// workspace it lives in — read through the share itself, which the caller does not
/// otherwise reach (no access to that workspace is made for it: a template not shared with
/// the caller finds no fields).
pub async fn preview_shared(state: &AppState, actor: &Actor, shared: &SharedTemplate) -> AppResult<Rendered> {
    actor.require(Scope::ReadTemplates)?;
    let id = TemplateId::found(&shared.template.id)?;
    let fields = FieldSet(storage::fields::applicable_through_share(&state.db, &actor.user_id, &id).await?);
    let compiled = verify(&shared.template.source(), &fields)?;
    let sender = sender_for(state, actor).await?;
    let context = render::context(
        &sample_contact(&fields),
        &fields,
        &sender,
        &shared.workspace_name,
        Some("https://example.com/u"),
    );
    compiled.render(&context).map_err(|p| AppError::InvalidMany(vec![p]))
}

/// The person sending, for `sender.*`.
pub async fn sender_for(state: &AppState, actor: &Actor) -> AppResult<Sender> {
    let user = storage::users::find(&state.db, &actor.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Sender {
        name: user.name.clone(),
        email: user.email.to_string(),
    })
}

/// Fills a template of the workspace in for one contact, to send it (`messages::send`).
pub async fn fill_for(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &TemplateId,
    contact: &ContactRecord,
) -> AppResult<(Template, Rendered)> {
    actor.require(Scope::ReadTemplates)?;
    let template = find(state, actor, ws, id)
        .await
        .map_err(|_| AppError::invalid("template_id", "there is no template with this id in this workspace"))?;
    let rendered = Filler::for_source(state, actor, ws, &template.source())
        .await?
        .fill(state, contact)?;
    Ok((template, rendered))
}

/// A template compiled once, with what filling it in needs, for one contact or ten thousand
/// (a campaign's fan-out): the sender is the person acting, and the unsubscribe link is each
/// contact's own (when pi-crm has a public address).
pub struct Filler {
    compiled: Compiled,
    fields: FieldSet,
    sender: Sender,
    workspace: WorkspaceAccess,
}

impl Filler {
    pub async fn new(
        state: &AppState,
        actor: &Actor,
        ws: &WorkspaceAccess,
        compiled: Compiled,
        fields: FieldSet,
    ) -> AppResult<Filler> {
        Ok(Filler {
            compiled,
            fields,
            sender: sender_for(state, actor).await?,
            workspace: ws.clone(),
        })
    }

    /// Checks `source` against the workspace's fields and compiles it.
    pub async fn for_source(
        state: &AppState,
        actor: &Actor,
        ws: &WorkspaceAccess,
        source: &Source<'_>,
    ) -> AppResult<Filler> {
        let fields = field_definition::applicable(&state.db, ws).await?;
        let compiled = verify(source, &fields)?;
        Filler::new(state, actor, ws, compiled, fields).await
    }

    pub fn fields(&self) -> &FieldSet {
        &self.fields
    }

    pub fn fill(&self, state: &AppState, contact: &ContactRecord) -> AppResult<Rendered> {
        let public_url = state.config.public_url.as_deref();
        let unsubscribe = if contact.id.is_empty() {
            // The fictional sample contact: a link that shows where it goes and unsubscribes
            // nobody.
            public_url.map(|u| format!("{}/u/sample", u.trim_end_matches('/')))
        } else {
            contact.base.primary_email.as_deref().and_then(|email| {
                super::messaging::unsubscribe::link(&state.secret, public_url, self.workspace.id(), email)
            })
        };
        let context = render::context(
            contact,
            &self.fields,
            &self.sender,
            self.workspace.name(),
            unsubscribe.as_deref(),
        );
        self.compiled
            .render(&context)
            .map_err(|p| AppError::InvalidMany(vec![p]))
    }
}
