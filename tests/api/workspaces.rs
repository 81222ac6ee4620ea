use serde_json::{Value, json};

use crate::common::TestApp;

const ALL: &[&str] = &["manage:workspaces", "read:audit", "manage:keys"];

#[tokio::test]
async fn workspace_crud_over_the_api() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let api = app.api(&app.key(&andy, ALL, None).await);

    let r = api
        .post("/api/v1/workspaces", json!({"name": "  Loan Factory  "}))
        .await;
    assert_eq!(r.status(), 201);
    let ws: Value = r.json().await.unwrap();
    assert_eq!(ws["name"], "Loan Factory");
    assert_eq!(ws["role"], "owner");
    let id = ws["id"].as_str().unwrap().to_string();

    let dup = api.post("/api/v1/workspaces", json!({"name": "Loan Factory"})).await;
    assert_eq!(dup.status(), 409);
    let body: Value = dup.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");

    let empty = api.post("/api/v1/workspaces", json!({"name": "   "})).await;
    assert_eq!(empty.status(), 422);
    let body: Value = empty.json().await.unwrap();
    assert_eq!(body["error"]["field"], "name");

    api.post("/api/v1/workspaces", json!({"name": "Personal"})).await;
    let list: Value = api.get("/api/v1/workspaces").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["next_cursor"].is_null());

    // Paging: one at a time, following next_cursor to the end.
    let first: Value = api.get("/api/v1/workspaces?limit=1").await.json().await.unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second: Value = api
        .get(&format!("/api/v1/workspaces?limit=1&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert!(second["next_cursor"].is_null());
    assert_eq!(api.get("/api/v1/workspaces?limit=0").await.status(), 422);
    assert_eq!(api.get("/api/v1/workspaces?cursor=garbage").await.status(), 422);

    let renamed = api
        .patch(&format!("/api/v1/workspaces/{id}"), json!({"name": "LF"}))
        .await;
    assert_eq!(renamed.status(), 200);
    let one: Value = api.get(&format!("/api/v1/workspaces/{id}")).await.json().await.unwrap();
    assert_eq!(one["name"], "LF");
    assert_eq!(
        api.patch(&format!("/api/v1/workspaces/{id}"), json!({"name": "Personal"}))
            .await
            .status(),
        409
    );

    assert_eq!(api.delete(&format!("/api/v1/workspaces/{id}")).await.status(), 204);
    assert_eq!(api.get(&format!("/api/v1/workspaces/{id}")).await.status(), 404);
    assert_eq!(api.delete(&format!("/api/v1/workspaces/{id}")).await.status(), 404);
}

#[tokio::test]
async fn another_users_workspace_is_a_404_everywhere() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let mona_api = app.api(&app.key(&mona, ALL, None).await);

    let paths = [
        ("GET", format!("/api/v1/workspaces/{ws}")),
        ("PATCH", format!("/api/v1/workspaces/{ws}")),
        ("DELETE", format!("/api/v1/workspaces/{ws}")),
        ("GET", format!("/api/v1/workspaces/{ws}/members")),
        ("POST", format!("/api/v1/workspaces/{ws}/members")),
        ("DELETE", format!("/api/v1/workspaces/{ws}/members/{}", andy.id)),
    ];
    for (method, path) in &paths {
        let r = match *method {
            "GET" => mona_api.get(path).await,
            "PATCH" => mona_api.patch(path, json!({"name": "mine now"})).await,
            "POST" => {
                mona_api
                    .post(path, json!({"email": "mona@example.com", "role": "editor"}))
                    .await
            }
            _ => mona_api.delete(path).await,
        };
        assert_eq!(r.status(), 404, "{method} {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    let list: Value = mona_api.get("/api/v1/workspaces").await.json().await.unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());

    // The same in the UI.
    let (_, mona_browser) = {
        let b = app.browser();
        b.login("mona@example.com", crate::common::PASSWORD).await;
        ((), b)
    };
    assert_eq!(mona_browser.get(&format!("/workspaces/{ws}")).await.status, 404);
    let r = mona_browser
        .submit("/", &format!("/workspaces/{ws}/rename"), &[("name", "mine")])
        .await;
    assert_eq!(r.status, 404);
    let r = mona_browser
        .submit("/", &format!("/workspaces/{ws}/delete"), &[("confirm", "Borrowers")])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Borrowers'")
            .await,
        1
    );

    // A malformed id is a 404 too, not a 400 that hints at the format.
    assert_eq!(mona_api.get("/api/v1/workspaces/not-a-uuid").await.status(), 404);
}

#[tokio::test]
async fn sharing_gives_viewers_read_and_editors_write_and_only_owners_share() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let kid = app.create_user("kid@example.com", "Kid").await;
    let ws = app.workspace(&andy, "Household").await;
    let andy_api = app.api(&app.key(&andy, ALL, None).await);
    let mona_api = app.api(&app.key(&mona, ALL, None).await);
    let kid_api = app.api(&app.key(&kid, ALL, None).await);
    let members = format!("/api/v1/workspaces/{ws}/members");

    let bad_role = andy_api
        .post(&members, json!({"email": "mona@example.com", "role": "admin"}))
        .await;
    assert_eq!(bad_role.status(), 422);
    let nobody = andy_api
        .post(&members, json!({"email": "ghost@example.com", "role": "editor"}))
        .await;
    assert_eq!(nobody.status(), 422);
    let me = andy_api
        .post(&members, json!({"email": "andy@example.com", "role": "viewer"}))
        .await;
    assert_eq!(me.status(), 422, "the owner cannot demote themself");

    let added = andy_api
        .post(&members, json!({"email": "MONA@example.com", "role": "viewer"}))
        .await;
    assert_eq!(added.status(), 201);
    let m: Value = added.json().await.unwrap();
    assert_eq!(m["role"], "viewer");

    let seen: Value = mona_api
        .get(&format!("/api/v1/workspaces/{ws}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["role"], "viewer");
    let list: Value = mona_api.get(&members).await.json().await.unwrap();
    assert_eq!(list["items"][0]["role"], "owner");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    // Viewers and editors cannot rename, delete or share: that is the owner's.
    assert_eq!(
        mona_api
            .patch(&format!("/api/v1/workspaces/{ws}"), json!({"name": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(mona_api.delete(&format!("/api/v1/workspaces/{ws}")).await.status(), 403);
    assert_eq!(
        mona_api
            .post(&members, json!({"email": "kid@example.com", "role": "viewer"}))
            .await
            .status(),
        403
    );

    let promoted = andy_api
        .post(&members, json!({"email": "mona@example.com", "role": "editor"}))
        .await;
    assert_eq!(promoted.status(), 200, "changing a role answers 200");
    let seen: Value = mona_api
        .get(&format!("/api/v1/workspaces/{ws}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["role"], "editor");
    assert_eq!(
        mona_api
            .post(&members, json!({"email": "kid@example.com", "role": "viewer"}))
            .await
            .status(),
        403
    );

    // The kid was never added: still a 404.
    assert_eq!(kid_api.get(&format!("/api/v1/workspaces/{ws}")).await.status(), 404);

    // A member may leave; only the owner removes others.
    andy_api
        .post(&members, json!({"email": "kid@example.com", "role": "viewer"}))
        .await;
    assert_eq!(mona_api.delete(&format!("{members}/{}", kid.id)).await.status(), 403);
    assert_eq!(kid_api.delete(&format!("{members}/{}", kid.id)).await.status(), 204);
    assert_eq!(kid_api.get(&format!("/api/v1/workspaces/{ws}")).await.status(), 404);
    assert_eq!(andy_api.delete(&format!("{members}/{}", mona.id)).await.status(), 204);
    assert_eq!(mona_api.get(&format!("/api/v1/workspaces/{ws}")).await.status(), 404);
    assert_eq!(andy_api.delete(&format!("{members}/{}", mona.id)).await.status(), 404);
}

#[tokio::test]
async fn a_pinned_key_sees_only_its_workspace() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let lf = app.workspace(&andy, "Loan Factory").await;
    let home = app.workspace(&andy, "Home").await;
    let api = app.api(&app.key(&andy, ALL, Some(&lf)).await);

    let list: Value = api.get("/api/v1/workspaces").await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], lf.as_str());
    assert_eq!(api.get(&format!("/api/v1/workspaces/{home}")).await.status(), 404);
    assert_eq!(
        api.post("/api/v1/workspaces", json!({"name": "New"})).await.status(),
        403
    );

    // Deleting the workspace deletes the keys pinned to it rather than widening them.
    let andy_api = app.api(&app.key(&andy, ALL, None).await);
    assert_eq!(andy_api.delete(&format!("/api/v1/workspaces/{lf}")).await.status(), 204);
    assert_eq!(api.get("/api/v1/workspaces").await.status(), 401);
}

#[tokio::test]
async fn scopes_are_enforced_on_workspace_writes_but_any_key_may_read() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let reader = app.api(&app.key(&andy, &["read:contacts"], None).await);
    assert_eq!(reader.get("/api/v1/workspaces").await.status(), 200);
    assert_eq!(reader.get(&format!("/api/v1/workspaces/{ws}")).await.status(), 200);
    let r = reader.post("/api/v1/workspaces", json!({"name": "x"})).await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("manage:workspaces"));
    assert_eq!(
        reader
            .patch(&format!("/api/v1/workspaces/{ws}"), json!({"name": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(reader.delete(&format!("/api/v1/workspaces/{ws}")).await.status(), 403);
    assert_eq!(
        reader
            .post(
                &format!("/api/v1/workspaces/{ws}/members"),
                json!({"email": "a@b.co", "role": "viewer"})
            )
            .await
            .status(),
        403
    );
}

/// A workspace's own time zone (SPEC §2, §15): set by its owner, by API or on its page; an
/// IANA name (spelled as the zone database spells it) or empty for the server's.
#[tokio::test]
async fn a_workspace_keeps_its_own_time_zone() {
    let app = TestApp::spawn_with(|c| c.timezone = "America/New_York".into()).await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let api = app.api(&app.key(&andy, ALL, None).await);
    let ws = app.workspace(&andy, "Borrowers").await;
    let url = format!("/api/v1/workspaces/{ws}");
    let one: Value = api.get(&url).await.json().await.unwrap();
    assert_eq!(one["timezone"], Value::Null, "the server's until set");

    let r = api.patch(&url, json!({"timezone": "america/los_angeles"})).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["timezone"], "America/Los_Angeles");
    assert_eq!(v["name"], "Borrowers", "the name is left alone");
    let access = pi_crm::domain::workspace::list(
        &app.state.db,
        &pi_crm::domain::actor::Actor::person(andy.id.clone(), pi_crm::domain::actor::Via::Api),
    )
    .await
    .unwrap();
    let zone = access[0].time_zone(&app.state.config).unwrap();
    assert_eq!(zone.iana_name(), Some("America/Los_Angeles"));

    // A bad zone changes nothing, not even a name sent with it.
    let r = api
        .patch(&url, json!({"name": "Renamed", "timezone": "Mars/Olympus_Mons"}))
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "timezone");
    let one: Value = api.get(&url).await.json().await.unwrap();
    assert_eq!(
        (one["name"].as_str(), one["timezone"].as_str()),
        (Some("Borrowers"), Some("America/Los_Angeles"))
    );
    assert_eq!(api.patch(&url, json!({})).await.status(), 422);

    let cleared: Value = api.patch(&url, json!({"timezone": ""})).await.json().await.unwrap();
    assert_eq!(cleared["timezone"], Value::Null);
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|(action, _)| action == "workspace.timezone")
    );

    // Another person: 404; a member who is not the owner: 403.
    let mona_api = app.api(&app.key(&mona, ALL, None).await);
    assert_eq!(
        mona_api
            .patch(&url, json!({"timezone": "Europe/Berlin"}))
            .await
            .status(),
        404
    );
    api.post(
        &format!("{url}/members"),
        json!({"email": "mona@example.com", "role": "editor"}),
    )
    .await;
    assert_eq!(
        mona_api
            .patch(&url, json!({"timezone": "Europe/Berlin"}))
            .await
            .status(),
        403
    );

    // On the workspace page, with its token.
    let b = app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let page = b.get(&format!("/workspaces/{ws}")).await;
    assert!(
        page.body.contains("America/New_York (the server&#39;s)")
            || page.body.contains("America/New_York (the server's)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<option value=\"Europe/Berlin\">"));
    let form = format!("/workspaces/{ws}/timezone");
    assert_eq!(
        b.post_raw(&form, &[("timezone", "Europe/Berlin")]).await.status,
        403,
        "no token"
    );
    let bad = b
        .submit(&format!("/workspaces/{ws}"), &form, &[("timezone", "Nowhere")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("is not a time zone") && bad.body.contains("value=\"Nowhere\""));
    let ok = b
        .submit(&format!("/workspaces/{ws}"), &form, &[("timezone", "Europe/Berlin")])
        .await;
    assert_eq!(ok.status, 303);
    let one: Value = api.get(&url).await.json().await.unwrap();
    assert_eq!(one["timezone"], "Europe/Berlin");
}
