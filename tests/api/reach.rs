//! Reaching a Pi at home (SPEC §8.5, issue 30): the public listener serves what outsiders need
//! and nothing else, and the reachability check passes only when this very instance answers
//! at `public_url` — not a dead port, not another web server, not another pi-crm.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::campaigns::{camp_with, review_emails, review_token, reviewed_draft};
use crate::common::{TestApp, free_port};

/// An app whose public listener is where its `public_url` says.
async fn reachable_app() -> TestApp {
    let port = free_port();
    TestApp::spawn_with(|c| {
        c.public_bind = Some(format!("127.0.0.1:{port}").parse().unwrap());
        c.public_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await
}

async fn check(app: &TestApp, key: &str) -> Value {
    let r = app.api(key).post("/api/v1/reachability/check", json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_public_listener_serves_outsiders_pages_and_webhooks_and_nothing_else() {
    let mut c = camp_with(|c| c.public_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let app = &c.app;
    let andy_key = c.key.clone();
    let outsider = app.anonymous();
    // Every family of the app's own routes: a bare 404 there, no cookie, no hint of a page.
    let ws = c.ws.clone();
    let closed = [
        ("GET", "/".to_string()),
        ("GET", "/login".into()),
        ("POST", "/login".into()),
        ("GET", "/setup".into()),
        ("GET", "/settings".into()),
        ("GET", "/settings/reach".into()),
        ("GET", "/invite/abc".into()),
        ("GET", format!("/workspaces/{ws}/contacts")),
        ("GET", format!("/workspaces/{ws}/campaigns")),
        ("GET", "/api/v1/me".into()),
        ("GET", "/api/v1/openapi.json".into()),
        ("GET", "/api/docs/".into()),
        ("POST", "/api/v1/keys".into()),
        ("GET", format!("/api/v1/workspaces/{ws}/contacts")),
        ("GET", "/assets/app.js".into()),
        ("GET", "/assets/htmx.min.js".into()),
        ("GET", "/nothing-at-all".into()),
    ];
    for (verb, route) in &closed {
        let req = match *verb {
            "GET" => outsider.get(app.public(route)),
            _ => outsider.post(app.public(route)),
        };
        let r = req.header("x-api-key", &andy_key).send().await.unwrap();
        assert_eq!(r.status(), 404, "{verb} {route} on the public listener");
        assert!(r.headers().get("set-cookie").is_none(), "{route}");
        assert_eq!(r.text().await.unwrap(), "not found", "{route}");
        // The main listener still serves it (or at least does not hide it).
        if *verb == "GET" && route != "/nothing-at-all" {
            let main = outsider
                .get(app.url(route))
                .header("x-api-key", &andy_key)
                .send()
                .await
                .unwrap();
            assert_ne!(main.text().await.unwrap(), "not found", "{route} on the main listener");
        }
    }
    // What outsiders need is there.
    let health: Value = outsider
        .get(app.public("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health,
        json!({"status": "ok", "db": "ok"}),
        "no backup details for the internet"
    );
    let css = outsider.get(app.public("/assets/app.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    let nobody = outsider.get(app.public("/u/not-a-token")).send().await.unwrap();
    assert_eq!(nobody.status(), 404);
    assert!(
        nobody.text().await.unwrap().contains("<html"),
        "the unsubscribe page's own answer"
    );
    let signed_wrong = outsider
        .post(app.public(&format!("/webhooks/mailgun/{ws}/events")))
        .json(&json!({"signature": {"timestamp": "1", "token": "t", "signature": "s"}, "event-data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_wrong.status(),
        403,
        "the webhook is served and checks its signature"
    );

    // The reviewer decides on the public listener.
    let id = reviewed_draft(&mut c).await;
    let r = c.api().post(&c.url(&format!("campaigns/{id}/submit")), json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let token = review_token(&review_emails(&c).await[0]);
    let page = outsider
        .get(c.app.public(&format!("/review/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let r = outsider
        .post(c.app.public(&format!("/review/{token}")))
        .form(&[("decision", "approve"), ("name", "Pat Reviewer"), ("notes", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Approved by Pat Reviewer"));
    assert_eq!(c.get(&id).await["status"], "approved");
    c.app.stop().await;
}

#[tokio::test]
async fn the_check_passes_only_when_this_instance_answers_at_public_url() {
    // This instance's public listener, over plain http.
    let app = reachable_app().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let key = app.key(&andy, &["read:contacts"], None).await;
    let before: Value = app.api(&key).get("/api/v1/reachability").await.json().await.unwrap();
    assert_eq!(before["checked_at"], Value::Null);
    assert_eq!(before["reachable"], false);
    let passed = check(&app, &key).await;
    assert_eq!(passed["reachable"], true, "{passed}");
    assert_eq!(passed["https"], false);
    assert_eq!(passed["public_url"], app.state.config.public_url.clone().unwrap());
    assert!(passed["detail"].as_str().unwrap().contains("plain http"), "{passed}");
    assert!(passed["checked_at"].is_string());
    let kept: Value = app.api(&key).get("/api/v1/reachability").await.json().await.unwrap();
    assert_eq!(kept, passed);
    // Nobody signed in: 401 on both.
    for route in [
        app.anonymous().post(app.url("/api/v1/reachability/check")),
        app.anonymous().get(app.url("/api/v1/reachability")),
    ] {
        assert_eq!(route.send().await.unwrap().status(), 401);
    }
    // A code this instance did not issue is not echoed.
    let probe: Value = app
        .anonymous()
        .get(app.public("/healthz?nonce=0123456789abcdef"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(probe.get("nonce").is_none(), "{probe}");
    app.stop().await;

    // A dead port.
    let dead = free_port();
    let app = TestApp::spawn_with(|c| c.public_url = Some(format!("http://127.0.0.1:{dead}"))).await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let key = app.key(&andy, &["read:contacts"], None).await;
    let failed = check(&app, &key).await;
    assert_eq!(failed["reachable"], false);
    assert!(failed["detail"].as_str().unwrap().contains("refused"), "{failed}");
    app.stop().await;

    // Another web server at that address, even one that says "ok" and echoes any nonce.
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/healthz"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "ok", "nonce": "guess"})))
        .mount(&other)
        .await;
    let app = TestApp::spawn_with(|c| c.public_url = Some(other.uri())).await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let key = app.key(&andy, &["read:contacts"], None).await;
    let failed = check(&app, &key).await;
    assert_eq!(failed["reachable"], false);
    assert!(
        failed["detail"].as_str().unwrap().contains("not this pi-crm"),
        "{failed}"
    );
    // Another pi-crm at that address does not pass for this one.
    let another = TestApp::spawn().await;
    let app2 = TestApp::spawn_with(|c| c.public_url = Some(another.base.clone())).await;
    let mona = app2.create_user("mona@example.com", "Mona").await;
    let key2 = app2.key(&mona, &["read:contacts"], None).await;
    let failed = check(&app2, &key2).await;
    assert_eq!(failed["reachable"], false, "{failed}");
    assert!(
        failed["detail"].as_str().unwrap().contains("not this pi-crm"),
        "{failed}"
    );
    // A redirect is reported, not followed.
    let redirecting = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "https://elsewhere.example/healthz"))
        .mount(&redirecting)
        .await;
    let app3 = TestApp::spawn_with(|c| c.public_url = Some(redirecting.uri())).await;
    let zed = app3.create_user("zed@example.com", "Zed").await;
    let key3 = app3.key(&zed, &["read:contacts"], None).await;
    let failed = check(&app3, &key3).await;
    assert!(
        failed["detail"]
            .as_str()
            .unwrap()
            .contains("redirect to https://elsewhere.example"),
        "{failed}"
    );
    for a in [app, app2, another, app3] {
        a.stop().await;
    }
}

#[tokio::test]
async fn the_check_through_the_main_listener_says_to_use_the_public_one() {
    // The main listener itself as public_url: reachable, but the detail warns.
    let port = free_port();
    let app = TestApp::spawn_with(|c| {
        c.bind = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let key = app.key(&andy, &["read:contacts"], None).await;
    let result = check(&app, &key).await;
    assert_eq!(result["reachable"], true, "{result}");
    assert!(result["detail"].as_str().unwrap().contains("main listener"), "{result}");
    app.stop().await;
}

#[tokio::test]
async fn the_reach_page_checks_and_the_dashboard_warns_when_campaigns_need_outsiders() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let page = b.get("/settings/reach").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("not set"), "{}", page.body);
    assert_eq!(
        b.post_raw("/settings/reach/check", &[]).await.status,
        403,
        "no CSRF token"
    );
    // No campaign yet: the dashboard has nothing to say about it.
    let ws = app.workspace(&andy, "Loans").await;
    assert!(!b.get("/").await.body.contains("id=\"unreachable\""));
    let key = app
        .key(
            &andy,
            &["write:campaigns", "read:campaigns", "write:templates", "read:templates"],
            None,
        )
        .await;
    let t = app
        .api(&key)
        .post(
            &format!("/api/v1/workspaces/{ws}/templates"),
            json!({"name": "Hello", "channel": "email", "subject": "Hi", "body": "<p>Hi</p>"}),
        )
        .await;
    assert_eq!(t.status(), 201, "{}", t.text().await.unwrap());
    let t: Value = t.json().await.unwrap();
    let r = app
        .api(&key)
        .post(
            &format!("/api/v1/workspaces/{ws}/campaigns"),
            json!({"name": "Rates", "channel": "email", "template_id": t["id"], "segment": {},
                   "schedule": {"kind": "now"}}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let home = b.get("/").await;
    assert!(home.body.contains("id=\"unreachable\""), "{}", home.body);
    assert!(home.body.contains("no public address"));
    // Another person's dashboard, without campaigns, says nothing.
    let (_, mona) = app.user_browser("mona@example.com").await;
    assert!(!mona.get("/").await.body.contains("id=\"unreachable\""));
    app.stop().await;

    // With the public listener where public_url says, the page's Check passes.
    let app = reachable_app().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    let page = b.get("/settings/reach").await;
    assert!(page.body.contains("not checked"), "{}", page.body);
    let checked = b.submit("/settings/reach", "/settings/reach/check", &[]).await;
    assert_eq!(checked.status, 303, "{}", checked.body);
    let done = b.get("/settings/reach").await;
    assert!(done.body.contains("Outsiders can reach pi-crm."), "{}", done.body);
    assert!(done.body.contains("badge-green"), "{}", done.body);
    app.stop().await;
}

/// Under an `http://` public address a campaign's emails carry the unsubscribe link and a
/// mailto, but not the one-click header RFC 8058 allows only over https; the page says why.
#[tokio::test]
async fn an_http_public_url_sends_no_one_click_header_and_the_page_says_why() {
    let mut c = camp_with(|c| c.public_url = Some("http://crm.example.com".into())).await;
    crate::campaigns::people(&mut c).await;
    let id = c.campaign(crate::campaigns::past_clients(&c)).await;
    let b = c.app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let page = b.get(&format!("/workspaces/{}/campaigns/{id}", c.ws)).await;
    assert!(page.body.contains("id=\"no-one-click\""), "{}", page.body);
    assert!(!page.body.contains("id=\"public-url-needed\""));
    let r = c.act(&id, "schedule").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    c.until_sent(&id).await;
    let sent = c.mail_to().await;
    assert_eq!(sent.len(), 2);
    for (_, body) in &sent {
        let header = crate::messaging::multipart_field(body, "h:List-Unsubscribe").unwrap();
        assert!(header.contains("<http://crm.example.com/u/"), "{header}");
        assert!(header.contains("<mailto:"), "{header}");
        assert_eq!(crate::messaging::multipart_field(body, "h:List-Unsubscribe-Post"), None);
        let html = crate::messaging::multipart_field(body, "html").unwrap();
        assert!(!html.contains("href=\"\""), "{html}");
    }
    c.app.stop().await;
}

/// Issue 31 point 8: the outside reviewer's sample is filled in for the fictional sample
/// contact — never a real recipient's name, data or working unsubscribe link — and a sample
/// or a shared template loads no remote image (no tracking pixel) until asked to.
#[tokio::test]
async fn the_reviewer_sees_a_fictional_sample_and_previews_load_no_remote_image_unasked() {
    let mut c = camp_with(|_| {}).await;
    c.add_contact("Maria", Some("maria.gonzalez@borrower.example"), None, &["past"])
        .await;
    crate::campaigns::require_approval(&c).await;
    let r = c
        .api()
        .patch(
            &c.url(&format!("templates/{}", c.template)),
            json!({"body": "<p>Hi {{ first_name }} ({{ email }})</p><img src=\"https://tracker.example/open.gif?t=1\"><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let id = c.campaign(crate::campaigns::past_clients(&c)).await;
    let r = c.api().post(&c.url(&format!("campaigns/{id}/submit")), json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let token = review_token(&review_emails(&c).await[0]);
    let page = crate::campaigns::outsider_get(&c, &format!("/review/{token}")).await;
    let page = page.text().await.unwrap();
    assert!(!page.contains("Maria") && !page.contains("borrower.example"), "{page}");
    let sample = crate::campaigns::outsider_get(&c, &format!("/review/{token}/sample")).await;
    let policy = sample.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let body = sample.text().await.unwrap();
    assert!(!body.contains("Maria") && !body.contains("borrower.example"), "{body}");
    assert!(body.contains("Hi Ada"), "the sample contact: {body}");
    assert!(
        body.contains("crm.example.com&#x2f;u&#x2f;sample\""),
        "a link that unsubscribes nobody: {body}"
    );
    assert!(
        policy.contains("img-src data:") && !policy.contains("https:"),
        "{policy}"
    );
    assert!(
        body.contains("Remote images are not loaded") && body.contains("images=1"),
        "{body}"
    );
    let asked = crate::campaigns::outsider_get(&c, &format!("/review/{token}/sample?images=1")).await;
    let policy = asked.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.contains("img-src https: data:"), "{policy}");
    assert!(!asked.text().await.unwrap().contains("Remote images are not loaded"));
    // The campaign's own preview too.
    let b = c.app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let preview = b.get(&format!("/workspaces/{}/campaigns/{id}/preview", c.ws)).await;
    let policy = preview
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(!policy.contains("https:"), "{policy}");
    c.app.stop().await;
}
