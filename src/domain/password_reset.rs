//! Forgotten passwords without the command line (issue 34). "Forgot password?" on the sign-in
//! page emails a one-time link — valid for an hour, used once, ending every session of the
//! account when used — through the email provider of the person's first workspace that has
//! one. The page answers the same whatever the address, so nobody learns who has an account.
//! Whoever invited a household member can also make them a link in Settings → People.
//! Only the link's SHA-256 is stored; the link is built from `public_url`, never from a
//! request header (SPEC §8.4).

use sqlx::SqlitePool;

use super::actor::{Actor, Via};
use super::audit;
use super::ids::{UserId, WorkspaceId};
use super::messaging::outbox::{self, Notice, Purpose};
use super::user::Email;
use super::workspace;
use crate::auth::tokens;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage;
use crate::storage::password_resets::NewReset;

/// How long a link works.
pub const VALID_FOR: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);
/// Links emailed to one person in an hour, at most: a stranger typing someone's address over
/// and over does not fill their inbox.
const EMAILS_PER_HOUR: i64 = 3;

/// What the "forgot password" page says, the same for every address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// "If that address has an account here, a link is on its way."
    Maybe,
    /// pi-crm has no public address to build a link from: nothing can be emailed, for anyone.
    NoPublicUrl,
}

/// The link for `token`: under `public_url`, else the path alone (a link made in Settings →
/// People is completed by the maker's browser, as an invite's is).
pub fn link(public_url: Option<&str>, token: &str) -> String {
    let base = public_url.map(|u| u.trim_end_matches('/')).unwrap_or("");
    format!("{base}/reset/{token}")
}

/// "Forgot password?": emails a link to `email` when it is an account's and one of its
/// workspaces can send email; answers the same either way.
pub async fn request(state: &AppState, email: &str) -> AppResult<Asked> {
    let email = Email::parse(email, "email")?;
    let Some(public_url) = state.config.public_url.clone() else {
        return Ok(Asked::NoPublicUrl);
    };
    let Some(user) = storage::users::find_by_email(&state.db, email.as_str()).await? else {
        return Ok(Asked::Maybe);
    };
    let Some(ws_id) = storage::password_resets::sending_workspace(&state.db, user.id.as_str())
        .await?
        .and_then(|id| WorkspaceId::parse(&id))
    else {
        tracing::info!(user = %user.id, "a password reset was asked for; none of the person's workspaces can send email");
        return Ok(Asked::Maybe);
    };
    // The provider's workspace as its owner reaches it: the link's token was not checked yet,
    // but nothing of the workspace is shown or changed, only an email queued through it.
    let Some((ws, _)) = workspace::for_system(&workspace::System::acting(), &state.db, &ws_id).await? else {
        return Ok(Asked::Maybe);
    };
    let now = state.clock.now_text();
    let hour_ago = crate::clock::format(state.clock.now() - jiff::SignedDuration::from_hours(1));
    if storage::password_resets::emailed_since(&state.db, &user.id, &hour_ago).await? >= EMAILS_PER_HOUR {
        tracing::info!(user = %user.id, "a password reset was asked for again; enough were emailed this hour");
        return Ok(Asked::Maybe);
    }
    let token = tokens::random_hex(32);
    let url = link(Some(&public_url), &token);
    let actor = Actor::person(user.id.clone(), Via::Ui);
    let mut tx = storage::db::begin_write(&state.db).await?;
    save(&mut tx, &user.id, None, &token, &now).await?;
    let first = user.name.split_whitespace().next().unwrap_or(&user.name).to_string();
    let text = format!(
        "Hello {first},\n\nSomeone asked to reset the password of your pi-crm account ({}). To choose a new one, open this link within an hour:\n\n{url}\n\nIt works once, and signs you out everywhere. If it was not you, do nothing: your password stays as it is.\n",
        user.email
    );
    let html = format!(
        "<p>Hello {},</p><p>Someone asked to reset the password of your pi-crm account ({}). To choose a new one, open this link within an hour:</p><p><a href=\"{url}\">Choose a new password</a></p><p>It works once, and signs you out everywhere. If it was not you, do nothing: your password stays as it is.</p>",
        super::template::render::html_escape(&first),
        super::template::render::html_escape(&user.email),
        url = super::template::render::html_escape(&url),
    );
    outbox::queue_notice(
        &mut tx,
        &ws,
        Purpose::Account,
        None,
        Notice {
            to: &user.email,
            subject: "Reset your pi-crm password".into(),
            text,
            html,
        },
        &now,
    )
    .await?;
    audit::record(
        &mut tx,
        &actor,
        "user.password_reset_request",
        "user",
        Some(user.id.as_str()),
        None,
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Asked::Maybe)
}

