//! Hostile or heavy use (issue 10): each test here failed before its fix.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TestApp;

#[tokio::test]
async fn made_up_keys_and_cookies_share_their_ips_budget() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_minute = 5).await;
    let anon = app.anonymous();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let r = if i % 2 == 0 {
            anon.get(app.url("/api/v1/workspaces"))
                .header("x-api-key", format!("pcrm_made_up_{i:040}"))
                .send()
                .await
                .unwrap()
        } else {
            anon.get(app.url("/healthz"))
                .header("cookie", format!("pcrm_session={:064x}", i))
                .send()
                .await
                .unwrap()
        };
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[401, 200, 401, 200, 401], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");

    // A real key has its own budget, untouched by the made-up ones.
    let andy = app.create_user("andy@example.com", "Andy").await;
    let real = app.api(&app.key(&andy, &["read:contacts"], None).await);
    assert_eq!(real.get("/api/v1/workspaces").await.status(), 200);
}

#[tokio::test]
async fn reads_with_a_key_or_session_never_wait_on_a_writer() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let key = app.key(&andy, &["read:contacts"], None).await;
    // Another writer (a long import, say) holds the write lock throughout.
    let mut tx = pi_crm::storage::db::begin_write(&app.state.db).await.unwrap();
    sqlx::query("UPDATE users SET name = name")
        .execute(&mut *tx)
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        app.api(&key).get("/api/v1/workspaces").await.status(),
        200,
        "a never-used key"
    );
    assert_eq!(b.get("/settings").await.status, 200, "a session");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    tx.rollback().await.unwrap();
    // The use is written at the next flush.
    app.state.activity.flush(&app.state.db).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM api_keys WHERE last_used_at IS NOT NULL")
            .await,
        1
    );
}

