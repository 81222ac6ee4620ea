//! Import and export at 100k (issue 4): a 100,000-row CSV with 10 custom-field columns uploaded
//! to the running server (the real multipart path and job), then both exports downloaded.

use std::path::Path;
use std::time::{Duration, Instant};

use pi_crm::config::Config;
use pi_crm::domain::actor::{Actor, Via};
use pi_crm::domain::api_key::{self, NewKey};
use pi_crm::domain::{user, workspace};
use serde_json::{Value, json};

use super::contacts::{api_client, login};
use super::{free_port, page_csrf, rss_mb, rss_parts, spawn_server, stop, wait_healthy};

const ROWS: usize = 100_000;

fn csv() -> String {
    let mut out = String::with_capacity(ROWS * 200);
    out.push_str("First Name,Last Name,Email,Phone,Company,Loan amount,City,Birthday,Source,First time buyer,Credit score,Realtor,Closing date,Alt email,Notes\n");
    for i in 0..ROWS {
        out.push_str(&format!(
            "Person{i},Family{},person{i}@example.com,+1415{},\"Homes {}, Inc.\",{},City{},{}-{:02}-{:02},Referral,{},{},Realtor {},{}-{:02}-{:02},p{i}@alt.example,\"Met at open house, {}\"\n",
            i % 997,
            2_000_000 + i,
            i % 300,
            100_000 + (i * 7919 % 900) * 1000,
            i % 50,
            1950 + i % 50,
            1 + i % 12,
            1 + i % 28,
            i % 3 == 0,
            580 + i % 270,
            i % 200,
            2026 + i % 2,
            1 + i % 12,
            1 + i % 28,
            i % 40
        ));
    }
    out
}

fn mapping() -> Value {
    json!({"columns": {
        "First Name": "first_name", "Last Name": "last_name", "Email": "primary_email", "Phone": "primary_phone",
        "Company": "company",
        "Loan amount": {"custom": "loan_amount", "type": "number"},
        "City": {"custom": "city", "type": "text"},
        "Birthday": {"custom": "birthday", "type": "date"},
        "Source": {"custom": "source", "type": "text"},
        "First time buyer": {"custom": "first_time_buyer", "type": "boolean"},
        "Credit score": {"custom": "credit_score", "type": "number"},
        "Realtor": {"custom": "realtor", "type": "text"},
        "Closing date": {"custom": "closing_date", "type": "date"},
        "Alt email": {"custom": "alt_email", "type": "email"},
        "Notes": {"custom": "notes", "type": "long_text"}
    }, "on_duplicate": "skip"})
}

