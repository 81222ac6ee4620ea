//! Twilio's webhooks: inbound texts and delivery statuses, as form posts signed with
//! `X-Twilio-Signature = base64(HMAC-SHA1(auth_token, url + each parameter name+value sorted
//! by name))`, checked against the public URL (so it works behind a reverse proxy).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::{Refusal, public_address, workspace_of};
use crate::domain::messaging::inbound::{self, InboundText, MAX_MEDIA, Media};
use crate::domain::workspace::WorkspaceAccess;
use crate::providers::sms::SmsProvider;
use crate::state::AppState;

/// The signature Twilio computes for `url` and the form `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut mac = <Hmac<Sha1>>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `given` in constant time against the URL with and without its port (Twilio's own
/// libraries accept either, as a proxy may add or drop the default port).
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], given: &str) -> bool {
    let mut candidates = vec![url.to_string()];
    if let Ok(mut u) = url::Url::parse(url) {
        if u.port().is_some() {
            let _ = u.set_port(None);
        } else {
            let _ = u.set_port(u.port_or_known_default());
        }
        candidates.push(u.to_string());
    }
    candidates
        .iter()
        .any(|c| crate::auth::tokens::same_token(&signature(auth_token, c, params), given.trim()))
}

/// The workspace and its Twilio settings, once the request's signature is checked.
async fn checked(
    state: &AppState,
    ws: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(WorkspaceAccess, Vec<(String, String)>), Refusal> {
    let ws = workspace_of(state, ws).await?;
    let texter = crate::domain::messaging::providers::texter(state, &ws)
        .await
        .map_err(|_| Refusal::Unknown)?
        .ok_or(Refusal::Unknown)?;
    let SmsProvider::Twilio(settings) = &texter.provider;
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let given = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::BadSignature)?;
    let url = public_address(state, uri)?;
    if !verify(&settings.auth_token, &url, &params, given) {
        return Err(Refusal::BadSignature);
    }
    Ok((ws, params))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The message's id (`SmsSid` in Twilio's older posts).
fn message_sid(params: &[(String, String)]) -> Result<&str, Refusal> {
    param(params, "MessageSid")
        .or_else(|| param(params, "SmsSid"))
        .ok_or(Refusal::BadRequest("MessageSid is missing"))
}

/// Twilio waits for TwiML; an empty `<Response/>` sends no reply text.
fn twiml() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
    )
        .into_response()
}

/// An MMS's `MediaUrl{n}` and `MediaContentType{n}`, for n below `NumMedia` (at most ten).
fn media(params: &[(String, String)]) -> Vec<Media> {
    let count = param(params, "NumMedia")
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_MEDIA);
    (0..count)
        .filter_map(|n| {
            let url = param(params, &format!("MediaUrl{n}"))?;
            Media::parse(url, param(params, &format!("MediaContentType{n}")).unwrap_or_default())
        })
        .collect()
}

pub async fn inbound(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let (ws, params) = checked(&state, &ws, &uri, &headers, &body).await?;
    let sid = message_sid(&params)?;
    let from = param(&params, "From").ok_or(Refusal::BadRequest("From is missing"))?;
    let text = InboundText {
        sid,
        from,
        to: param(&params, "To").unwrap_or_default(),
        body: param(&params, "Body").unwrap_or_default(),
        media: media(&params),
    };
    inbound::receive_text(&state.db, &state.config.default_phone_region, &ws, text).await?;
    Ok(twiml())
}

pub async fn status(
    State(state): State<AppState>,
    Path(ws): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let (ws, params) = checked(&state, &ws, &uri, &headers, &body).await?;
    let sid = message_sid(&params)?;
    let reported = param(&params, "MessageStatus")
        .or_else(|| param(&params, "SmsStatus"))
        .unwrap_or_default();
    // Our id rides in the callback's query: it matches even when the create answer was lost.
    let outbox_id = uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "outbox")
            .map(|(_, v)| v.into_owned())
    });
    let key = inbound::twilio_status_key(sid, reported);
    let event = inbound::twilio_status(
        &key,
        sid,
        reported,
        param(&params, "ErrorCode"),
        param(&params, "To"),
        outbox_id.as_deref(),
    );
    inbound::apply_status(&state.db, &ws, event).await?;
    Ok(twiml())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilios_own_example() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(signature("12345", url, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify("12345", url, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(verify(
            "12345",
            "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!verify("12346", url, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!verify("12345", url, &params[1..], "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }
}
