//! Twilio's Messages list and resource, for a pi-crm the webhooks cannot reach (SPEC §8.5):
//! `GET {api_base}/2010-04-01/Accounts/{sid}/Messages.json?To={number}&DateSent>=YYYY-MM-DD`
//! for texts received (each answer's `next_page_uri` until there is none), and `GET
//! …/Messages/{sid}.json` for one sent text's status.

use serde_json::Value;

use super::twilio::Settings;
use crate::providers::email::join;
use crate::providers::http::{answer, reason, same_origin};

/// One page of messages and where the next one is.
pub struct Page {
    pub messages: Vec<Value>,
    pub next: Option<String>,
}

fn account_path(s: &Settings) -> String {
    format!("/2010-04-01/Accounts/{}", s.account_sid.trim())
}

/// The first page of texts sent to `to` (a number; `None` for a messaging service, whose
/// texts are then told apart by their `direction`) on or after `since` (`YYYY-MM-DD`, UTC).
pub fn first_inbound_page(s: &Settings, to: Option<&str>, since: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(to) = to {
        query.append_pair("To", to);
    }
    query.append_pair("DateSent>", since);
    query.append_pair("PageSize", "100");
    join(
        &s.api_base,
        &format!("{}/Messages.json?{}", account_path(s), query.finish()),
    )
}

/// Fetches a page of the list at `url` (only on the configured `api_base`).
pub async fn page(s: &Settings, http: &reqwest::Client, url: &str) -> Result<Page, String> {
    if !same_origin(&s.api_base, url) {
        return Err("Twilio's next page is not on the configured api_base; polling stopped".into());
    }
    let body = get(s, http, url).await?;
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Twilio gives the next page as a path on its API host.
    let next = body
        .get("next_page_uri")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(|n| join(&s.api_base, n));
    Ok(Page { messages, next })
}

/// One message as Twilio has it now.
pub async fn message(s: &Settings, http: &reqwest::Client, sid: &str) -> Result<Value, String> {
    if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("{sid:?} is not a Twilio message id"));
    }
    let url = join(&s.api_base, &format!("{}/Messages/{sid}.json", account_path(s)));
    get(s, http, &url).await
}

/// An MMS's pictures and files, from its Media list: where Twilio keeps each (the address a
/// webhook's `MediaUrl{n}` gives, on the configured `api_base`) and its type.
pub async fn media(s: &Settings, http: &reqwest::Client, sid: &str) -> Result<Vec<(String, String)>, String> {
    if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("{sid:?} is not a Twilio message id"));
    }
    let url = join(&s.api_base, &format!("{}/Messages/{sid}/Media.json", account_path(s)));
    let body = get(s, http, &url).await?;
    Ok(body
        .get("media_list")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| {
                    let uri = m.get("uri").and_then(Value::as_str)?;
                    let kind = m.get("content_type").and_then(Value::as_str).unwrap_or_default();
                    Some((join(&s.api_base, uri.trim_end_matches(".json")), kind.to_string()))
                })
                .collect()
        })
        .unwrap_or_default())
}

async fn get(s: &Settings, http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let got = http
        .get(url)
        .basic_auth(s.account_sid.trim(), Some(&s.auth_token))
        .send()
        .await;
    answer(got, "Twilio").await.map_err(|o| reason(&o))
}
