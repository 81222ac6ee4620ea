//! Statuses without a way in (SPEC §8.5, issue 30 point 4): the `provider-events` job asks
//! fakes that answer like Mailgun's Events API and Twilio's Messages list and resource (paging
//! included), and what it reads makes the same statuses, suppressions, replies and inbox
//! entries the webhooks make — once, whichever path brought an event first.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::messaging::{SIGNING_KEY, Setup, TWILIO_SID, TWILIO_TOKEN, entry, mailgun, queue, setup_with, twilio};

async fn run_job(s: &Setup) -> String {
    pi_crm::jobs::Job::ProviderEvents
        .run(&s.app.state)
        .await
        .expect("the job runs")
}

/// A Mailgun that accepts each email with its own id: `m1@mg.example.com`, `m2@…`, ….
async fn mailgun_numbering(fake: &MockServer) {
    let n = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(move |_: &Request| {
            let i = n.fetch_add(1, Ordering::SeqCst) + 1;
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": format!("<m{i}@mg.example.com>"), "message": "Queued. Thank you."}))
        })
        .mount(fake)
        .await;
}

/// An event as Mailgun's Events API lists it (the same object its webhooks post).
fn event(id: &str, kind: &str, message_id: &str, recipient: &str, at: f64) -> Value {
    let mut e = json!({"id": id, "event": kind, "timestamp": at, "recipient": recipient,
                       "message": {"headers": {"message-id": message_id}}, "user-variables": {}});
    if kind == "failed" {
        e["severity"] = json!("permanent");
        e["reason"] = json!("bounce");
        e["delivery-status"] =
            json!({"code": 550, "message": "5.1.1 The email account that you tried to reach does not exist"});
    }
    e
}

fn events_page(items: Vec<Value>, next: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"items": items, "paging": {
        "next": next, "previous": next, "first": next, "last": next}}))
}

#[tokio::test]
async fn mailgun_events_polled_make_the_statuses_and_suppressions_webhooks_make_once() {
    let s = setup_with(|c| c.public_url = Some("https://crm.lee-family.example".into())).await;
    let fake = MockServer::start().await;
    mailgun_numbering(&fake).await;
    mailgun(&s, &fake).await;
    let first = queue(&s, json!({"channel": "email", "subject": "Rates", "body": "x"})).await;
    let second = queue(&s, json!({"channel": "email", "subject": "Docs", "body": "y"})).await;
    let third = queue(&s, json!({"channel": "email", "subject": "More", "body": "z"})).await;
    s.app.drain_outbox().await;
    let now = jiff::Timestamp::now().as_second() as f64;
    // Three pages: the last one is empty, and its `next` points at itself, as Mailgun's does.
    let base = format!("{}/v3/mg.example.com/events", fake.uri());
    Mock::given(method("GET"))
        .and(path("/v3/mg.example.com/events"))
        .and(query_param("ascending", "yes"))
        .and(query_param("limit", "300"))
        .respond_with(events_page(
            vec![
                event("ev-1", "delivered", "m1@mg.example.com", "ada@example.com", now - 50.0),
                event("ev-2", "failed", "m2@mg.example.com", "Ada@Example.com", now - 40.0),
                json!({"id": "ev-3", "event": "failed", "severity": "temporary", "timestamp": now - 35.0,
                       "recipient": "ada@example.com", "message": {"headers": {"message-id": "m3@mg.example.com"}}}),
                event(
                    "ev-4",
                    "complained",
                    "old@mg.example.com",
                    "grumpy@example.com",
                    now - 30.0,
                ),
            ],
            &format!("{base}/page-2"),
        ))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/mg.example.com/events/page-2"))
        .respond_with(events_page(
            vec![
                event("ev-5", "opened", "m1@mg.example.com", "ada@example.com", now - 20.0),
                event("ev-6", "delivered", "m3@mg.example.com", "ada@example.com", now - 10.0),
            ],
            &format!("{base}/page-3"),
        ))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/mg.example.com/events/page-3"))
        .respond_with(events_page(vec![], &format!("{base}/page-3")))
        .mount(&fake)
        .await;

    // The webhook brings ev-6 first.
    let webhook = |data: Value, token: &str| {
        let timestamp = jiff::Timestamp::now().as_second().to_string();
        json!({"signature": {"timestamp": timestamp, "token": token,
                              "signature": pi_crm::webhooks::mailgun::signature(SIGNING_KEY, &timestamp, token)},
               "event-data": data})
    };
    let post = |body: Value| {
        let client = s.app.anonymous();
        let url = s.app.url(&format!("/webhooks/mailgun/{}/events", s.ws));
        async move { client.post(url).json(&body).send().await.unwrap().status() }
    };
    let ev6 = event("ev-6", "delivered", "m3@mg.example.com", "ada@example.com", now - 10.0);
    assert_eq!(post(webhook(ev6, "token-ev6")).await, 200);
    assert_eq!(entry(&s, &third).await["status"], "delivered");

    let line = run_job(&s).await;
    assert_eq!(line, "6 events and texts read from providers in 1 workspaces, 5 new");
    assert_eq!(entry(&s, &first).await["status"], "opened");
    let bounced = entry(&s, &second).await;
    assert_eq!(bounced["status"], "bounced");
    assert!(
        bounced["content"]["error"].as_str().unwrap().contains("does not exist"),
        "{bounced}"
    );
    assert_eq!(entry(&s, &third).await["status"], "delivered");
    let suppressed: Vec<(String, String)> = sqlx::query_as("SELECT address, reason FROM suppressions ORDER BY address")
        .fetch_all(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(
        suppressed,
        [
            ("ada@example.com".to_string(), "bounced".to_string()),
            ("grumpy@example.com".into(), "complained".into())
        ]
    );
    // Exactly what Mailgun was asked: Basic api:<key>, from a `begin`, oldest first, then the
    // pages it named.
    let asked: Vec<Request> = fake
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "GET")
        .collect();
    assert_eq!(
        asked.iter().map(|r| r.url.path()).collect::<Vec<_>>(),
        [
            "/v3/mg.example.com/events",
            "/v3/mg.example.com/events/page-2",
            "/v3/mg.example.com/events/page-3"
        ]
    );
    assert!(asked[0].url.query_pairs().any(|(k, _)| k == "begin"));
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("api:{}", crate::messaging::MAILGUN_KEY))
    );
    assert!(
        asked
            .iter()
            .all(|r| r.headers.get("authorization").unwrap().to_str().unwrap() == basic)
    );

    // Polled again (the same events listed): nothing new. A webhook of an event polled
    // already, with a token of its own: accepted, and changes nothing.
    let events_before = s
        .app
        .count("SELECT count(*) FROM webhook_events WHERE event_key LIKE 'event:%'")
        .await;
    assert_eq!(
        run_job(&s).await,
        "6 events and texts read from providers in 1 workspaces, 0 new"
    );
    let ev2 = event("ev-2", "failed", "m2@mg.example.com", "ada@example.com", now - 40.0);
    assert_eq!(post(webhook(ev2, "token-ev2-late")).await, 200);
    assert_eq!(
        s.app
            .count("SELECT count(*) FROM webhook_events WHERE event_key LIKE 'event:%'")
            .await,
        events_before
    );
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 2);
    // The same token again with other event data (a replayed signature): nothing.
    let forged = event("ev-99", "complained", "m1@mg.example.com", "victim@example.com", now);
    assert_eq!(post(webhook(forged, "token-ev6")).await, 200);
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 2);
    s.app.stop().await;
}

