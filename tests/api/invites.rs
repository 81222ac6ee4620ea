//! Household invites (SPEC §5): a link made in Settings → People, used once by the invited
//! person in their own browser, within 7 days, unless revoked; it may share a workspace.

use crate::common::{PASSWORD, TestApp};

fn link_in(body: &str) -> String {
    let marker = "aria-label=\"Invite link\"";
    let at = body.find(marker).expect("the link is shown");
    let before = &body[..at];
    let start = before.rfind("value=\"").unwrap() + "value=\"".len();
    let end = start + before[start..].find('"').unwrap();
    before[start..end].to_string()
}

fn path_of(link: &str) -> String {
    link[link.find("/invite/").unwrap()..].to_string()
}

#[tokio::test]
async fn an_invite_makes_monalisas_account_once_and_shares_a_workspace() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Family").await;
    let page = b.get("/settings/people").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Family"), "his workspaces are offered");

    assert_eq!(
        b.post_raw("/settings/people", &[("email", "mona@example.com")])
            .await
            .status,
        403,
        "no CSRF token"
    );
    let made = b
        .submit(
            "/settings/people",
            "/settings/people",
            &[("email", " Mona@Example.com "), ("workspace", &ws), ("role", "editor")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let link = link_in(&made.body);
    // No public address: the path, which the inviter's browser completes (never the Host).
    assert!(link.starts_with("/invite/"), "{link}");
    assert!(made.body.contains("data-link-from-here"));
    let path = path_of(&link);
    let secret = path.trim_start_matches("/invite/");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invites WHERE token_hash = ? OR token_hash = ?")
        .bind(secret)
        .bind(pi_crm::auth::tokens::sha256_hex(secret))
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let raw: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invites WHERE token_hash = ?")
        .bind(secret)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(raw, 0, "only the digest is stored");
    let listed = b.get("/settings/people").await;
    assert!(listed.body.contains("mona@example.com") && listed.body.contains("pending"));
    assert!(!listed.body.contains(secret), "the link is shown once");

    // Monalisa, in her own browser.
    let mona = app.browser();
    let invite = mona.get(&path).await;
    assert_eq!(invite.status, 200);
    assert!(invite.body.contains("mona@example.com") && invite.body.contains("Family"));
    let short = mona
        .submit(&path, &path, &[("name", "Monalisa"), ("password", "short")])
        .await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("at least 10 characters") && short.body.contains("value=\"Monalisa\""));
    assert_eq!(
        mona.post_raw(&path, &[("name", "Monalisa"), ("password", PASSWORD)])
            .await
            .status,
        403
    );
    let joined = mona
        .submit(&path, &path, &[("name", "Monalisa"), ("password", PASSWORD)])
        .await;
    assert_eq!(joined.status, 303, "{}", joined.body);
    let home = mona.get("/").await;
    assert!(
        home.body.contains("Hello, Monalisa") && home.body.contains("Family"),
        "{}",
        home.body
    );
    let role: String = sqlx::query_scalar(
        "SELECT m.role FROM workspace_members m JOIN users u ON u.id = m.user_id WHERE u.email = 'mona@example.com'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(role, "editor");

    // Once only: a second use, even by someone else, finds nothing.
    let again = app.browser();
    assert_eq!(again.get(&path).await.status, 404);
    assert_eq!(
        again
            .submit("/login", &path, &[("name", "Eve"), ("password", PASSWORD)])
            .await
            .status,
        404
    );
    assert!(b.get("/settings/people").await.body.contains("accepted"));
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|(a, _)| a).collect();
    for a in ["invite.create", "invite.accept", "workspace.member_add"] {
        assert!(actions.contains(&a.to_string()), "{a}: {actions:?}");
    }
    // She signs in with her password afterwards.
    let later = app.browser();
    later.login("mona@example.com", PASSWORD).await;
}

