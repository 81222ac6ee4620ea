//! The messaging pages over real HTTP: sending from the contact page, the Messaging page's
//! provider forms and suppression list, the unknown-senders inbox, the dashboard's "needs a
//! look" — with CSRF on every new form, owner-only providers, and other people's workspaces
//! answering 404.

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{PASSWORD, TestApp};

/// Andy signed in, his workspace, and Ada (an email and a phone) in it.
pub struct Ui {
    pub app: TestApp,
    pub ws: String,
    pub ada: String,
    pub browser: crate::common::Browser,
}

pub async fn ui() -> Ui {
    let app = TestApp::spawn_with(|c| c.outbox_retry_base_seconds = 0).await;
    let (andy, browser) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app.key(&andy, &["write:contacts"], None).await;
    let ada = app
        .api(&key)
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "primary_email": "ada@example.com", "primary_phone": "+14155550123"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Ui { app, ws, ada, browser }
}

#[tokio::test]
async fn an_owner_sets_up_mailgun_and_sends_from_the_contact_page() {
    let u = ui().await;
    let messaging = format!("/workspaces/{}/messaging", u.ws);
    let contact = format!("/workspaces/{}/contacts/{}", u.ws, u.ada);
    // Before any provider: the contact page says why, and links the owner to set one up.
    let page = u.browser.get(&contact).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("No email provider is set up for this workspace yet.")
    );
    assert!(page.body.contains(&format!("href=\"{messaging}\"")));

    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "<ui.1@mg.example.com>", "message": "Queued. Thank you."})),
        )
        .mount(&fake)
        .await;
    // A form with mistakes: every one shown, nothing saved, what was typed kept (not secrets).
    let page = u
        .browser
        .submit(
            &messaging,
            &format!("{messaging}/email"),
            &[
                ("kind", "mailgun"),
                ("domain", "mg example com"),
                ("from", "andy"),
                ("api_key", "key-typed-secret"),
                ("webhook_signing_key", ""),
                ("api_base", &fake.uri()),
                ("per_minute", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("domain is a domain name such as mg.example.com"));
    assert!(page.body.contains("from must be an address"));
    assert!(page.body.contains("webhook_signing_key is required"));
    assert!(page.body.contains("value=\"mg example com\""));
    assert!(
        !page.body.contains("key-typed-secret"),
        "a secret is never put back into the page"
    );
    assert_eq!(u.app.count("SELECT count(*) FROM provider_settings").await, 0);
    // Without the CSRF token: 403, nothing saved.
    let page = u
        .browser
        .post_raw(
            &format!("{messaging}/email"),
            &[("kind", "mailgun"), ("domain", "mg.example.com")],
        )
        .await;
    assert_eq!(page.status, 403);
    let page = u
        .browser
        .submit(
            &messaging,
            &format!("{messaging}/email"),
            &[
                ("kind", "mailgun"),
                ("domain", "mg.example.com"),
                ("from", "Andy <andy@mg.example.com>"),
                ("api_key", "key-ui-secret"),
                ("webhook_signing_key", "sign-ui-secret"),
                ("api_base", &fake.uri()),
                ("per_minute", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = u.browser.get(&messaging).await;
    assert!(page.body.contains("Provider saved."));
    assert!(
        page.body.contains("from Andy &lt;andy@mg.example.com&gt;")
            || page.body.contains("from Andy &#60;andy@mg.example.com&#62;"),
        "{}",
        page.body
    );
    assert!(page.body.contains("saved — leave empty to keep"));
    assert!(!page.body.contains("key-ui-secret") && !page.body.contains("sign-ui-secret"));
    // The test button reports what the provider said.
    let page = u
        .browser
        .submit(&messaging, &format!("{messaging}/email/test"), &[("to", "")])
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("The provider took the test message."));

    // Sending from the contact page: a mistake is shown beside the message's own inputs.
    let page = u
        .browser
        .submit(
            &contact,
            &format!("{contact}/messages"),
            &[("channel", "email"), ("subject", ""), ("body", "Hello")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("write a subject"));
    assert!(page.body.contains(">Hello</textarea>"), "what was written is kept");
    let page = u
        .browser
        .post_raw(
            &format!("{contact}/messages"),
            &[("channel", "email"), ("subject", "Hi"), ("body", "x")],
        )
        .await;
    assert_eq!(page.status, 403);
    let page = u
        .browser
        .submit(
            &contact,
            &format!("{contact}/messages"),
            &[
                ("channel", "email"),
                ("subject", "Rate update"),
                ("body", "Rates fell today."),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    u.app.drain_outbox().await;
    let page = u.browser.get(&contact).await;
    assert!(page.body.contains("Email on its way."));
    assert!(page.body.contains("Rate update") && page.body.contains("Rates fell today."));
    assert!(page.body.contains("data-status=\"sent\""), "{}", page.body);
    assert!(
        page.body.contains("hx-trigger=\"every 3s\""),
        "a delivery report may come: the timeline refreshes"
    );
    // Texts: no provider yet, so the text form is not offered.
    assert!(page.body.contains("No text provider is set up for this workspace yet."));
    assert_eq!(u.app.count("SELECT count(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn a_failed_message_offers_send_again_and_the_dashboard_flags_it() {
    let u = ui().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "<again@mg.example.com>"})))
        .with_priority(2)
        .mount(&fake)
        .await;
    let messaging = format!("/workspaces/{}/messaging", u.ws);
    let page = u
        .browser
        .submit(
            &messaging,
            &format!("{messaging}/email"),
            &[
                ("kind", "mailgun"),
                ("domain", "mg.example.com"),
                ("from", "andy@mg.example.com"),
                ("api_key", "k"),
                ("webhook_signing_key", "s"),
                ("api_base", &fake.uri()),
                ("per_minute", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let contact = format!("/workspaces/{}/contacts/{}", u.ws, u.ada);
    u.browser
        .submit(
            &contact,
            &format!("{contact}/messages"),
            &[
                ("channel", "email"),
                ("subject", "Closing date"),
                ("body", "See you Friday"),
            ],
        )
        .await;
    u.app.drain_outbox().await;
    let page = u.browser.get(&contact).await;
    assert!(page.body.contains("may not have been sent"));
    assert!(
        page.body
            .contains("It may not have been sent: Mailgun answered 502 Bad Gateway")
    );
    let dash = u.browser.get("/").await;
    assert!(dash.body.contains("Messages that need a look"));
    assert!(dash.body.contains("Closing date"));
    // The button sends it again (with CSRF); without the token nothing happens.
    let entry: String = sqlx::query_scalar("SELECT id FROM communication_logs")
        .fetch_one(&u.app.state.db)
        .await
        .unwrap();
    let again = format!("{contact}/timeline/{entry}/send-again");
    assert_eq!(u.browser.post_raw(&again, &[]).await.status, 403);
    assert_eq!(u.browser.submit(&contact, &again, &[]).await.status, 303);
    u.app.drain_outbox().await;
    let page = u.browser.get(&contact).await;
    assert!(page.body.contains("data-status=\"sent\""));
    assert!(!u.browser.get("/").await.body.contains("Messages that need a look"));
}

#[tokio::test]
async fn suppressions_and_the_inbox_in_the_ui() {
    let u = ui().await;
    let messaging = format!("/workspaces/{}/messaging", u.ws);
    let page = u
        .browser
        .submit(
            &messaging,
            &format!("{messaging}/suppressions"),
            &[("address", "nope"), ("channel", "email")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("field-error"));
    let page = u
        .browser
        .submit(
            &messaging,
            &format!("{messaging}/suppressions"),
            &[("address", "Ada@Example.com"), ("channel", "email")],
        )
        .await;
    assert_eq!(page.status, 303);
    let page = u.browser.get(&messaging).await;
    assert!(page.body.contains("Nothing will be sent to ada@example.com any more."));
    // The contact page says why email is not offered.
    let contact = format!("/workspaces/{}/contacts/{}", u.ws, u.ada);
    let fake = MockServer::start().await;
    u.browser
        .submit(
            &messaging,
            &format!("{messaging}/email"),
            &[
                ("kind", "smtp"),
                ("host", "127.0.0.1"),
                ("port", "2525"),
                ("security", "none"),
                ("from", "andy@example.com"),
            ],
        )
        .await;
    let _ = fake;
    let page = u.browser.get(&contact).await;
    assert!(
        page.body
            .contains("ada@example.com is on the suppression list (manual); nothing is sent to it."),
        "{}",
        page.body
    );
    let id: String = sqlx::query_scalar("SELECT id FROM suppressions")
        .fetch_one(&u.app.state.db)
        .await
        .unwrap();
    assert_eq!(
        u.browser
            .post_raw(&format!("{messaging}/suppressions/{id}/delete"), &[])
            .await
            .status,
        403
    );
    assert_eq!(
        u.browser
            .submit(&messaging, &format!("{messaging}/suppressions/{id}/delete"), &[])
            .await
            .status,
        303
    );
    assert_eq!(u.app.count("SELECT count(*) FROM suppressions").await, 0);

    // An unknown sender's text, put there as Twilio's webhook would.
    let ws = pi_crm::domain::ids::WorkspaceId::parse(&u.ws).unwrap();
    let (access, _) =
        pi_crm::domain::workspace::for_system(&pi_crm::domain::workspace::System::acting(), &u.app.state.db, &ws)
            .await
            .unwrap()
            .unwrap();
    let text = pi_crm::domain::messaging::inbound::InboundText {
        sid: "SMinbox1",
        from: "+12025550188",
        to: "+14155550100",
        body: "Hi, it's Grace from the open house",
        media: Vec::new(),
    };
    pi_crm::domain::messaging::inbound::receive_text(&u.app.state.db, "US", &access, text)
        .await
        .unwrap();
    let inbox = format!("/workspaces/{}/inbox", u.ws);
    let page = u.browser.get(&inbox).await;
    assert!(
        page.body.contains("Hi, it's Grace from the open house") || page.body.contains("Hi, it&#39;s Grace"),
        "{}",
        page.body
    );
    assert!(page.body.contains("+1 202-555-0188"), "{}", page.body);
    assert!(u.browser.get("/").await.body.contains("1 text in Loans"));
    let message: String = sqlx::query_scalar("SELECT id FROM inbox_messages")
        .fetch_one(&u.app.state.db)
        .await
        .unwrap();
    assert_eq!(
        u.browser
            .post_raw(&format!("{inbox}/{message}/contact"), &[("first_name", "Grace")])
            .await
            .status,
        403
    );
    let page = u
        .browser
        .submit(
            &inbox,
            &format!("{inbox}/{message}/contact"),
            &[("first_name", "Grace"), ("last_name", "Hopper")],
        )
        .await;
    assert_eq!(page.status, 303);
    let to = page.location.unwrap();
    let contact_page = u.browser.get(&to).await;
    assert!(contact_page.body.contains("Grace Hopper"));
    assert!(contact_page.body.contains("from the open house"));
    assert_eq!(u.app.count("SELECT count(*) FROM inbox_messages").await, 0);
}

#[tokio::test]
async fn messaging_pages_are_404_to_strangers_and_provider_forms_owner_only() {
    let u = ui().await;
    let (_, mona) = u.app.user_browser("mona@example.com").await;
    let messaging = format!("/workspaces/{}/messaging", u.ws);
    let inbox = format!("/workspaces/{}/inbox", u.ws);
    let contact = format!("/workspaces/{}/contacts/{}", u.ws, u.ada);
    for path in [&messaging, &inbox] {
        assert_eq!(mona.get(path).await.status, 404, "{path}");
    }
    // Her own page's token, posted at Andy's workspace: still 404, nothing changes.
    for path in [
        format!("{messaging}/email"),
        format!("{messaging}/email/test"),
        format!("{messaging}/suppressions"),
        format!("{contact}/messages"),
    ] {
        let page = mona
            .submit(
                "/",
                &path,
                &[
                    ("kind", "smtp"),
                    ("address", "x@y.z"),
                    ("channel", "email"),
                    ("subject", "s"),
                    ("body", "b"),
                ],
            )
            .await;
        assert_eq!(page.status, 404, "{path}");
    }
    // Shared as an editor: she sees the suppression list but no provider forms, and cannot save one.
    let andy_key = {
        let andy = pi_crm::storage::users::find_by_email(&u.app.state.db, "andy@example.com")
            .await
            .unwrap()
            .unwrap();
        u.app.key(&andy, &["manage:workspaces"], None).await
    };
    u.app
        .api(&andy_key)
        .post(
            &format!("/api/v1/workspaces/{}/members", u.ws),
            json!({"email": "mona@example.com", "role": "editor"}),
        )
        .await;
    let page = mona.get(&messaging).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Only the workspace's owner sets up email and text providers.")
    );
    assert!(!page.body.contains("Save Mailgun"));
    let page = mona
        .submit(
            &messaging,
            &format!("{messaging}/email"),
            &[
                ("kind", "smtp"),
                ("host", "h"),
                ("port", "25"),
                ("security", "none"),
                ("from", "m@example.com"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(u.app.count("SELECT count(*) FROM provider_settings").await, 0);
    let _ = PASSWORD;
}
