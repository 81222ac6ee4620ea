//! "Never twice, never lost", proven with the real binary: the server is killed with SIGKILL
//! while a fake Mailgun holds its requests open, then started again on the same data dir.
//! Every message must end `sent` or `unknown`, the ones that reached the provider before the
//! kill must be `unknown` (they may have gone: never sent again by themselves), and no
//! message may reach the provider twice. Also the server log never shows a provider secret.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{PASSWORD, free_port, pi_crm};
use crate::messaging::multipart_field;

const API_KEY_SECRET: &str = "key-crash-test-0123456789abcdef";
const SIGNING_SECRET: &str = "signing-crash-test-fedcba9876543210";

/// The real binary on `data`; a send still leased after `lease` seconds is judged `unknown`.
pub(crate) fn serve(data: &std::path::Path, port: u16, log: &std::path::Path, lease: u32) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_pi-crm"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("PI_CRM_CONFIG")
        // A short lease, so a send cut off by the kill is judged within seconds (long enough
        // that a send on a busy server is not judged lost while it still goes).
        .env("PI_CRM_OUTBOX_LEASE_SECONDS", lease.to_string())
        .env("PI_CRM_LOG", "debug")
        // Campaign email carries an unsubscribe link, which needs the public address.
        .env("PI_CRM_PUBLIC_URL", "https://crm.example.com")
        .env("PI_CRM_RATE_LIMIT_PER_MINUTE", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

pub(crate) async fn wait_healthy(port: u16) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

/// The `v:outbox_id` of each request the fake received.
fn outbox_ids(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| multipart_field(&String::from_utf8_lossy(&r.body), "v:outbox_id").expect("every send carries our id"))
        .collect()
}

