//! Messaging (SPEC §14): 10,000 queued emails drained by the server's outbox worker to a local
//! Mailgun fake with no rate limit (messages/s, and the server's peak memory while it drains),
//! then signed Mailgun `delivered` events posted to the webhook (events/s applied).

use std::path::Path;
use std::time::{Duration, Instant};

use pi_crm::config::Config;
use pi_crm::domain::actor::{Actor, Via};
use pi_crm::domain::messaging::{providers, send as messages};
use pi_crm::domain::{contact, user, workspace};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const MESSAGES: usize = 10_000;
const EVENTS: usize = 5_000;
const SIGNING_KEY: &str = "bench-signing-key";

pub fn run(binary: &Path) {
    let rt = super::runtime();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fake = rt.block_on(accepting_mailgun());
    let ws = rt.block_on(seed(&data, &fake.uri()));

    let port = super::free_port();
    let mut server = super::spawn_server(binary, &data, port);
    let started = Instant::now();
    super::wait_healthy(port);
    let pid = server.id();
    let db = rt
        .block_on(sqlx::SqlitePool::connect(&format!(
            "sqlite://{}?mode=ro",
            data.join("pi-crm.db").display()
        )))
        .unwrap();
    let mut peak_rss: f64 = 0.0;
    loop {
        peak_rss = peak_rss.max(super::rss_mb(pid, "VmRSS"));
        let left: i64 = rt
            .block_on(
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')").fetch_one(&db),
            )
            .unwrap();
        if left == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the outbox did not drain");
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    let sent: i64 = rt
        .block_on(sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state = 'sent'").fetch_one(&db))
        .unwrap();
    assert_eq!(sent as usize, MESSAGES, "every message sent");
    println!(
        "outbox: {MESSAGES} queued emails sent to a local Mailgun fake in {:.2} s from server start: {:.0} messages/s; server peak RSS while draining {:.1} MB (VmHWM {:.1} MB)",
        took.as_secs_f64(),
        MESSAGES as f64 / took.as_secs_f64(),
        peak_rss,
        super::rss_mb(pid, "VmHWM")
    );

    // Signed `delivered` events, as Mailgun posts them, 16 at a time.
    let ids: Vec<String> = rt
        .block_on(
            sqlx::query_scalar("SELECT id FROM outbox ORDER BY id LIMIT ?")
                .bind(EVENTS as i64)
                .fetch_all(&db),
        )
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let took = rt.block_on(async {
        let client = reqwest::Client::new();
        let url = format!("{base}/webhooks/mailgun/{ws}/events");
        let started = Instant::now();
        let bodies = ids.iter().enumerate().map(|(i, id)| {
            let timestamp = jiff::Timestamp::now().as_second().to_string();
            let token = format!("bench-token-{i:06}");
            json!({"signature": {"timestamp": timestamp, "token": token,
                                 "signature": pi_crm::webhooks::mailgun::signature(SIGNING_KEY, &timestamp, &token)},
                   "event-data": {"event": "delivered", "recipient": format!("b{i}@example.com"),
                                  "user-variables": {"outbox_id": id},
                                  "message": {"headers": {"message-id": "bench@mg.example.com"}}}})
        });
        use futures_util::StreamExt;
        let statuses: Vec<u16> = futures_util::stream::iter(bodies)
            .map(|body| {
                let client = client.clone();
                let url = url.clone();
                async move {
                    client
                        .post(url)
                        .json(&body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        assert!(statuses.iter().all(|s| *s == 200), "every event accepted");
        started.elapsed()
    });
    let delivered: i64 = rt
        .block_on(
            sqlx::query_scalar("SELECT count(*) FROM communication_logs WHERE status = 'delivered'").fetch_one(&db),
        )
        .unwrap();
    assert_eq!(delivered as usize, EVENTS, "every event applied");
    println!(
        "webhooks: {EVENTS} signed Mailgun delivered events applied in {:.2} s: {:.0} events/s",
        took.as_secs_f64(),
        EVENTS as f64 / took.as_secs_f64()
    );
    rt.block_on(db.close());
    super::stop(&mut server);
}

/// A workspace with Mailgun pointed at the fake, 10,000 contacts, and one queued email each,
/// written through the domain as sends from the contact page are.
pub async fn seed(data: &Path, fake: &str) -> String {
    let config = Config {
        data_dir: data.to_path_buf(),
        ..Config::default()
    };
    let state = pi_crm::app::open_state(config).await.unwrap();
    let db = &state.db;
    let owner = user::create(db, None, Via::Cli, "bench@example.com", "Bench", super::PASSWORD)
        .await
        .unwrap();
    let actor = Actor::person(owner.id.clone(), Via::Cli);
    let ws = workspace::create(db, &actor, "Campaigns").await.unwrap();
    providers::put(
        &state,
        &actor,
        &ws,
        providers::Service::Email,
        json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": "key-bench", "webhook_signing_key": SIGNING_KEY,
               "from": "Bench <bench@mg.example.com>", "api_base": fake, "per_minute": 0}),
    )
    .await
    .unwrap();
    for i in 0..MESSAGES {
        let input: pi_crm::api::shapes::contacts::ContactInput = serde_json::from_value(
            json!({"first_name": format!("Borrower {i}"), "primary_email": format!("b{i}@example.com")}),
        )
        .unwrap();
        let c = contact::create(db, &actor, &ws, "US", input.into()).await.unwrap();
        let id = pi_crm::domain::ids::ContactId::parse(&c.id).unwrap();
        let message = messages::MessageInput {
            channel: "email".into(),
            template_id: None,
            subject: Some("Rates fell this week".into()),
            body: Some(format!(
                "Hi Borrower {i},\n\nRates fell this week. Shall we look at your numbers?\n\nAndy"
            )),
        };
        messages::send(&state, &actor, &ws, &id, message).await.unwrap();
    }
    state.db.close().await;
    ws.id().to_string()
}

/// A local Mailgun that accepts every message, recording none (10,000 would be memory).
pub async fn accepting_mailgun() -> MockServer {
    let fake = MockServer::builder().disable_request_recording().start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "<bench@mg.example.com>", "message": "Queued. Thank you."})),
        )
        .mount(&fake)
        .await;
    fake
}
