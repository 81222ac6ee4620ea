//! Can outsiders reach pi-crm (SPEC §8.5)? The check fetches `{public_url}/healthz` with a
//! one-time code that only this instance knows and echoes, so another server answering at
//! that address (a router's page, another pi-crm) does not pass. The last answer is kept: the
//! settings page and the dashboard show it, and `provider-events` polls more often without it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::SqlitePool;

use crate::error::AppResult;
use crate::model::access::WorkspaceAccess;
use crate::state::AppState;
use crate::storage;

/// How long the check waits for an answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// A code not echoed within this long is forgotten.
const CODE_LIVES: Duration = Duration::from_secs(60);

/// The one-time codes of checks in flight, and the lock that lets one check run at a time (so
/// the button cannot be used to make pi-crm hammer an address).
#[derive(Default)]
pub struct Codes {
    open: Mutex<HashMap<String, Instant>>,
    running: tokio::sync::Mutex<()>,
}

impl Codes {
    fn issue(&self) -> String {
        let code = crate::auth::tokens::random_hex(16);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, at| at.elapsed() < CODE_LIVES);
        open.insert(code.clone(), Instant::now());
        code
    }

    /// True when `code` belongs to a check this instance is making.
    pub fn knows(&self, code: &str) -> bool {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(code).is_some_and(|at| at.elapsed() < CODE_LIVES)
    }

    fn forget(&self, code: &str) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).remove(code);
    }
}

/// Which of pi-crm's listeners answered `/healthz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Main,
    Public,
}

impl Listener {
    pub fn as_str(self) -> &'static str {
        match self {
            Listener::Main => "main",
            Listener::Public => "public",
        }
    }
}

/// A check's result.
#[derive(Debug, Clone)]
pub struct Check {
    /// The address checked; null when none is configured.
    pub public_url: Option<String>,
    pub reachable: bool,
    /// Whether `public_url` is https (needed for one-click unsubscribe, RFC 8058).
    pub https: bool,
    /// When; null before the first check.
    pub checked_at: Option<String>,
    /// What was found, in a sentence a person can act on.
    pub detail: String,
}

impl Check {
    fn new(public_url: Option<&str>, reachable: bool, detail: String) -> Check {
        Check {
            public_url: public_url.map(str::to_string),
            reachable,
            https: public_url.is_some_and(|u| u.starts_with("https://")),
            checked_at: Some(crate::clock::now_text()),
            detail,
        }
    }
}

/// The last check of the configured `public_url`, or — before there is one — what is known
/// without checking.
pub async fn current(state: &AppState) -> AppResult<Check> {
    if let Some(c) = last(state).await? {
        return Ok(c);
    }
    let url = state.config.public_url.as_deref();
    let detail = if url.is_some() {
        "not checked yet: press Check"
    } else {
        "public_url is not set, so nobody outside your home network can reach pi-crm"
    };
    Ok(Check {
        checked_at: None,
        ..Check::new(url, false, detail.into())
    })
}

/// The last check made, if any; a check of an address that is no longer configured is not
/// about this pi-crm any more and is left out.
pub async fn last(state: &AppState) -> AppResult<Option<Check>> {
    let stored = storage::reachability::last(&state.db).await?;
    Ok(stored
        .map(Check::from)
        .filter(|c| c.public_url == state.config.public_url))
}

impl From<storage::reachability::Row> for Check {
    fn from(r: storage::reachability::Row) -> Check {
        Check {
            public_url: r.public_url,
            reachable: r.reachable,
            https: r.https,
            checked_at: Some(r.checked_at),
            detail: r.detail,
        }
    }
}

/// True when the last check found pi-crm reachable at its `public_url`.
pub async fn is_reachable(state: &AppState) -> AppResult<bool> {
    Ok(last(state).await?.is_some_and(|c| c.reachable))
}

/// What the dashboard says when the person's workspaces rely on outsiders (campaigns, a
/// reviewer) and outsiders cannot reach pi-crm: no `public_url`, or the last check failed.
pub async fn warning_for(state: &AppState, workspaces: &[WorkspaceAccess]) -> AppResult<Option<String>> {
    let problem = match state.config.public_url.as_deref() {
        None => "pi-crm has no public address, so the reviewer's and the unsubscribe links cannot open outside your home network".to_string(),
        Some(url) => match last(state).await? {
            Some(c) if !c.reachable => format!("the last check could not reach pi-crm at {url}: {}", c.detail),
            _ => return Ok(None),
        },
    };
    if workspaces.is_empty() || !storage::reachability::outsiders_needed(&state.db, workspaces).await? {
        return Ok(None);
    }
    Ok(Some(problem))
}