pub fn run(binary: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = super::runtime();
    let (ws, key) = rt.block_on(seed(&data, &["bench@example.com"])).remove(0);
    let file = csv();
    println!(
        "\n== import and export: {ROWS} rows x 15 columns (10 custom), {:.1} MB CSV",
        file.len() as f64 / 1e6
    );

    let port = free_port();
    let mut server = spawn_server(binary, &data, port);
    wait_healthy(port);
    let pid = server.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = api_client(&key);
    println!("RSS before the import: {:.1} MB", rss_mb(pid, "VmRSS"));

    rt.block_on(async {
        web_upload(&base, &ws, pid).await;
        vcard_dry_runs(&client, &base, &ws, pid).await;
        // The dry runs' freed memory goes back to the system within a second or two
        // (jemalloc's decay); the import's peak is measured from there.
        tokio::time::sleep(Duration::from_secs(3)).await;
        println!(
            "RSS before the import, after the dry runs: {:.1} MB",
            rss_mb(pid, "VmRSS")
        );
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        let started = Instant::now();
        let id = start(&client, &base, &ws, &mapping(), file.into_bytes(), "big.csv").await;
        let accepted = started.elapsed();
        let done = finished(&client, &base, &ws, &id).await;
        let elapsed = started.elapsed();
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(done["report"]["created"], ROWS as u64);
        println!(
            "import of {ROWS} rows: {:.1} s from upload to done ({:.0} rows/s; the upload was accepted in {:.2} s)",
            elapsed.as_secs_f64(),
            ROWS as f64 / elapsed.as_secs_f64(),
            accepted.as_secs_f64()
        );
        println!("peak RSS during the import: {:.1} MB", rss_mb(pid, "VmHWM"));

        for format in ["csv", "vcf"] {
            let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
            let started = Instant::now();
            let r = client
                .get(format!("{base}/api/v1/workspaces/{ws}/export?format={format}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let bytes = r.bytes().await.unwrap();
            let elapsed = started.elapsed();
            println!(
                "export {format} of {ROWS} contacts: {:.1} s, {:.1} MB, peak server RSS {:.1} MB",
                elapsed.as_secs_f64(),
                bytes.len() as f64 / 1e6,
                rss_mb(pid, "VmHWM")
            );
        }

        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        let started = Instant::now();
        let reverting = {
            let (client, url) = (client.clone(), format!("{base}/api/v1/workspaces/{ws}/imports/{id}/revert"));
            tokio::spawn(async move { client.post(url).send().await.unwrap() })
        };
        // Someone saving contacts in the same workspace meanwhile, 20 ms apart.
        let (mut saves, mut errors) = (Vec::new(), 0);
        while !reverting.is_finished() {
            let t = Instant::now();
            let r = client
                .post(format!("{base}/api/v1/workspaces/{ws}/contacts"))
                .json(&json!({"first_name": "Saved", "primary_email": format!("saved{}@example.com", saves.len() + errors)}))
                .send()
                .await
                .unwrap();
            if r.status() == 201 {
                saves.push(t.elapsed());
            } else {
                errors += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let r = reverting.await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        println!(
            "revert of that import ({ROWS} contacts removed): {:.1} s, peak server RSS {:.1} MB",
            started.elapsed().as_secs_f64(),
            rss_mb(pid, "VmHWM")
        );
        saves.sort();
        if let Some(max) = saves.last() {
            println!(
                "{} contacts saved beside the revert: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms, {errors} errors",
                saves.len(),
                super::ms(super::percentile(&saves, 50)),
                super::ms(super::percentile(&saves, 99)),
                super::ms(*max)
            );
        }
    });
    settle(pid);
    stop(&mut server);
}

/// Polls an import until it has run; its last state.
/// Uploads `file` to `ws` with `mapping` through the API and gives the import's id (202).
pub async fn start(
    client: &reqwest::Client,
    base: &str,
    ws: &str,
    mapping: &Value,
    file: Vec<u8>,
    name: &str,
) -> String {
    let form = reqwest::multipart::Form::new()
        .text("mapping", mapping.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(file).file_name(name.to_string()),
        );
    let r = client
        .post(format!("{base}/api/v1/workspaces/{ws}/imports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

pub async fn finished(client: &reqwest::Client, base: &str, ws: &str, id: &str) -> Value {
    loop {
        let v: Value = client
            .get(format!("{base}/api/v1/workspaces/{ws}/imports/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !matches!(v["status"].as_str(), Some("queued" | "running")) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh data dir with one person per email, each with a workspace and a read-write API
/// key: `(workspace id, key)` each.
pub async fn seed(data: &Path, emails: &[&str]) -> Vec<(String, String)> {
    let config = Config {
        data_dir: data.to_path_buf(),
        ..Config::default()
    };
    let state = pi_crm::app::open_state(config).await.unwrap();
    let mut out = Vec::new();
    for email in emails {
        let owner = user::create(&state.db, None, Via::Cli, email, "Bench", "benchmark password")
            .await
            .unwrap();
        let actor = Actor::person(owner.id, Via::Cli);
        let ws = workspace::create(&state.db, &actor, "Imported").await.unwrap();
        let new = NewKey {
            description: "bench".into(),
            scopes: vec!["read:contacts".into(), "write:contacts".into()],
            ..NewKey::default()
        };
        let key = api_key::create(&state.db, &actor, new).await.unwrap().key;
        out.push((ws.id().to_string(), key));
    }
    state.db.close().await;
    out
}

/// Idle RSS after the heavy work above: how soon memory goes back (target ≤ 25 MB a minute
/// after), with what it is: the program's own memory (anonymous) and the pages of the binary
/// and libraries mapped from disk (which the kernel can drop and read again).
fn settle(pid: u32) {
    let started = Instant::now();
    println!("RSS right after the import, exports and revert: {}", rss_parts(pid));
    std::thread::sleep(Duration::from_secs(65));
    println!(
        "idle RSS after that work, {:.0} s later: {}",
        started.elapsed().as_secs_f64(),
        rss_parts(pid)
    );
}

/// A 45 MB file through the web form, as a person uploads it: the CSRF check reads only the
/// token part and the file streams to disk, so the server's peak stays far below the file.
async fn web_upload(base: &str, ws: &str, pid: u32) {
    const SIZE: usize = 45 * 1000 * 1000;
    let mut file = String::with_capacity(SIZE + 200);
    file.push_str("First Name,Last Name,Email,Notes\n");
    let mut i = 0;
    while file.len() < SIZE {
        file.push_str(&format!(
            "Web{i},Upload{},web{i}@example.com,\"A note long enough to look like one, {i}\"\n",
            i % 997
        ));
        i += 1;
    }
    let client = login(base).await;
    let token = page_csrf(&client, &format!("{base}/workspaces/{ws}/imports")).await;
    let mb = file.len() as f64 / 1e6;
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = rss_mb(pid, "VmRSS");
    let started = Instant::now();
    let form = reqwest::multipart::Form::new().text("csrf_token", token).part(
        "file",
        reqwest::multipart::Part::bytes(file.into_bytes()).file_name("web.csv"),
    );
    let r = client
        .post(format!("{base}/workspaces/{ws}/imports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    println!(
        "web upload of a {mb:.1} MB CSV (CSRF checked from its first part): {:.1} s, server RSS {before:.1} MB before, peak {:.1} MB",
        started.elapsed().as_secs_f64(),
        rss_mb(pid, "VmHWM")
    );
}

/// A 45 MB vCard previewed (`?dry_run=true`), then four at once: the cards are read as a
/// stream, twice, so the server's peak does not grow with the file.
async fn vcard_dry_runs(client: &reqwest::Client, base: &str, ws: &str, pid: u32) {
    const SIZE: usize = 45 * 1000 * 1000;
    let mut file = String::with_capacity(SIZE + 500);
    let mut i = 0;
    while file.len() < SIZE {
        file.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Card{};Person{i};;;\r\nFN:Person{i} Card{}\r\nORG:Homes {}\r\nEMAIL;TYPE=INTERNET:card{i}@example.com\r\nTEL;TYPE=CELL:+1415{}\r\nADR;TYPE=HOME:;;{i} Main St;Springfield;CA;94000;USA\r\nNOTE:Met at an open house\\, asked about rates\r\nEND:VCARD\r\n",
            i % 997,
            i % 997,
            i % 300,
            3_000_000 + i
        ));
        i += 1;
    }
    let bytes = file.into_bytes();
    let mb = bytes.len() as f64 / 1e6;
    let dry_run = |bytes: Vec<u8>| async move {
        let form =
            reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name("big.vcf"));
        let r = client
            .post(format!("{base}/api/v1/workspaces/{ws}/imports?dry_run=true"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let preview: Value = r.json().await.unwrap();
        assert_eq!(preview["rows_total"], i as u64, "{preview}");
    };
    for n in [1, 4] {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        let before = rss_mb(pid, "VmRSS");
        let started = Instant::now();
        futures_util::future::join_all((0..n).map(|_| dry_run(bytes.clone()))).await;
        println!(
            "vCard dry run, {n} at once, {mb:.1} MB and {i} cards each: {:.1} s, server RSS {before:.1} MB before, peak {:.1} MB",
            started.elapsed().as_secs_f64(),
            rss_mb(pid, "VmHWM")
        );
    }
}
