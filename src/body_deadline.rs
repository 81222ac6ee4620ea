//! Every request body has a total deadline, not only an idle one: a client that sends one
//! byte now and then (a "slow POST") would otherwise hold its connection for as long as it
//! likes, and a few thousand of them hold every connection. Small bodies — webhooks, forms,
//! JSON — get `body_deadline_secs` (10 s by default) in all; a large upload gets that plus the
//! time its declared size takes at a slow link's rate. Past the deadline the body reads as an
//! error: the handler answers (400/408) and the connection closes.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

use crate::state::AppState;

/// A body up to this size is "small": it gets the flat deadline.
const SMALL: u64 = 256 * 1024;
/// The slowest upload rate allowed for a large body, bytes a second (a poor mobile link).
const SLOWEST_UPLOAD: u64 = 32 * 1024;

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let base = Duration::from_secs(state.config.body_deadline_secs);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Without a declared size a chunked body may be as large as an upload may be.
    let size = declared.unwrap_or(state.config.max_upload_bytes() as u64);
    let is_webhook = req.uri().path().starts_with("/webhooks/");
    let deadline = if is_webhook || size <= SMALL {
        base
    } else {
        base + Duration::from_secs(size / SLOWEST_UPLOAD)
    };
    let (parts, body) = req.into_parts();
    let body = Body::new(Deadline {
        inner: body,
        expires: Box::pin(tokio::time::sleep(deadline)),
        limit: deadline,
    });
    next.run(Request::from_parts(parts, body)).await
}

struct Deadline {
    inner: Body,
    expires: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

/// The error a body past its deadline reads as.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not sent within {0:?}")]
pub struct TooSlow(Duration);

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.expires.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(TooSlow(this.limit)))));
        }
        Pin::new(&mut this.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
