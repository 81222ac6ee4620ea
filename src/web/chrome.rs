//! What every page's frame needs (who is signed in, the CSRF token, a flash message, the
//! workspace switcher), and the `CurrentUser` extractor that guards signed-in pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::csrf::CsrfToken;
use super::flash::Flash;
use crate::assets;
use crate::auth::session::Session;
use crate::domain::actor::{Actor, Via};
use crate::domain::ids::{SessionId, UserId};
use crate::domain::user;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::state::AppState;

#[derive(Clone)]
pub struct UserBrief {
    pub email: String,
    pub name: String,
}

#[derive(Clone)]
pub struct Chrome {
    pub user: Option<UserBrief>,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub workspaces: Vec<WorkspaceAccess>,
    pub current_workspace: Option<WorkspaceAccess>,
    /// Which top-level navigation item to highlight.
    pub section: &'static str,
    pub asset_version: &'static str,
    /// The zone times are shown in: the person's own, else the current workspace's, else
    /// the server's.
    pub zone: jiff::tz::TimeZone,
    /// The person chose their zone: a workspace's does not replace it.
    own_zone: bool,
}

impl Chrome {
    /// A frame with nothing in it, for error pages rendered outside a handler.
    pub fn bare() -> Chrome {
        Chrome {
            user: None,
            csrf: String::new(),
            flash: None,
            workspaces: Vec::new(),
            current_workspace: None,
            section: "",
            asset_version: assets::version(),
            zone: jiff::tz::TimeZone::UTC,
            own_zone: false,
        }
    }

    /// A stored time as the person reads it, in the zone that applies here.
    pub fn time(&self, stored: &str) -> String {
        super::times::local(stored, &self.zone)
    }

    /// A stored time as HTML (`|safe`): how long ago when recent, the full time on hover.
    pub fn when(&self, stored: &str) -> String {
        super::times::when(stored, &self.zone)
    }

    /// A message shown at the top of this page (not carried to the next, as `flash::redirect`'s).
    pub fn with_flash(mut self, kind: &'static str, message: String) -> Chrome {
        self.flash = Some(super::flash::Flash { kind, message });
        self
    }

    pub fn in_section(mut self, section: &'static str) -> Chrome {
        self.section = section;
        self
    }

    pub fn with_workspace(mut self, ws: &WorkspaceAccess) -> Chrome {
        if !self.own_zone
            && let Some(zone) = ws.timezone().and_then(|name| jiff::tz::TimeZone::get(name).ok())
        {
            self.zone = zone;
        }
        self.current_workspace = Some(ws.clone());
        self
    }
}

impl FromRequestParts<AppState> for Chrome {
    type Rejection = super::error::PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = parts.extensions.get::<Session>().cloned();
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let workspaces = match &session {
            Some(s) => workspace::list(&state.db, &Actor::person(s.0.user_id.clone(), Via::Ui)).await?,
            None => Vec::new(),
        };
        let own = session
            .as_ref()
            .and_then(|s| s.0.user_timezone.as_deref())
            .and_then(|name| jiff::tz::TimeZone::get(name).ok());
        Ok(Chrome {
            own_zone: own.is_some(),
            zone: own.unwrap_or_else(|| state.config.time_zone().unwrap_or(jiff::tz::TimeZone::UTC)),
            user: session.map(|s| UserBrief {
                email: s.0.user_email,
                name: s.0.user_name,
            }),
            csrf,
            flash: Flash::from_headers(&parts.headers),
            workspaces,
            current_workspace: None,
            section: "",
            asset_version: assets::version(),
        })
    }
}

/// A signed-in person. Pages that take it send everyone else to `/login` (or `/setup` while no
/// account exists), remembering where they were going.
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub session_id: SessionId,
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        Actor::person(self.id.clone(), Via::Ui)
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(Session(row)) = parts.extensions.get::<Session>().cloned() {
            return Ok(CurrentUser {
                id: row.user_id,
                email: row.user_email,
                name: row.user_name,
                session_id: row.id,
            });
        }
        let any_users = user::any_exist(&state.db)
            .await
            .map_err(|e| super::error::PageError(e).into_response())?;
        if !any_users {
            return Err(Redirect::to("/setup").into_response());
        }
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let target = if path == "/" {
            "/login".to_string()
        } else {
            let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
            format!("/login?next={next}")
        };
        Err(Redirect::to(&target).into_response())
    }
}

/// Only a local path may be a post-login destination (never `//evil.example` or a URL).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => as_location(n).unwrap_or_else(|| "/".to_string()),
        _ => "/".to_string(),
    }
}

/// A local path as a `Location` header carries it: ASCII, with other characters
/// percent-encoded (the `url` crate's rules, as browsers send them), so a path with `é` in it is
/// kept rather than turned into a header no client can read as text.
fn as_location(path: &str) -> Option<String> {
    let base = url::Url::parse("http://pi-crm.invalid/").expect("a valid base");
    let url = base.join(path).ok()?;
    let location = &url[url::Position::BeforePath..];
    // Dot segments are resolved: `/.//evil.example` would come out as `//evil.example`.
    is_local_path(location).then(|| location.to_string())
}

/// A path on this site only: it starts with one `/`, and has no backslash or control
/// character (browsers drop tabs and newlines, so `/\t/evil.example` would become
/// `//evil.example`) and no scheme.
fn is_local_path(n: &str) -> bool {
    n.starts_with('/')
        && !n.starts_with("//")
        && !n.contains('\\')
        && !n.chars().any(char::is_control)
        && !n.contains("://")
        && n.len() <= 2048
}
