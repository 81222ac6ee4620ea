//! Provider webhooks (SPEC §8.3) with real bodies from the corpus (`tests/fixtures/corpus/
//! webhooks`, sources in its SOURCES.md), signed as the providers sign them: statuses onto the
//! right message, applied once; inbound texts onto every contact with the number or into the
//! unknown-senders inbox; STOP and START; bounces, complaints and unsubscribes suppressed; and
//! 403 with no change for a wrong or missing signature. Also one-click unsubscribe (§8.4).

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::messaging::{
    SIGNING_KEY, Setup, TWILIO_SID, TWILIO_TOKEN, entry, mailgun, mailgun_accepts, queue, send, setup_with, twilio,
};

fn corpus(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/webhooks")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn public_url(s: &Setup) -> String {
    s.app
        .state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| s.app.base.clone())
}

/// Posts a form to a Twilio webhook, signed with `token` for the exact public URL.
async fn twilio_post(
    s: &Setup,
    path_and_query: &str,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> reqwest::Response {
    let owned: Vec<(String, String)> = params.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let url = format!("{}{}", public_url(s), path_and_query);
    let mut req = s.app.anonymous().post(s.app.url(path_and_query)).form(&owned);
    if let Some(token) = token {
        req = req.header(
            "X-Twilio-Signature",
            pi_crm::webhooks::twilio::signature(token, &url, &owned),
        );
    }
    req.send().await.unwrap()
}

fn mailgun_body(data: Value, token: &str, key: &str) -> Value {
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    json!({"signature": {"timestamp": timestamp, "token": token,
                          "signature": pi_crm::webhooks::mailgun::signature(key, &timestamp, token)},
           "event-data": data})
}

async fn mailgun_post(s: &Setup, body: &Value) -> reqwest::Response {
    s.app
        .anonymous()
        .post(s.app.url(&format!("/webhooks/mailgun/{}/events", s.ws)))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A server behind a reverse proxy: providers sign its public address, not the one the
/// request reached.
async fn with_public_url() -> Setup {
    setup_with(|c| c.public_url = Some("https://crm.lee-family.example".into())).await
}

#[tokio::test]
async fn mailgun_events_move_the_status_once_and_bounces_suppress() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("20261127.7.XYZ@mg.example.com"))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let id = queue(&s, json!({"channel": "email", "subject": "Rates", "body": "x"})).await;
    s.app.drain_outbox().await;

    // The corpus file as Mailgun signed it: its signature checks out with its key, but it is
    // from 2018 — far outside the 12-hour window — and our key differs: refused, no change.
    let original = corpus("mailgun_event_delivered.json");
    let sig = &original["signature"];
    assert_eq!(
        pi_crm::webhooks::mailgun::signature(
            "TEST_WEBHOOK_SIGNING_KEY",
            sig["timestamp"].as_str().unwrap(),
            sig["token"].as_str().unwrap()
        ),
        sig["signature"].as_str().unwrap()
    );
    assert_eq!(mailgun_post(&s, &original).await.status(), 403);

    // The same event about our message, freshly signed with the workspace's key.
    let mut data = original["event-data"].clone();
    data["message"]["headers"]["message-id"] = json!("20261127.7.XYZ@mg.example.com");
    data["recipient"] = json!("ada@example.com");
    let delivered = mailgun_body(data.clone(), "token-delivered-0001", SIGNING_KEY);
    assert_eq!(mailgun_post(&s, &delivered).await.status(), 200);
    assert_eq!(entry(&s, &id).await["status"], "delivered");
    // Mailgun retries: the same token again is accepted and changes nothing. The delivery
    // (its token) and the event (its id, which polling sees too) are each kept once.
    assert_eq!(mailgun_post(&s, &delivered).await.status(), 200);
    assert_eq!(s.app.count("SELECT count(*) FROM webhook_events").await, 2);
    // Signed with another key, or tampered after signing: 403, nothing changes.
    let mut opened = corpus("mailgun_event_opened.json")["event-data"].clone();
    opened["message"]["headers"]["message-id"] = json!("20261127.7.XYZ@mg.example.com");
    assert_eq!(
        mailgun_post(&s, &mailgun_body(opened.clone(), "tok-2", "another-key"))
            .await
            .status(),
        403
    );
    let mut tampered = mailgun_body(opened.clone(), "tok-3", SIGNING_KEY);
    tampered["signature"]["token"] = json!("tok-4");
    assert_eq!(mailgun_post(&s, &tampered).await.status(), 403);
    let unsigned = json!({"event-data": opened});
    assert_eq!(mailgun_post(&s, &unsigned).await.status(), 403);
    assert_eq!(entry(&s, &id).await["status"], "delivered");
    // Opened, then a late "delivered" cannot move it back.
    assert_eq!(
        mailgun_post(&s, &mailgun_body(opened, "tok-5", SIGNING_KEY))
            .await
            .status(),
        200
    );
    assert_eq!(entry(&s, &id).await["status"], "opened");
    assert_eq!(
        mailgun_post(&s, &mailgun_body(data, "tok-6", SIGNING_KEY))
            .await
            .status(),
        200
    );
    assert_eq!(entry(&s, &id).await["status"], "opened");

    // A temporary failure changes nothing; a permanent one is a bounce and a suppression.
    let mut temporary = corpus("mailgun_event_failed_temporary.json")["event-data"].clone();
    temporary["user-variables"] = json!({"outbox_id": "nothing-of-ours"});
    assert_eq!(
        mailgun_post(&s, &mailgun_body(temporary, "tok-7", SIGNING_KEY))
            .await
            .status(),
        200
    );
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 0);
    let second = queue(&s, json!({"channel": "email", "subject": "Again", "body": "y"})).await;
    s.app.drain_outbox().await;
    let outbox_id: String = sqlx::query_scalar("SELECT id FROM outbox WHERE communication_id = ?")
        .bind(&second)
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    let mut bounce = corpus("mailgun_event_failed_permanent.json")["event-data"].clone();
    bounce["recipient"] = json!("Ada@Example.com");
    bounce["user-variables"] = json!({"outbox_id": outbox_id});
    bounce["message"]["headers"]["message-id"] = json!("unrelated@elsewhere");
    assert_eq!(
        mailgun_post(&s, &mailgun_body(bounce, "tok-8", SIGNING_KEY))
            .await
            .status(),
        200
    );
    let bounced = entry(&s, &second).await;
    assert_eq!(bounced["status"], "bounced");
    assert!(bounced["content"]["error"].as_str().unwrap().len() > 10, "{bounced}");
    let reason: String = sqlx::query_scalar("SELECT reason FROM suppressions WHERE address = 'ada@example.com'")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(reason, "bounced");
    let r = send(&s, json!({"channel": "email", "subject": "Third", "body": "z"})).await;
    assert_eq!(r.status(), 409);

    // Complaints and unsubscribes are suppressions too (other recipients here).
    let mut complained = corpus("mailgun_event_complained.json")["event-data"].clone();
    complained["recipient"] = json!("grumpy@example.com");
    assert_eq!(
        mailgun_post(&s, &mailgun_body(complained, "tok-9", SIGNING_KEY))
            .await
            .status(),
        200
    );
    let mut unsubscribed = corpus("mailgun_event_unsubscribed.json")["event-data"].clone();
    unsubscribed["recipient"] = json!("leaving@example.com");
    assert_eq!(
        mailgun_post(&s, &mailgun_body(unsubscribed, "tok-10", SIGNING_KEY))
            .await
            .status(),
        200
    );
    let reasons: Vec<(String, String)> = sqlx::query_as("SELECT address, reason FROM suppressions ORDER BY address")
        .fetch_all(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(
        reasons,
        [
            ("ada@example.com".to_string(), "bounced".to_string()),
            ("grumpy@example.com".into(), "complained".into()),
            ("leaving@example.com".into(), "unsubscribed".into())
        ]
    );
    // Another workspace's id in the path: not found, whatever the signature.
    let other = uuid::Uuid::now_v7().to_string();
    let r = s
        .app
        .anonymous()
        .post(s.app.url(&format!("/webhooks/mailgun/{other}/events")))
        .json(&mailgun_body(json!({"event": "delivered"}), "tok-11", SIGNING_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_text_goes_through_twilio_and_its_status_comes_back_signed() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "SM0b6e2697aae04182a9f5b5c7a8994c7f", "status": "queued", "num_segments": "1",
            "error_code": null, "to": "+14155550123", "from": "+14155550100"})))
        .expect(1)
        .mount(&fake)
        .await;
    twilio(&s, &fake).await;
    let r = send(&s, json!({"channel": "text", "body": "Congrats on the house 🏡"})).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["communication_id"]
        .as_str()
        .unwrap()
        .to_string();
    s.app.drain_outbox().await;
    let sent = entry(&s, &id).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(
        sent["content"]["provider_message_id"],
        "SM0b6e2697aae04182a9f5b5c7a8994c7f"
    );
    assert_eq!(sent["content"]["segments"], 1);
    assert_eq!(sent["content"]["to"], "+14155550123");

    // Exactly what Twilio got: Basic sid:token, a form with To, From, Body, StatusCallback.
    let req = &fake.received_requests().await.unwrap()[0];
    use base64::Engine;
    assert_eq!(
        req.headers.get("authorization").unwrap().to_str().unwrap(),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
        )
    );
    assert_eq!(
        req.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::HashMap<String, String> = form_urlencoded::parse(&req.body).into_owned().collect();
    assert_eq!(form["To"], "+14155550123");
    assert_eq!(form["From"], "+14155550100");
    assert_eq!(form["Body"], "Congrats on the house 🏡");
    let outbox_id: String = sqlx::query_scalar("SELECT id FROM outbox")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    let callback = format!("{}/webhooks/twilio/{}/status?outbox={outbox_id}", public_url(&s), s.ws);
    assert_eq!(form["StatusCallback"], callback);

    // Twilio's status callbacks, signed against the callback address (query included).
    let status_path = format!("/webhooks/twilio/{}/status?outbox={outbox_id}", s.ws);
    let delivered = [
        ("MessageSid", "SM0b6e2697aae04182a9f5b5c7a8994c7f"),
        ("MessageStatus", "delivered"),
        ("To", "+14155550123"),
    ];
    assert_eq!(
        twilio_post(&s, &status_path, &delivered, Some("wrong-token"))
            .await
            .status(),
        403
    );
    assert_eq!(twilio_post(&s, &status_path, &delivered, None).await.status(), 403);
    assert_eq!(
        entry(&s, &id).await["status"],
        "sent",
        "a bad signature changes nothing"
    );
    let r = twilio_post(&s, &status_path, &delivered, Some(TWILIO_TOKEN)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/xml");
    assert!(r.text().await.unwrap().ends_with("<Response/>"));
    assert_eq!(entry(&s, &id).await["status"], "delivered");
    // A late "sent" does not move it back, and a repeat is applied once.
    let late = [
        ("MessageSid", "SM0b6e2697aae04182a9f5b5c7a8994c7f"),
        ("MessageStatus", "sent"),
    ];
    assert_eq!(
        twilio_post(&s, &status_path, &late, Some(TWILIO_TOKEN)).await.status(),
        200
    );
    assert_eq!(
        twilio_post(&s, &status_path, &delivered, Some(TWILIO_TOKEN))
            .await
            .status(),
        200
    );
    assert_eq!(entry(&s, &id).await["status"], "delivered");
    assert_eq!(s.app.count("SELECT count(*) FROM webhook_events").await, 2);
}

#[tokio::test]
async fn twilio_21610_fails_the_text_and_suppresses_the_number() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 21610, "message": "Attempt to send to unsubscribed recipient",
            "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})))
        .expect(1)
        .mount(&fake)
        .await;
    twilio(&s, &fake).await;
    let id = queue(&s, json!({"channel": "text", "body": "Hi"})).await;
    s.app.drain_outbox().await;
    let e = entry(&s, &id).await;
    assert_eq!(e["status"], "failed");
    assert_eq!(
        e["content"]["error"],
        "Twilio: Attempt to send to unsubscribed recipient"
    );
    let (address, reason): (String, String) = sqlx::query_as("SELECT address, reason FROM suppressions")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!((address.as_str(), reason.as_str()), ("+14155550123", "stop"));
    let r = send(&s, json!({"channel": "text", "body": "Hi again"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "suppressed");
}

#[tokio::test]
async fn an_mms_keeps_its_pictures_on_the_timeline_and_in_the_inbox() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    twilio(&s, &fake).await;
    let sms = format!("/webhooks/twilio/{}/sms", s.ws);
    // The corpus's MMS without a Body, from Ada's number, with media where Twilio keeps it.
    let bodies = corpus("twilio_sms_webhook_bodies.json");
    let mms = bodies["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "inbound_mms_no_body")
        .unwrap();
    let media = |n: &str| format!("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME{n}");
    let params: Vec<(String, String)> = form_urlencoded::parse(mms["raw_body"].as_str().unwrap().as_bytes())
        .into_owned()
        .map(|(k, v)| match k.as_str() {
            "From" => (k, "+14155550123".to_string()),
            "MediaUrl0" => (k, media("0")),
            "MediaUrl1" => (k, media("1")),
            _ => (k, v),
        })
        .chain([
            ("MediaContentType0".to_string(), "image/jpeg".to_string()),
            ("MediaContentType1".to_string(), "video/mp4".to_string()),
        ])
        .collect();
    assert!(!params.iter().any(|(k, _)| k == "Body"), "the corpus case has no Body");
    let refs: Vec<(&str, &str)> = params.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(twilio_post(&s, &sms, &refs, Some(TWILIO_TOKEN)).await.status(), 200);
    let content: String = sqlx::query_scalar("SELECT content FROM communication_logs WHERE type = 'text'")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    let content: Value = serde_json::from_str(&content).unwrap();
    assert_eq!(
        content["media"],
        json!([{"url": media("0"), "content_type": "image/jpeg"}, {"url": media("1"), "content_type": "video/mp4"}])
    );
    // On Ada's page: a link per picture, where the text would be empty.
    let andy = s.app.browser();
    andy.login("andy@example.com", crate::common::PASSWORD).await;
    let page = andy.get(&format!("/workspaces/{}/contacts/{}", s.ws, s.ada)).await.body;
    assert!(page.contains(&format!("href=\"{}\"", media("0"))), "{page}");
    assert!(
        page.contains("Picture (image/jpeg)") && page.contains("Video (video/mp4)"),
        "{page}"
    );
    // From a number nobody has, the links are the inbox message's text.
    let stranger: Vec<(&str, &str)> = refs
        .iter()
        .map(|&(k, v)| match k {
            "From" => (k, "+12025550188"),
            "MessageSid" | "SmsSid" | "SmsMessageSid" => (k, "MMstranger"),
            _ => (k, v),
        })
        .collect();
    assert_eq!(twilio_post(&s, &sms, &stranger, Some(TWILIO_TOKEN)).await.status(), 200);
    let body: String = sqlx::query_scalar("SELECT body FROM inbox_messages")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(body, format!("{}\n{}", media("0"), media("1")));
}

#[tokio::test]
async fn inbound_texts_reach_every_contact_with_the_number_or_the_inbox() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    twilio(&s, &fake).await;
    let api = s.app.api(&s.key);
    // Ada's husband shares the landline; a colleague has it as a custom phone field.
    let spouse = api
        .post(
            &format!("/api/v1/workspaces/{}/contacts", s.ws),
            json!({"first_name": "William", "last_name": "King", "primary_phone": "+1 415-555-0123"}),
        )
        .await;
    assert_eq!(spouse.status(), 201);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{}/custom-fields", s.ws),
            json!({"field_name": "office_phone", "label": "Office phone", "field_type": "phone"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let colleague = api
        .post(
            &format!("/api/v1/workspaces/{}/contacts", s.ws),
            json!({"first_name": "Charles", "custom_fields": {"office_phone": "415 555 0123"}}),
        )
        .await;
    assert_eq!(colleague.status(), 201);
    let sms = format!("/webhooks/twilio/{}/sms", s.ws);

    // The corpus's inbound body, as Twilio sends it, from the shared number.
    let bodies = corpus("twilio_sms_webhook_bodies.json");
    let inbound = bodies["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "inbound_sms")
        .unwrap();
    let mut params: Vec<(String, String)> = form_urlencoded::parse(inbound["raw_body"].as_str().unwrap().as_bytes())
        .into_owned()
        .collect();
    for (k, v) in params.iter_mut() {
        if k == "From" {
            *v = "+14155550123".into();
        }
        if k == "Body" {
            *v = "Can we talk about the rate lock?".into();
        }
    }
    let refs: Vec<(&str, &str)> = params.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = twilio_post(&s, &sms, &refs, Some(TWILIO_TOKEN)).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Response/>"));
    let logged: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.first_name, g.status, json_extract(g.content, '$.body') FROM communication_logs g
           JOIN base_contacts c ON c.id = g.contact_id WHERE g.type = 'text' ORDER BY c.first_name",
    )
    .fetch_all(&s.app.state.db)
    .await
    .unwrap();
    let expected = |name: &str| {
        (
            name.to_string(),
            "received".to_string(),
            "Can we talk about the rate lock?".to_string(),
        )
    };
    assert_eq!(logged, [expected("Ada"), expected("Charles"), expected("William")]);
    let author: Option<String> = sqlx::query_scalar("SELECT user_id FROM communication_logs LIMIT 1")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(author, None, "written by a webhook, not a person");
    // Twilio retries the same MessageSid: applied once.
    assert_eq!(twilio_post(&s, &sms, &refs, Some(TWILIO_TOKEN)).await.status(), 200);
    assert_eq!(s.app.count("SELECT count(*) FROM communication_logs").await, 3);
    // A bad signature: 403 and nothing.
    let stranger = [
        ("MessageSid", "SMaaaa"),
        ("From", "+12025550188"),
        ("To", "+14155550100"),
        ("Body", "Who is this?"),
    ];
    assert_eq!(twilio_post(&s, &sms, &stranger, Some("nope")).await.status(), 403);
    assert_eq!(s.app.count("SELECT count(*) FROM inbox_messages").await, 0);

    // A number nobody has: the unknown-senders inbox, then a contact made from it.
    assert_eq!(twilio_post(&s, &sms, &stranger, Some(TWILIO_TOKEN)).await.status(), 200);
    let again = [
        ("MessageSid", "SMbbbb"),
        ("From", "+12025550188"),
        ("To", "+14155550100"),
        ("Body", "It's Grace, from the open house"),
    ];
    assert_eq!(twilio_post(&s, &sms, &again, Some(TWILIO_TOKEN)).await.status(), 200);
    let inbox: Value = api
        .get(&format!("/api/v1/workspaces/{}/inbox", s.ws))
        .await
        .json()
        .await
        .unwrap();
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["from"], "+12025550188");
    assert_eq!(items[0]["body"], "It's Grace, from the open house");
    let r = api
        .post(
            &format!(
                "/api/v1/workspaces/{}/inbox/{}/contact",
                s.ws,
                items[0]["id"].as_str().unwrap()
            ),
            json!({"first_name": "Grace", "last_name": "Hopper"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let grace = r.json::<Value>().await.unwrap()["contact_id"]
        .as_str()
        .unwrap()
        .to_string();
    let timeline: Value = api
        .get(&format!("/api/v1/workspaces/{}/contacts/{grace}/communications", s.ws))
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["content"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["It's Grace, from the open house", "Who is this?"]);
    let phone: String = sqlx::query_scalar("SELECT primary_phone FROM base_contacts WHERE id = ?")
        .bind(&grace)
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(phone, "+12025550188");
    assert_eq!(s.app.count("SELECT count(*) FROM inbox_messages").await, 0);
    // Now she is known: her next text goes on her timeline.
    let third = [
        ("MessageSid", "SMcccc"),
        ("From", "+12025550188"),
        ("To", "+14155550100"),
        ("Body", "Thanks!"),
    ];
    assert_eq!(twilio_post(&s, &sms, &third, Some(TWILIO_TOKEN)).await.status(), 200);
    assert_eq!(s.app.count("SELECT count(*) FROM inbox_messages").await, 0);
}

#[tokio::test]
async fn stop_and_start_words_change_the_suppression_list() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    twilio(&s, &fake).await;
    let sms = format!("/webhooks/twilio/{}/sms", s.ws);
    let text = |sid: &'static str, body: &'static str| {
        [
            ("MessageSid", sid),
            ("From", "+14155550123"),
            ("To", "+14155550100"),
            ("Body", body),
        ]
    };
    // "stop please" is not an opt-out word alone; " Stop " is.
    assert_eq!(
        twilio_post(&s, &sms, &text("SM1", "stop please"), Some(TWILIO_TOKEN))
            .await
            .status(),
        200
    );
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 0);
    assert_eq!(
        twilio_post(&s, &sms, &text("SM2", " Stop "), Some(TWILIO_TOKEN))
            .await
            .status(),
        200
    );
    let reason: String = sqlx::query_scalar("SELECT reason FROM suppressions WHERE address = '+14155550123'")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(reason, "stop");
    assert_eq!(send(&s, json!({"channel": "text", "body": "Hi"})).await.status(), 409);
    assert_eq!(
        twilio_post(&s, &sms, &text("SM3", "unstop"), Some(TWILIO_TOKEN))
            .await
            .status(),
        200
    );
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 0);
    // Every opt-out word, any case.
    for (i, word) in ["STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE", "optout"]
        .iter()
        .enumerate()
    {
        let sid = format!("SMw{i}");
        let params = [
            ("MessageSid", sid.as_str()),
            ("From", "+14155550123"),
            ("To", "+14155550100"),
            ("Body", word),
        ];
        assert_eq!(twilio_post(&s, &sms, &params, Some(TWILIO_TOKEN)).await.status(), 200);
        assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 1, "{word}");
        let params = [
            ("MessageSid", &*format!("SMy{i}")),
            ("From", "+14155550123"),
            ("To", "+14155550100"),
            ("Body", "YES"),
        ];
        assert_eq!(twilio_post(&s, &sms, &params, Some(TWILIO_TOKEN)).await.status(), 200);
        assert_eq!(
            s.app.count("SELECT count(*) FROM suppressions").await,
            0,
            "{word} then YES"
        );
    }
}

#[tokio::test]
async fn webhooks_without_public_url_or_provider_are_refused() {
    let s = setup_with(|_| {}).await;
    // No public_url: no signature can be checked.
    let fake = MockServer::start().await;
    twilio(&s, &fake).await;
    let sms = format!("/webhooks/twilio/{}/sms", s.ws);
    let params = [("MessageSid", "SM1"), ("From", "+14155550123"), ("Body", "hi")];
    assert_eq!(twilio_post(&s, &sms, &params, Some(TWILIO_TOKEN)).await.status(), 403);
    // No Mailgun provider: nothing to check against.
    let r = mailgun_post(&s, &mailgun_body(json!({"event": "delivered"}), "t", SIGNING_KEY)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(s.app.count("SELECT count(*) FROM communication_logs").await, 0);
}

#[tokio::test]
async fn one_click_unsubscribe_asks_on_get_and_acts_on_post() {
    let s = with_public_url().await;
    let ws = pi_crm::domain::ids::WorkspaceId::parse(&s.ws).unwrap();
    let token = pi_crm::domain::messaging::unsubscribe::token(&s.app.state.secret, &ws, "ada@example.com");
    let link = format!("/u/{token}");
    let client = s.app.anonymous();
    // A mail scanner opens the link: a question, nothing changes.
    let r = client.get(s.app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Unsubscribe?") && page.contains("ada@example.com") && page.contains("Loans"));
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 0);
    // The mail client's one-click POST (RFC 8058): no cookie, no CSRF token, no redirect.
    let r = client
        .post(s.app.url(&link))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("You are unsubscribed"));
    let (address, reason): (String, String) = sqlx::query_as("SELECT address, reason FROM suppressions")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!((address.as_str(), reason.as_str()), ("ada@example.com", "unsubscribed"));
    // Again: still one entry; the page now says so.
    assert_eq!(client.post(s.app.url(&link)).send().await.unwrap().status(), 200);
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 1);
    assert!(
        client
            .get(s.app.url(&link))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("Already unsubscribed")
    );
    // A forged or damaged token: 404, nothing changes.
    let forged = format!("/u/{}x", &token[..token.len() - 1]);
    assert_eq!(client.post(s.app.url(&forged)).send().await.unwrap().status(), 404);
    assert_eq!(client.get(s.app.url("/u/nonsense")).send().await.unwrap().status(), 404);
    assert_eq!(s.app.count("SELECT count(*) FROM suppressions").await, 1);
}