#[tokio::test]
async fn mailgun_paging_off_its_host_is_not_followed_and_a_failure_is_retried_next_run() {
    let s = setup_with(|_| {}).await;
    let fake = MockServer::start().await;
    mailgun_numbering(&fake).await;
    mailgun(&s, &fake).await;
    Mock::given(method("GET"))
        .and(path("/v3/mg.example.com/events"))
        .respond_with(events_page(
            vec![event("ev-1", "complained", "x@mg.example.com", "a@example.com", 1.0)],
            "https://collector.attacker.example/steal",
        ))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    let line = run_job(&s).await;
    assert!(line.starts_with("1 events and texts read from providers in 1 workspaces, 1 new; 1 could not be read: Mailgun's next page is not on the configured api_base"), "{line}");
    // Mailgun down: said, and nothing lost — the next run asks again.
    Mock::given(method("GET"))
        .and(path("/v3/mg.example.com/events"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&fake)
        .await;
    let line = run_job(&s).await;
    assert!(line.contains("could not be read") && line.contains("503"), "{line}");
    s.app.stop().await;
}

#[tokio::test]
async fn twilio_texts_polled_arrive_like_webhooks_with_stop_and_statuses_once() {
    let s = setup_with(|c| c.public_url = Some("https://crm.lee-family.example".into())).await;
    let fake = MockServer::start().await;
    let account = format!("/2010-04-01/Accounts/{TWILIO_SID}");
    Mock::given(method("POST"))
        .and(path(format!("{account}/Messages.json")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "SMout0000000000000000000000000001", "status": "queued", "to": "+14155550123"})))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{account}/Messages/SMout0000000000000000000000000001.json"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": "SMout0000000000000000000000000001", "status": "delivered", "error_code": null,
            "to": "+14155550123", "from": "+14155550100", "direction": "outbound-api"})))
        .mount(&fake)
        .await;
    let message = |sid: &str, from: &str, body: &str, direction: &str| {
        json!({"sid": sid, "from": from, "to": "+14155550100", "body": body, "direction": direction,
               "status": "received", "date_sent": "Mon, 07 Dec 2026 09:00:00 +0000"})
    };
    let next = format!("{account}/Messages.json?To=%2B14155550100&PageSize=100&Page=1&PageToken=PAabc");
    Mock::given(method("GET"))
        .and(path(format!("{account}/Messages.json")))
        .and(query_param("PageToken", "PAabc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [message("SMin03", "+14155550177", "Who is this?", "inbound")],
            "next_page_uri": null, "page": 1, "page_size": 100})))
        .with_priority(1)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{account}/Messages.json")))
        .and(query_param("To", "+14155550100"))
        .and(header("authorization", basic_twilio().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [
                message("SMin01", "+14155550123", "Thanks, got the documents", "inbound"),
                message("SMout9", "+14155550100", "something we sent", "outbound-api"),
                message("SMin02", "+14155550199", "STOP", "inbound"),
            ],
            "next_page_uri": next, "page": 0, "page_size": 100})))
        .with_priority(2)
        .mount(&fake)
        .await;
    twilio(&s, &fake).await;
    let sent = queue(&s, json!({"channel": "text", "body": "Your appraisal came in"})).await;
    s.app.drain_outbox().await;
    assert_eq!(entry(&s, &sent).await["status"], "sent");

    let line = run_job(&s).await;
    assert_eq!(line, "4 events and texts read from providers in 1 workspaces, 4 new");
    assert_eq!(entry(&s, &sent).await["status"], "delivered");
    let replies: Vec<String> = sqlx::query_scalar(
        "SELECT json_extract(content, '$.body') FROM communication_logs WHERE status = 'received' ORDER BY timestamp",
    )
    .fetch_all(&s.app.state.db)
    .await
    .unwrap();
    assert_eq!(replies, ["Thanks, got the documents"]);
    let inbox: Vec<(String, String)> =
        sqlx::query_as("SELECT from_number, body FROM inbox_messages ORDER BY from_number")
            .fetch_all(&s.app.state.db)
            .await
            .unwrap();
    assert_eq!(
        inbox,
        [
            ("+14155550177".to_string(), "Who is this?".to_string()),
            ("+14155550199".into(), "STOP".into())
        ]
    );
    let stop: String = sqlx::query_scalar("SELECT reason FROM suppressions WHERE address = '+14155550199'")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(stop, "stop");
    // The texts asked about had a date filter; the delivered one is not asked about again.
    let listed = fake.received_requests().await.unwrap();
    let list = listed
        .iter()
        .find(|r| r.url.path().ends_with("/Messages.json") && r.method.as_str() == "GET")
        .unwrap();
    assert!(list.url.query_pairs().any(|(k, _)| k == "DateSent>"), "{}", list.url);

    // Polled again, and the webhook bringing a reply polled already: nothing twice.
    assert_eq!(
        run_job(&s).await,
        "3 events and texts read from providers in 1 workspaces, 0 new"
    );
    let params = [
        ("MessageSid", "SMin01"),
        ("From", "+14155550123"),
        ("To", "+14155550100"),
        ("Body", "Thanks, got the documents"),
    ];
    let owned: Vec<(String, String)> = params.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let path_and_query = format!("/webhooks/twilio/{}/sms", s.ws);
    let signed_url = format!("https://crm.lee-family.example{path_and_query}");
    let r = s
        .app
        .anonymous()
        .post(s.app.url(&path_and_query))
        .header(
            "X-Twilio-Signature",
            pi_crm::webhooks::twilio::signature(TWILIO_TOKEN, &signed_url, &owned),
        )
        .form(&owned)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.app
            .count("SELECT count(*) FROM communication_logs WHERE status = 'received'")
            .await,
        1
    );
    assert_eq!(s.app.count("SELECT count(*) FROM inbox_messages").await, 2);
    s.app.stop().await;
}

