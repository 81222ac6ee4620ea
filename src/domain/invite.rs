//! Household invites (SPEC §5): a signed-in person invites someone by email; pi-crm makes a
//! one-time link, valid for 7 days, on which that person sets their name and password. The
//! invite may share one of the inviter's own workspaces, with a role, at the same moment.
//! The link's secret is shown once and stored only as its SHA-256.

use serde::Serialize;
use sqlx::SqlitePool;

use super::actor::{Actor, Via};
use super::audit;
use super::ids::{UserId, WorkspaceId};
use super::user::{Email, NewPassword, User, parse_name};
use super::workspace::{self, Role, WorkspaceAccess};
use crate::auth::{password, tokens};
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::invites::{InviteRow, NewInvite};

/// How long a link works.
pub const VALID_FOR: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);

/// An invite as its maker sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Invite {
    pub id: String,
    pub email: String,
    pub workspace: Option<String>,
    pub role: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: &'static str,
}

impl From<InviteRow> for Invite {
    fn from(r: InviteRow) -> Invite {
        let status = if r.accepted_at.is_some() {
            "accepted"
        } else if r.revoked_at.is_some() {
            "revoked"
        } else if r.expires_at <= crate::clock::now_text() {
            "expired"
        } else {
            "pending"
        };
        Invite {
            id: r.id,
            email: r.email,
            workspace: r.workspace_name,
            role: r.role,
            created_at: r.created_at,
            expires_at: r.expires_at,
            status,
        }
    }
}

/// The invite's link: under `public_url` when there is one. Without one it is the path alone,
/// which the inviter's own browser completes with the address it uses (a household member is
/// usually on the same home network); it is never built from a request's `Host`, which the
/// requester chooses (SPEC §8).
pub fn link(public_url: Option<&str>, token: &str) -> String {
    let base = public_url.map(|u| u.trim_end_matches('/')).unwrap_or("");
    format!("{base}/invite/{token}")
}

/// A new invite and the link's secret, which is never stored and never shown again.
pub struct Made {
    pub invite: Invite,
    pub token: String,
}

