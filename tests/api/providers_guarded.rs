//! Providers cannot be turned against the house (issue 31, points 2–4). An owner chooses
//! where a provider lives — a LAN model server is a real use, so private addresses stay
//! allowed — but:
//! - no redirect is followed, and an answer's text is shown only in the provider's own error
//!   shape, so "send a test" cannot read an internal page back;
//! - SMTP says one sentence for every failure below SMTP, so it cannot tell open ports from
//!   closed ones;
//! - a stored secret is never sent to a new address: changing where it goes needs it again;
//! - answers are read up to a cap, never whole.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::messaging::{MAILGUN_KEY, SIGNING_KEY, Setup, TWILIO_SID, TWILIO_TOKEN, mailgun, put_provider, setup};

const SECRET_PAGE: &str = "wifi_password=correct-horse-router";

async fn test_send(s: &Setup, channel: &str, body: Value) -> Value {
    let r = s
        .app
        .api(&s.key)
        .post(&format!("/api/v1/workspaces/{}/providers/{channel}/test", s.ws), body)
        .await;
    assert_eq!(r.status(), 502);
    r.json().await.unwrap()
}

/// The test send's error for `channel` once every POST to `server` gets `answer`.
async fn error_when(s: &Setup, server: &MockServer, channel: &str, answer: ResponseTemplate) -> String {
    server.reset().await;
    Mock::given(method("POST")).respond_with(answer).mount(server).await;
    test_send(s, channel, json!({})).await["error"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_test_send_never_reads_an_internal_page_back() {
    let s = setup().await;
    let inside = MockServer::start().await;
    // A 302 would turn the POST into a GET of the router's page.
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/router/status"))
        .mount(&inside)
        .await;
    Mock::given(method("GET"))
        .and(path("/router/status"))
        .respond_with(ResponseTemplate::new(200).set_body_string(SECRET_PAGE))
        .mount(&inside)
        .await;
    mailgun(&s, &inside).await;
    let body = test_send(&s, "email", json!({})).await;
    let error = body["error"].as_str().unwrap();
    assert!(!error.contains("wifi_password"), "{error}");
    assert!(error.contains("a redirect, which pi-crm does not follow"), "{error}");
    assert!(
        inside
            .received_requests()
            .await
            .unwrap()
            .iter()
            .all(|r| r.url.path() != "/router/status"),
        "the redirect was not followed"
    );

    // An error page of another service: the status and a fixed sentence, not its words.
    let error = error_when(
        &s,
        &inside,
        "email",
        ResponseTemplate::new(400).set_body_string(format!("<html><body>{SECRET_PAGE}</body></html>")),
    )
    .await;
    assert_eq!(
        error,
        "Mailgun answered 400 Bad Request, not in Mailgun's error format, so its answer is not shown: check the address in the settings"
    );
    // JSON with a message among other keys is not Mailgun's shape either.
    let error = error_when(
        &s,
        &inside,
        "email",
        ResponseTemplate::new(400).set_body_json(json!({"message": SECRET_PAGE, "ssid": "home"})),
    )
    .await;
    assert!(!error.contains("wifi_password"), "{error}");
    // Mailgun's own error shape is shown, so real refusals stay useful.
    let mailgun_refusal = json!({"message": "'to' parameter is not a valid address. please check documentation"});
    let error = error_when(
        &s,
        &inside,
        "email",
        ResponseTemplate::new(400).set_body_json(mailgun_refusal),
    )
    .await;
    assert_eq!(
        error,
        "Mailgun answered 400 Bad Request: 'to' parameter is not a valid address. please check documentation"
    );

    // The AI provider (a LAN model server is allowed): no redirect, no foreign page.
    let r = put_provider(
        &s,
        "ai",
        json!({"kind": "openai", "base_url": format!("{}/v1", inside.uri()), "model": "llama3"}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let error = error_when(
        &s,
        &inside,
        "ai",
        ResponseTemplate::new(500).set_body_string(SECRET_PAGE),
    )
    .await;
    assert!(!error.contains("wifi_password"), "{error}");
    assert!(error.contains("not in the OpenAI error format"), "{error}");
    let openai_refusal = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                          "code": "invalid_api_key"}});
    let error = error_when(
        &s,
        &inside,
        "ai",
        ResponseTemplate::new(401).set_body_json(openai_refusal),
    )
    .await;
    assert!(error.ends_with(": Incorrect API key provided"), "{error}");
    s.app.stop().await;
}

#[tokio::test]
async fn smtp_says_one_sentence_for_a_closed_port_and_an_open_one_that_is_not_smtp() {
    let s = setup().await;
    // Closed: bound, then let go.
    let closed = crate::common::free_port();
    // Open, but a web server's answer instead of an SMTP greeting.
    let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open_port = open.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut socket, _)) = open.accept().await {
            let _ = socket
                .write_all(format!("HTTP/1.1 400 Bad Request\r\n\r\n{SECRET_PAGE}\r\n").as_bytes())
                .await;
        }
    });
    let mut errors = Vec::new();
    for port in [closed, open_port] {
        let r = put_provider(
            &s,
            "email",
            json!({"kind": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
                   "from": "andy@lee-family.example"}),
        )
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        errors.push(
            test_send(&s, "email", json!({})).await["error"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(errors[0], errors[1]);
    assert!(
        !errors[1].contains("wifi_password") && !errors[1].contains("HTTP"),
        "{}",
        errors[1]
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_stored_secret_is_never_sent_to_a_new_address() {
    let s = setup().await;
    let real = MockServer::start().await;
    let attacker = MockServer::start().await;
    mailgun(&s, &real).await;
    // The same settings with another api_base and no secrets: refused, naming each secret.
    let moved = json!({"kind": "mailgun", "domain": "mg.example.com", "from": "Andy Lee <andy@mg.example.com>",
                       "api_base": attacker.uri()});
    let r = put_provider(&s, "email", moved.clone()).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let text = body.to_string();
    assert!(
        text.contains("api_key") && text.contains("webhook_signing_key"),
        "{text}"
    );
    assert!(text.contains("api_base changed"), "{text}");
    let view: Value = s
        .app
        .api(&s.key)
        .get(&format!("/api/v1/workspaces/{}/providers", s.ws))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["email"]["api_base"], real.uri(), "nothing changed");
    // A change that keeps the address keeps the secrets.
    let r = put_provider(
        &s,
        "email",
        json!({"kind": "mailgun", "domain": "mg.example.com", "from": "Andy <andy@mg.example.com>", "api_base": real.uri(),
               "per_minute": 10}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Moving with the secrets given again is the owner's choice.
    let mut with_secrets = moved.clone();
    with_secrets["api_key"] = json!(MAILGUN_KEY);
    with_secrets["webhook_signing_key"] = json!(SIGNING_KEY);
    assert_eq!(put_provider(&s, "email", with_secrets).await.status(), 200);
    assert!(attacker.received_requests().await.unwrap().is_empty());

    // SMTP host, Twilio account, AI base URL: the same rule.
    let smtp = json!({"kind": "smtp", "host": "mail.lee-family.example", "port": 587, "security": "starttls",
                      "username": "andy", "password": "pw-1", "from": "andy@lee-family.example"});
    assert_eq!(put_provider(&s, "email", smtp.clone()).await.status(), 200);
    let mut other_host = smtp.clone();
    other_host["password"] = json!("");
    other_host["host"] = json!("10.0.0.99");
    let r = put_provider(&s, "email", other_host).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("password"));
    // Nor to the same host in the clear.
    let mut in_the_clear = smtp.clone();
    in_the_clear["password"] = json!("");
    in_the_clear["security"] = json!("none");
    in_the_clear["port"] = json!(587);
    let r = put_provider(&s, "email", in_the_clear).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("security changed"));
    let twilio = json!({"kind": "twilio", "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
                        "from": "+1 415 555 0100", "api_base": real.uri()});
    assert_eq!(put_provider(&s, "sms", twilio.clone()).await.status(), 200);
    let mut other_account = twilio.clone();
    other_account.as_object_mut().unwrap().remove("auth_token");
    other_account["account_sid"] = json!("AC99999999999999999999999999999999");
    let r = put_provider(&s, "sms", other_account).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("auth_token"));
    let ai = json!({"kind": "openai", "base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini", "api_key": "sk-real"});
    assert_eq!(put_provider(&s, "ai", ai).await.status(), 200);
    let r = put_provider(
        &s,
        "ai",
        json!({"kind": "openai", "base_url": format!("{}/v1", attacker.uri()), "model": "gpt-4o-mini"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("base_url changed"));
    // A local model server without a key has nothing to move.
    assert_eq!(
        put_provider(
            &s,
            "ai",
            json!({"kind": "openai", "base_url": "http://192.168.1.20:11434/v1", "model": "llama3", "api_key": ""}),
        )
        .await
        .status(),
        422,
        "the stored OpenAI key would go to the LAN server"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_huge_answer_is_not_read_into_memory() {
    let s = setup().await;
    let fake = MockServer::start().await;
    let huge = "x".repeat(3 * 1024 * 1024);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge.clone()))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let error = test_send(&s, "email", json!({})).await["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("more than 1024 KiB"), "{error}");
    let r = put_provider(
        &s,
        "ai",
        json!({"kind": "openai", "base_url": format!("{}/v1", fake.uri()), "model": "llama3", "max_answer_kib": 64}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let error = test_send(&s, "ai", json!({})).await["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("longer than 64 KiB"), "{error}");
    s.app.stop().await;
}