/// Andy's account made through the CLI, and an API key of his with `scopes` (comma-separated).
pub(crate) fn andy_with_key(data: &std::path::Path, scopes: &str) -> String {
    let made = pi_crm(
        data,
        &[
            "user",
            "create",
            "--email",
            "andy@example.com",
            "--name",
            "Andy",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(made.status.success());
    api_key(data, "andy@example.com", scopes)
}

/// A new API key of the user `email` with `scopes` (comma-separated), made with the CLI.
pub(crate) fn api_key(data: &std::path::Path, email: &str, scopes: &str) -> String {
    let out = pi_crm(data, &["apikey", "create", "--user", email, "--scopes", scopes], None);
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("pcrm_"))
        .unwrap()
        .trim()
        .to_string()
}

/// The JSON body of the answer to `request`.
pub(crate) async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// An API client that sends `key`.
pub(crate) fn keyed_client(key: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(
            [("x-api-key".parse().unwrap(), key.parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .build()
        .unwrap()
}

/// A new workspace whose email goes through the fake Mailgun at `api_base`; its id.
async fn workspace_with_mailgun(client: &reqwest::Client, base: &str, name: &str, api_base: &str) -> String {
    let ws = client
        .post(format!("{base}/api/v1/workspaces"))
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    let ws = ws.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r = client
        .put(format!("{base}/api/v1/workspaces/{ws}/providers/email"))
        .json(
            &json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": API_KEY_SECRET,
                      "webhook_signing_key": SIGNING_SECRET, "from": "andy@mg.example.com",
                      "api_base": api_base, "per_minute": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ws
}

/// `n` new contacts of `ws`, each sent an email: `(contact id, timeline entry id)` of each.
async fn queue_emails(client: &reqwest::Client, base: &str, ws: &str, n: usize) -> Vec<(String, String)> {
    let mut communications = Vec::new();
    for i in 0..n {
        let c = client
            .post(format!("{base}/api/v1/workspaces/{ws}/contacts"))
            .json(&json!({"first_name": format!("Borrower {i}"), "primary_email": format!("b{i}@example.com")}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let r = client
            .post(format!(
                "{base}/api/v1/workspaces/{ws}/contacts/{}/messages",
                c["id"].as_str().unwrap()
            ))
            .json(&json!({"channel": "email", "subject": format!("Hello {i}"), "body": "Rates fell."}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        communications.push((
            c["id"].as_str().unwrap().to_string(),
            r.json::<Value>().await.unwrap()["communication_id"]
                .as_str()
                .unwrap()
                .to_string(),
        ));
    }
    communications
}

/// A fake Mailgun that takes every message and answers it after `delay` (`id` in its answer).
async fn mailgun_answering_after(fake: &MockServer, id: &str, delay: Duration) {
    fake.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": format!("<{id}@mg.example.com>"), "message": "Queued. Thank you."}))
                .set_delay(delay),
        )
        .mount(fake)
        .await;
}

/// Waits (bounded) until the fake provider holds `n` requests; what it holds.
async fn until_held(fake: &MockServer, n: usize) -> Vec<wiremock::Request> {
    let mut held = Vec::new();
    for _ in 0..200 {
        held = fake.received_requests().await.unwrap();
        if held.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    held
}

/// Each message's status on its contact's timeline, by its entry's id.
async fn statuses(
    client: &reqwest::Client,
    base: &str,
    ws: &str,
    communications: &[(String, String)],
) -> HashMap<String, String> {
    let mut found = HashMap::new();
    for (contact, id) in communications {
        let page: Value = client
            .get(format!(
                "{base}/api/v1/workspaces/{ws}/contacts/{contact}/communications"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entry = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap()
            .clone();
        found.insert(id.clone(), entry["status"].as_str().unwrap().to_string());
    }
    found
}

/// Polls (bounded, the server runs on its own) until every message is `sent` or `unknown`.
async fn until_settled(
    client: &reqwest::Client,
    base: &str,
    ws: &str,
    communications: &[(String, String)],
) -> HashMap<String, String> {
    let mut found = HashMap::new();
    for _ in 0..400 {
        found = statuses(client, base, ws, communications).await;
        if found.values().all(|s| s == "sent" || s == "unknown") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    found
}

/// Andy's server (the real binary, leases of 2 s) on a fresh data dir, his API client, and a
/// fake Mailgun that takes every send and holds it for a minute.
struct Held {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    log: std::path::PathBuf,
    fake: MockServer,
    server: Child,
    base: String,
    client: reqwest::Client,
}

async fn a_server_whose_provider_holds_every_send() -> Held {
    // This test's own HTTP clients come before any in-process server has set up TLS.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let key = andy_with_key(&data, "read:contacts,write:contacts,send:messages,manage:workspaces");
    let fake = MockServer::start().await;
    mailgun_answering_after(&fake, "held", Duration::from_secs(60)).await;
    let port = free_port();
    let server = serve(&data, port, &log, 2);
    wait_healthy(port).await;
    Held {
        _dir: dir,
        data,
        log,
        fake,
        server,
        base: format!("http://127.0.0.1:{port}"),
        client: keyed_client(&key),
    }
}

impl Held {
    /// Kills the server with SIGKILL, mid-send.
    fn kill(&mut self) {
        self.server.kill().unwrap();
        self.server.wait().unwrap();
    }

    /// Starts the server again on the same data.
    async fn restart(&mut self) {
        let port = free_port();
        self.server = serve(&self.data, port, &self.log, 2);
        wait_healthy(port).await;
        self.base = format!("http://127.0.0.1:{port}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_mid_send_sends_nothing_twice_and_loses_nothing() {
    let mut h = a_server_whose_provider_holds_every_send().await;
    let ws = workspace_with_mailgun(&h.client, &h.base, "Loans", &h.fake.uri()).await;
    // 24 messages: more than one claim's worth (16), so some are still only queued.
    let communications = queue_emails(&h.client, &h.base, &ws, 24).await;
    // Wait until the provider holds a full batch, then kill the server mid-send.
    let held = until_held(&h.fake, 16).await;
    assert!(held.len() >= 16, "the fake holds {} requests", held.len());
    h.kill();
    let before_kill = outbox_ids(&h.fake.received_requests().await.unwrap());

    // The provider is quick again; the server starts over on the same data.
    mailgun_answering_after(&h.fake, "quick", Duration::ZERO).await;
    h.restart().await;
    let statuses = until_settled(&h.client, &h.base, &ws, &communications).await;
    let after = outbox_ids(&h.fake.received_requests().await.unwrap());
    h.kill();

    assert!(
        statuses.values().all(|s| s == "sent" || s == "unknown"),
        "every message settles: {statuses:?}"
    );
    // No message reached the provider twice, across the kill.
    let mut all: Vec<&String> = before_kill.iter().chain(after.iter()).collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "no outbox row was sent twice");
    // What reached it before the kill is `unknown` and was not sent again; the rest went
    // out once after the restart.
    let row_of: HashMap<String, String> = {
        let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", h.data.join("pi-crm.db").display()))
            .await
            .unwrap();
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, communication_id FROM outbox")
            .fetch_all(&db)
            .await
            .unwrap();
        db.close().await;
        rows.into_iter().collect()
    };
    for id in &before_kill {
        assert_eq!(
            statuses[&row_of[id]], "unknown",
            "{id} reached the provider before the kill"
        );
    }
    let sent = statuses.values().filter(|s| *s == "sent").count();
    assert_eq!(
        sent,
        after.len(),
        "each message sent after the restart reached the provider once"
    );
    assert_eq!(
        sent + before_kill.len(),
        24,
        "nothing lost and nothing claimed-but-unsent: {statuses:?}"
    );

    // The log (debug level) never shows the provider's secrets.
    let logs = std::fs::read_to_string(&h.log).unwrap();
    assert!(logs.contains("marked unknown"), "the restart said what it did: {logs}");
    assert!(
        !logs.contains(API_KEY_SECRET) && !logs.contains(SIGNING_SECRET),
        "secrets stay out of the log"
    );
}

/// Rows in each state, straight from the database file of a stopped server.
async fn outbox_states(data: &std::path::Path) -> HashMap<String, i64> {
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("pi-crm.db").display()))
        .await
        .unwrap();
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, count(*) FROM outbox GROUP BY state")
        .fetch_all(&db)
        .await
        .unwrap();
    db.close().await;
    rows.into_iter().collect()
}

/// After a kill -9 with a full batch in flight, the restarted server judges the lapsed leases
/// while its own sends are out and settling against a slow provider. Judging them once asked
/// the pool for a second connection inside its write transaction while the settling sends held
/// the others, waiting for that lock: "database is locked" after 5 s, mail the provider took
/// recorded `unknown`, and everyone's writes stalled. Now: no lock error, `unknown` only for
/// the rows leased at the kill, and another workspace's writes stay quick throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judging_lapsed_leases_beside_many_sends_waits_for_no_one() {
    let mut h = a_server_whose_provider_holds_every_send().await;
    let client = h.client.clone();
    let loans = workspace_with_mailgun(&client, &h.base, "Loans", &h.fake.uri()).await;
    let other = workspace_with_mailgun(&client, &h.base, "Household", &h.fake.uri()).await;
    let communications = queue_emails(&client, &h.base, &loans, 48).await;
    until_held(&h.fake, 16).await;
    h.kill();
    let leased_at_kill = outbox_states(&h.data).await.get("sending").copied().unwrap_or(0);
    assert!(
        leased_at_kill >= 16,
        "a full batch was in flight at the kill: {leased_at_kill}"
    );

    // The provider now answers every send after a second, so the restarted server's sends are
    // out, and settle together, when the old leases lapse.
    mailgun_answering_after(&h.fake, "slow", Duration::from_millis(1000)).await;
    h.restart().await;
    let base = h.base.clone();

    // Someone keeps writing in another workspace meanwhile; every write is timed.
    let writer = {
        let (client, base, other) = (client.clone(), base.clone(), other.clone());
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for i in 0..60 {
                let started = std::time::Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/workspaces/{other}/contacts"))
                    .json(&json!({"first_name": format!("Neighbour {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
                slowest = slowest.max(started.elapsed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            slowest
        })
    };
    let settled = until_settled(&client, &base, &loans, &communications)
        .await
        .values()
        .all(|s| s == "sent" || s == "unknown");
    let slowest = writer.await.unwrap();
    h.kill();

    assert!(settled, "every message settles after the restart");
    let logs = std::fs::read_to_string(&h.log).unwrap();
    assert!(logs.contains("marked unknown"), "the lapsed leases were judged: {logs}");
    assert!(
        !logs.contains("database is locked"),
        "no transaction waited on another: {logs}"
    );
    let states = outbox_states(&h.data).await;
    let unknown = states.get("unknown").copied().unwrap_or(0);
    assert!(
        unknown <= leased_at_kill,
        "only rows leased at the kill may be unknown: {unknown} of {leased_at_kill} ({states:?})"
    );
    assert_eq!(
        states.get("sent").copied().unwrap_or(0) + unknown,
        48,
        "nothing lost: {states:?}"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "another workspace's writes stayed under a second: the slowest took {slowest:?}"
    );
}
