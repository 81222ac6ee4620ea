//! `GET /healthz` on both listeners. The main one says whether the database answers and how
//! old the last good backup is (`null` before the first); the public one only whether pi-crm
//! is up. Either echoes a reachability check's one-time code (`?nonce=`) when — and only when —
//! this instance issued it, naming the listener that answered (SPEC §8.5).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::reachability::Listener;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct Probe {
    nonce: Option<String>,
}

pub async fn main(State(state): State<AppState>, Query(probe): Query<Probe>) -> Response {
    answer(&state, probe, Listener::Main).await
}

pub async fn public(State(state): State<AppState>, Query(probe): Query<Probe>) -> Response {
    answer(&state, probe, Listener::Public).await
}

async fn answer(state: &AppState, probe: Probe, listener: Listener) -> Response {
    if let Err(e) = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&state.db).await {
        tracing::error!(error = %crate::telemetry::chain(&e), "health check: database unreachable");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "error", "db": "error"})),
        )
            .into_response();
    }
    let mut body = json!({"status": "ok", "db": "ok"});
    if listener == Listener::Main {
        let backup = crate::backup::last_good(&state.config).await.map(|b| {
            let age = crate::clock::parse(&b.created_at).map(|at| crate::clock::now().duration_since(at).as_secs());
            json!({"created_at": b.created_at, "age_seconds": age})
        });
        body["last_backup"] = backup.unwrap_or(Value::Null);
    }
    if let Some(code) = probe.nonce.filter(|c| state.reach.knows(c)) {
        body["nonce"] = json!(code);
        body["listener"] = json!(listener.as_str());
    }
    Json(body).into_response()
}