/// Invites `email`; with `share`, one of the inviter's workspaces and the role to give.
pub async fn create(
    db: &SqlitePool,
    actor: &Actor,
    email: &str,
    share: Option<(&WorkspaceAccess, &str)>,
) -> AppResult<Made> {
    actor.require(super::actor::Scope::ManageWorkspaces)?;
    let email = Email::parse(email, "email")?;
    if storage::users::find_by_email(db, email.as_str()).await?.is_some() {
        return Err(AppError::invalid(
            "email",
            "this person already has an account; share a workspace with them instead",
        ));
    }
    let share = match share {
        Some((ws, role)) => {
            ws.require_owner("share it")?;
            // No role named: an editor, the household's usual share.
            let role = match Role::parse(role.trim()).or_else(|| role.trim().is_empty().then_some(Role::Editor)) {
                Some(r @ (Role::Editor | Role::Viewer)) => r,
                _ => return Err(AppError::invalid("role", "role is editor or viewer")),
            };
            Some((ws, role))
        }
        None => None,
    };
    let token = tokens::random_hex(32);
    let id = uuid::Uuid::now_v7().to_string();
    let now = crate::clock::now_text();
    let expires_at = crate::clock::text_from_now(VALID_FOR);
    let mut tx = storage::db::begin_write(db).await?;
    storage::invites::revoke_open_to(&mut tx, &actor.user_id, email.as_str(), &now).await?;
    storage::invites::insert(
        &mut tx,
        &NewInvite {
            id: &id,
            token_hash: &tokens::sha256_hex(&token),
            email: email.as_str(),
            invited_by: &actor.user_id,
            workspace_id: share.map(|(ws, _)| ws.id().as_str()),
            role: share.map(|(_, r)| r.as_str()),
            created_at: &now,
            expires_at: &expires_at,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "invite.create",
        "invite",
        Some(&id),
        share.map(|(ws, _)| ws.id()),
    )
    .await?;
    tx.commit().await?;
    let invite = Invite {
        id,
        email: email.as_str().to_string(),
        workspace: share.map(|(ws, _)| ws.name().to_string()),
        role: share.map(|(_, r)| r.as_str().to_string()),
        created_at: now,
        expires_at,
        status: "pending",
    };
    Ok(Made { invite, token })
}

/// The person's own invites, newest first.
pub async fn list(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<Invite>> {
    actor.require(super::actor::Scope::ManageWorkspaces)?;
    Ok(storage::invites::by_inviter(db, &actor.user_id)
        .await?
        .into_iter()
        .map(Invite::from)
        .collect())
}

/// Revokes one of the person's own open invites (404 for anyone else's, or a used one).
pub async fn revoke(db: &SqlitePool, actor: &Actor, id: &str) -> AppResult<()> {
    actor.require(super::actor::Scope::ManageWorkspaces)?;
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::invites::revoke(&mut tx, &actor.user_id, id, &crate::clock::now_text()).await? {
        return Err(AppError::NotFound);
    }
    audit::record(&mut tx, actor, "invite.revoke", "invite", Some(id), None).await?;
    tx.commit().await?;
    Ok(())
}

/// What the link's page shows: whom it is for, and what it shares.
pub struct Opened {
    pub email: String,
    pub workspace: Option<String>,
    pub role: Option<String>,
}

/// An invite that still works, by its link's secret; 404 for one used, revoked, expired or
/// never made (all look the same to whoever holds the link).
pub async fn open(db: &SqlitePool, token: &str) -> AppResult<Opened> {
    let row = storage::invites::open_by_token(db, &tokens::sha256_hex(token), &crate::clock::now_text())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Opened {
        email: row.email,
        workspace: row.workspace_name,
        role: row.role,
    })
}

/// Uses the invite: the account, and the shared workspace, in one transaction, once. The
/// workspace is shared by the inviter, through their own (checked again) ownership.
pub async fn accept(db: &SqlitePool, token: &str, name: &str, new_password: &str) -> AppResult<User> {
    let name = parse_name(name, "name")?;
    NewPassword::parse(new_password, "password")?;
    let hash = password::hash(new_password.to_string()).await?;
    let mut tx = storage::db::begin_write(db).await?;
    let row = storage::invites::take(&mut tx, &tokens::sha256_hex(token), &crate::clock::now_text())
        .await?
        .ok_or(AppError::NotFound)?;
    let user = storage::users::insert(&mut tx, &row.email, &name, &hash)
        .await
        .map_err(|e| match crate::error::is_unique_violation(&e, "users.email") {
            true => AppError::invalid("email", "an account with this email already exists; sign in instead"),
            false => e.into(),
        })?;
    storage::invites::set_accepted_user(&mut tx, &row.id, &user.id).await?;
    let newcomer = Actor::person(user.id.clone(), Via::Ui);
    audit::record(&mut tx, &newcomer, "user.create", "user", Some(user.id.as_str()), None).await?;
    audit::record(&mut tx, &newcomer, "invite.accept", "invite", Some(&row.id), None).await?;
    if let (Some(ws_id), Some(role)) = (row.workspace_id.as_deref().and_then(WorkspaceId::parse), &row.role)
        && let Some(inviter) = UserId::parse(&row.invited_by)
    {
        let inviter = Actor::person(inviter, Via::Ui);
        // The inviter may have lost the workspace since: the account is still made.
        if let Ok(ws) = workspace::resolve(&mut *tx, &inviter, &ws_id).await
            && ws.is_owner()
        {
            storage::workspaces::upsert_member(&mut tx, &ws, &user.id, role).await?;
            audit::in_workspace(
                &mut tx,
                &inviter,
                ws.id(),
                "workspace.member_add",
                "user",
                user.id.as_str(),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(user)
}

/// Emails the invite's link to the invited person through the inviter's first workspace with
/// an email provider. `Ok(None)` when it is queued; `Ok(Some(why))` when it cannot go (no
/// public address to build the link from, no email provider): the link is still shown to copy.
pub async fn email_link(state: &crate::state::AppState, actor: &Actor, made: &Made) -> AppResult<Option<&'static str>> {
    use super::messaging::outbox::{self, Notice, Purpose};
    let Some(public_url) = state.config.public_url.as_deref() else {
        return Ok(Some(
            "Not emailed: pi-crm has no public address to put in the link. Copy it and send it yourself.",
        ));
    };
    let Some(ws) = storage::password_resets::sending_workspace(&state.db, actor.user_id.as_str())
        .await?
        .and_then(|id| WorkspaceId::parse(&id))
    else {
        return Ok(Some(
            "Not emailed: none of your workspaces has an email provider yet. Copy the link and send it yourself.",
        ));
    };
    let ws = workspace::resolve(&state.db, actor, &ws).await?;
    let inviter = storage::users::find(&state.db, &actor.user_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_else(|| "Someone".into());
    let url = link(Some(public_url), &made.token);
    let html_escape = super::template::render::html_escape;
    let text = format!(
        "Hello,\n\n{inviter} invited you to their household's pi-crm. Open this link within 7 days to choose your name and password:\n\n{url}\n\nIt works once. If you were not expecting it, ignore this email.\n"
    );
    let html = format!(
        "<p>Hello,</p><p>{} invited you to their household's pi-crm. Open this link within 7 days to choose your name and password:</p><p><a href=\"{}\">Accept the invite</a></p><p>It works once. If you were not expecting it, ignore this email.</p>",
        html_escape(&inviter),
        html_escape(&url)
    );
    let now = state.clock.now_text();
    let mut tx = storage::db::begin_write(&state.db).await?;
    outbox::queue_notice(
        &mut tx,
        &ws,
        Purpose::Account,
        None,
        Notice {
            to: &made.invite.email,
            subject: format!("{inviter} invited you to pi-crm"),
            text,
            html,
        },
        &now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "invite.email",
        "invite",
        Some(&made.invite.id),
        Some(ws.id()),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(None)
}
