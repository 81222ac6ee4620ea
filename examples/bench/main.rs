//! The benchmark harness behind `scripts/bench`: runs the release binary as a user would and
//! prints each figure SPEC §14 asks for: the foundation's here, the contacts' in `contacts.rs`.
//!
//!   cargo run --release --example bench -- target/release/pi-crm [foundation|contacts|page|imports|busy|messaging|provider-events|templates|campaigns|carddav]

mod backup;
mod busy_import;
mod campaigns;
mod carddav;
mod contacts;
mod duplicates;
mod imports;
mod messaging;
mod provider_events;
mod templates;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "benchmark password";

fn main() {
    // The harness's own HTTP clients use rustls with ring, as pi-crm does (`app::open_state`
    // installs it too, but the foundation figures run before anything opens a database).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let binary = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/release/pi-crm".into()),
    );
    assert!(binary.exists(), "build the release binary first: cargo build --release");
    let only = std::env::args().nth(2).unwrap_or_default();
    println!("machine: {} cores, {}", cores(), cpu_model());
    if only.is_empty() || only == "foundation" {
        foundation(&binary);
    }
    if only.is_empty() || only == "contacts" {
        contacts::run(&binary);
    }
    if only == "page" {
        contacts::page_at_10k(&binary);
    }
    if only.is_empty() || only == "duplicates" {
        duplicates::run(&binary);
    }
    if only.is_empty() || only == "imports" {
        imports::run(&binary);
    }
    if only.is_empty() || only == "busy" {
        busy_import::run(&binary);
    }
    if only.is_empty() || only == "messaging" {
        messaging::run(&binary);
    }
    if only.is_empty() || only == "provider-events" {
        provider_events::run(&binary);
    }
    if only.is_empty() || only == "templates" {
        templates::run(&binary);
    }
    if only.is_empty() || only == "campaigns" {
        campaigns::run(&binary);
    }
    if only.is_empty() || only == "carddav" {
        carddav::run(&binary);
    }
}

fn foundation(binary: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let size = std::fs::metadata(binary).unwrap().len();
    println!("release binary (stripped): {:.1} MB", size as f64 / 1e6);

    let out = Command::new(binary)
        .arg("--data-dir")
        .arg(&data)
        .args([
            "user",
            "create",
            "--email",
            "bench@example.com",
            "--name",
            "Bench",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(out.success());

    println!(
        "start to first answered /healthz: p50 {:.1} ms (of 5 starts)",
        ms(median_start(binary, &data))
    );

    let port = free_port();
    let mut server = spawn_server(binary, &data, port);
    wait_healthy(port);
    std::thread::sleep(Duration::from_secs(2));
    println!("idle RSS after start: {}", rss_parts(server.id()));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let logins = runtime.block_on(login_latencies(port, 40));
    println!(
        "login (POST /login, Argon2id m=19456 t=2 p=1): p50 {:.1} ms, p99 {:.1} ms (n={})",
        ms(percentile(&logins, 50)),
        ms(percentile(&logins, 99)),
        logins.len()
    );
    let slowest = runtime.block_on(async {
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..8 {
            burst.spawn(login_latencies(port, 1));
        }
        burst.join_all().await.into_iter().flatten().max().unwrap()
    });
    println!(
        "8 concurrent logins: slowest {:.1} ms (hashes run one at a time)",
        ms(slowest)
    );
    println!("peak RSS during the logins: {:.1} MB", rss_mb(server.id(), "VmHWM"));
    std::thread::sleep(Duration::from_secs(1));
    println!("RSS after the logins: {:.1} MB", rss_mb(server.id(), "VmRSS"));
    healthz_beside_half_open(port, 2000);
    stop(&mut server);
}

/// `/healthz` while `n` connections sit half-open (slowloris): each sent half a request head
/// and then nothing. They come from another address (127.0.0.2) than the probes, as an
/// attacker's would: one source holds at most an eighth of the server's connections, so the
/// rest of them are closed at once, and the household's own requests still get in. The held
/// ones wait for the server's header-read timeout.
fn healthz_beside_half_open(port: u16, n: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let opened = runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind("127.0.0.2:0".parse().unwrap())?;
            let stream = socket.connect(([127, 0, 0, 1], port).into()).await?;
            stream.into_std()
        });
        let Ok(mut s) = opened else {
            break;
        };
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
        held.push(s);
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "/healthz beside {} half-open connections opened from another address: p50 {:.1} ms, p99 {:.1} ms (n=20)",
        held.len(),
        ms(percentile(&times, 50)),
        ms(percentile(&times, 99))
    );
}

async fn login_latencies(port: u16, n: usize) -> Vec<Duration> {
    let base = format!("http://127.0.0.1:{port}");
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let csrf = page_csrf(&client, &format!("{base}/login")).await;
        let t = Instant::now();
        let r = client
            .post(format!("{base}/login"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", "bench@example.com"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        times.push(t.elapsed());
        assert_eq!(r.status(), 303, "login succeeded");
    }
    times.sort();
    times
}

/// Fetches a page and returns the CSRF token its `<meta name="csrf-token">` carries.
pub async fn page_csrf(client: &reqwest::Client, url: &str) -> String {
    let page = client.get(url).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"csrf-token\" content=\"";
    let at = page.find(marker).expect("a page with a CSRF token") + marker.len();
    page[at..at + 64].to_string()
}

/// A multi-threaded tokio runtime for a section's async work.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn spawn_server(binary: &Path, data: &Path, port: u16) -> Child {
    Command::new(binary)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env(
            "PI_CRM_LOG",
            std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env("PI_CRM_RATE_LIMIT_PER_MINUTE", "1000000")
        .env("PI_CRM_LOGIN_ATTEMPTS_PER_HOUR", "1000000")
        .env("PI_CRM_LOGIN_BURST", "1000000")
        .env("PI_CRM_MAX_UPLOAD_MB", "200")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The median of five cold starts, each timed from spawn to the first answered `/healthz`.
pub fn median_start(binary: &Path, data: &Path) -> Duration {
    let mut starts = Vec::new();
    for _ in 0..5 {
        let port = free_port();
        let t = Instant::now();
        let mut server = spawn_server(binary, data, port);
        wait_healthy(port);
        starts.push(t.elapsed());
        stop(&mut server);
    }
    starts.sort();
    starts[2]
}

pub fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            if s.read_to_string(&mut buf).is_ok() && buf.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("the server did not become healthy");
}

pub fn stop(child: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn rss_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// `VmRSS`, and its anonymous and file-backed parts.
pub fn rss_parts(pid: u32) -> String {
    format!(
        "{:.1} MB ({:.1} MB anonymous, {:.1} MB mapped from files)",
        rss_mb(pid, "VmRSS"),
        rss_mb(pid, "RssAnon"),
        rss_mb(pid, "RssFile")
    )
}

pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[((sorted.len() - 1) * p) / 100]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
