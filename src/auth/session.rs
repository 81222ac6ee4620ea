//! Server-side sessions: the cookie holds a random token; the database holds its SHA-256, the
//! user, the CSRF token and the times that enforce the idle and absolute timeouts.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::SqliteConnection;

use super::{cookies, tokens};
use crate::clock;
use crate::domain::ids::{SessionId, UserId};
use crate::state::AppState;
use crate::storage;
use crate::storage::sessions::SessionRow;

/// The signed-in session behind a request, put in the request's extensions by `load_layer`.
#[derive(Debug, Clone)]
pub struct Session(pub SessionRow);

/// Loads the session named by the cookie, if it is live. Runs on every route; it costs one
/// indexed read when a cookie is present and nothing otherwise.
pub async fn load_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(token) = cookies::get(req.headers(), cookies::SESSION) {
        match find_live(&state, token).await {
            Ok(Some(row)) => {
                req.extensions_mut().insert(Session(row));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = ?e, "loading a session failed"),
        }
    }
    next.run(req).await
}

async fn find_live(state: &AppState, token: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    if token.len() != 64 {
        return Ok(None);
    }
    let Some(row) = storage::sessions::find_by_token_hash(&state.db, &tokens::sha256_hex(token)).await? else {
        return Ok(None);
    };
    let now = clock::now();
    let idle = time::Duration::minutes(state.config.session_idle_minutes);
    let absolute = time::Duration::hours(state.config.session_absolute_hours);
    let last_seen = clock::parse(&row.last_seen_at).unwrap_or(now);
    let created = clock::parse(&row.created_at).unwrap_or(now);
    if now - last_seen > idle || now - created > absolute {
        let mut conn = state.db.acquire().await?;
        storage::sessions::delete(&mut conn, &row.id).await?;
        return Ok(None);
    }
    // Refreshing last_seen once a minute is precise enough for an idle timeout measured in
    // hours, and spares the database a write per page.
    if now - last_seen > time::Duration::minutes(1) {
        storage::sessions::touch(&state.db, &row.id).await?;
    }
    Ok(Some(row))
}

/// A new session for `user`; returns its id and the `Set-Cookie` value to send. A fresh token
/// every login is the session-id rotation that defeats fixation.
pub async fn start(
    conn: &mut SqliteConnection,
    state: &AppState,
    user: &UserId,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(SessionId, String), sqlx::Error> {
    let token = tokens::random_hex(32);
    let csrf = tokens::random_hex(32);
    let ua = user_agent.map(|u| u.chars().take(200).collect::<String>());
    let id = storage::sessions::insert(conn, user, &tokens::sha256_hex(&token), &csrf, ip, ua.as_deref()).await?;
    let max_age = state.config.session_absolute_hours * 3600;
    Ok((
        id,
        cookies::set(cookies::SESSION, &token, Some(max_age), state.config.is_tls()),
    ))
}

pub fn clear_cookie(state: &AppState) -> String {
    cookies::clear(cookies::SESSION, state.config.is_tls())
}

/// Appends a `Set-Cookie` header to a response.
pub fn add_cookie(response: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, v);
    }
}

/// Removes expired sessions; run at start and then hourly.
pub async fn sweep(state: &AppState) -> Result<u64, sqlx::Error> {
    let idle_before = clock::text_from_now(-time::Duration::minutes(state.config.session_idle_minutes));
    let created_before = clock::text_from_now(-time::Duration::hours(state.config.session_absolute_hours));
    storage::sessions::delete_expired(&state.db, &idle_before, &created_before).await
}
