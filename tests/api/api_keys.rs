use serde_json::{Value, json};

use crate::common::TestApp;

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_works_in_either_header() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let _ = andy;
    // A browser session may use the API; its writes need the CSRF header.
    let token = b.get("/settings/keys").await.csrf();
    let no_csrf = b
        .client
        .post(format!("{}/api/v1/keys", b.base))
        .json(&json!({"description": "zapier", "scopes": ["read:contacts"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let r = b
        .client
        .post(format!("{}/api/v1/keys", b.base))
        .header("x-csrf-token", &token)
        .json(&json!({"description": "zapier", "scopes": ["read:contacts", "manage:keys"], "expires_at": "2099-01-31"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let prefix = created["prefix"].as_str().unwrap();
    assert!(key.starts_with(&format!("pcrm_{prefix}_")));
    assert_eq!(key.len(), "pcrm_".len() + 8 + 1 + 64, "32 random bytes of secret");
    assert_eq!(created["expires_at"], "2099-01-31T23:59:59Z");
    assert_eq!(created["scopes"], json!(["read:contacts", "manage:keys"]));

    // Nothing in the database holds the key itself.
    let dump: Vec<(String, String)> = sqlx::query_as("SELECT key_hash, prefix FROM api_keys")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert!(dump.iter().all(|(h, _)| h != &key && !key.contains(h.as_str())));

    let by_header = app.api(&key);
    assert_eq!(by_header.get("/api/v1/keys").await.status(), 200);
    // Use is noted in memory and written every 30 s (and at shutdown), never on the request.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM api_keys WHERE last_used_at IS NOT NULL")
            .await,
        0
    );
    app.state.activity.flush(&app.state.db).await.unwrap();
    let listed: Value = by_header.get("/api/v1/keys").await.json().await.unwrap();
    let item = &listed["items"][0];
    assert!(item.get("key").is_none(), "a list never shows the key");
    assert_eq!(item["prefix"], prefix);
    assert!(!item["last_used_at"].is_null(), "last_used_at is recorded");

    let bearer = app
        .anonymous()
        .get(app.url("/api/v1/workspaces"))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
}

#[tokio::test]
async fn missing_bad_revoked_and_expired_keys_are_401() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let anon = app.anonymous();
    let r = anon.get(app.url("/api/v1/workspaces")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    assert_eq!(
        app.api("pcrm_deadbeef_0000").get("/api/v1/workspaces").await.status(),
        401
    );
    assert_eq!(app.api("nonsense").get("/api/v1/workspaces").await.status(), 401);

    let key = app.key(&andy, &["manage:keys"], None).await;
    let api = app.api(&key);
    let list: Value = api.get("/api/v1/keys").await.json().await.unwrap();
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(api.delete(&format!("/api/v1/keys/{id}")).await.status(), 204);
    assert_eq!(api.get("/api/v1/keys").await.status(), 401, "revoked at once");

    let key = app.key(&andy, &["manage:keys"], None).await;
    sqlx::query("UPDATE api_keys SET expires_at = '2001-01-01T00:00:00Z' WHERE revoked_at IS NULL")
        .execute(&app.state.db)
        .await
        .unwrap();
    assert_eq!(app.api(&key).get("/api/v1/workspaces").await.status(), 401, "expired");
}

#[tokio::test]
async fn key_creation_validates_and_never_widens_access() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let mona_ws = app.workspace(&mona, "Mona's").await;
    let lf = app.workspace(&andy, "Loan Factory").await;
    let limited = app.api(&app.key(&andy, &["manage:keys", "read:contacts"], None).await);

    let r = limited
        .post("/api/v1/keys", json!({"scopes": ["write:contacts"]}))
        .await;
    assert_eq!(r.status(), 403, "a key cannot mint a scope it lacks");
    let r = limited
        .post("/api/v1/keys", json!({"scopes": ["read:everything"]}))
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "scopes");
    assert_eq!(limited.post("/api/v1/keys", json!({"scopes": []})).await.status(), 422);
    let r = limited
        .post(
            "/api/v1/keys",
            json!({"scopes": ["read:contacts"], "expires_at": "2001-01-01"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        limited
            .post(
                "/api/v1/keys",
                json!({"scopes": ["read:contacts"], "expires_at": "soon"})
            )
            .await
            .status(),
        422
    );
    let r = limited
        .post(
            "/api/v1/keys",
            json!({"scopes": ["read:contacts"], "workspace_id": mona_ws}),
        )
        .await;
    assert_eq!(r.status(), 404, "pinning to someone else's workspace reveals nothing");

    // A pinned key mints only keys pinned to the same workspace.
    let pinned = app.api(&app.key(&andy, &["manage:keys"], Some(&lf)).await);
    let r = pinned.post("/api/v1/keys", json!({"scopes": ["manage:keys"]})).await;
    assert_eq!(r.status(), 201);
    let k: Value = r.json().await.unwrap();
    assert_eq!(k["workspace_id"], lf.as_str());

    let no_scope = app.api(&app.key(&andy, &["read:contacts"], None).await);
    assert_eq!(no_scope.get("/api/v1/keys").await.status(), 403);
    assert_eq!(
        no_scope
            .post("/api/v1/keys", json!({"scopes": ["read:contacts"]}))
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn another_users_key_is_a_404() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let andy_api = app.api(&app.key(&andy, &["manage:keys"], None).await);
    let mona_api = app.api(&app.key(&mona, &["manage:keys"], None).await);
    let andy_keys: Value = andy_api.get("/api/v1/keys").await.json().await.unwrap();
    let id = andy_keys["items"][0]["id"].as_str().unwrap();
    assert_eq!(mona_api.delete(&format!("/api/v1/keys/{id}")).await.status(), 404);
    let mona_keys: Value = mona_api.get("/api/v1/keys").await.json().await.unwrap();
    assert_eq!(mona_keys["items"].as_array().unwrap().len(), 1, "only her own");
    assert_eq!(andy_api.get("/api/v1/keys").await.status(), 200, "still alive");
}