fn basic_twilio() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
    )
}

/// An MMS that only polling brings keeps its pictures: the list gives `num_media`, and the
/// message's Media list gives where each is kept, as a webhook's `MediaUrl{n}` would.
#[tokio::test]
async fn a_polled_mms_keeps_its_pictures() {
    let s = setup_with(|_| {}).await;
    let fake = MockServer::start().await;
    let account = format!("/2010-04-01/Accounts/{TWILIO_SID}");
    Mock::given(method("GET"))
        .and(path(format!("{account}/Messages.json")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [{"sid": "MMin01", "from": "+14155550123", "to": "+14155550100", "body": "",
                          "num_media": "1", "direction": "inbound", "status": "received"}],
            "next_page_uri": null, "page": 0, "page_size": 100})))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{account}/Messages/MMin01/Media.json")))
        .and(header("authorization", basic_twilio().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "media_list": [{"sid": "ME01", "content_type": "image/jpeg",
                            "uri": format!("{account}/Messages/MMin01/Media/ME01.json")}]})))
        .mount(&fake)
        .await;
    twilio(&s, &fake).await;
    assert_eq!(
        run_job(&s).await,
        "1 events and texts read from providers in 1 workspaces, 1 new"
    );
    let media: String =
        sqlx::query_scalar("SELECT json_extract(content, '$.media') FROM communication_logs WHERE status = 'received'")
            .fetch_one(&s.app.state.db)
            .await
            .unwrap();
    let media: Value = serde_json::from_str(&media).unwrap();
    assert_eq!(
        media,
        json!([{"url": format!("{}{account}/Messages/MMin01/Media/ME01", fake.uri()), "content_type": "image/jpeg"}])
    );
    s.app.stop().await;
}
