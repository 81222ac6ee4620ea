//! What an API handler's signature asks for: `ApiCaller` (who, with which scopes), `ApiWs<R>`
//! (the `{ws}` of the path, reached by that caller with at least role `R`), `ApiPath<T>` (the
//! path's ids, typed) and `ApiJson<T>` (a JSON body whose every rejection is a JSON error).

use std::marker::PhantomData;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::auth::api_key::{CheckedKey, presented};
use crate::auth::session::Session;
use crate::auth::tokens;
use crate::auth::workspace::{self as ws_access, Needs, Viewer};
use crate::domain::actor::{Actor, Via};
use crate::domain::api_key;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;

/// The authenticated caller: an API key (`X-Api-Key` or `Authorization: Bearer`), or the
/// browser session of a signed-in person (whose unsafe requests must carry `X-CSRF-Token`).
pub struct ApiCaller(pub Actor);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(CheckedKey(checked)) = parts.extensions.get::<CheckedKey>() {
            return checked.clone().map(ApiCaller).ok_or_else(|| api_key::refused().into());
        }
        if let Some(key) = presented(&parts.headers) {
            return Ok(ApiCaller(api_key::authenticate(&state.db, &state.activity, key).await?));
        }
        if let Some(Session(row)) = parts.extensions.get::<Session>() {
            if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                let presented = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
                if !presented.is_some_and(|p| tokens::same_token(p, &row.csrf_token)) {
                    return Err(AppError::forbidden("a browser session must send its X-CSRF-Token").into());
                }
            }
            return Ok(ApiCaller(Actor::person(row.user_id.clone(), Via::Api)));
        }
        Err(AppError::Unauthorized("send an API key in X-Api-Key or Authorization: Bearer".into()).into())
    }
}

/// The caller and the workspace of the path's `{ws}`: 404 when they cannot reach it, 403 when
/// their role there is below `R`. Handlers never resolve a workspace by hand.
pub struct ApiWs<R: Needs = Viewer> {
    pub actor: Actor,
    pub ws: WorkspaceAccess,
    role: PhantomData<R>,
}

impl<R: Needs> FromRequestParts<AppState> for ApiWs<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiCaller(actor) = ApiCaller::from_request_parts(parts, state).await?;
        let ws = ws_access::from_path::<R>(parts, state, &actor).await?;
        Ok(ApiWs {
            actor,
            ws,
            role: PhantomData,
        })
    }
}

/// The path's ids, typed; a malformed one is a 404 like any id that names nothing.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ApiPath(ws_access::path_ids(parts, state).await?))
    }
}

/// A JSON body. Wrong content type → 415, malformed JSON → 400, wrong shape → 422,
/// too large → 413; each with the JSON error body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError(match rejection {
                JsonRejection::MissingJsonContentType(_) => {
                    AppError::UnsupportedMediaType("send the body as application/json".into())
                }
                JsonRejection::JsonSyntaxError(e) => {
                    AppError::BadRequest(format!("the body is not valid JSON: {}", e.body_text()))
                }
                JsonRejection::JsonDataError(e) => {
                    let text = e.body_text();
                    let detail = text.rsplit_once("target type: ").map(|(_, d)| d).unwrap_or(&text);
                    let field = detail
                        .split_once(": ")
                        .map(|(f, _)| f.to_string())
                        .filter(|f| !f.contains(' '));
                    AppError::Invalid {
                        field: field.unwrap_or_default(),
                        message: detail.to_string(),
                    }
                }
                other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    AppError::PayloadTooLarge("the request body is too large".into())
                }
                other => AppError::BadRequest(other.body_text()),
            })),
        }
    }
}

/// A body that may be left out (or empty): the defaults then.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON for this route: {e}")))
}
