//! Campaigns (SPEC §14): a 10,000-recipient email campaign scheduled over HTTP — the fan-out
//! (every recipient resolved, personalised and queued in the outbox) timed from the request;
//! the server's peak memory while it sends to a local Mailgun fake; then the campaign's page
//! (10,000 recipients in its log and counts) timed with a signed-in browser's cookie.

use std::path::Path;
use std::time::{Duration, Instant};

use pi_crm::config::Config;
use pi_crm::domain::actor::{Actor, Via};
use pi_crm::domain::api_key::{self, NewKey};
use pi_crm::domain::messaging::providers;
use pi_crm::domain::{contact, user, workspace};
use serde_json::{Value, json};

const RECIPIENTS: usize = 10_000;

pub fn run(binary: &Path) {
    let rt = super::runtime();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fake = rt.block_on(super::messaging::accepting_mailgun());
    let (ws, key) = rt.block_on(seed(&data, &fake.uri()));
    let port = super::free_port();
    let mut server = super::spawn_server(binary, &data, port);
    super::wait_healthy(port);
    let pid = server.id();
    let base = format!("http://127.0.0.1:{port}");
    let api = super::contacts::api_client(&key);
    let db = rt
        .block_on(sqlx::SqlitePool::connect(&format!(
            "sqlite://{}?mode=ro",
            data.join("pi-crm.db").display()
        )))
        .unwrap();
    let id = rt.block_on(async {
        let template: Value = api
            .post(format!("{base}/api/v1/workspaces/{ws}/templates"))
            .json(&json!({"name": "Rates", "channel": "email", "subject": "{{ first_name }}, rates fell",
                          "preheader": "A good week to look again",
                          "body": "<p>Hi {{ first_name }} {{ last_name }},</p><p>Rates fell this week. Shall we look at your numbers?</p><p>{{ sender.name }}</p>"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let campaign: Value = api
            .post(format!("{base}/api/v1/workspaces/{ws}/campaigns"))
            .json(&json!({"name": "Everyone", "channel": "email", "template_id": template["id"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        campaign["id"].as_str().unwrap().to_string()
    });
    let rss_before = super::rss_mb(pid, "VmRSS");
    let started = Instant::now();
    let r = rt.block_on(
        api.post(format!("{base}/api/v1/workspaces/{ws}/campaigns/{id}/schedule"))
            .send(),
    );
    assert_eq!(r.unwrap().status(), 200);
    let mut peak_rss: f64 = 0.0;
    let mut fanned_out = None;
    loop {
        peak_rss = peak_rss.max(super::rss_mb(pid, "VmRSS"));
        if fanned_out.is_none() {
            let (all, pending): (i64, i64) = rt
                .block_on(
                    sqlx::query_as(
                        "SELECT count(*), coalesce(sum(state = 'pending'), 0) FROM campaign_recipients WHERE campaign_id = ?",
                    )
                    .bind(&id)
                    .fetch_one(&db),
                )
                .unwrap();
            if all as usize == RECIPIENTS && pending == 0 {
                fanned_out = Some(started.elapsed());
            }
        }
        let status: String = rt
            .block_on(
                sqlx::query_scalar("SELECT status FROM campaigns WHERE id = ?")
                    .bind(&id)
                    .fetch_one(&db),
            )
            .unwrap();
        if status == "sent" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the campaign did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    let fanned_out = fanned_out.expect("every recipient was queued");
    let sent: i64 = rt
        .block_on(
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE campaign_id = ? AND state = 'sent'")
                .bind(&id)
                .fetch_one(&db),
        )
        .unwrap();
    assert_eq!(sent as usize, RECIPIENTS, "every message sent");
    println!(
        "campaign fan-out: {RECIPIENTS} recipients resolved, personalised and queued in {:.2} s from the schedule request",
        fanned_out.as_secs_f64()
    );
    println!(
        "campaign send: all {RECIPIENTS} sent to a local Mailgun fake {:.2} s after the schedule request; server RSS {:.1} MB before, peak {:.1} MB while it sent (VmHWM {:.1} MB)",
        took.as_secs_f64(),
        rss_before,
        peak_rss,
        super::rss_mb(pid, "VmHWM")
    );
    let times = rt.block_on(async {
        let browser = super::contacts::login(&base).await;
        super::contacts::time_gets(&browser, &format!("{base}/workspaces/{ws}/campaigns/{id}"), 200).await
    });
    println!(
        "campaign page with {RECIPIENTS} recipients: p50 {:.2} ms, p99 {:.2} ms (n={})",
        super::ms(super::percentile(&times, 50)),
        super::ms(super::percentile(&times, 99)),
        times.len()
    );
    rt.block_on(db.close());
    super::stop(&mut server);
}

/// A workspace with Mailgun pointed at the fake, 10,000 contacts, and an API key.
async fn seed(data: &Path, fake: &str) -> (String, String) {
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
        json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": "key-bench", "webhook_signing_key": "bench",
               "from": "Bench <bench@mg.example.com>", "api_base": fake, "per_minute": 0}),
    )
    .await
    .unwrap();
    for i in 0..RECIPIENTS {
        let input: pi_crm::api::shapes::contacts::ContactInput = serde_json::from_value(json!({
            "first_name": format!("Borrower{i}"), "last_name": "Bench", "primary_email": format!("b{i}@example.com")}))
        .unwrap();
        contact::create(db, &actor, &ws, "US", input.into()).await.unwrap();
    }
    let key = api_key::create(
        db,
        &actor,
        NewKey {
            description: "bench".into(),
            scopes: [
                "read:templates",
                "write:templates",
                "read:campaigns",
                "write:campaigns",
                "send:messages",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            workspace_id: None,
            expires_at: None,
        },
    )
    .await
    .unwrap()
    .key;
    state.db.close().await;
    (ws.id().to_string(), key)
}
