//! "Never twice, never lost" for a campaign, with the real binary: a 10,000-recipient campaign
//! is killed with SIGKILL while a slow fake Mailgun holds its requests open, then the server
//! starts again on the same data dir. Every recipient gets at most one message; every one not
//! in flight at the kill gets exactly one; the ones in flight are `unknown` (never sent again by
//! themselves), at most the number in flight.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::free_port;
use crate::messaging::multipart_field;
use crate::outbox_crash::{andy_with_key, keyed_client, serve, wait_healthy};

const RECIPIENTS: usize = 10_000;
/// Long enough that a send is not judged lost while it is still going, even on a debug build
/// sharing two cores with the whole test suite (10 s was not, once); the sends cut off by the
/// kill are judged after it, so the test waits this long after the restart.
const LEASE: u32 = 30;

/// `(to, outbox id)` of every request the fake received.
fn deliveries(requests: &[wiremock::Request]) -> Vec<(String, String)> {
    requests
        .iter()
        .map(|r| {
            let body = String::from_utf8_lossy(&r.body).to_string();
            (
                crate::campaigns::bare_address(&multipart_field(&body, "to").expect("a recipient")),
                multipart_field(&body, "v:outbox_id").expect("our id"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_a_ten_thousand_recipient_campaign_sends_nobody_twice_and_loses_nobody() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let key = andy_with_key(
        &data,
        "read:contacts,write:contacts,read:templates,write:templates,read:campaigns,write:campaigns,send:messages,manage:workspaces",
    );
    let csv = {
        let mut text = String::from("First Name,Last Name,E-mail Address\n");
        for i in 0..RECIPIENTS {
            text.push_str(&format!("Borrower,N{i:05},b{i:05}@example.com\n"));
        }
        text
    };

    // A Mailgun that takes each message and answers only after 30 seconds.
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "<held@mg.example.com>", "message": "Queued. Thank you."}))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&fake)
        .await;
    let port = free_port();
    let mut server = serve(&data, port, &log, LEASE);
    wait_healthy(port).await;
    let client = keyed_client(&key);
    let base = format!("http://127.0.0.1:{port}");
    let made: Value = client
        .post(format!("{base}/api/v1/workspaces"))
        .json(&json!({"name": "Loans"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws = made["id"].as_str().unwrap().to_string();
    // Ten thousand borrowers, imported as a CSV export.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("borrowers.csv"),
    );
    let import: Value = client
        .post(format!("{base}/api/v1/workspaces/{ws}/imports"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let import_id = import["id"].as_str().unwrap().to_string();
    for _ in 0..600 {
        let v: Value = client
            .get(format!("{base}/api/v1/workspaces/{ws}/imports/{import_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["status"] == "done" {
            assert_eq!(v["report"]["created"], RECIPIENTS);
            break;
        }
        assert_ne!(v["status"], "failed", "{v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = client
        .put(format!("{base}/api/v1/workspaces/{ws}/providers/email"))
        .json(
            &json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": "key-campaign-crash-0123",
                      "webhook_signing_key": "sign-campaign-crash-0123", "from": "andy@mg.example.com",
                      "api_base": fake.uri(), "per_minute": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let template: Value = client
        .post(format!("{base}/api/v1/workspaces/{ws}/templates"))
        .json(
            &json!({"name": "Rates", "channel": "email", "subject": "Rates for {{ last_name }}",
                      "body": "<p>Hi {{ first_name }} {{ last_name }},</p><p>Rates fell.</p>"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let campaign: Value = client
        .post(format!("{base}/api/v1/workspaces/{ws}/campaigns"))
        .json(&json!({"name": "Everyone", "channel": "email", "template_id": template["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = campaign["id"].as_str().unwrap().to_string();
    let r = client
        .post(format!("{base}/api/v1/workspaces/{ws}/campaigns/{id}/schedule"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Once the provider holds a full batch in flight, kill the server.
    let mut held = 0;
    for _ in 0..600 {
        held = fake.received_requests().await.unwrap().len();
        if held >= 16 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(held >= 16, "the fake holds {held} requests");
    server.kill().unwrap();
    server.wait().unwrap();
    let before = deliveries(&fake.received_requests().await.unwrap());
    // In flight at the kill: the rows leased for sending (some may not have reached the
    // provider yet).
    let in_flight: i64 = {
        let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("pi-crm.db").display()))
            .await
            .unwrap();
        let n = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state = 'sending'")
            .fetch_one(&db)
            .await
            .unwrap();
        db.close().await;
        n
    };
    assert!(in_flight as usize >= before.len().min(16), "{in_flight} leased");

    // A quick provider again; the same data dir.
    fake.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "<quick@mg.example.com>", "message": "Queued. Thank you."})),
        )
        .mount(&fake)
        .await;
    let port = free_port();
    let mut server = serve(&data, port, &log, LEASE);
    wait_healthy(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let mut last = Value::Null;
    for _ in 0..2400 {
        last = client
            .get(format!("{base}/api/v1/workspaces/{ws}/campaigns/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if last["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = deliveries(&fake.received_requests().await.unwrap());
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(last["status"], "sent", "{last}");

    let stats = &last["stats"];
    assert_eq!(stats["recipients"], RECIPIENTS);
    let unknown = stats["unknown"].as_u64().unwrap() as usize;
    assert_eq!(
        stats["sent"].as_u64().unwrap() as usize + unknown,
        RECIPIENTS,
        "{stats}"
    );
    // Only what was in flight at the kill may be unknown.
    assert!(
        unknown <= in_flight as usize,
        "{unknown} unknown, {in_flight} in flight"
    );

    // Each recipient has one outbox row; a `sent` one reached the provider exactly once, an
    // `unknown` one at most once; nothing reached it twice, across the kill.
    let mut per_address: HashMap<&str, usize> = HashMap::new();
    for (to, _) in before.iter().chain(after.iter()) {
        *per_address.entry(to.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_address.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("pi-crm.db").display()))
        .await
        .unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT recipient, state FROM outbox WHERE campaign_id = ?")
        .bind(&id)
        .fetch_all(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(rows.len(), RECIPIENTS, "one outbox row per recipient");
    for (to, state) in &rows {
        let got = per_address.get(to.as_str()).copied().unwrap_or(0);
        match state.as_str() {
            "sent" => assert_eq!(got, 1, "{to} was sent and got {got}"),
            "unknown" => assert!(got <= 1),
            other => panic!("{to} ended {other}"),
        }
    }
    let mut ids: Vec<&str> = before.iter().chain(after.iter()).map(|(_, o)| o.as_str()).collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total);
}
