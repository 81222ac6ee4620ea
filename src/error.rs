//! One error type with meaning (habit 3). Each face turns it into its own response:
//! `api::ApiError` into `{"error":{...}}` JSON, `web::PageError` into an HTML page.

use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    Conflict {
        message: String,
        /// The id of the object that already holds the unique value, when it may be shown.
        existing_id: Option<String>,
    },
    /// A conflict with its own code (`suppressed`, `provider_not_configured`, `no_address` …),
    /// so a client can tell the reasons apart.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The address exists but does not take this method (405 `method_not_allowed`).
    #[error("this address does not take a {0} request")]
    MethodNotAllowed(String),
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Several inputs at fault at once (a form shows each beside its input); `(field,
    /// message)`, never empty. The first is the one a single-error face reports.
    #[error("{}", .0.first().map(|(_, m)| m.as_str()).unwrap_or("some values are not valid"))]
    InvalidMany(Vec<(String, String)>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A conditional request's condition does not hold (`If-Match` on a changed resource): 412.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// A spending limit reached (`budget_exceeded`): 429 until it resets.
    #[error("{message}")]
    OverLimit { code: &'static str, message: String },
    /// A service pi-crm called failed, timed out or answered nonsense (`ai_failed` …): 502,
    /// with what it said.
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
            existing_id: None,
        }
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict { .. } | AppError::Refused { .. } => StatusCode::CONFLICT,
            AppError::Invalid { .. } | AppError::InvalidMany(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RateLimited { .. } | AppError::OverLimit { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for the JSON face.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Conflict { .. } => "conflict",
            AppError::Refused { code, .. } => code,
            AppError::Invalid { .. } | AppError::InvalidMany(_) => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::PreconditionFailed(_) => "precondition_failed",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::OverLimit { code, .. } | AppError::Upstream { code, .. } => code,
            AppError::Internal(_) => "internal",
        }
    }

    /// What a person may be shown. Internal causes stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "something went wrong on our side; it has been logged".into(),
            AppError::NotFound => "not found".into(),
            other => other.to_string(),
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } if !field.is_empty() => Some(field),
            AppError::InvalidMany(all) => all.first().map(|(f, _)| f.as_str()).filter(|f| !f.is_empty()),
            _ => None,
        }
    }

    /// Logs a 5xx with its cause chain (`telemetry::chain`); called by both faces before
    /// answering.
    pub fn log_if_internal(&self) {
        if let AppError::Internal(e) = self {
            tracing::error!(error = %crate::telemetry::chain(&e), "request failed");
        }
    }
}

/// Validation errors gathered across a whole input, so a person sees every mistake at once
/// rather than one per try. Anything other than a validation error still stops at once.
#[derive(Default)]
pub struct Invalids(Vec<(String, String)>);

impl Invalids {
    /// The value, or `None` with its validation error kept.
    pub fn check<T>(&mut self, result: AppResult<T>) -> AppResult<Option<T>> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(AppError::Invalid { field, message }) => {
                self.0.push((field, message));
                Ok(None)
            }
            Err(AppError::InvalidMany(all)) => {
                self.0.extend(all);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was wrong; else one error, or all of them.
    pub fn finish(mut self) -> AppResult<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => {
                let (field, message) = self.0.remove(0);
                Err(AppError::Invalid { field, message })
            }
            _ => Err(AppError::InvalidMany(self.0)),
        }
    }
}

/// For `map_err` after an insert or update (habit 4: write, then map the violation; never
/// check first): the violation of the named unique constraint or index becomes `mapped()`,
/// any other database error stays what it is.
pub fn on_unique(constraint: &str, mapped: impl FnOnce() -> AppError) -> impl FnOnce(sqlx::Error) -> AppError {
    move |e| {
        if is_unique_violation(&e, constraint) {
            mapped()
        } else {
            e.into()
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

/// True when a SQLite error is the violation of the named unique constraint or index
/// (habit 4: insert and map the violation, never check-then-insert).
pub fn is_unique_violation(err: &sqlx::Error, columns: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation() && db.message().contains(columns),
        _ => false,
    }
}
