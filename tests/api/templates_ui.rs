//! The template, AI and insight pages over real HTTP: CSRF on every new form, bad input shown
//! beside its field with what was typed kept, the preview as its own sandboxed document, a
//! viewer's read-only editor, "Draft with AI" on the contact page against a fake model, the AI
//! settings, and dismissing an insight from the dashboard.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::messaging_ui::ui;

#[tokio::test]
async fn a_template_is_written_checked_previewed_and_kept_from_the_pages() {
    let u = ui().await;
    let list = format!("/workspaces/{}/templates", u.ws);
    let page = u.browser.get(&list).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No templates yet."));
    // Without the CSRF token: refused, nothing saved.
    let refused = u
        .browser
        .post_raw(&list, &[("name", "x"), ("channel", "text"), ("body", "Hi")])
        .await;
    assert_eq!(refused.status, 403);
    // A bad placeholder: 422, named beside the body, what was typed kept.
    let bad = u
        .browser
        .submit(
            &format!("{list}/new"),
            &list,
            &[
                ("name", "Rates"),
                ("channel", "email"),
                ("subject", "Hi {{ first_name }}"),
                ("body", "<p>{{ nickname }}</p>"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("unknown placeholder {{ nickname }}"), "{}", bad.body);
    let typed = bad.body.split("id=\"tpl-body\"").nth(1).unwrap_or_default();
    assert!(typed.contains("{{ nickname }}"), "typed text kept: {typed}");
    assert_eq!(u.app.count("SELECT count(*) FROM templates").await, 0);
    let saved = u
        .browser
        .submit(
            &format!("{list}/new"),
            &list,
            &[
                ("name", "Rates"),
                ("channel", "email"),
                ("subject", "{{ first_name }}, rates fell"),
                ("preheader", ""),
                ("body", "<p>Hi {{ first_name }}</p><script>alert(1)</script>"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let editor = saved.location.unwrap();
    let id = editor.rsplit('/').next().unwrap().to_string();
    let page = u.browser.get(&editor).await;
    assert!(page.body.contains("Template saved."));
    // The template's HTML is never in pi-crm's own page except escaped in the textarea…
    assert!(!page.body.contains("<script>alert(1)</script>"));
    assert!(page.body.contains("sandbox"), "the preview frame is sandboxed");
    // …and the preview is its own document under a policy that runs no script.
    let preview = u.browser.get(&format!("{editor}/preview?contact={}", u.ada)).await;
    assert_eq!(preview.status, 200);
    let policy = preview
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        policy.starts_with("sandbox;") && policy.contains("default-src 'none'"),
        "{policy}"
    );
    assert!(!policy.contains("script-src"));
    assert_eq!(preview.headers.get("x-frame-options").unwrap(), "SAMEORIGIN");
    assert!(
        preview.body.contains("Ada, rates fell") && preview.body.contains("<p>Hi Ada</p>"),
        "{}",
        preview.body
    );
    // The live preview of a draft, posted from the editor; a bad draft says what is wrong.
    let live = u
        .browser
        .submit(
            &editor,
            &format!("{list}/preview"),
            &[
                ("channel", "text"),
                ("body", "Yo {{ first_name | upper }}"),
                ("contact_id", &u.ada),
            ],
        )
        .await;
    assert!(live.body.contains("Yo ADA"), "{}", live.body);
    let broken = u
        .browser
        .submit(
            &editor,
            &format!("{list}/preview"),
            &[("channel", "text"), ("body", "{{ oops")],
        )
        .await;
    assert!(broken.body.contains("This cannot be filled in yet"), "{}", broken.body);
    // Favourite, then the list shows the star; search finds it.
    let fav = u
        .browser
        .submit(&editor, &format!("{editor}/favorite"), &[("on", "1")])
        .await;
    assert_eq!(fav.status, 303);
    let page = u.browser.get(&format!("{list}?favorites=1")).await;
    assert!(page.body.contains("Remove Rates from favourites"), "{}", page.body);
    let page = u.browser.get(&format!("{list}?q=nothing-like-this")).await;
    assert!(page.body.contains("No template matches."));
    // Share with someone unknown: said, not a crash; delete.
    let shared = u
        .browser
        .submit(&editor, &format!("{editor}/share"), &[("email", "nobody@example.com")])
        .await;
    assert_eq!(shared.status, 303);
    let page = u.browser.get(&editor).await;
    assert!(
        page.body
            .contains("Not shared: nobody with this email has a pi-crm account here"),
        "{}",
        page.body
    );
    let gone = u.browser.submit(&editor, &format!("{editor}/delete"), &[]).await;
    assert_eq!(gone.status, 303);
    assert_eq!(u.app.count("SELECT count(*) FROM templates").await, 0);
    assert_eq!(u.browser.get(&format!("{list}/{id}")).await.status, 404);
    u.app.stop().await;
}

#[tokio::test]
async fn ai_drafts_on_the_contact_page_and_the_wizard_say_plainly_what_happened() {
    let u = ui().await;
    let contact = format!("/workspaces/{}/contacts/{}", u.ws, u.ada);
    // Without an AI service: a link to set one up, and the wizard says so.
    let page = u.browser.get(&contact).await;
    assert!(page.body.contains("AI drafts need an AI service for this workspace."));
    let wizard = format!("/workspaces/{}/templates/wizard", u.ws);
    assert!(
        u.browser
            .get(&wizard)
            .await
            .body
            .contains("This workspace has no AI service yet.")
    );
    // The owner sets one on the Messaging page.
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "{\"subject\": \"Happy birthday, Ada\", \"body\": \"Hi Ada,\\n\\nHappy birthday!\\n\\nAndy\"}"}}]})))
        .mount(&fake)
        .await;
    let messaging = format!("/workspaces/{}/messaging", u.ws);
    let bad = u
        .browser
        .submit(
            &messaging,
            &format!("{messaging}/ai"),
            &[("kind", "openai"), ("base_url", "nope"), ("model", "m")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("base_url must be an http or https address"));
    let base = format!("{}/v1", fake.uri());
    let ok = u
        .browser
        .submit(
            &messaging,
            &format!("{messaging}/ai"),
            &[
                ("kind", "openai"),
                ("base_url", &base),
                ("model", "llama3.2"),
                ("daily_token_limit", "5000"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    let page = u.browser.get(&messaging).await;
    assert!(page.body.contains("llama3.2 at"), "{}", page.body);
    assert!(page.body.contains("0 of 5000 tokens used"), "{}", page.body);
    let tested = u.browser.submit(&messaging, &format!("{messaging}/ai/test"), &[]).await;
    assert!(tested.body.contains("The AI service answered."), "{}", tested.body);

    // "Draft with AI" fills the email form; nothing is sent.
    let refused = u
        .browser
        .post_raw(&format!("{contact}/ai-draft"), &[("goal", "x"), ("channel", "email")])
        .await;
    assert_eq!(refused.status, 403);
    let drafted = u
        .browser
        .submit(
            &contact,
            &format!("{contact}/ai-draft"),
            &[("goal", "wish a happy birthday"), ("channel", "email")],
        )
        .await;
    assert_eq!(drafted.status, 200);
    assert!(drafted.body.contains("Drafted by AI from what pi-crm knows about Ada."));
    assert!(
        drafted.body.contains("value=\"Happy birthday, Ada\""),
        "the subject is in the form"
    );
    assert!(drafted.body.contains("Happy birthday!"));
    let empty = u
        .browser
        .submit(
            &contact,
            &format!("{contact}/ai-draft"),
            &[("goal", ""), ("channel", "email")],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("say what the goal is"));
    // The service failing is said above the form.
    fake.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_raw("<h1>503 Service Unavailable</h1>", "text/html"))
        .mount(&fake)
        .await;
    let failed = u
        .browser
        .submit(
            &contact,
            &format!("{contact}/ai-draft"),
            &[("goal", "hello"), ("channel", "text")],
        )
        .await;
    assert!(
        failed.body.contains("No draft: the AI service answered 503"),
        "{}",
        failed.body
    );
    let failed = u
        .browser
        .submit(
            &wizard,
            &wizard,
            &[
                ("goal", "rates fell"),
                ("channel", "email"),
                ("length", "short"),
                ("step", "draft"),
            ],
        )
        .await;
    assert!(failed.body.contains("the AI service answered 503"), "{}", failed.body);
    assert!(failed.body.contains("Goal: rates fell"), "the prompt stays in view");
    u.app.stop().await;
}

#[tokio::test]
async fn a_viewer_reads_templates_but_cannot_change_them_and_insights_are_dismissed_with_csrf() {
    let u = ui().await;
    let andy = u.app.user_by_email("andy@example.com").await;
    let api = u.app.api(
        &u.app
            .key(&andy, &["write:templates", "read:templates", "manage:workspaces"], None)
            .await,
    );
    let t: Value = api
        .post(
            &format!("/api/v1/workspaces/{}/templates", u.ws),
            json!({"name": "Hello", "channel": "text", "body": "Hi {{ first_name }}"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (_, mona) = u.app.user_browser("mona@example.com").await;
    let added = api
        .post(
            &format!("/api/v1/workspaces/{}/members", u.ws),
            json!({"email": "mona@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let editor = format!("/workspaces/{}/templates/{}", u.ws, t["id"].as_str().unwrap());
    let page = mona.get(&editor).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("readonly") && !page.body.contains("Save template"),
        "read-only for a viewer"
    );
    assert_eq!(
        mona.submit(&editor, &editor, &[("name", "x"), ("channel", "text"), ("body", "y")])
            .await
            .status,
        403
    );
    assert_eq!(
        mona.get(&format!("/workspaces/{}/templates/wizard", u.ws)).await.status,
        403
    );

    // An insight on Andy's dashboard: dismissed only with the form's token.
    sqlx::query("UPDATE base_contacts SET created_on = '2020-01-01T00:00:00Z'")
        .execute(&u.app.state.db)
        .await
        .unwrap();
    let key = u.app.key(&andy, &["write:contacts"], None).await;
    let stage: Value = u
        .app
        .api(&key)
        .post(
            &format!("/api/v1/workspaces/{}/lists", u.ws),
            json!({"name": "Application", "is_primary": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    u.app
        .api(&key)
        .client
        .put(u.app.url(&format!(
            "/api/v1/workspaces/{}/contacts/{}/lists/{}",
            u.ws,
            u.ada,
            stage["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    sqlx::query("UPDATE contact_list_assignments SET assigned_at = '2020-01-01T00:00:00Z'")
        .execute(&u.app.state.db)
        .await
        .unwrap();
    sqlx::query("UPDATE communication_logs SET timestamp = '2020-01-01T00:00:00Z'")
        .execute(&u.app.state.db)
        .await
        .unwrap();
    pi_crm::jobs::insights::run(&u.app.state).await.unwrap();
    let page = u.browser.get("/").await;
    assert!(page.body.contains("Ada has been in Application for"), "{}", page.body);
    let id: String = sqlx::query_scalar("SELECT id FROM ai_insights WHERE type = 'pipeline_stall' AND user_id = ?")
        .bind(andy.id.to_string())
        .fetch_one(&u.app.state.db)
        .await
        .unwrap();
    assert_eq!(
        u.browser.post_raw(&format!("/insights/{id}/dismiss"), &[]).await.status,
        403
    );
    assert_eq!(
        mona.submit("/", &format!("/insights/{id}/dismiss"), &[]).await.status,
        404,
        "not hers"
    );
    let done = u.browser.submit("/", &format!("/insights/{id}/dismiss"), &[]).await;
    assert_eq!(done.status, 303);
    assert!(!u.browser.get("/").await.body.contains("has been in Application for"));
    u.app.stop().await;
}
