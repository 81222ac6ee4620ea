use serde_json::{Value, json};

use crate::common::TestApp;

#[tokio::test]
async fn every_mutation_is_audited_with_its_face() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    b.submit("/", "/workspaces", &[("name", "From the UI")]).await;
    let api = app.api(&app.key(&andy, &["manage:workspaces", "read:audit"], None).await);
    let r = api.post("/api/v1/workspaces", json!({"name": "From the API"})).await;
    let ws: Value = r.json().await.unwrap();
    api.patch(
        &format!("/api/v1/workspaces/{}", ws["id"].as_str().unwrap()),
        json!({"name": "Renamed"}),
    )
    .await;

    let actions = app.audit_actions().await;
    let has = |a: &str, via: &str| actions.iter().any(|(x, v)| x == a && v == via);
    assert!(has("user.create", "cli"));
    assert!(has("session.login", "ui"));
    assert!(has("workspace.create", "ui"));
    assert!(has("api_key.create", "cli"));
    assert!(has("workspace.create", "api"));
    assert!(has("workspace.rename", "api"));

    let page: Value = api
        .get("/api/v1/audit?action=workspace.create")
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["via"], "api", "newest first");
    for key in [
        "id",
        "user_id",
        "action",
        "entity_type",
        "entity_id",
        "via",
        "timestamp",
    ] {
        assert!(items[0].get(key).is_some(), "{key} present");
    }
    let only_ui: Value = api.get("/api/v1/audit?via=ui").await.json().await.unwrap();
    assert!(only_ui["items"].as_array().unwrap().iter().all(|e| e["via"] == "ui"));
    assert_eq!(api.get("/api/v1/audit?via=telepathy").await.status(), 422);
    assert_eq!(api.get("/api/v1/audit?since=yesterday").await.status(), 422);
    let future: Value = api.get("/api/v1/audit?since=2999-01-01").await.json().await.unwrap();
    assert!(future["items"].as_array().unwrap().is_empty());

    // Paging walks every entry exactly once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = api
            .get(&format!("/api/v1/audit?limit=2{cursor}"))
            .await
            .json()
            .await
            .unwrap();
        for e in page["items"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(seen.len(), unique.len());
    assert!(seen.len() >= 6);
}

#[tokio::test]
async fn audit_needs_its_scope_and_shows_nothing_of_other_users() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    app.workspace(&andy, "Andy's").await;
    let no_scope = app.api(&app.key(&mona, &["read:contacts"], None).await);
    assert_eq!(no_scope.get("/api/v1/audit").await.status(), 403);
    let mona_api = app.api(&app.key(&mona, &["read:audit"], None).await);
    let page: Value = mona_api.get("/api/v1/audit").await.json().await.unwrap();
    for e in page["items"].as_array().unwrap() {
        assert_eq!(e["user_id"], mona.id.as_str(), "only her own entries: {e}");
    }

    // The owner of a shared workspace sees what members did in it.
    let ws = app.workspace(&andy, "Shared").await;
    let andy_api = app.api(&app.key(&andy, &["read:audit", "manage:workspaces"], None).await);
    andy_api
        .post(
            &format!("/api/v1/workspaces/{ws}/members"),
            json!({"email": "mona@example.com", "role": "editor"}),
        )
        .await;
    let mona_leave = app.api(&app.key(&mona, &["manage:workspaces"], None).await);
    assert_eq!(
        mona_leave
            .delete(&format!("/api/v1/workspaces/{ws}/members/{}", mona.id))
            .await
            .status(),
        204
    );
    let page: Value = andy_api
        .get("/api/v1/audit?action=workspace.member_remove")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["user_id"], mona.id.as_str());
}

#[tokio::test]
async fn the_audit_page_filters_and_escapes() {
    let app = TestApp::spawn().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    b.submit("/", "/workspaces", &[("name", "Alpha")]).await;
    let all = b.get("/settings/audit").await;
    assert_eq!(all.status, 200);
    assert!(all.body.contains("workspace.create"));
    assert!(all.body.contains("session.login"));
    let filtered = b.get("/settings/audit?action=workspace.create").await;
    assert!(filtered.body.contains("workspace.create"));
    assert!(!filtered.body.contains("session.login"));
    let bad = b.get("/settings/audit?since=%3Cscript%3E").await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("use a date"));
    assert!(!bad.body.contains("<script>"), "the filter value is escaped");
}

/// The audit log as a CSV (SPEC §5): the whole filtered log, with names, the same visibility
/// as the list, the same scope, by API and from the settings page.
#[tokio::test]
async fn the_audit_log_downloads_as_csv_filtered_by_workspace_user_action_and_date() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let andy_api = app.api(&app.key(&andy, &["read:audit", "manage:workspaces"], None).await);
    let shared = app.workspace(&andy, "Shared").await;
    let other = app.workspace(&andy, "Other").await;
    andy_api
        .post(
            &format!("/api/v1/workspaces/{shared}/members"),
            json!({"email": "mona@example.com", "role": "editor"}),
        )
        .await;
    for i in 0..250 {
        andy_api
            .patch(
                &format!("/api/v1/workspaces/{other}"),
                json!({"name": format!("Other {i}")}),
            )
            .await;
    }
    let mona_api = app.api(&app.key(&mona, &["manage:workspaces", "read:audit"], None).await);
    mona_api
        .delete(&format!("/api/v1/workspaces/{shared}/members/{}", mona.id))
        .await;

    let r = andy_api.get("/api/v1/audit?format=csv").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"pi-crm-audit-")
    );
    let all = r.text().await.unwrap();
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(
        lines[0],
        "timestamp,user,user_email,workspace,action,entity_type,entity_id,via,id"
    );
    assert!(lines.len() > 250, "every page, not one: {}", lines.len());
    assert!(
        all.contains(&format!(
            ",Monalisa,mona@example.com,Shared,workspace.member_remove,user,{},api,",
            mona.id
        )),
        "what a member did in his workspace, with her name: {all}"
    );

    let by_mona = andy_api
        .get(&format!("/api/v1/audit?format=csv&user_id={}", mona.id))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(by_mona.lines().count(), 2, "{by_mona}");
    let in_other = andy_api
        .get(&format!(
            "/api/v1/audit?format=csv&workspace_id={other}&action=workspace.rename"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(in_other.lines().count(), 251, "the header and 250 renames");
    let future = andy_api
        .get("/api/v1/audit?format=csv&since=2999-01-01")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(future.lines().count(), 1, "only the header");
    assert_eq!(
        andy_api.get("/api/v1/audit?format=csv&since=yesterday").await.status(),
        422
    );
    assert_eq!(andy_api.get("/api/v1/audit?format=xml").await.status(), 422);
    // Monalisa's download holds her own entries only; a key without read:audit gets none.
    let hers = mona_api.get("/api/v1/audit?format=csv").await.text().await.unwrap();
    assert!(hers.lines().skip(1).all(|l| l.contains("mona@example.com")), "{hers}");
    let no_scope = app.api(&app.key(&mona, &["read:contacts"], None).await);
    assert_eq!(no_scope.get("/api/v1/audit?format=csv").await.status(), 403);

    // From the settings page: the filter form's second button.
    let b = app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let page = b.get("/settings/audit").await;
    assert!(page.body.contains("formaction=\"/settings/audit.csv\""));
    let csv = b
        .get(&format!(
            "/settings/audit.csv?workspace_id={other}&action=workspace.rename"
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.body.lines().count(), 251);
}