#[tokio::test]
async fn invites_expire_can_be_revoked_and_belong_to_their_maker() {
    let app = TestApp::spawn().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    let (_, mona) = app.user_browser("mona@example.com").await;
    let make = |email: &'static str| {
        let b = &b;
        async move {
            let made = b
                .submit("/settings/people", "/settings/people", &[("email", email)])
                .await;
            assert_eq!(made.status, 200);
            path_of(&link_in(&made.body))
        }
    };
    // An account that exists is not invited.
    let taken = b
        .submit("/settings/people", "/settings/people", &[("email", "mona@example.com")])
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("already has an account"));
    // Nor is a workspace someone else owns shared through one.
    let monas = app
        .workspace(
            &pi_crm::storage::users::find_by_email(&app.state.db, "mona@example.com")
                .await
                .unwrap()
                .unwrap(),
            "Hers",
        )
        .await;
    let stolen = b
        .submit(
            "/settings/people",
            "/settings/people",
            &[("email", "x@example.com"), ("workspace", &monas), ("role", "editor")],
        )
        .await;
    assert_eq!(stolen.status, 404);

    let expired = make("old@example.com").await;
    sqlx::query("UPDATE invites SET expires_at = '2000-01-01T00:00:00Z' WHERE email = 'old@example.com'")
        .execute(&app.state.db)
        .await
        .unwrap();
    assert_eq!(app.browser().get(&expired).await.status, 404);
    assert!(b.get("/settings/people").await.body.contains("expired"));

    let revoked = make("gone@example.com").await;
    let id: String = sqlx::query_scalar("SELECT id FROM invites WHERE email = 'gone@example.com'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let revoke = format!("/settings/people/invites/{id}/revoke");
    assert_eq!(
        mona.submit("/settings", &revoke, &[]).await.status,
        404,
        "not hers to revoke"
    );
    assert_eq!(b.submit("/settings/people", &revoke, &[]).await.status, 303);
    assert_eq!(app.browser().get(&revoked).await.status, 404);
    assert_eq!(b.submit("/settings/people", &revoke, &[]).await.status, 404, "once");

    // A second invite to the same person replaces the first.
    let first = make("twice@example.com").await;
    let second = make("twice@example.com").await;
    assert_eq!(app.browser().get(&first).await.status, 404);
    assert_eq!(app.browser().get(&second).await.status, 200);
    // Nobody else sees Andy's invites.
    let hers = mona.get("/settings/people").await;
    assert!(!hers.body.contains("twice@example.com"));
    assert_eq!(app.browser().get("/invite/not-a-token").await.status, 404);
}

#[tokio::test]
async fn invites_through_the_api() {
    let app = crate::common::TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Family").await;
    let api = app.api(&app.key(&andy, &["manage:workspaces"], None).await);
    let reader = app.api(&app.key(&andy, &["read:contacts"], None).await);
    let body = serde_json::json!({"email": "Mona@Example.com", "workspace_id": ws, "role": "viewer"});
    assert_eq!(reader.post("/api/v1/invites", body.clone()).await.status(), 403);
    assert_eq!(reader.get("/api/v1/invites").await.status(), 403);
    let r = api
        .post(
            "/api/v1/invites",
            serde_json::json!({"email": "not-an-email", "role": "king", "workspace_id": ws}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = api.post("/api/v1/invites", body).await;
    assert_eq!(r.status(), 201);
    let made: serde_json::Value = r.json().await.unwrap();
    let link = made["link"].as_str().unwrap().to_string();
    assert!(link.starts_with("/invite/"), "{link}");
    assert_eq!(made["invite"]["email"], "mona@example.com");
    assert_eq!(made["invite"]["role"], "viewer");
    let path = link.clone();
    assert_eq!(
        app.browser().get(&path).await.status,
        200,
        "the link opens the join page"
    );
    let listed: serde_json::Value = api.get("/api/v1/invites").await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    // Someone else's workspace to share, or their invite to revoke: 404.
    let mona_owner = app.create_user("zed@example.com", "Zed").await;
    let other_ws = app.workspace(&mona_owner, "Zed's").await;
    let r = api
        .post(
            "/api/v1/invites",
            serde_json::json!({"email": "x@example.com", "workspace_id": other_ws}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let zed = app.api(&app.key(&mona_owner, &["manage:workspaces"], None).await);
    let id = made["id"].as_str().unwrap();
    assert_eq!(zed.delete(&format!("/api/v1/invites/{id}")).await.status(), 404);
    assert_eq!(api.delete(&format!("/api/v1/invites/{id}")).await.status(), 204);
    assert_eq!(app.browser().get(&path).await.status, 404, "a revoked link is gone");
}

/// With a public address the link is under it, whatever `Host` the request named.
#[tokio::test]
async fn an_invite_link_comes_from_public_url_never_from_host() {
    let app = TestApp::spawn_with(|c| c.public_url = Some("https://crm.example.com".into())).await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let api = app.api(&app.key(&andy, &["manage:workspaces"], None).await);
    let r = api
        .client
        .post(app.url("/api/v1/invites"))
        .header("host", "attacker.example")
        .json(&serde_json::json!({"email": "mona@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let made: serde_json::Value = r.json().await.unwrap();
    let link = made["link"].as_str().unwrap();
    assert!(link.starts_with("https://crm.example.com/invite/"), "{link}");

    let (_, b) = app.user_browser("zed@example.com").await;
    let page = b
        .submit(
            "/settings/people",
            "/settings/people",
            &[("email", "mona2@example.com")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let link = link_in(&page.body);
    assert!(link.starts_with("https://crm.example.com/invite/"), "{link}");
    assert!(!page.body.contains("data-link-from-here"));
}