/// SPEC §8.4 (v3): an unsubscribe is from marketing. Campaigns skip Ada's address, yet Andy
/// can still email her about her closing, and her page and the compose form say she
/// unsubscribed and when; a hard bounce afterwards widens it to everything; a manual entry
/// can be either; the list and the API say the scope.
#[tokio::test]
async fn an_unsubscribe_stops_campaigns_and_lets_one_to_one_email_through() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("20261206.1.ABC@mg.example.com"))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let ws = pi_crm::domain::ids::WorkspaceId::parse(&s.ws).unwrap();
    let token = pi_crm::domain::messaging::unsubscribe::token(&s.app.state.secret, &ws, "ada@example.com");
    let r = s
        .app
        .anonymous()
        .post(s.app.url(&format!("/u/{token}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let api = s.app.api(&s.key);
    let list: Value = api
        .get(&format!("/api/v1/workspaces/{}/suppressions", s.ws))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["scope"], "marketing", "{list}");
    assert_eq!(list["items"][0]["reason"], "unsubscribed");

    // A campaign's audience leaves her out…
    let owner = s.app.user_by_email("andy@example.com").await;
    let campaigns = s.app.api(&s.app.key(&owner, &["read:campaigns"], None).await);
    let r = campaigns
        .post(
            &format!("/api/v1/workspaces/{}/campaigns/audience", s.ws),
            json!({"channel": "email", "segment": {}}),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"contacts": 1, "no_address": 0, "suppressed": 1, "reachable": 0})
    );
    // …while Andy's own email to her goes out.
    let id = queue(
        &s,
        json!({"channel": "email", "subject": "Closing documents", "body": "Attached."}),
    )
    .await;
    s.app.drain_outbox().await;
    assert_eq!(entry(&s, &id).await["status"], "sent");
    assert_eq!(fake.received_requests().await.unwrap().len(), 1);

    // Her page and the compose form say so.
    let andy = s.app.browser();
    andy.login("andy@example.com", crate::common::PASSWORD).await;
    let page = andy.get(&format!("/workspaces/{}/contacts/{}", s.ws, s.ada)).await;
    assert!(page.body.contains("id=\"marketing-off\""), "{}", page.body);
    let today = s.app.clock().now().strftime("%b %-d, %Y").to_string();
    assert!(
        page.body.contains(&format!(
            "Unsubscribed from marketing on {today}: campaigns skip this address"
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("Send email"), "the form is there");

    // A hard bounce afterwards stops everything to her.
    let outbox_id: String = sqlx::query_scalar("SELECT id FROM outbox WHERE communication_id = ?")
        .bind(&id)
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    let mut bounce = corpus("mailgun_event_failed_permanent.json")["event-data"].clone();
    bounce["recipient"] = json!("ada@example.com");
    bounce["user-variables"] = json!({"outbox_id": outbox_id});
    assert_eq!(
        mailgun_post(&s, &mailgun_body(bounce, "tok-scope", SIGNING_KEY))
            .await
            .status(),
        200
    );
    let (reason, scope): (String, String) = sqlx::query_as("SELECT reason, scope FROM suppressions")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!((reason.as_str(), scope.as_str()), ("bounced", "all"));
    let r = send(&s, json!({"channel": "email", "subject": "Hi", "body": "x"})).await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "suppressed");
    assert!(e["error"]["message"].as_str().unwrap().contains("(bounced)"), "{e}");
    // A later unsubscribe does not narrow it again.
    let r = s
        .app
        .anonymous()
        .post(s.app.url(&format!("/u/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let scope: String = sqlx::query_scalar("SELECT scope FROM suppressions")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(scope, "all");

    // By hand: everything by default, campaigns only when asked; a scope that is neither is
    // a 422 naming the field.
    let add = |body: Value| {
        let api = s.app.api(&s.key);
        let url = format!("/api/v1/workspaces/{}/suppressions", s.ws);
        async move { api.post(&url, body).await }
    };
    let r = add(json!({"address": "bob@example.com", "channel": "email"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["scope"], "all");
    let r = add(json!({"address": "cy@example.com", "channel": "email", "scope": "marketing"})).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["scope"], "marketing");
    let r = add(json!({"address": "dee@example.com", "channel": "email", "scope": "some"})).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "scope", "{e}");
    // The settings page shows each entry's scope.
    let page = andy.get(&format!("/workspaces/{}/messaging", s.ws)).await;
    assert!(
        page.body.contains("data-scope=\"marketing\">campaigns only"),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-scope=\"all\">everything"));
}

/// Replies are hard to miss (issue 34): a text from Ada is marked on the contact list and the
/// dashboard's Replies until someone opens her page, which shows it as new that once; nobody
/// outside the workspace sees it.
#[tokio::test]
async fn an_unread_reply_is_marked_until_her_page_is_opened() {
    let s = with_public_url().await;
    let fake = MockServer::start().await;
    twilio(&s, &fake).await;
    let sms = format!("/webhooks/twilio/{}/sms", s.ws);
    let params = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", TWILIO_SID),
        ("From", "+14155550123"),
        ("To", "+14155550100"),
        ("Body", "Can we talk about the rate lock?"),
        ("NumMedia", "0"),
    ];
    assert_eq!(twilio_post(&s, &sms, &params, Some(TWILIO_TOKEN)).await.status(), 200);

    let andy = s.app.browser();
    andy.login("andy@example.com", crate::common::PASSWORD).await;
    let (_, mona) = s.app.user_browser("mona@example.com").await;
    let list = andy.get(&format!("/workspaces/{}/contacts", s.ws)).await;
    assert!(
        list.body.contains("data-new-replies=\"1\">1 new reply</span>"),
        "{}",
        list.body
    );
    let home = andy.get("/").await;
    let replies = home
        .body
        .split("id=\"replies\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(
        replies.contains("Ada Lovelace") && replies.contains("Can we talk about the rate lock?"),
        "{replies}"
    );
    // Not Monalisa's: her dashboard has none.
    let theirs = mona.get("/").await;
    assert!(!theirs.body.contains("rate lock"), "{}", theirs.body);

    // Another workspace's contact page is a 404 for Monalisa, and marks nothing seen.
    let r = mona.get(&format!("/workspaces/{}/contacts/{}", s.ws, s.ada)).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        s.app
            .count("SELECT COUNT(*) FROM communication_logs WHERE status = 'received' AND read_at IS NULL")
            .await,
        1
    );

    // Andy opens Ada's page: the reply is new this once, then read everywhere.
    let page = andy.get(&format!("/workspaces/{}/contacts/{}", s.ws, s.ada)).await;
    assert_eq!(
        page.body.matches("data-new-reply>New reply</span>").count(),
        1,
        "{}",
        page.body
    );
    let again = andy.get(&format!("/workspaces/{}/contacts/{}", s.ws, s.ada)).await;
    assert!(!again.body.contains("data-new-reply>"));
    let list = andy.get(&format!("/workspaces/{}/contacts", s.ws)).await;
    assert!(!list.body.contains("data-new-replies"));
    let home = andy.get("/").await;
    assert!(home.body.contains("No unread replies."), "{}", home.body);
}
