//! Email and text through the real adapters against local fakes that speak the providers'
//! wire protocols (SPEC §8.1–§8.2): provider settings (owner only, secrets write-only and
//! sealed), one-to-one sends, the outbox's retry / failed / unknown rules, send again,
//! suppressions, isolation and scopes.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::TestApp;

pub const MAILGUN_KEY: &str = "key-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
pub const SIGNING_KEY: &str = "whsec-8d9c7b6a5f4e3d2c1b0a";
pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "twilio-auth-token-6789abcdef";

/// An owner with a workspace, a key with every scope, and one contact (Ada) with an email
/// and a phone.
pub struct Setup {
    pub app: TestApp,
    pub ws: String,
    pub key: String,
    pub ada: String,
}

pub async fn setup_with(adjust: impl FnOnce(&mut pi_crm::config::Config)) -> Setup {
    let app = TestApp::spawn_with(|c| {
        c.outbox_retry_base_seconds = 0;
        adjust(c);
    })
    .await;
    setup_on(app).await
}

/// Andy, his workspace, a key and Ada, on `app`.
pub async fn setup_on(app: TestApp) -> Setup {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app
        .key(
            &andy,
            &["read:contacts", "write:contacts", "send:messages", "manage:workspaces"],
            None,
        )
        .await;
    let api = app.api(&key);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "last_name": "Lovelace", "primary_email": "Ada@Example.com",
                   "primary_phone": "(415) 555-0123"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let ada = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    Setup { app, ws, key, ada }
}

pub async fn setup() -> Setup {
    setup_with(|_| {}).await
}

