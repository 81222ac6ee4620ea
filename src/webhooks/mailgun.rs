//! Mailgun's event webhooks: JSON `{"signature": {timestamp, token, signature}, "event-data"}`
//! with `signature = hex(HMAC-SHA256(webhook_signing_key, timestamp + token))`. A timestamp
//! more than 12 hours away is refused; a token seen before is accepted without effect.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{Refusal, workspace_of};
use crate::domain::messaging::Channel;
use crate::domain::messaging::inbound;
use crate::providers::email::EmailProvider;
use crate::state::AppState;

const MAX_SKEW_SECS: i64 = 12 * 3600;

pub fn signature(signing_key: &str, timestamp: &str, token: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(signing_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the signature (constant time) and that the timestamp is within 12 hours of `now`.
pub fn verify(signing_key: &str, timestamp: &str, token: &str, given: &str, now: i64) -> bool {
    let Ok(at) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    if token.is_empty() || given.is_empty() || (now - at).abs() > MAX_SKEW_SECS {
        return false;
    }
    crate::auth::tokens::same_token(&signature(signing_key, timestamp, token), given.trim())
}

pub async fn events(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Refusal> {
    let ws = workspace_of(&state, &ws).await?;
    let mailer = crate::domain::messaging::providers::mailer(&state, &ws)
        .await
        .map_err(|_| Refusal::Unknown)?
        .ok_or(Refusal::Unknown)?;
    let EmailProvider::Mailgun(settings) = &mailer.provider else {
        return Err(Refusal::Unknown);
    };
    let Ok(Json(payload)) = Json::<Value>::from_bytes(&body) else {
        return Err(Refusal::BadSignature);
    };
    let field = |name: &str| {
        payload
            .pointer(&format!("/signature/{name}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let (timestamp, token) = (field("timestamp"), field("token"));
    let now = crate::clock::now().as_second();
    if !verify(&settings.webhook_signing_key, timestamp, token, field("signature"), now) {
        return Err(Refusal::BadSignature);
    }
    let data = payload
        .get("event-data")
        .ok_or(Refusal::BadRequest("event-data is missing"))?;
    let recipient = data
        .get("recipient")
        .and_then(Value::as_str)
        .and_then(|r| Channel::Email.normalise(r, "", "recipient").ok());
    // Applied once by the event's id, which polling the Events API sees too; the token is
    // this delivery's own key, so a signature replayed with other event data changes nothing.
    let delivery = format!("token:{token}");
    let key = inbound::mailgun_event_key(data);
    let event = match &key {
        Some(key) => inbound::mailgun_status(key, Some(&delivery), data, recipient),
        // An event without an id: the delivery's token is its only key.
        None => inbound::mailgun_status(&delivery, None, data, recipient),
    };
    inbound::apply_status(&state.db, &ws, event).await?;
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailguns_own_vectors() {
        let key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
        let good = "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33";
        let token = "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6";
        assert_eq!(signature(key, "1403645220", token), good);
        assert!(verify(key, "1403645220", token, good, 1403645220 + 60));
        // Too old, another token with the same signature, nothing at all.
        assert!(!verify(key, "1403645220", token, good, 1403645220 + 13 * 3600));
        assert!(!verify(
            key,
            "1403645220",
            "owyldpe6nxhmrn78epljl6bj0orrki1u3d2v5e6cnlmmuox8jr",
            good,
            1403645220
        ));
        assert!(!verify(key, "0", "", "", 0));
    }
}
