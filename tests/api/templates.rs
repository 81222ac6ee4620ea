//! The template library over HTTP (SPEC §9.1): save-time checks of placeholders and syntax,
//! the sandbox (escaping, loops, size), previews for a contact, copies, shares, favourites,
//! scopes, and a one-to-one send from a template through the Mailgun fake.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{TestApp, error_fields};
use crate::messaging::{Setup, entry, mailgun, mailgun_accepts, queue, setup};

const ALL: &[&str] = &[
    "read:contacts",
    "write:contacts",
    "read:templates",
    "write:templates",
    "send:messages",
    "manage:workspaces",
];

fn templates(s: &Setup) -> String {
    format!("/api/v1/workspaces/{}/templates", s.ws)
}

/// Setup with a key for templates, a workspace `birthday` date field, and Ada's year-less
/// birthday.
async fn with_templates() -> (Setup, crate::common::Api) {
    let mut s = setup().await;
    let andy = s.app.user_by_email("andy@example.com").await;
    s.key = s.app.key(&andy, ALL, None).await;
    let api = s.app.api(&s.key);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{}/custom-fields", s.ws),
            json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = api
        .patch(
            &format!("/api/v1/workspaces/{}/contacts/{}", s.ws, s.ada),
            json!({"custom_fields": {"birthday": "--07-04"}}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    (s, api)
}

fn rates() -> Value {
    json!({"name": "Rate update", "channel": "email",
           "subject": "{{ first_name | default('Hello') }}, rates fell",
           "preheader": "News for {{ full_name }}",
           "body": "<p>Hi {{ first_name }} of {{ company | default('your household') }},</p>\n<p>Happy early birthday ({{ custom.birthday }})!</p>\n<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a> · {{ sender.name }}, {{ workspace.name }}</p>"})
}

#[tokio::test]
async fn a_template_is_saved_listed_searched_changed_and_deleted() {
    let (s, api) = with_templates().await;
    let r = api.post(&templates(&s), rates()).await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["channel"], "email");
    assert_eq!(t["ai_generated"], false);
    assert_eq!(t["favorite"], false);
    let id = t["id"].as_str().unwrap().to_string();
    let text = api
        .post(
            &templates(&s),
            json!({"name": "Check-in", "channel": "text", "body": "How is the house, {{ first_name }}?"}),
        )
        .await;
    assert_eq!(text.status(), 201);

    let all: Value = api.get(&templates(&s)).await.json().await.unwrap();
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Check-in", "Rate update"]);
    let found: Value = api
        .get(&format!("{}?q=birthday", templates(&s)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["id"], id.as_str());

    // Favourites are the caller's own.
    let r = api
        .client
        .put(s.app.url(&format!("{}/{id}/favorite", templates(&s))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["favorite"], true);
    let favs: Value = api
        .get(&format!("{}?favorites=true", templates(&s)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(favs["items"].as_array().unwrap().len(), 1);
    let r = api.delete(&format!("{}/{id}/favorite", templates(&s))).await;
    assert_eq!(r.json::<Value>().await.unwrap()["favorite"], false);

    let r = api
        .patch(&format!("{}/{id}", templates(&s)), json!({"name": "Rates, November"}))
        .await;
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["name"], "Rates, November");
    assert_eq!(changed["subject"], t["subject"]);

    assert_eq!(api.delete(&format!("{}/{id}", templates(&s))).await.status(), 204);
    assert_eq!(api.get(&format!("{}/{id}", templates(&s))).await.status(), 404);
    let actions: Vec<String> = s.app.audit_actions().await.into_iter().map(|(a, _)| a).collect();
    for a in ["template.create", "template.update", "template.delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    s.app.stop().await;
}

#[tokio::test]
async fn bad_templates_are_422s_naming_the_part_the_placeholder_and_the_line() {
    let (s, api) = with_templates().await;
    let r = api
        .post(
            &templates(&s),
            json!({"name": "x", "channel": "email", "subject": "Hi {{ frist_name }}",
                   "body": "<p>{{ custom.nickname }}</p>"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(error_fields(&e), ["subject", "body"]);
    let text = e.to_string();
    assert!(text.contains("frist_name"), "{text}");
    assert!(
        text.contains("custom.nickname") && text.contains("no custom field named"),
        "{text}"
    );

    let r = api
        .post(
            &templates(&s),
            json!({"name": "x", "channel": "text", "body": "line one\nline two {{ first_name }\n"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "body");
    assert!(e["error"]["message"].as_str().unwrap().starts_with("line 2"), "{e}");

    // Variables of its own and repetition are refused: they could grow without bound.
    for body in [
        "{% set a = first_name %}{{ a }}",
        "{{ 'x' * 100000000 }}",
        "{% include 'x' %}",
    ] {
        let r = api
            .post(&templates(&s), json!({"name": "x", "channel": "text", "body": body}))
            .await;
        assert_eq!(r.status(), 422, "{body}");
    }
    // A loop that would run for ever stops quickly, with a clear message.
    let nested = "{% for a in workspace.name %}".repeat(8) + "x" + &"{% endfor %}".repeat(8);
    let started = std::time::Instant::now();
    let r = api
        .post(&templates(&s), json!({"name": "x", "channel": "text", "body": nested}))
        .await;
    assert_eq!(r.status(), 422);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"].as_str().unwrap().contains("too long to fill in"),
        "{e}"
    );
    // 256 KiB at most; an unknown filter; a missing channel; a missing subject.
    let big = "a".repeat(256 * 1024 + 1);
    let r = api
        .post(&templates(&s), json!({"name": "x", "channel": "text", "body": big}))
        .await;
    assert_eq!(r.status(), 422);
    let r = api
        .post(
            &templates(&s),
            json!({"name": "x", "channel": "text", "body": "{{ first_name | shout }}"}),
        )
        .await;
    assert!(r.json::<Value>().await.unwrap().to_string().contains("unknown filter"));
    let r = api
        .post(&templates(&s), json!({"name": "", "channel": "fax", "body": "x"}))
        .await;
    assert_eq!(error_fields(&r.json::<Value>().await.unwrap()), ["name", "channel"]);
    let r = api
        .post(&templates(&s), json!({"name": "x", "channel": "email", "body": "x"}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "subject");
    assert_eq!(s.app.count("SELECT count(*) FROM templates").await, 0);
    s.app.stop().await;
}

#[tokio::test]
async fn a_preview_fills_in_a_contact_escaping_html_and_reading_dates_as_words() {
    let (s, api) = with_templates().await;
    let r = api
        .patch(
            &format!("/api/v1/workspaces/{}/contacts/{}", s.ws, s.ada),
            json!({"first_name": "<script>alert(1)</script>Ada"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let t: Value = api.post(&templates(&s), rates()).await.json().await.unwrap();
    let id = t["id"].as_str().unwrap();
    let r = api
        .post(&format!("{}/{id}/preview", templates(&s)), json!({"contact_id": s.ada}))
        .await;
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["subject"], "<script>alert(1)</script>Ada, rates fell");
    let html = p["body_html"].as_str().unwrap();
    assert!(
        html.contains("Hi &lt;script&gt;alert(1)&lt;&#x2f;script&gt;Ada of your household"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("(July 4)"), "{html}");
    assert!(
        html.starts_with("<div style=\"display:none;max-height:0;overflow:hidden;mso-hide:all\">News for &lt;script&gt;alert(1)&lt;/script&gt;Ada Lovelace</div><p>"),
        "the preheader is hidden at the top, escaped: {html}"
    );
    assert!(html.contains("Andy, Loans"), "{html}");
    // No public address here: the unsubscribe link is a mail to the sender, never empty.
    assert!(!html.contains("href=\"\""), "{html}");
    assert!(
        html.contains("href=\"mailto:andy@example.com?subject=unsubscribe\""),
        "{html}"
    );
    let text = p["body_text"].as_str().unwrap();
    assert!(
        text.starts_with("Hi <script>alert(1)</script>Ada of your household,"),
        "{text}"
    );
    assert!(
        !text.contains("News for"),
        "the hidden preheader stays out of the text part: {text}"
    );
    // Without a contact: the sample one. Another workspace's contact: 422.
    let p: Value = api
        .post(&format!("{}/{id}/preview", templates(&s)), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(p["subject"].as_str().unwrap().starts_with("Ada, rates fell"));
    // The editor's live preview of a draft.
    let r = api
        .post(
            &format!("{}/preview", templates(&s)),
            json!({"channel": "text", "body": "Hi {{ first_name | upper }}", "contact_id": s.ada}),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["body_text"],
        "Hi <SCRIPT>ALERT(1)</SCRIPT>ADA"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn copies_and_shares_reach_the_other_person_read_only() {
    let (s, api) = with_templates().await;
    let t: Value = api.post(&templates(&s), rates()).await.json().await.unwrap();
    let id = t["id"].as_str().unwrap();
    // A copy in the same workspace.
    let r = api.post(&format!("{}/{id}/copy", templates(&s)), json!({})).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "Copy of Rate update");
    // Into another workspace of Andy's that has no `birthday` field: the placeholder is named.
    let andy = s.app.user_by_email("andy@example.com").await;
    let other = s.app.workspace(&andy, "Personal").await;
    let r = api
        .post(&format!("{}/{id}/copy", templates(&s)), json!({"workspace_id": other}))
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("custom.birthday"));

    // Shared with Monalisa: she sees it under "shared with me", cannot reach it in Andy's
    // workspace, and copies it into hers.
    let mona = s.app.create_user("mona@example.com", "Monalisa").await;
    let hers = s.app.workspace(&mona, "Mona's").await;
    let mona_api = s.app.api(&s.app.key(&mona, ALL, None).await);
    let r = api
        .post(
            &format!("{}/{id}/share", templates(&s)),
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = api
        .post(
            &format!("{}/{id}/share", templates(&s)),
            json!({"email": "Mona@Example.com"}),
        )
        .await;
    assert_eq!(r.status(), 204);
    // Her preview of it loads no remote image (a tracking pixel would tell Andy she opened
    // it) until she asks.
    let mona_browser = s.app.browser();
    mona_browser.login("mona@example.com", crate::common::PASSWORD).await;
    let preview = mona_browser.get(&format!("/templates/shared/{id}/preview")).await;
    assert_eq!(preview.status, 200);
    let policy = preview
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        policy.contains("img-src data:") && !policy.contains("https:"),
        "{policy}"
    );
    let loaded = mona_browser
        .get(&format!("/templates/shared/{id}/preview?images=1"))
        .await;
    let policy = loaded.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(policy.contains("img-src https: data:"), "{policy}");
    let shared: Value = mona_api.get("/api/v1/templates/shared").await.json().await.unwrap();
    assert_eq!(shared["items"].as_array().unwrap().len(), 1);
    assert_eq!(shared["items"][0]["shared_by"], "Andy");
    assert_eq!(shared["items"][0]["name"], "Rate update");
    assert_eq!(mona_api.get(&format!("{}/{id}", templates(&s))).await.status(), 404);
    assert_eq!(
        mona_api.get(&format!("/api/v1/templates/shared/{id}")).await.status(),
        200
    );
    // Her copy needs the field in her workspace too.
    let r = mona_api
        .post(
            &format!("/api/v1/templates/shared/{id}/copy"),
            json!({"workspace_id": hers}),
        )
        .await;
    assert_eq!(r.status(), 422);
    mona_api
        .post(
            &format!("/api/v1/workspaces/{hers}/custom-fields"),
            json!({"field_name": "birthday", "field_type": "date"}),
        )
        .await;
    let r = mona_api
        .post(
            &format!("/api/v1/templates/shared/{id}/copy"),
            json!({"workspace_id": hers}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let copy: Value = r.json().await.unwrap();
    assert_eq!(copy["workspace_id"], hers.as_str());
    assert_eq!(copy["name"], "Rate update");
    // Not into Andy's workspace, which she cannot reach; Andy's own list is unchanged.
    let r = mona_api
        .post(
            &format!("/api/v1/templates/shared/{id}/copy"),
            json!({"workspace_id": s.ws}),
        )
        .await;
    assert_eq!(r.status(), 422);
    // Nobody else sees it.
    let grace = s.app.create_user("grace@example.com", "Grace").await;
    let grace_api = s.app.api(&s.app.key(&grace, ALL, None).await);
    assert_eq!(
        grace_api.get(&format!("/api/v1/templates/shared/{id}")).await.status(),
        404
    );
    s.app.stop().await;
}

#[tokio::test]
async fn scopes_and_roles_guard_templates() {
    let (s, api) = with_templates().await;
    let andy = s.app.user_by_email("andy@example.com").await;
    let read_only = s.app.api(&s.app.key(&andy, &["read:templates"], None).await);
    let contacts_only = s.app.api(&s.app.key(&andy, &["read:contacts"], None).await);
    assert_eq!(read_only.get(&templates(&s)).await.status(), 200);
    assert_eq!(read_only.post(&templates(&s), rates()).await.status(), 403);
    assert_eq!(contacts_only.get(&templates(&s)).await.status(), 403);
    assert_eq!(contacts_only.get("/api/v1/templates/shared").await.status(), 403);
    // A viewer reads, previews and keeps favourites, but does not write.
    let id = api.post(&templates(&s), rates()).await.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mona = s.app.create_user("mona@example.com", "Monalisa").await;
    api.post(
        &format!("/api/v1/workspaces/{}/members", s.ws),
        json!({"email": "mona@example.com", "role": "viewer"}),
    )
    .await;
    let viewer = s.app.api(&s.app.key(&mona, ALL, None).await);
    assert_eq!(viewer.get(&format!("{}/{id}", templates(&s))).await.status(), 200);
    assert_eq!(
        viewer
            .post(&format!("{}/{id}/preview", templates(&s)), json!({}))
            .await
            .status(),
        200
    );
    assert_eq!(
        viewer
            .patch(&format!("{}/{id}", templates(&s)), json!({"name": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(
        viewer
            .post(&format!("{}/{id}/copy", templates(&s)), json!({}))
            .await
            .status(),
        403
    );
    let r = viewer
        .client
        .put(s.app.url(&format!("{}/{id}/favorite", templates(&s))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Her favourite is hers: Andy's view is unchanged.
    assert_eq!(
        api.get(&format!("{}/{id}", templates(&s)))
            .await
            .json::<Value>()
            .await
            .unwrap()["favorite"],
        false
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_message_sent_from_a_template_is_filled_in_for_the_contact() {
    let (s, api) = with_templates().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("tpl.1@mg.example.com"))
        .expect(1)
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let t: Value = api.post(&templates(&s), rates()).await.json().await.unwrap();
    let text_t: Value = api
        .post(
            &templates(&s),
            json!({"name": "t", "channel": "text", "body": "Hi {{ first_name }}"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // A text template cannot go as an email; an unknown id is named.
    let r = crate::messaging::send(&s, json!({"channel": "email", "template_id": text_t["id"]})).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("text template"));
    let r = crate::messaging::send(
        &s,
        json!({"channel": "email", "template_id": "00000000-0000-7000-8000-000000000000"}),
    )
    .await;
    assert_eq!(r.status(), 422);

    let id = queue(&s, json!({"channel": "email", "template_id": t["id"]})).await;
    s.app.drain_outbox().await;
    let sent = entry(&s, &id).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["content"]["subject"], "Ada, rates fell");
    assert_eq!(sent["content"]["template_id"], t["id"]);
    let requests = fake.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&requests[0].body).to_string();
    assert!(body.contains("Happy early birthday (July 4)!"), "{body}");
    assert!(body.contains("Hi Ada of your household,"), "{body}");
    s.app.stop().await;
}

#[tokio::test]
async fn templates_are_not_shared_across_workspaces_by_accident() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let other = app.workspace(&andy, "Personal").await;
    let api = app.api(&app.key(&andy, ALL, None).await);
    let t: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/templates"),
            json!({"name": "t", "channel": "text", "body": "Hi"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // The id under another workspace of the same person names nothing.
    let r = api
        .get(&format!(
            "/api/v1/workspaces/{other}/templates/{}",
            t["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}

/// A shared template that names a field the other workspace lacks is not a dead end: the page
/// names the fields and makes them (as the sharer has them) with the copy, in one step; the
/// API does the same with `create_missing_fields`.
#[tokio::test]
async fn copying_a_shared_template_offers_to_make_the_fields_it_needs() {
    let (s, api) = with_templates().await;
    let id = api.post(&templates(&s), rates()).await.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mona = s.app.create_user("mona@example.com", "Monalisa").await;
    let hers = s.app.workspace(&mona, "Mona's").await;
    let second = s.app.workspace(&mona, "Mona's club").await;
    let r = api
        .post(
            &format!("{}/{id}/share", templates(&s)),
            json!({"email": "mona@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let browser = s.app.browser();
    browser.login("mona@example.com", crate::common::PASSWORD).await;

    // A plain copy comes back to the shared page with the offer, naming the field and its type.
    let p = browser
        .submit(
            "/templates/shared",
            &format!("/templates/shared/{id}/copy"),
            &[("workspace_id", hers.as_str())],
        )
        .await;
    assert_eq!(p.status, 303);
    let offer_at = p.location.unwrap();
    assert_eq!(offer_at, format!("/templates/shared?copy={id}&into={hers}#offer-{id}"));
    let page = browser.get(offer_at.split('#').next().unwrap()).await;
    assert!(
        page.body.contains("has no field for what this template fills in"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Birthday (Date)"), "{}", page.body);
    assert!(page.body.contains("Create this field and copy"));
    let mona_api = s.app.api(&s.app.key(&mona, ALL, None).await);
    let fields = |ws: String| {
        let api = &mona_api;
        async move {
            let list: Value = api
                .get(&format!("/api/v1/workspaces/{ws}/custom-fields"))
                .await
                .json()
                .await
                .unwrap();
            list["items"].as_array().unwrap().clone()
        }
    };
    assert!(
        fields(hers.to_string()).await.is_empty(),
        "nothing is made before she agrees"
    );

    // She agrees: the field is made like Andy's, and the copy is hers.
    let p = browser
        .submit(
            &format!("/templates/shared?copy={id}&into={hers}"),
            &format!("/templates/shared/{id}/copy"),
            &[("workspace_id", hers.as_str()), ("create_fields", "1")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(
        p.location
            .unwrap()
            .starts_with(&format!("/workspaces/{hers}/templates/"))
    );
    let made = fields(hers.to_string()).await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["field_name"], "birthday");
    assert_eq!(made[0]["label"], "Birthday");
    assert_eq!(made[0]["field_type"], "date");

    // The API: a 422 without the flag, the field and the copy with it.
    let r = mona_api
        .post(
            &format!("/api/v1/templates/shared/{id}/copy"),
            json!({"workspace_id": second}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(fields(second.to_string()).await.is_empty());
    let r = mona_api
        .post(
            &format!("/api/v1/templates/shared/{id}/copy"),
            json!({"workspace_id": second, "create_missing_fields": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(fields(second.to_string()).await[0]["field_type"], "date");
    // Into a workspace she cannot edit, nothing is offered or made.
    let r = mona_api
        .post(
            &format!("/api/v1/templates/shared/{id}/copy"),
            json!({"workspace_id": s.ws, "create_missing_fields": true}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = browser.get(&format!("/templates/shared?copy={id}&into={}", s.ws)).await;
    assert!(!page.body.contains("and copy</button>"));
    s.app.stop().await;
}