/// `PUT …/providers/{channel}` with Andy's key.
pub async fn put_provider(s: &Setup, channel: &str, body: Value) -> reqwest::Response {
    s.app
        .api(&s.key)
        .client
        .put(s.app.url(&format!("/api/v1/workspaces/{}/providers/{channel}", s.ws)))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn mailgun(s: &Setup, fake: &MockServer) {
    let r = put_provider(
        s,
        "email",
        json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": MAILGUN_KEY,
                      "webhook_signing_key": SIGNING_KEY, "from": "Andy Lee <andy@mg.example.com>",
                      "reply_to": "Andy Lee <andy@lee-family.example>", "api_base": fake.uri(), "per_minute": 0}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

pub async fn twilio(s: &Setup, fake: &MockServer) {
    let r = put_provider(
        s,
        "sms",
        json!({"kind": "twilio", "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
                      "from": "+1 415 555 0100", "api_base": fake.uri(), "per_minute": 0}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

pub fn mailgun_accepts(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": format!("<{id}>"), "message": "Queued. Thank you."}))
}

pub async fn send(s: &Setup, body: Value) -> reqwest::Response {
    s.app
        .api(&s.key)
        .post(
            &format!("/api/v1/workspaces/{}/contacts/{}/messages", s.ws, s.ada),
            body,
        )
        .await
}

/// Queues a message to Ada and gives its timeline entry's id.
pub async fn queue(s: &Setup, body: Value) -> String {
    let r = send(s, body).await;
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["communication_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The timeline entry `id` of Ada.
pub async fn entry(s: &Setup, id: &str) -> Value {
    let all: Value = s
        .app
        .api(&s.key)
        .get(&format!(
            "/api/v1/workspaces/{}/contacts/{}/communications",
            s.ws, s.ada
        ))
        .await
        .json()
        .await
        .unwrap();
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no entry {id} in {all}"))
}

pub fn multipart_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"\r\n\r\n");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find("\r\n--")? + start;
    Some(body[start..end].to_string())
}

#[tokio::test]
async fn an_email_goes_through_mailgun_and_is_logged_with_its_id() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("20261127.1.ABC@mg.example.com"))
        .expect(1)
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let r = send(
        &s,
        json!({"channel": "email", "subject": "Rates fell", "body": "Hi Ada,\n\nRates fell <a bit> today."}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let queued: Value = r.json().await.unwrap();
    assert_eq!(queued["status"], "queued");
    let id = queued["communication_id"].as_str().unwrap().to_string();
    // On the timeline at once, before or while it is sent.
    let first = entry(&s, &id).await;
    assert!(
        ["queued", "sent"].contains(&first["status"].as_str().unwrap()),
        "{first}"
    );
    assert_eq!(first["type"], "email");
    assert_eq!(first["author"], "Andy");
    s.app.drain_outbox().await;
    let sent = entry(&s, &id).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["content"]["provider_message_id"], "20261127.1.ABC@mg.example.com");
    assert_eq!(sent["content"]["to"], "ada@example.com");
    assert_eq!(sent["content"]["subject"], "Rates fell");

    // The exact request Mailgun got: Basic api:<key>, a multipart form with both parts.
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    use base64::Engine;
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("api:{MAILGUN_KEY}"))
    );
    assert_eq!(
        req.headers.get("authorization").unwrap().to_str().unwrap(),
        expected_auth
    );
    assert!(
        req.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    let body = String::from_utf8_lossy(&req.body).to_string();
    assert_eq!(
        multipart_field(&body, "from").unwrap(),
        "Andy Lee <andy@mg.example.com>"
    );
    // The contact by name, as people expect to see themselves addressed.
    assert_eq!(multipart_field(&body, "to").unwrap(), "Ada Lovelace <ada@example.com>");
    // Sent through Mailgun's domain, answered to Andy's own inbox.
    assert_eq!(
        multipart_field(&body, "h:Reply-To").unwrap(),
        "Andy Lee <andy@lee-family.example>"
    );
    assert_eq!(multipart_field(&body, "subject").unwrap(), "Rates fell");
    assert_eq!(
        multipart_field(&body, "text").unwrap(),
        "Hi Ada,\n\nRates fell <a bit> today."
    );
    let html = multipart_field(&body, "html").unwrap();
    assert!(html.contains("<p>Rates fell &lt;a bit&gt; today.</p>"), "{html}");
    let outbox_id = multipart_field(&body, "v:outbox_id").unwrap();
    assert_eq!(
        s.app.count("SELECT count(*) FROM outbox WHERE state = 'sent'").await,
        1,
        "one outbox row, sent"
    );
    let row: (String, String) = sqlx::query_as("SELECT id, provider_message_id FROM outbox")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(row, (outbox_id, "20261127.1.ABC@mg.example.com".to_string()));
    assert!(
        s.app
            .audit_actions()
            .await
            .iter()
            .any(|(a, v)| a == "message.queue" && v == "api")
    );
}

/// Placeholders typed by hand in a one-to-one email are filled in for that contact — in the
/// subject, the text and the HTML part — and one that cannot be filled is refused, naming it,
/// before anything is queued.
#[tokio::test]
async fn placeholders_typed_in_a_message_are_filled_for_the_contact_or_refused() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("20261207.1.ABC@mg.example.com"))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let r = send(
        &s,
        json!({"channel": "email", "subject": "Your closing documents, {{ first_name }}",
               "body": "Hi {{ first_name }},\n\nThe documents for {{ company | default('you') }} are ready.\n\n{{ sender.name }}"}),
    )
    .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    s.app.drain_outbox().await;
    let requests = fake.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&requests[0].body).to_string();
    assert_eq!(
        multipart_field(&body, "subject").unwrap(),
        "Your closing documents, Ada"
    );
    assert_eq!(
        multipart_field(&body, "text").unwrap(),
        "Hi Ada,\n\nThe documents for you are ready.\n\nAndy"
    );
    let html = multipart_field(&body, "html").unwrap();
    assert!(html.contains("<p>Hi Ada,</p>") && !html.contains("{{"), "{html}");

    // An unknown name and a broken tag: refused, each named, nothing queued.
    let before = s.app.count("SELECT count(*) FROM outbox").await;
    let r = send(
        &s,
        json!({"channel": "email", "subject": "Hi {{ nickname }}", "body": "Hello {{ first_name"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let text = e.to_string();
    assert!(text.contains("unknown placeholder {{ nickname }}"), "{text}");
    assert!(
        text.contains("\"subject\"") && text.contains("\"body\""),
        "both parts are named: {text}"
    );
    assert_eq!(s.app.count("SELECT count(*) FROM outbox").await, before);
    // Words without placeholders go exactly as typed, braces of other kinds included.
    let r = send(
        &s,
        json!({"channel": "email", "subject": "Plain {one}", "body": "A { brace } and a }} alone"}),
    )
    .await;
    assert_eq!(r.status(), 202);
    s.app.stop().await;
}

#[tokio::test]
async fn a_503_twice_then_200_is_one_delivery_and_sent() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(mailgun_accepts("third@mg.example.com"))
        .with_priority(2)
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let id = send(
        &s,
        json!({"channel": "email", "subject": "Hello", "body": "Third time lucky"}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["communication_id"]
        .as_str()
        .unwrap()
        .to_string();
    s.app.drain_outbox().await;
    let e = entry(&s, &id).await;
    assert_eq!(e["status"], "sent", "{e}");
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3, "two refusals, then the one delivery");
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM outbox")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(attempts, 3);
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(json!({"message": "slow down"})),
        )
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let id = queue(&s, json!({"channel": "email", "subject": "Hello", "body": "Later"})).await;
    s.app.drain_outbox().await;
    let (state, next_at, error): (String, String, String) =
        sqlx::query_as("SELECT state, next_at, last_error FROM outbox")
            .fetch_one(&s.app.state.db)
            .await
            .unwrap();
    assert_eq!(state, "pending");
    let wait = next_at
        .parse::<jiff::Timestamp>()
        .unwrap()
        .duration_since(jiff::Timestamp::now());
    assert!(wait.as_secs() >= 100, "Retry-After honoured: {wait}");
    assert!(error.contains("429") && error.contains("slow down"), "{error}");
    assert_eq!(entry(&s, &id).await["status"], "queued");
    assert_eq!(fake.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_refusal_fails_with_the_providers_words_and_a_5xx_is_unknown_until_sent_again() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "to parameter is not a valid address. please check documentation"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(mailgun_accepts("again@mg.example.com"))
        .with_priority(3)
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let first = send(&s, json!({"channel": "email", "subject": "One", "body": "x"}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    s.app.drain_outbox().await;
    let failed = entry(&s, first["communication_id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["content"]["error"],
        "Mailgun answered 400 Bad Request: to parameter is not a valid address. please check documentation"
    );

    let second = send(&s, json!({"channel": "email", "subject": "Two", "body": "y"}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let second_id = second["communication_id"].as_str().unwrap().to_string();
    s.app.drain_outbox().await;
    let unknown = entry(&s, &second_id).await;
    assert_eq!(
        unknown["status"], "unknown",
        "a 5xx may have sent it: never retried by itself"
    );
    assert_eq!(fake.received_requests().await.unwrap().len(), 2);
    s.app.drain_outbox().await;
    assert_eq!(fake.received_requests().await.unwrap().len(), 2, "still not retried");

    // A person decides to send it again: a new outbox row on the same timeline entry.
    let api = s.app.api(&s.key);
    let again = format!(
        "/api/v1/workspaces/{}/contacts/{}/communications/{second_id}/send-again",
        s.ws, s.ada
    );
    assert_eq!(api.post(&again, json!({})).await.status(), 202);
    s.app.drain_outbox().await;
    let sent = entry(&s, &second_id).await;
    assert_eq!(sent["status"], "sent");
    assert!(sent["content"].get("error").is_none(), "{sent}");
    // A sent message cannot be sent again; neither can a note, nor another contact's entry.
    assert_eq!(api.post(&again, json!({})).await.status(), 409);
    let note = api
        .post(
            &format!("/api/v1/workspaces/{}/contacts/{}/communications", s.ws, s.ada),
            json!({"type": "note", "content": {"body": "called"}}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let note_again = format!(
        "/api/v1/workspaces/{}/contacts/{}/communications/{}/send-again",
        s.ws,
        s.ada,
        note["id"].as_str().unwrap()
    );
    assert_eq!(api.post(&note_again, json!({})).await.status(), 404);
}

#[tokio::test]
async fn sends_are_refused_clearly_before_anything_is_queued() {
    let s = setup().await;
    let api = s.app.api(&s.key);
    // No provider yet.
    let r = send(&s, json!({"channel": "email", "subject": "Hi", "body": "x"})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "provider_not_configured"
    );
    let fake = MockServer::start().await;
    mailgun(&s, &fake).await;
    // Bad input: every mistake at once.
    let r = send(&s, json!({"channel": "email", "subject": "", "body": ""})).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields = crate::common::error_fields(&e);
    assert_eq!(fields, ["subject", "body"]);
    assert_eq!(send(&s, json!({"channel": "fax", "body": "x"})).await.status(), 422);
    assert_eq!(
        send(
            &s,
            json!({"channel": "email", "subject": "a\r\nBcc: x@evil.example", "body": "x"})
        )
        .await
        .status(),
        422
    );
    // A contact without an email.
    let bob = api
        .post(
            &format!("/api/v1/workspaces/{}/contacts", s.ws),
            json!({"first_name": "Bob"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let r = api
        .post(
            &format!(
                "/api/v1/workspaces/{}/contacts/{}/messages",
                s.ws,
                bob["id"].as_str().unwrap()
            ),
            json!({"channel": "email", "subject": "Hi", "body": "x"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "no_address");
    // A suppressed address, entered in another case.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{}/suppressions", s.ws),
            json!({"address": " ADA@example.com ", "channel": "email"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let sup: Value = r.json().await.unwrap();
    assert_eq!(sup["address"], "ada@example.com");
    assert_eq!(sup["reason"], "manual");
    let r = send(&s, json!({"channel": "email", "subject": "Hi", "body": "x"})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "suppressed");
    // Nothing was queued by any of these.
    assert_eq!(s.app.count("SELECT count(*) FROM outbox").await, 0);
    assert_eq!(s.app.count("SELECT count(*) FROM communication_logs").await, 0);
    // Adding it again answers the entry already there; removing it lets mail through.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{}/suppressions", s.ws),
            json!({"address": "ada@example.com", "channel": "email"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = api
        .get(&format!("/api/v1/workspaces/{}/suppressions", s.ws))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let r = api
        .delete(&format!(
            "/api/v1/workspaces/{}/suppressions/{}",
            s.ws,
            sup["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        send(&s, json!({"channel": "email", "subject": "Hi", "body": "x"}))
            .await
            .status(),
        202
    );
    // Bad suppressions.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{}/suppressions", s.ws),
            json!({"address": "not an email", "channel": "email", "reason": "bored"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["errors"].as_array().unwrap().len(), 2, "{e}");
}

#[tokio::test]
async fn provider_secrets_are_write_only_sealed_and_never_logged() {
    let s = setup().await;
    let fake = MockServer::start().await;
    mailgun(&s, &fake).await;
    let api = s.app.api(&s.key);
    let view: Value = api
        .get(&format!("/api/v1/workspaces/{}/providers", s.ws))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["email"]["kind"], "mailgun");
    assert_eq!(view["email"]["domain"], "mg.example.com");
    assert_eq!(view["email"]["secrets_set"], json!(["api_key", "webhook_signing_key"]));
    assert!(view["email"].get("api_key").is_none());
    assert!(view["sms"].is_null());
    assert!(
        view["webhook_urls"]["mailgun_events"].is_null(),
        "no public_url, no webhook address"
    );
    let text = view.to_string();
    assert!(!text.contains(MAILGUN_KEY) && !text.contains(SIGNING_KEY));

    // Leaving the secrets out keeps them; changing the domain works.
    let r = put_provider(
        &s,
        "email",
        json!({"kind": "mailgun", "domain": "mg2.example.com", "from": "andy@mg2.example.com", "api_base": fake.uri()}),
    )
    .await;
    assert_eq!(r.status(), 200);
    Mock::given(method("POST"))
        .and(path("/v3/mg2.example.com/messages"))
        .respond_with(mailgun_accepts("kept@mg2.example.com"))
        .mount(&fake)
        .await;
    assert_eq!(
        send(&s, json!({"channel": "email", "subject": "Hi", "body": "x"}))
            .await
            .status(),
        202
    );
    s.app.drain_outbox().await;
    let req = &fake.received_requests().await.unwrap()[0];
    assert!(req.headers.get("authorization").is_some(), "the stored key was used");

    // Not in the audit log (it names the kind only), nor the database file in clear.
    let audit: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT action, details FROM audit_logs WHERE action LIKE 'provider.%'")
            .fetch_all(&s.app.state.db)
            .await
            .unwrap();
    assert_eq!(audit.len(), 2);
    assert!(
        audit.iter().all(|(_, d)| d.as_deref() == Some(r#"{"kind":"mailgun"}"#)),
        "{audit:?}"
    );
    s.app.state.db.close().await;
    let mut bytes = std::fs::read(s.app.dir.path().join("data/pi-crm.db")).unwrap();
    if let Ok(wal) = std::fs::read(s.app.dir.path().join("data/pi-crm.db-wal")) {
        bytes.extend(wal);
    }
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(!haystack.contains(MAILGUN_KEY), "the API key is sealed at rest");
    assert!(!haystack.contains(SIGNING_KEY), "the signing key is sealed at rest");
}

#[tokio::test]
async fn bad_provider_settings_are_422s_naming_every_field() {
    let s = setup().await;
    let api = s.app.api(&s.key);
    let put = |body: Value| put_provider(&s, "email", body);
    let r = put(json!({"kind": "mailgun", "domain": "", "from": "not an address", "reply_to": "my inbox", "api_base": "ftp://x"})).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let mut fields = crate::common::error_fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "api_base",
            "api_key",
            "domain",
            "from",
            "reply_to",
            "webhook_signing_key"
        ]
    );
    let r = put(json!({"kind": "pigeon"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "kind");
    let r = put(json!({"kind": "smtp", "host": "smtp.gmail.com", "port": 587, "security": "maybe", "username": "andy", "from": "andy@gmail.com"})).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields = crate::common::error_fields(&e);
    assert_eq!(fields, ["security", "password"]);
    let r = put_provider(
        &s,
        "sms",
        json!({"kind": "twilio", "account_sid": "AC123", "auth_token": "", "from": "hello"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields = crate::common::error_fields(&e);
    assert_eq!(fields, ["account_sid", "auth_token", "from"]);
    // `ai` is not a channel here yet, and nothing else is.
    let r = put_provider(&s, "fax", json!({})).await;
    assert_eq!(r.status(), 404);
    assert_eq!(s.app.count("SELECT count(*) FROM provider_settings").await, 0);
    // Deleting what is not there is 404; deleting what is, 204.
    assert_eq!(
        api.delete(&format!("/api/v1/workspaces/{}/providers/email", s.ws))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn providers_are_the_owners_alone_and_other_workspaces_are_404() {
    let s = setup().await;
    let app = &s.app;
    let fake = MockServer::start().await;
    mailgun(&s, &fake).await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let mona_key = app
        .key(
            &mona,
            &["read:contacts", "write:contacts", "send:messages", "manage:workspaces"],
            None,
        )
        .await;
    let mona_api = app.api(&mona_key);
    // Another user's workspace: every new route is 404.
    for path in [
        format!("/api/v1/workspaces/{}/providers", s.ws),
        format!("/api/v1/workspaces/{}/suppressions", s.ws),
        format!("/api/v1/workspaces/{}/inbox", s.ws),
    ] {
        assert_eq!(mona_api.get(&path).await.status(), 404, "{path}");
    }
    let r = mona_api
        .post(
            &format!("/api/v1/workspaces/{}/contacts/{}/messages", s.ws, s.ada),
            json!({"channel": "email", "subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = mona_api
        .post(&format!("/api/v1/workspaces/{}/providers/email/test", s.ws), json!({}))
        .await;
    assert_eq!(r.status(), 404);
    // Shared with her as an editor: she may send, but not see or change providers.
    let andy_api = app.api(&s.key);
    assert!(
        andy_api
            .post(
                &format!("/api/v1/workspaces/{}/members", s.ws),
                json!({"email": "mona@example.com", "role": "editor"})
            )
            .await
            .status()
            .is_success()
    );
    assert_eq!(
        mona_api
            .get(&format!("/api/v1/workspaces/{}/providers", s.ws))
            .await
            .status(),
        403
    );
    let r = mona_api
        .client
        .put(app.url(&format!("/api/v1/workspaces/{}/providers/email", s.ws)))
        .json(&json!({"kind": "smtp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        mona_api
            .delete(&format!("/api/v1/workspaces/{}/providers/email", s.ws))
            .await
            .status(),
        403
    );
    // Scopes: a key without send:messages cannot send; without manage:workspaces cannot see providers.
    let andy = pi_crm::storage::users::find_by_email(&app.state.db, "andy@example.com")
        .await
        .unwrap()
        .unwrap();
    let reader = app.key(&andy, &["read:contacts"], None).await;
    let r = app
        .api(&reader)
        .post(
            &format!("/api/v1/workspaces/{}/contacts/{}/messages", s.ws, s.ada),
            json!({"channel": "email", "subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.api(&reader)
            .get(&format!("/api/v1/workspaces/{}/providers", s.ws))
            .await
            .status(),
        403
    );
    let r = app
        .api(&reader)
        .post(
            &format!("/api/v1/workspaces/{}/suppressions", s.ws),
            json!({"address": "a@b.co", "channel": "email"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn the_test_button_reports_the_providers_own_error() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Forbidden"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(mailgun_accepts("test@mg.example.com"))
        .with_priority(2)
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let api = s.app.api(&s.key);
    let path = format!("/api/v1/workspaces/{}/providers/email/test", s.ws);
    let r = api.client.post(s.app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["ok"], false);
    // Mailgun's 401 is the bare word "Forbidden", not its JSON error shape: the status and
    // what to check, never an answer's text that might be some other service's page.
    assert_eq!(
        body["error"],
        "Mailgun answered 401 Unauthorized — check the key or password in the settings"
    );
    let r = api.post(&path, json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["provider_message_id"],
        "test@mg.example.com"
    );
    // The test went to the owner's own address, and nothing was queued or logged.
    let body = String::from_utf8_lossy(&fake.received_requests().await.unwrap()[1].body).to_string();
    assert_eq!(multipart_field(&body, "to").unwrap(), "andy@example.com");
    assert_eq!(s.app.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn per_minute_limits_hold_the_rest_for_later_without_spending_a_try() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(mailgun_accepts("limited@mg.example.com"))
        .mount(&fake)
        .await;
    let r = put_provider(
        &s,
        "email",
        json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": MAILGUN_KEY,
                      "webhook_signing_key": SIGNING_KEY, "from": "andy@mg.example.com",
                      "api_base": fake.uri(), "per_minute": 2}),
    )
    .await;
    assert_eq!(r.status(), 200);
    for i in 0..3 {
        assert_eq!(
            send(&s, json!({"channel": "email", "subject": format!("n{i}"), "body": "x"}))
                .await
                .status(),
            202
        );
    }
    s.app.drain_outbox().await;
    assert_eq!(fake.received_requests().await.unwrap().len(), 2, "two a minute");
    let (state, attempts, next_at): (String, i64, String) =
        sqlx::query_as("SELECT state, attempts, next_at FROM outbox WHERE state != 'sent'")
            .fetch_one(&s.app.state.db)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), attempts),
        ("pending", 0),
        "waiting, its tries untouched"
    );
    let wait = next_at
        .parse::<jiff::Timestamp>()
        .unwrap()
        .duration_since(jiff::Timestamp::now());
    assert!(
        wait.as_secs() > 30 && wait.as_secs() <= 62,
        "until the minute's window frees: {wait}"
    );
}

#[test]
fn jobs_run_outbox_drains_beside_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::common::cli_account(
        &data,
        "andy@example.com",
        "Loans",
        &[json!({"first_name": "Ada", "primary_email": "ada@example.com"})],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(async {
        let fake = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(mailgun_accepts("cli@mg.example.com"))
            .expect(1)
            .mount(&fake)
            .await;
        fake
    });
    rt.block_on(async {
        let config = pi_crm::config::Config { data_dir: data.clone(), ..pi_crm::config::Config::default() };
        let state = pi_crm::app::open_state(config).await.unwrap();
        let owner = pi_crm::storage::users::find_by_email(&state.db, "andy@example.com").await.unwrap().unwrap();
        let actor = pi_crm::domain::actor::Actor::person(owner.id, pi_crm::domain::actor::Via::Cli);
        let ws = pi_crm::domain::workspace::list(&state.db, &actor).await.unwrap().remove(0);
        pi_crm::domain::messaging::providers::put(
            &state,
            &actor,
            &ws,
            pi_crm::domain::messaging::providers::Service::Email,
            json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": MAILGUN_KEY, "webhook_signing_key": SIGNING_KEY,
                   "from": "andy@mg.example.com", "api_base": fake.uri()}),
        )
        .await
        .unwrap();
        let ada: String = sqlx::query_scalar("SELECT id FROM base_contacts").fetch_one(&state.db).await.unwrap();
        let input = pi_crm::domain::messaging::send::MessageInput {
            channel: "email".into(),
            template_id: None,
            subject: Some("Hi".into()),
            body: Some("From the command line".into()),
        };
        let ada = pi_crm::domain::ids::ContactId::parse(&ada).unwrap();
        pi_crm::domain::messaging::send::send(&state, &actor, &ws, &ada, input).await.unwrap();
        state.db.close().await;
    });
    let out = crate::common::pi_crm(&data, &["jobs", "run", "outbox"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("1 sent, 0 failed, 0 may not have been sent, 0 waiting"),
        "{said}"
    );
    // Nothing left: a second run sends nothing.
    let out = crate::common::pi_crm(&data, &["jobs", "run", "outbox"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 sent"));
}

#[tokio::test]
async fn secrets_that_no_longer_open_are_a_clear_error_never_garbage() {
    let s = setup().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(mailgun_accepts("never@mg.example.com"))
        .expect(0)
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    // As if secret.key had been replaced (or the database copied from another Pi): the
    // sealed part is no longer what this key sealed.
    sqlx::query("UPDATE provider_settings SET secrets = randomblob(80)")
        .execute(&s.app.state.db)
        .await
        .unwrap();
    let view: Value = s
        .app
        .api(&s.key)
        .get(&format!("/api/v1/workspaces/{}/providers", s.ws))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["email"]["secrets_set"], json!([]));
    assert!(
        view["email"]["problem"]
            .as_str()
            .unwrap()
            .contains("cannot be opened with this data dir's secret.key")
    );
    let r = send(&s, json!({"channel": "email", "subject": "Hi", "body": "x"})).await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"].as_str().unwrap().contains("enter them again"),
        "{e}"
    );
    assert_eq!(s.app.count("SELECT count(*) FROM outbox").await, 0);
    // Entering the secrets again mends it.
    mailgun(&s, &fake).await;
    let view: Value = s
        .app
        .api(&s.key)
        .get(&format!("/api/v1/workspaces/{}/providers", s.ws))
        .await
        .json()
        .await
        .unwrap();
    assert!(view["email"].get("problem").is_none());
}
