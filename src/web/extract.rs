//! What a page handler's signature asks for beyond the signed-in person: `PageWs<R>` (the
//! workspace of the path's `{ws}`, reached with at least role `R`, and the page frame set to
//! it) and `PagePath<T>` (the path's ids, typed). Refusals render as pages.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use crate::auth::workspace::{self as ws_access, Needs, Viewer};
use crate::domain::actor::Actor;
use crate::domain::workspace::WorkspaceAccess;
use crate::state::AppState;

pub struct PageWs<R: Needs = Viewer> {
    pub user: CurrentUser,
    pub actor: Actor,
    pub ws: WorkspaceAccess,
    /// The page frame, with the workspace set; the handler picks the section.
    pub chrome: Chrome,
    role: PhantomData<R>,
}

impl<R: Needs> PageWs<R> {
    /// The same, its role already checked, for a page shared by routes that need different
    /// roles (a settings page re-rendered after an owner-only form).
    pub fn any_role(self) -> PageWs {
        PageWs {
            user: self.user,
            actor: self.actor,
            ws: self.ws,
            chrome: self.chrome,
            role: PhantomData,
        }
    }
}

impl<R: Needs> FromRequestParts<AppState> for PageWs<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let chrome = Chrome::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let actor = user.actor();
        // The frame has just read every workspace the person reaches, for its menu.
        let ws = ws_access::from_path_among::<R>(parts, state, &chrome.workspaces)
            .await
            .map_err(|e| PageError(e).into_response())?;
        let chrome = chrome.with_workspace(&ws);
        Ok(PageWs {
            user,
            actor,
            ws,
            chrome,
            role: PhantomData,
        })
    }
}

/// The path's ids, typed; a malformed one is the 404 page.
pub struct PagePath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for PagePath<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(PagePath(ws_access::path_ids(parts, state).await?))
    }
}
