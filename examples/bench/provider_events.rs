//! Statuses without a way in (SPEC §14, issue 30): one `pi-crm jobs run provider-events` pass
//! over 10,000 Mailgun events served in pages of 300 by a local fake of the Events API (with
//! `paging.next` links), timed from spawn to exit, with the process's peak memory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

const PAGE: usize = 300;

pub fn run(binary: &Path) {
    let rt = super::runtime();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fake = rt.block_on(super::messaging::accepting_mailgun());
    rt.block_on(super::messaging::seed(&data, &fake.uri()));
    let jobs = |job: &str| {
        Command::new(binary)
            .arg("--data-dir")
            .arg(&data)
            .args(["jobs", "run", job])
            .env("PI_CRM_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap()
    };
    let sent = jobs("outbox").wait_with_output().unwrap();
    assert!(sent.status.success());

    // One `delivered` event per message, by its outbox id, as the Events API lists them.
    let db = rt
        .block_on(sqlx::SqlitePool::connect(&format!(
            "sqlite://{}?mode=ro",
            data.join("pi-crm.db").display()
        )))
        .unwrap();
    let ids: Vec<String> = rt
        .block_on(sqlx::query_scalar("SELECT id FROM outbox WHERE state = 'sent' ORDER BY id").fetch_all(&db))
        .unwrap();
    assert_eq!(ids.len(), super::messaging::MESSAGES);
    let now = jiff::Timestamp::now().as_second() as f64;
    let events: Arc<Vec<Value>> = Arc::new(
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                json!({"id": format!("bench-event-{i:06}"), "event": "delivered", "timestamp": now - 600.0 + i as f64 * 0.01,
                       "recipient": format!("b{i}@example.com"), "user-variables": {"outbox_id": id},
                       "message": {"headers": {"message-id": "bench@mg.example.com"}},
                       "delivery-status": {"code": 250, "message": "OK"}, "flags": {"is-routed": false}})
            })
            .collect(),
    );
    let pages = events.len().div_ceil(PAGE);
    let base = fake.uri();
    rt.block_on(async {
        let page = move |n: usize| {
            let items: Vec<&Value> = events.iter().skip(n * PAGE).take(PAGE).collect();
            let next = format!("{base}/v3/mg.example.com/events/page/{}", n + 1);
            ResponseTemplate::new(200).set_body_json(json!({"items": items, "paging": {"next": next}}))
        };
        let first = page.clone();
        Mock::given(method("GET"))
            .and(path("/v3/mg.example.com/events"))
            .respond_with(move |_: &Request| first(0))
            .mount(&fake)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/v3/mg\.example\.com/events/page/\d+$"))
            .respond_with(move |r: &Request| page(r.url.path().rsplit('/').next().unwrap().parse().unwrap()))
            .mount(&fake)
            .await;
    });

    let started = Instant::now();
    let child = jobs("provider-events");
    let pid = child.id();
    let sampler = std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        // Until the process is gone (a zombie's status has no memory lines).
        while let Some(hwm) = high_water_mb(pid) {
            peak = peak.max(hwm);
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    });
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let peak = sampler.join().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let delivered: i64 = rt
        .block_on(
            sqlx::query_scalar("SELECT count(*) FROM communication_logs WHERE status = 'delivered'").fetch_one(&db),
        )
        .unwrap();
    assert_eq!(delivered as usize, ids.len(), "every event applied: {line}");
    println!(
        "provider-events: one pass over {} Mailgun events in {pages} pages of {PAGE} (+1 empty), applied in {:.2} s (process start to exit): {:.0} events/s; peak RSS {:.1} MB ({line})",
        ids.len(),
        took.as_secs_f64(),
        ids.len() as f64 / took.as_secs_f64(),
        peak
    );
    rt.block_on(db.close());
}

/// The process's peak resident memory so far, while it runs.
fn high_water_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
