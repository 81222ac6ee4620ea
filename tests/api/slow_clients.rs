//! No anonymous client can hold the server (issue 31, point 1). A "slow POST" — headers at
//! once, then a byte now and then of a large declared body — used to keep its connection for
//! the 60 s idle timeout after every byte, so thousands of them held every connection. Now a
//! body has a total deadline, and one source (an address, or an IPv6 /64) holds at most an
//! eighth of the connections; others — `/healthz`, a signed-in person — keep answering.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::common::TestApp;

/// A connection from `source` (any 127.x address reaches the loopback listener) that sends a
/// webhook's headers declaring 200,000 bytes, and the first one.
async fn slow_post(port: u16, source: &str, ws: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket
        .connect(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    let head = format!(
        "POST /webhooks/mailgun/{ws}/events HTTP/1.1\r\nHost: pi\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{{"
    );
    // A connection the server closed at once may refuse the write: that is the point.
    let _ = stream.write_all(head.as_bytes()).await;
    stream
}

/// What the server sends on `stream` until it closes it, waiting at most `within`.
async fn answer(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut got)).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_from_one_source_cannot_hold_the_server() {
    let app = TestApp::spawn_with(|c| {
        c.max_connections = 64;
        c.body_deadline_secs = 2;
    })
    .await;
    let (andy, browser) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loans").await;

    // The attacker opens every connection there is, from one address.
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(slow_post(app.port, "127.0.0.2", &ws).await);
    }
    // Everyone else is still answered, at once.
    for _ in 0..5 {
        let health = tokio::time::timeout(Duration::from_secs(5), app.anonymous().get(app.url("/healthz")).send())
            .await
            .expect("healthz answers during the attack")
            .unwrap();
        assert_eq!(health.status(), 200);
    }
    let home = tokio::time::timeout(Duration::from_secs(5), browser.get("/"))
        .await
        .expect("a signed-in person is answered during the attack");
    assert_eq!(home.status, 200);

    // Beyond its share (an eighth, at least 16) the source's connections were closed unanswered;
    // the ones it holds are answered and closed once the body's deadline passes, not after
    // the idle timeout of every trickled byte.
    let mut closed_at_once = 0;
    let mut answered = 0;
    for stream in &mut held {
        match answer(stream, Duration::from_secs(8)).await {
            Some(text) if text.is_empty() => closed_at_once += 1,
            Some(text) => {
                assert!(text.starts_with("HTTP/1.1 4"), "{text}");
                answered += 1;
            }
            None => panic!("a slow body held its connection past its deadline"),
        }
    }
    assert_eq!(answered, 16, "one source holds at most its share");
    assert_eq!(closed_at_once, 48);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_gets_time_for_its_size_and_a_trickle_still_ends() {
    let app = TestApp::spawn_with(|c| {
        c.body_deadline_secs = 1;
        c.public_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    // 4 MiB declared: 1 s + 128 s at the slowest allowed rate — a real upload is not cut off
    // at the small-body deadline. Sent at once, it is read whole and queued.
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let mut csv = String::from("first_name,email\n");
    let mut i = 0;
    while csv.len() < 4 * 1024 * 1024 {
        csv.push_str(&format!("Ann{i},ann{i}@example.com\n"));
        i += 1;
    }
    let r = crate::imports::upload(&api, &ws, "", "big.csv", csv.into_bytes(), None, None).await;
    assert!(r.status().is_success(), "{}", r.status());
    // A small body that never comes ends after the deadline.
    let mut trickle = slow_post(app.port, "127.0.0.3", "00000000-0000-0000-0000-000000000000").await;
    let said = answer(&mut trickle, Duration::from_secs(6))
        .await
        .expect("answered within the deadline");
    assert!(said.starts_with("HTTP/1.1 4"), "{said}");
    // The same on the public listener, which faces the internet.
    let public_port = app.public_port.unwrap();
    let mut trickle = slow_post(public_port, "127.0.0.3", "00000000-0000-0000-0000-000000000000").await;
    let said = answer(&mut trickle, Duration::from_secs(6))
        .await
        .expect("answered within the deadline on the public listener");
    assert!(said.starts_with("HTTP/1.1 4"), "{said}");
    app.stop().await;
}