/// Stores a new link for `user` (only its hash); other open links of theirs end.
async fn save(
    tx: &mut sqlx::SqliteConnection,
    user: &UserId,
    made_by: Option<&UserId>,
    token: &str,
    now: &str,
) -> AppResult<()> {
    storage::password_resets::close_others(&mut *tx, user.as_str(), now).await?;
    let expires_at = crate::clock::format(crate::clock::parse(now).unwrap_or_else(crate::clock::now) + VALID_FOR);
    storage::password_resets::insert(
        tx,
        &NewReset {
            id: &uuid::Uuid::now_v7().to_string(),
            token_hash: &tokens::sha256_hex(token),
            user_id: user,
            made_by,
            created_at: now,
            expires_at: &expires_at,
        },
    )
    .await?;
    Ok(())
}

/// The people `actor` invited, who may get a reset link from them: `(id, name, email)`.
pub async fn invited_people(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<(String, String, String)>> {
    actor.require(super::actor::Scope::ManageWorkspaces)?;
    Ok(storage::password_resets::invited_people(db, &actor.user_id).await?)
}

/// A link for a household member `actor` invited, shown to the maker to pass on; anyone else
/// is not found.
pub async fn make_for(state: &AppState, actor: &Actor, user: &UserId) -> AppResult<String> {
    actor.require(super::actor::Scope::ManageWorkspaces)?;
    if !storage::password_resets::invited(&state.db, &actor.user_id, user.as_str()).await? {
        return Err(AppError::NotFound);
    }
    let token = tokens::random_hex(32);
    let now = state.clock.now_text();
    let mut tx = storage::db::begin_write(&state.db).await?;
    save(&mut tx, user, Some(&actor.user_id), &token, &now).await?;
    audit::record(
        &mut tx,
        actor,
        "user.password_reset_link",
        "user",
        Some(user.as_str()),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(link(state.config.public_url.as_deref(), &token))
}

/// The account a link that still works is for (its email), without using it.
pub async fn open(state: &AppState, token: &str) -> AppResult<Option<String>> {
    let now = state.clock.now_text();
    Ok(
        storage::password_resets::open(&state.db, &tokens::sha256_hex(token), &now)
            .await?
            .map(|(_, _, email)| email),
    )
}

/// Sets the new password through the link, once: every session of the account ends, and the
/// link (and any other open one) stops working.
pub async fn complete(state: &AppState, token: &str, new_password: &str) -> AppResult<()> {
    let now = state.clock.now_text();
    let Some((reset, user, _)) = storage::password_resets::open(&state.db, &tokens::sha256_hex(token), &now).await?
    else {
        return Err(AppError::NotFound);
    };
    let hash = super::user::hash_new_password(new_password, "password").await?;
    let user = UserId::parse(&user).ok_or(AppError::NotFound)?;
    let actor = Actor::person(user.clone(), Via::Ui);
    let mut tx = storage::db::begin_write(&state.db).await?;
    // Two tabs posting the same link: the second finds it used.
    if !storage::password_resets::use_once(&mut tx, &reset, &now).await? {
        return Err(AppError::NotFound);
    }
    storage::password_resets::close_others(&mut tx, user.as_str(), &now).await?;
    storage::users::set_password_hash(&mut tx, &user, &hash).await?;
    storage::sessions::delete_all_for_user_except(&mut tx, &user, None).await?;
    audit::record(
        &mut tx,
        &actor,
        "user.password_reset",
        "user",
        Some(user.as_str()),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
