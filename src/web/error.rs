//! The HTML face of `AppError`: a plain, friendly page with the right status.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::chrome::Chrome;
use crate::error::AppError;

pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log_if_internal();
        let status = e.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::TOO_MANY_REQUESTS => "Slow down a little",
            StatusCode::PAYLOAD_TOO_LARGE => "Too large",
            s if s.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        let message = match &e {
            AppError::NotFound => "There is nothing here, or it is not yours to see.".to_string(),
            other => {
                let m = other.public_message();
                let mut chars = m.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".")
                    .unwrap_or_default()
            }
        };
        let page = ErrorPage {
            chrome: Chrome::bare(),
            status: status.as_u16(),
            title,
            message,
        };
        let mut response = (status, page).into_response();
        if let AppError::RateLimited { retry_after_secs } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert("retry-after", v);
        }
        response
    }
}
