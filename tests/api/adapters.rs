//! The SMTP, Microsoft Graph and Gmail adapters against local servers that speak their wire
//! protocols: an in-process SMTP server receiving real SMTP from lettre, and wiremock fakes
//! answering like Microsoft's and Google's endpoints. Each asserts the exact request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::smtp::SmtpSink;
use crate::messaging::{Setup, entry, put_provider, send, setup};

async fn put_email(s: &Setup, body: Value) {
    let r = put_provider(s, "email", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn queue_email(s: &Setup) -> String {
    let r = send(
        s,
        json!({"channel": "email", "subject": "Your rate lock", "body": "Hi Ada,\n\nYour rate is locked until 12/20."}),
    )
    .await;
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["communication_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn smtp_delivers_a_multipart_message_with_our_message_id() {
    let s = setup().await;
    let sink = SmtpSink::start().await;
    put_email(
        &s,
        json!({"kind": "smtp", "host": "127.0.0.1", "port": sink.port, "security": "none",
               "username": "andy@lee-family.example", "password": "app-password-abcd efgh",
               "from": "Andy Lee <andy@lee-family.example>", "reply_to": "Andy <andy.lee@gmail.com>",
               "per_minute": 0}),
    )
    .await;
    let id = queue_email(&s).await;
    s.app.drain_outbox().await;
    let sent = entry(&s, &id).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    let outbox_id: String = sqlx::query_scalar("SELECT id FROM outbox")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(
        sent["content"]["provider_message_id"],
        format!("{outbox_id}@lee-family.example")
    );

    let got = sink.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(
        m.auth,
        Some(("andy@lee-family.example".into(), "app-password-abcd efgh".into()))
    );
    assert_eq!(m.mail_from, "andy@lee-family.example");
    assert_eq!(m.rcpt_to, ["ada@example.com"]);
    let data = &m.data;
    assert!(
        data.contains("From: \"Andy Lee\" <andy@lee-family.example>\r\n")
            || data.contains("From: Andy Lee <andy@lee-family.example>\r\n"),
        "{data}"
    );
    assert!(data.contains("To: \"Ada Lovelace\" <ada@example.com>\r\n"), "{data}");
    assert!(data.contains("Reply-To: Andy <andy.lee@gmail.com>\r\n"), "{data}");
    assert!(data.contains("Subject: Your rate lock\r\n"), "{data}");
    assert!(
        data.contains(&format!("Message-ID: <{outbox_id}@lee-family.example>\r\n")),
        "{data}"
    );
    assert!(data.contains("Content-Type: multipart/alternative;"), "{data}");
    assert!(data.contains("Content-Type: text/plain; charset=utf-8"), "{data}");
    assert!(data.contains("Content-Type: text/html; charset=utf-8"), "{data}");
    assert!(data.contains("Your rate is locked until 12/20."), "{data}");
}

#[tokio::test]
async fn an_internationalised_domain_is_sent_as_punycode() {
    let s = setup().await;
    let sink = SmtpSink::start().await;
    put_email(
        &s,
        json!({"kind": "smtp", "host": "127.0.0.1", "port": sink.port, "security": "none",
               "from": "Andy Lee <andy@lee-family.example>", "per_minute": 0}),
    )
    .await;
    let r = s
        .app
        .api(&s.key)
        .patch(
            &format!("/api/v1/workspaces/{}/contacts/{}", s.ws, s.ada),
            json!({"primary_email": "ada@bücher.example"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let id = queue_email(&s).await;
    s.app.drain_outbox().await;
    assert_eq!(entry(&s, &id).await["status"], "sent");
    let got = sink.messages();
    assert_eq!(got[0].rcpt_to, ["ada@xn--bcher-kva.example"], "any relay carries it");
    assert!(
        got[0]
            .data
            .contains("To: \"Ada Lovelace\" <ada@xn--bcher-kva.example>\r\n"),
        "{}",
        got[0].data
    );
}

#[tokio::test]
async fn smtp_with_starttls_checks_the_servers_certificate() {
    let s = crate::messaging::setup_with(|c| c.outbox_retry_base_seconds = 600).await;
    let sink = SmtpSink::start_tls().await;
    // A home mail server with its own certificate: not trusted until its CA is given.
    put_email(
        &s,
        json!({"kind": "smtp", "host": "localhost", "port": sink.port, "security": "starttls",
               "username": "andy", "password": "relay-password", "from": "andy@lee-family.example", "per_minute": 0}),
    )
    .await;
    let untrusted = queue_email(&s).await;
    s.app.drain_outbox().await;
    let e = entry(&s, &untrusted).await;
    assert_eq!(
        e["status"], "queued",
        "a TLS refusal sent nothing: tried again later: {e}"
    );
    assert!(sink.messages().is_empty());
    let error: String = sqlx::query_scalar("SELECT last_error FROM outbox")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert!(error.contains("could not reach the mail server"), "{error}");
    // A certificate that is not PEM is refused with the field named.
    let r = put_provider(&s, "email", json!({"kind": "smtp", "host": "localhost", "port": sink.port, "security": "starttls", "from": "andy@lee-family.example", "ca_pem": "not a certificate"})).await;
    assert_eq!(r.status(), 422);
    let body = r.json::<Value>().await.unwrap().to_string();
    assert!(
        body.contains("\"field\":\"ca_pem\"") && body.contains("-----BEGIN CERTIFICATE-----"),
        "{body}"
    );
    // Trusted: the message goes over TLS, and the password only after STARTTLS.
    put_email(
        &s,
        json!({"kind": "smtp", "host": "localhost", "port": sink.port, "security": "starttls",
               "username": "andy", "password": "relay-password", "from": "andy@lee-family.example",
               "ca_pem": sink.ca_pem, "per_minute": 0}),
    )
    .await;
    let trusted = queue_email(&s).await;
    s.app.drain_outbox().await;
    assert_eq!(entry(&s, &trusted).await["status"], "sent");
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].encrypted, "sent after STARTTLS");
    assert_eq!(got[0].auth, Some(("andy".into(), "relay-password".into())));
    assert!(got[0].data.contains("Subject: Your rate lock\r\n"));
}

#[tokio::test]
async fn a_home_servers_self_signed_certificate_pasted_is_pinned() {
    let s = crate::messaging::setup_with(|c| c.outbox_retry_base_seconds = 600).await;
    for implicit in [false, true] {
        let sink = SmtpSink::start_self_signed(implicit).await;
        let security = if implicit { "tls" } else { "starttls" };
        let settings = |ca_pem: &str| {
            json!({"kind": "smtp", "host": "localhost", "port": sink.port, "security": security,
                   "username": "andy", "password": "relay-password", "from": "andy@lee-family.example",
                   "ca_pem": ca_pem, "per_minute": 0})
        };
        // Another server's self-signed certificate pasted: this one is not trusted.
        let other = SmtpSink::start_self_signed(implicit).await;
        put_email(&s, settings(&other.ca_pem)).await;
        let refused = queue_email(&s).await;
        s.app.drain_outbox().await;
        assert_eq!(
            entry(&s, &refused).await["status"],
            "queued",
            "{security}: nothing sent, tried later"
        );
        assert!(sink.messages().is_empty(), "{security}");
        // Its own certificate (CA:TRUE, no subjectAltName, as OpenSSL makes it): pinned.
        put_email(&s, settings(&sink.ca_pem)).await;
        let pinned = queue_email(&s).await;
        s.app.drain_outbox().await;
        assert_eq!(entry(&s, &pinned).await["status"], "sent", "{security}");
        let got = sink.messages();
        assert_eq!(got.len(), 1, "{security}");
        assert!(got[0].encrypted, "{security}: over TLS");
        assert_eq!(
            got[0].auth,
            Some(("andy".into(), "relay-password".into())),
            "{security}"
        );
        assert!(got[0].data.contains("Subject: Your rate lock\r\n"), "{security}");
    }
    // PEM armour around something that is not a certificate is refused when pasted.
    let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let r = put_provider(
        &s,
        "email",
        json!({"kind": "smtp", "host": "localhost", "port": 25, "security": "starttls",
        "from": "andy@lee-family.example", "ca_pem": garbage}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.json::<Value>().await.unwrap();
    assert_eq!(body["error"]["field"], "ca_pem", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a readable certificate"),
        "{body}"
    );
}

#[tokio::test]
async fn smtp_refusals_fail_and_an_unreachable_server_is_retried() {
    // Retries wait ten minutes here, so each one stays visibly queued.
    let s = crate::messaging::setup_with(|c| c.outbox_retry_base_seconds = 600).await;
    let sink = SmtpSink::start().await;
    *sink.refuse.lock().unwrap() = Some("550 5.1.1 <ada@example.com>: Recipient address rejected".into());
    put_email(
        &s,
        json!({"kind": "smtp", "host": "127.0.0.1", "port": sink.port, "security": "none", "from": "andy@lee-family.example"}),
    )
    .await;
    let id = queue_email(&s).await;
    s.app.drain_outbox().await;
    let failed = entry(&s, &id).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["content"]["error"]
            .as_str()
            .unwrap()
            .contains("Recipient address rejected"),
        "{failed}"
    );

    // A 4xx at the end of DATA: nothing was accepted, try later.
    *sink.refuse.lock().unwrap() = Some("451 4.3.0 try again later".into());
    let later = queue_email(&s).await;
    s.app.drain_outbox().await;
    assert_eq!(entry(&s, &later).await["status"], "queued");
    assert!(sink.messages().is_empty());

    // Nothing listens: refused before anything was sent, so it is retried, not unknown.
    let closed = crate::common::free_port();
    put_email(&s, json!({"kind": "smtp", "host": "127.0.0.1", "port": closed, "security": "none", "from": "andy@lee-family.example"})).await;
    let waiting = queue_email(&s).await;
    s.app.drain_outbox().await;
    assert_eq!(entry(&s, &waiting).await["status"], "queued");
    let errors: Vec<String> = sqlx::query_scalar("SELECT last_error FROM outbox WHERE state = 'pending' ORDER BY id")
        .fetch_all(&s.app.state.db)
        .await
        .unwrap();
    assert!(
        errors.iter().any(|e| e.contains("could not reach the mail server")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn graph_makes_a_draft_then_sends_it_and_keeps_the_internet_message_id() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-1234/oauth2/v2.0/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_secret=graph-secret-%7E123"))
        .and(body_string_contains(
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAi.graph-token"}),
            ),
        )
        .expect(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/andy%40lee-family.example/messages"))
        .and(header("authorization", "Bearer eyJ0eXAi.graph-token"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "AAMkAGI2TG93AAA=", "internetMessageId": "<DM6PR11MB4460.namprd11.prod.outlook.com>",
            "isDraft": true})))
        .expect(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/v1.0/users/andy%40lee-family.example/messages/AAMkAGI2TG93AAA%3D/send",
        ))
        .and(header("authorization", "Bearer eyJ0eXAi.graph-token"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&fake)
        .await;
    put_email(
        &s,
        json!({"kind": "graph", "tenant_id": "tenant-1234", "client_id": "client-5678", "client_secret": "graph-secret-~123",
               "sender": "andy@lee-family.example", "from": "andy@lee-family.example",
               "reply_to": "Andy Lee <andy.lee@gmail.com>",
               "api_base": fake.uri(), "login_base": fake.uri(), "per_minute": 0}),
    )
    .await;
    let id = queue_email(&s).await;
    s.app.drain_outbox().await;
    let sent = entry(&s, &id).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(
        sent["content"]["provider_message_id"],
        "DM6PR11MB4460.namprd11.prod.outlook.com"
    );
    let requests = fake.received_requests().await.unwrap();
    let draft: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(draft["subject"], "Your rate lock");
    assert_eq!(draft["body"]["contentType"], "HTML");
    assert!(
        draft["body"]["content"]
            .as_str()
            .unwrap()
            .contains("<p>Your rate is locked until 12/20.</p>")
    );
    assert_eq!(
        draft["toRecipients"],
        json!([{"emailAddress": {"address": "ada@example.com", "name": "Ada Lovelace"}}])
    );
    assert_eq!(
        draft["replyTo"],
        json!([{"emailAddress": {"address": "andy.lee@gmail.com", "name": "Andy Lee"}}])
    );
    assert!(draft.get("internetMessageHeaders").is_none());
}

#[tokio::test]
async fn gmail_links_with_pkce_and_sends_the_raw_message() {
    let s = setup().await;
    let fake = MockServer::start().await;
    put_email(
        &s,
        json!({"kind": "gmail", "client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-secret",
               "from": "Andy Lee <andy.lee@gmail.com>", "auth_base": fake.uri(), "token_base": fake.uri(),
               "api_base": fake.uri(), "per_minute": 0}),
    )
    .await;
    let api = s.app.api(&s.key);
    // Not linked yet: a send fails plainly.
    let early = queue_email(&s).await;
    s.app.drain_outbox().await;
    assert!(
        entry(&s, &early).await["content"]["error"]
            .as_str()
            .unwrap()
            .contains("not linked")
    );

    let r = api
        .post(
            &format!("/api/v1/workspaces/{}/providers/email/gmail/consent", s.ws),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let consent = url::Url::parse(r.json::<Value>().await.unwrap()["url"].as_str().unwrap()).unwrap();
    assert_eq!(consent.path(), "/o/oauth2/v2/auth");
    let q: std::collections::HashMap<String, String> = consent.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "1234-abc.apps.googleusercontent.com");
    assert_eq!(q["redirect_uri"], "http://127.0.0.1:8765/");
    assert_eq!(q["scope"], "https://www.googleapis.com/auth/gmail.send");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["access_type"], "offline");
    // Google answers the code exchange only for the verifier whose challenge it was shown.
    let challenge = q["code_challenge"].clone();
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=4%2F0AbCdEf"))
        .respond_with(move |req: &wiremock::Request| {
            let form: std::collections::HashMap<String, String> =
                form_urlencoded::parse(&req.body).into_owned().collect();
            use sha2::Digest;
            let derived = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(form["code_verifier"].as_bytes()));
            if derived == challenge {
                ResponseTemplate::new(200).set_body_json(
                    json!({"access_token": "ya29.a", "refresh_token": "1//refresh-token", "expires_in": 3599}),
                )
            } else {
                ResponseTemplate::new(400)
                    .set_body_json(json!({"error": "invalid_grant", "error_description": "code_verifier mismatch"}))
            }
        })
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=1%2F%2Frefresh-token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_token": "ya29.fresh", "expires_in": 3599})),
        )
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/messages/send"))
        .and(header("authorization", "Bearer ya29.fresh"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "18c2f0a1b2c3d4e5", "threadId": "18c2f0a1b2c3d4e5", "labelIds": ["SENT"]})),
        )
        .expect(1)
        .mount(&fake)
        .await;
    let link = format!("/api/v1/workspaces/{}/providers/email/gmail/link", s.ws);
    // A pasted address from another attempt, or Google's refusal, is a clear 422.
    let r = api
        .post(
            &link,
            json!({"redirect_url": "http://127.0.0.1:8765/?state=other&code=4/0AbCdEf"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = api
        .post(
            &link,
            json!({"redirect_url": "http://127.0.0.1:8765/?error=access_denied"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("access_denied"));
    let pasted = format!(
        "http://127.0.0.1:8765/?state={}&code=4/0AbCdEf&scope=https://www.googleapis.com/auth/gmail.send",
        q["state"]
    );
    let r = api.post(&link, json!({"redirect_url": pasted})).await;
    assert_eq!(r.status(), 200);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["email"]["secrets_set"], json!(["client_secret", "refresh_token"]));
    assert!(!view.to_string().contains("1//refresh-token"));

    let id = queue_email(&s).await;
    s.app.drain_outbox().await;
    let sent = entry(&s, &id).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(sent["content"]["provider_message_id"], "18c2f0a1b2c3d4e5");
    let requests = fake.received_requests().await.unwrap();
    let send_req = requests
        .iter()
        .find(|r| r.url.path() == "/gmail/v1/users/me/messages/send")
        .unwrap();
    let body: Value = serde_json::from_slice(&send_req.body).unwrap();
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(body["raw"].as_str().unwrap()).unwrap()).unwrap();
    assert!(raw.contains("To: \"Ada Lovelace\" <ada@example.com>\r\n"), "{raw}");
    assert!(raw.contains("Subject: Your rate lock\r\n"), "{raw}");
    assert!(raw.contains("Content-Type: multipart/alternative;"), "{raw}");
}

/// A TCP server on loopback that answers `greeting` (if any) and then reads without ever
/// answering: a mail server that stalls, or an implicit-TLS server waiting for a ClientHello
/// that a STARTTLS client never sends.
async fn silent_server(greeting: Option<&'static str>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Some(g) = greeting {
                    let _ = socket.write_all(g.as_bytes()).await;
                }
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// Issue 32 point 2: a server that stops answering after its greeting, or one that speaks
/// implicit TLS on a STARTTLS setting, does not hold a send: each step has a deadline, the
/// message (never begun) is retried rather than "may have been sent", and the test button
/// answers within 15 seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_mis_set_mail_server_fails_each_step_in_time_and_nothing_is_unknown() {
    // One try per drain: the retry waits an hour.
    let s = crate::messaging::setup_with(|c| c.outbox_retry_base_seconds = 3600).await;
    let stalls = silent_server(Some("220 stall.example ESMTP\r\n")).await;
    let tls_only = silent_server(None).await;
    for (port, security, waited_for) in [(stalls, "none", "EHLO"), (tls_only, "starttls", "greeting")] {
        put_email(
            &s,
            json!({"kind": "smtp", "host": "127.0.0.1", "port": port, "security": security, "from": "andy@lee-family.example"}),
        )
        .await;
        let started = std::time::Instant::now();
        let r = s
            .app
            .api(&s.key)
            .post(&format!("/api/v1/workspaces/{}/providers/email/test", s.ws), json!({}))
            .await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(r.status(), 502);
        let said: Value = r.json().await.unwrap();
        assert!(
            said["error"]
                .as_str()
                .unwrap()
                .starts_with("no SMTP exchange with the mail server"),
            "{said}"
        );
        let id = queue_email(&s).await;
        s.app.drain_outbox().await;
        assert_eq!(
            entry(&s, &id).await["status"],
            "queued",
            "{waited_for}: nothing was sent, so it waits for a retry"
        );
        let error: String =
            sqlx::query_scalar("SELECT last_error FROM outbox WHERE state = 'pending' ORDER BY id DESC LIMIT 1")
                .fetch_one(&s.app.state.db)
                .await
                .unwrap();
        assert!(
            error.contains("did not answer") && error.contains("within 10 seconds"),
            "{error}"
        );
        sqlx::query("DELETE FROM outbox")
            .execute(&s.app.state.db)
            .await
            .unwrap();
    }
    s.app.stop().await;
}
