//! Mailgun's Events API, for a pi-crm the webhooks cannot reach (SPEC §8.5): `GET
//! {api_base}/v3/{domain}/events?begin=…&ascending=yes&limit=300` with Basic auth `api:<key>`,
//! then each answer's `paging.next` until a page has no items. An event is the same
//! `event-data` object the webhooks post.

use serde_json::Value;

use super::join;
use super::mailgun::Settings;
use crate::providers::http::{answer, reason, same_origin};

/// The most a page holds (Mailgun's maximum).
pub const PAGE_SIZE: usize = 300;

/// One page of events, oldest first, and where the next one is.
pub struct Page {
    pub items: Vec<Value>,
    pub next: Option<String>,
}

/// The first page's address: events from `begin` (seconds since the epoch) on, oldest first.
pub fn first_page(s: &Settings, begin: f64) -> String {
    join(
        &s.api_base,
        &format!(
            "/v3/{}/events?begin={begin:.6}&ascending=yes&limit={PAGE_SIZE}",
            s.domain.trim()
        ),
    )
}

/// Fetches the page at `url`. Only an address on the configured `api_base` is fetched, so a
/// `paging.next` can never send the key to another host.
pub async fn page(s: &Settings, http: &reqwest::Client, url: &str) -> Result<Page, String> {
    if !same_origin(&s.api_base, url) {
        return Err("Mailgun's next page is not on the configured api_base; polling stopped".into());
    }
    let got = http.get(url).basic_auth("api", Some(&s.api_key)).send().await;
    let body = answer(got, "Mailgun").await.map_err(|o| reason(&o))?;
    let items = body.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    let next = body
        .pointer("/paging/next")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && *n != url)
        .map(str::to_string);
    Ok(Page { items, next })
}
