//! `/api/v1/me` and the profile's own time zone (SPEC §5): every time the UI shows a person is
//! in their zone, whatever the workspace's.

use serde_json::{Value, json};

use crate::common::TestApp;

#[tokio::test]
async fn me_reads_and_changes_the_callers_profile() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let reader = app.api(&app.key(&andy, &["read:contacts"], None).await);
    let me: Value = reader.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(
        me,
        json!({"id": andy.id.to_string(), "name": "Andy", "email": "andy@example.com", "timezone": null})
    );
    // A read-only key cannot change the profile.
    assert_eq!(
        reader
            .patch("/api/v1/me", json!({"timezone": "Europe/Berlin"}))
            .await
            .status(),
        403
    );
    let owner = app.api(&app.key(&andy, &["manage:workspaces"], None).await);
    // Every mistake at once, and nothing written.
    let r = owner
        .patch("/api/v1/me", json!({"name": " ", "timezone": "Mars/Olympus"}))
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let fields = crate::common::error_fields(&e);
    assert_eq!(fields, ["name", "timezone"]);
    assert_eq!(
        owner
            .patch("/api/v1/me", json!({"email": "x@example.com"}))
            .await
            .status(),
        422
    );
    // Typed any case, stored as the zone database spells it.
    let r = owner
        .patch(
            "/api/v1/me",
            json!({"timezone": "america/los_angeles", "name": "Andy Lee"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        (me["name"].as_str(), me["timezone"].as_str()),
        (Some("Andy Lee"), Some("America/Los_Angeles"))
    );
    // Empty: back to the workspace's or the server's.
    let me: Value = owner
        .patch("/api/v1/me", json!({"timezone": ""}))
        .await
        .json()
        .await
        .unwrap();
    assert!(me["timezone"].is_null());
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|(a, v)| a == "user.update" && v == "api")
    );
    assert_eq!(
        app.anonymous()
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn a_persons_own_zone_beats_the_workspaces() {
    let app = TestApp::spawn_with(|c| c.timezone = "UTC".into()).await;
    let (andy, browser) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app.key(&andy, &["write:contacts", "manage:workspaces"], None).await;
    let api = app.api(&key);
    assert_eq!(
        api.patch(
            &format!("/api/v1/workspaces/{ws}"),
            json!({"timezone": "Europe/Berlin"})
        )
        .await
        .status(),
        200
    );
    let contact = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = format!("/workspaces/{ws}/contacts/{contact}");
    let shown = browser.get(&page).await.body;
    assert!(
        shown.contains(" CET") || shown.contains(" CEST"),
        "the workspace's zone first"
    );
    // Without the CSRF token the profile does not change.
    assert_eq!(
        browser
            .post_raw(
                "/settings/profile",
                &[("name", "Andy"), ("timezone", "America/Los_Angeles")]
            )
            .await
            .status,
        403
    );
    let bad = browser
        .submit(
            "/settings",
            "/settings/profile",
            &[("name", "Andy"), ("timezone", "Nowhere/Land")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("is not a time zone") && bad.body.contains("value=\"Nowhere/Land\""));
    let saved = browser
        .submit(
            "/settings",
            "/settings/profile",
            &[("name", "Andy"), ("timezone", "America/Los_Angeles")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(
        browser
            .get("/settings")
            .await
            .body
            .contains("value=\"America/Los_Angeles\"")
    );
    let shown = browser.get(&page).await.body;
    assert!(
        shown.contains(" PST") || shown.contains(" PDT"),
        "then the person's own, in every workspace"
    );
    assert!(!shown.contains(" CET") && !shown.contains(" CEST"));
}
