//! Signed-in browser sessions: starting one at login (a fresh id every time, which defeats
//! fixation), finding a live one from its cookie, listing and ending them, and the sweep of
//! expired ones. The cookie itself is the auth face's business (`auth::session`); the rules
//! live here, so the login page, the settings page and the CLI share them.

use sqlx::SqlitePool;

use super::activity::Activity;
use super::actor::{Actor, Via};
use super::audit;
use super::ids::{SessionId, UserId};
use crate::auth::tokens;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::storage;
pub use crate::storage::sessions::{Listing, SignedIn};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: jiff::SignedDuration,
    pub absolute: jiff::SignedDuration,
}

/// A new session: its id and the token the cookie carries (only its hash is stored).
pub struct Started {
    pub id: SessionId,
    pub token: String,
}

/// The session a cookie's token names, if it is live. An expired one is removed; a live one's
/// last use is refreshed at most once a minute, which is precise enough for an idle timeout
/// measured in hours and spares the database a write per page.
pub async fn find_live(
    db: &SqlitePool,
    activity: &Activity,
    token: &str,
    lifetimes: Lifetimes,
) -> AppResult<Option<SignedIn>> {
    if token.len() != 64 {
        return Ok(None);
    }
    let Some(row) = storage::sessions::find_by_token_hash(db, &tokens::sha256_hex(token)).await? else {
        return Ok(None);
    };
    let now = clock::now();
    let last_seen = clock::parse(&row.last_seen_at).unwrap_or(now);
    let created = clock::parse(&row.created_at).unwrap_or(now);
    // `last_seen_at` may lag the truth by one flush of `Activity` (30 s): nothing next to an
    // idle timeout of hours. An expired row is left for the sweep: reading never writes.
    if now.duration_since(last_seen) > lifetimes.idle || now.duration_since(created) > lifetimes.absolute {
        return Ok(None);
    }
    activity.session_seen(&row.id);
    Ok(Some(row))
}

/// Signs `user` in: the browser's previous session (if any) ends, a new one begins, and the
/// login is audited, in one transaction.
pub async fn login(
    db: &SqlitePool,
    user: &UserId,
    previous: Option<&SessionId>,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> AppResult<Started> {
    let mut tx = storage::db::begin_write(db).await?;
    if let Some(old) = previous {
        storage::sessions::delete(&mut tx, old).await?;
    }
    let token = tokens::random_hex(32);
    let csrf = tokens::random_hex(32);
    let ua = user_agent.map(|u| u.chars().take(200).collect::<String>());
    let id = storage::sessions::insert(&mut tx, user, &tokens::sha256_hex(&token), &csrf, ip, ua.as_deref()).await?;
    let actor = Actor::person(user.clone(), Via::Ui);
    audit::record(&mut tx, &actor, "session.login", "session", Some(id.as_str()), None).await?;
    tx.commit().await?;
    Ok(Started { id, token })
}

/// Ends the session a request came with.
pub async fn logout(db: &SqlitePool, session: &SignedIn) -> AppResult<()> {
    let mut tx = storage::db::begin_write(db).await?;
    storage::sessions::delete(&mut tx, &session.id).await?;
    let actor = Actor::person(session.user_id.clone(), Via::Ui);
    audit::record(
        &mut tx,
        &actor,
        "session.logout",
        "session",
        Some(session.id.as_str()),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The caller's own sessions, most recently used first.
pub async fn list(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<Listing>> {
    Ok(storage::sessions::list_for_user(db, &actor.user_id).await?)
}

/// Ends one of the caller's sessions; another person's is 404.
pub async fn end(db: &SqlitePool, actor: &Actor, id: &SessionId) -> AppResult<()> {
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::sessions::delete_owned(&mut tx, &actor.user_id, id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(&mut tx, actor, "session.end", "session", Some(id.as_str()), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes sessions past either timeout (at start, then hourly).
pub async fn sweep(db: &SqlitePool, lifetimes: Lifetimes) -> AppResult<u64> {
    let idle_before = clock::text_from_now(-lifetimes.idle);
    let created_before = clock::text_from_now(-lifetimes.absolute);
    Ok(storage::sessions::delete_expired(db, &idle_before, &created_before).await?)
}
