//! The JSON face of `AppError`: `{"error":{"code","message","field"}}` with the right status.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AppError;

pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: not_found, unauthorized, forbidden, conflict, invalid, …
    pub code: String,
    pub message: String,
    /// The input field at fault, for `invalid`.
    pub field: Option<String>,
    /// For `conflict`: the id of the object that already holds the value, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
    /// For `invalid` with several inputs at fault: each of them (`field` is the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log_if_internal();
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code().to_string(),
                message: e.public_message(),
                field: e.field().map(str::to_string),
                existing_id: match &e {
                    AppError::Conflict { existing_id, .. } => existing_id.clone(),
                    _ => None,
                },
                errors: match &e {
                    AppError::InvalidMany(all) => Some(
                        all.iter()
                            .map(|(field, message)| FieldError {
                                field: field.clone(),
                                message: message.clone(),
                            })
                            .collect(),
                    ),
                    _ => None,
                },
            },
        };
        let mut response = (e.status(), Json(body)).into_response();
        if let AppError::RateLimited { retry_after_secs } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Errors that axum itself produces under `/api` (unknown route, wrong method, body over the
/// limit) come without a body; give them the same JSON shape as every other error.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => AppError::BadRequest("this method is not allowed here".into()),
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge("the request body is too large".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType("send application/json".into()),
        s if s.is_server_error() => AppError::Internal(anyhow::anyhow!("{s} from a layer")),
        _ => AppError::BadRequest("the request could not be understood".into()),
    };
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let mut fixed = ApiError(error).into_response();
    *fixed.status_mut() = status;
    if let Some(v) = retry_after {
        fixed.headers_mut().insert(header::RETRY_AFTER, v);
    }
    fixed
}