/// Checks now, keeps the result and answers it.
pub async fn check(state: &AppState) -> AppResult<Check> {
    let _one_at_a_time = state.reach.running.lock().await;
    let result = match state.config.public_url.as_deref() {
        None => Check::new(
            None,
            false,
            "public_url is not set, so nobody outside your home network can reach pi-crm. \
             Set it to the https address of a tunnel or proxy that points at the public listener."
                .into(),
        ),
        Some(url) => probe(state, url).await,
    };
    save(&state.db, &result).await?;
    Ok(result)
}

async fn save(db: &SqlitePool, c: &Check) -> AppResult<()> {
    let row = storage::reachability::Row {
        public_url: c.public_url.clone(),
        reachable: c.reachable,
        https: c.https,
        checked_at: c.checked_at.clone().unwrap_or_else(crate::clock::now_text),
        detail: c.detail.clone(),
    };
    let mut tx = storage::db::begin_write(db).await?;
    storage::reachability::save(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(())
}

async fn probe(state: &AppState, public_url: &str) -> Check {
    let code = state.reach.issue();
    let (reachable, detail) = fetch(public_url, &code, |c| state.reach.knows(c)).await;
    state.reach.forget(&code);
    Check::new(Some(public_url), reachable, detail)
}

/// Fetches `{public_url}/healthz?nonce={code}` and says what the answer means.
async fn fetch(public_url: &str, code: &str, ours: impl Fn(&str) -> bool) -> (bool, String) {
    let host = url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| public_url.to_string());
    // Its own client: a redirect is reported, not followed, and the wait is short.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(ANSWER_WITHIN)
        .timeout(ANSWER_WITHIN)
        .user_agent(concat!("pi-crm/", env!("CARGO_PKG_VERSION"), " reachability check"))
        .build();
    let Ok(client) = client else {
        return (false, "pi-crm could not make an HTTP client for the check".into());
    };
    // The code is hex: it needs no escaping.
    let response = match client.get(format!("{public_url}/healthz?nonce={code}")).send().await {
        Ok(r) => r,
        Err(e) => return (false, transport_failure(&host, &e)),
    };
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("another address")
            .to_string();
        return (
            false,
            format!("{host} answered with a redirect to {to}; set public_url to the address it leads to"),
        );
    }
    if !status.is_success() {
        return (
            false,
            format!(
                "{host} answered HTTP {status} to /healthz: something other than pi-crm answers there, or the tunnel points at the wrong port"
            ),
        );
    }
    let mut response = response;
    let body: serde_json::Value = match crate::providers::http::body_capped(&mut response, 64 * 1024).await {
        Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    };
    let echoed = body.get("nonce").and_then(|n| n.as_str());
    if echoed != Some(code) || !ours(code) {
        return (
            false,
            format!(
                "a server answered at {host}, but it is not this pi-crm: it did not echo the check's one-time code"
            ),
        );
    }
    let https = public_url.starts_with("https://");
    let detail = match (body.get("listener").and_then(|l| l.as_str()), https) {
        (Some("main"), _) => format!(
            "reachable at {host}, but through the main listener, which also serves sign-in, settings and the API to the internet: point the tunnel or proxy at the public listener (public_bind) instead"
        ),
        (_, false) => format!(
            "reachable at {host}, over plain http: links carry secrets in the clear and one-click unsubscribe (RFC 8058) needs https"
        ),
        (_, true) => format!("reachable at {host} over https, through the public listener"),
    };
    (true, detail)
}

fn transport_failure(host: &str, e: &reqwest::Error) -> String {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    let chain = chain.to_ascii_lowercase();
    if e.is_timeout() {
        format!("{host} did not answer within {} seconds", ANSWER_WITHIN.as_secs())
    } else if chain.contains("dns") || chain.contains("failed to lookup") || chain.contains("name or service") {
        format!("the name {host} does not resolve: check public_url's spelling, or the tunnel's DNS record")
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake") {
        format!("{host} answered, but its HTTPS certificate is not valid for that name")
    } else if chain.contains("refused") {
        format!("nothing listens at {host}: the connection was refused (is the tunnel or proxy running?)")
    } else {
        format!("could not connect to {host}: is the tunnel or proxy running and pointed at the public listener?")
    }
}