/// Opens a connection from `source` (any 127.x address reaches loopback) that sends half a
/// request head and then nothing. One source holds at most an eighth of the connections, so
/// a crowd comes from several.
async fn half_open_from(port: u16, source: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut s = socket
        .connect(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    s
}

/// Half-open connections from `n` sources after `first` (127.0.0.{first}…), `each` from each.
async fn crowd(port: u16, first: u8, sources: u8, each: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for i in 0..sources {
        for _ in 0..each {
            held.push(half_open_from(port, &format!("127.0.0.{}", first + i)).await);
        }
    }
    held
}

async fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    matches!(tokio::time::timeout(within, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

#[tokio::test]
async fn silent_and_half_open_connections_are_closed_and_never_crowd_out_others() {
    let app = TestApp::spawn_with(|c| {
        c.header_read_timeout_secs = 1;
        c.max_connections = 40;
    })
    .await;
    let mut slow = crowd(app.port, 2, 2, 15).await;
    // Others are still served while the slow ones wait.
    let started = Instant::now();
    let r = app.anonymous().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The slow ones are closed once their head is overdue.
    for s in &mut slow {
        assert!(
            closed_by_server(s, Duration::from_secs(3)).await,
            "a half-open connection was kept"
        );
    }

    // Over the cap, a new connection is closed at once instead of waiting for a slot.
    let mut held = crowd(app.port, 4, 4, 10).await;
    // The server accepts in the order connections came, so the held ones are counted first.
    let mut extra = half_open_from(app.port, "127.0.0.9").await;
    assert!(closed_by_server(&mut extra, Duration::from_millis(500)).await);
    // Once the held ones time out (their head is overdue after a second), it answers again.
    for s in &mut held {
        assert!(
            closed_by_server(s, Duration::from_secs(3)).await,
            "a held connection was kept"
        );
    }
    assert_eq!(
        app.anonymous().get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_kept_alive_connection_that_goes_quiet_is_closed() {
    let app = TestApp::spawn_with(|c| c.header_read_timeout_secs = 1).await;
    let mut s = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // No next request: the idle connection ends with the head timeout.
    assert!(closed_by_server(&mut s, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn thousands_of_namesakes_are_paged_as_a_chain_not_a_square() {
    // 3,000 "John Smith, Acme" once made 4.5M pairs sorted in memory (648 MB at 3,000 rows,
    // over 6 GB at 10,000). Now they are a chain of 2,999, read a page at a time.
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let key = app.key(&andy, &["read:contacts", "write:contacts"], None).await;
    let api = app.api(&key);
    let mut csv = String::from("First Name,Last Name,Company\n");
    csv.push_str(&"John,Smith,Acme\n".repeat(3000));
    csv.push_str("Ann,Lee,\nann,LEE,\nAnn,Lee,Other Co\n");
    let mapping =
        serde_json::json!({"columns": {"First Name": "first_name", "Last Name": "last_name", "Company": "company"}});
    let done = crate::imports::run(&api, &ws, "same.csv", csv.into_bytes(), Some(mapping), None).await;
    assert_eq!(done["report"]["created"], 3003, "{done}");

    let mut pairs = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/api/v1/workspaces/{ws}/duplicates?limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = api.get(&url).await.json().await.unwrap();
        for p in page["items"].as_array().unwrap() {
            let (a, b) = (p["a"]["id"].as_str().unwrap(), p["b"]["id"].as_str().unwrap());
            assert!(a < b);
            assert_eq!(p["reason"], "same name and company");
            assert_eq!(
                p["a"]["first_name"].as_str().unwrap().to_lowercase(),
                p["b"]["first_name"].as_str().unwrap().to_lowercase()
            );
            pairs.push((a.to_string(), b.to_string()));
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(pairs.len(), 2999 + 1, "a chain per name: 2,999 Johns and one Ann pair");
    let distinct: std::collections::BTreeSet<_> = pairs.iter().collect();
    assert_eq!(distinct.len(), pairs.len(), "no pair twice across pages");
    // The page shows 50 pairs and a link to the next ones.
    let b = app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let first = b.get(&format!("/workspaces/{ws}/duplicates")).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body.matches("Compare &amp; merge").count(), 50);
    let marker = format!("/workspaces/{ws}/duplicates?cursor=");
    let at = first.body.find(&marker).expect("a link to more pairs");
    let next = &first.body[at..at + first.body[at..].find('"').unwrap()];
    let second = b.get(next).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body.matches("Compare &amp; merge").count(), 50);
    assert_ne!(first.body, second.body);

    let bad = api
        .get(&format!("/api/v1/workspaces/{ws}/duplicates?cursor=not-a-cursor"))
        .await;
    assert_eq!(bad.status(), 422);
}

/// Every write waits its turn at the write lock (`storage::db::begin_write`): a statement run
/// straight on the pool would sleep and retry in SQLite's busy handler instead, and beside an
/// import's stream of transactions it waited over a second (the outbox's and the scheduler's
/// claims, in `./scripts/bench imports`). So no function given the pool writes without it.
#[test]
fn no_write_skips_its_turn_at_the_write_lock() {
    let mut offenders = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("storage/db.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (name, signature, body) in functions(&text) {
                    let writes = ["INSERT ", "UPDATE ", "DELETE ", "REPLACE "]
                        .iter()
                        .any(|w| body.contains(w));
                    let takes_turns = body.contains("begin_write") || body.contains("bulk_turn");
                    if signature.contains("&SqlitePool") && writes && !takes_turns {
                        offenders.push(format!("{}: fn {name}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "these write on the pool without begin_write:\n{}",
        offenders.join("\n")
    );
}

/// The functions of a source file: name, signature and body, found by matching braces.
fn functions(text: &str) -> Vec<(String, &str, &str)> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(at) = text[rest..].find("fn ").map(|i| rest + i) {
        rest = at + 3;
        let before = text[..at].chars().last().unwrap_or(' ');
        if before.is_alphanumeric() || before == '_' {
            continue;
        }
        let name: String = text[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = text[at..].find(['{', ';']).map(|i| at + i) else {
            break;
        };
        if &text[open..=open] == ";" {
            continue;
        }
        let mut depth = 0;
        let mut end = open;
        for (i, c) in text[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = open + i;
                break;
            }
        }
        found.push((name, &text[at..open], &text[open..=end]));
    }
    found
}
