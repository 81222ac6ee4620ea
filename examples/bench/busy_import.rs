//! Other people's writes during a 1M-row import (SPEC §14: p99 ≤ 1 s, no errors; see
//! docs/benchmarks.md): one person
//! imports a million contacts while another, in her own workspace, creates contacts from four
//! clients as fast as the server answers.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::contacts::api_client;
use super::imports::{finished, seed, start};
use super::{free_port, rss_mb, spawn_server, stop, wait_healthy};

const ROWS: usize = 1_000_000;

fn rows() -> usize {
    std::env::var("BENCH_BUSY_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROWS)
}
const WRITERS: usize = 4;

fn csv() -> Vec<u8> {
    let mut out = String::with_capacity(rows() * 64);
    out.push_str("First Name,Last Name,Email,Phone,Loan amount,City\n");
    for i in 0..rows() {
        out.push_str(&format!(
            "Person{i},Family{},person{i}@example.com,+1415{},{},City{}\n",
            i % 997,
            2_000_000 + i,
            100_000 + (i * 7919 % 900) * 1000,
            i % 50
        ));
    }
    out.into_bytes()
}

pub fn run(binary: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = super::runtime();
    let seeded = rt.block_on(seed(&data, &["andy@example.com", "mona@example.com"]));
    let ((andy_ws, andy_key), (mona_ws, mona_key)) = (seeded[0].clone(), seeded[1].clone());
    let file = csv();
    println!(
        "\n== writes beside a {}-row import ({:.1} MB CSV), {WRITERS} clients creating contacts in another workspace",
        rows(),
        file.len() as f64 / 1e6
    );
    let port = free_port();
    let mut server = spawn_server(binary, &data, port);
    wait_healthy(port);
    let pid = server.id();
    let base = format!("http://127.0.0.1:{port}");
    rt.block_on(async {
        let andy = api_client(&andy_key);
        let mapping = json!({"columns": {"First Name": "first_name", "Last Name": "last_name",
            "Email": "primary_email", "Phone": "primary_phone",
            "Loan amount": {"custom": "loan_amount", "type": "number"},
            "City": {"custom": "city", "type": "text"}}, "on_duplicate": "skip"});
        let started = Instant::now();
        let id = start(&andy, &base, &andy_ws, &mapping, file, "million.csv").await;

        let importing = Arc::new(AtomicBool::new(true));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (mona, base, ws, importing) =
                    (api_client(&mona_key), base.clone(), mona_ws.clone(), importing.clone());
                tokio::spawn(async move {
                    let (mut times, mut errors, mut n) = (Vec::new(), Vec::new(), 0);
                    while importing.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        let r = mona
                            .post(format!("{base}/api/v1/workspaces/{ws}/contacts"))
                            .json(&json!({"first_name": "Friend", "primary_email": format!("w{w}n{n}@example.com")}))
                            .send()
                            .await
                            .unwrap();
                        times.push(t.elapsed());
                        if r.status() != 201 {
                            errors.push(format!("{} {}", r.status(), r.text().await.unwrap_or_default()));
                        }
                        n += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    (times, errors)
                })
            })
            .collect();
        let done = finished(&andy, &base, &andy_ws, &id).await;
        let elapsed = started.elapsed();
        importing.store(false, Ordering::Relaxed);
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(done["report"]["created"], rows() as u64);
        let (mut times, mut errors) = (Vec::new(), Vec::new());
        for w in writers {
            let (t, e) = w.await.unwrap();
            times.extend(t);
            errors.extend(e);
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "import of {} rows: {:.1} s ({:.0} rows/s), peak RSS {:.1} MB",
            rows(),
            elapsed.as_secs_f64(),
            rows() as f64 / elapsed.as_secs_f64(),
            rss_mb(pid, "VmHWM")
        );
        println!(
            "{} contacts created beside it: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms, {} errors{}",
            times.len(),
            at(0.5).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0,
            times.last().unwrap().as_secs_f64() * 1000.0,
            errors.len(),
            errors.first().map(|e| format!(" (first: {e})")).unwrap_or_default()
        );
    });
    stop(&mut server);
}
