use crate::common::TestApp;

#[tokio::test]
async fn workspaces_are_created_renamed_shared_and_deleted_in_the_ui() {
    let app = TestApp::spawn().await;
    let (_, andy) = app.user_browser("andy@example.com").await;
    let (_, mona) = app.user_browser("mona@example.com").await;

    let empty = andy.submit("/", "/workspaces", &[("name", "")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("a workspace needs a name"));

    let created = andy.submit("/", "/workspaces", &[("name", "Loan Factory")]).await;
    assert_eq!(created.status, 303);
    let contacts_path = created.location.unwrap();
    assert!(
        contacts_path.ends_with("/contacts"),
        "a new workspace opens on its contacts"
    );
    let ws_path = contacts_path.trim_end_matches("/contacts").to_string();
    let page = andy.get(&contacts_path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Workspace created."), "flash shown once");
    assert!(
        !andy.get(&contacts_path).await.body.contains("Workspace created."),
        "and only once"
    );

    // The workspace's settings (approval, reviewer, time zone, sharing) are a tab of its bar,
    // marked as the current page there.
    assert!(
        page.body.contains(&format!(
            "<a href=\"{ws_path}\" class=\"nav-link \" id=\"workspace-settings-tab\">Settings</a>"
        )),
        "{}",
        page.body
    );
    let settings = andy.get(&ws_path).await;
    assert!(
        settings
            .body
            .contains("id=\"workspace-settings-tab\" aria-current=\"page\">Settings</a>")
    );

    let dup = andy.submit("/", "/workspaces", &[("name", "Loan Factory")]).await;
    assert_eq!(dup.status, 422);
    assert!(dup.body.contains("already have a workspace with this name"));

    let share = andy
        .submit(
            &ws_path,
            &format!("{ws_path}/members"),
            &[("email", "nobody@example.com"), ("role", "editor")],
        )
        .await;
    assert_eq!(share.status, 422);
    assert!(share.body.contains("no pi-crm account has this email"));
    let share = andy
        .submit(
            &ws_path,
            &format!("{ws_path}/members"),
            &[("email", "mona@example.com"), ("role", "viewer")],
        )
        .await;
    assert_eq!(share.status, 303);
    let mona_view = mona.get(&ws_path).await;
    assert_eq!(mona_view.status, 200);
    assert!(mona_view.body.contains("viewer"));
    assert!(
        !mona_view.body.contains("Delete for good"),
        "a viewer sees no owner controls"
    );
    let r = mona
        .submit(&ws_path, &format!("{ws_path}/rename"), &[("name", "Mine")])
        .await;
    assert_eq!(r.status, 403);

    let renamed = andy
        .submit(&ws_path, &format!("{ws_path}/rename"), &[("name", "LF Marketing")])
        .await;
    assert_eq!(renamed.status, 303);
    assert!(mona.get("/").await.body.contains("LF Marketing"));

    let wrong = andy
        .submit(&ws_path, &format!("{ws_path}/delete"), &[("confirm", "LF")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("type the workspace"));
    let deleted = andy
        .submit(&ws_path, &format!("{ws_path}/delete"), &[("confirm", "LF Marketing")])
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(mona.get(&ws_path).await.status, 404);
    assert_eq!(app.count("SELECT COUNT(*) FROM workspace_members").await, 0);
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let app = TestApp::spawn().await;
    let (_, andy) = app.user_browser("andy@example.com").await;
    let evil = "<script>alert(1)</script>";
    let created = andy.submit("/", "/workspaces", &[("name", evil)]).await;
    assert_eq!(created.status, 303);
    andy.submit(
        "/settings",
        "/settings/profile",
        &[("name", "<img src=x onerror=alert(1)>")],
    )
    .await;
    for path in ["/", &created.location.unwrap(), "/settings"] {
        let page = andy.get(path).await;
        assert!(
            !page.body.contains("<script>alert"),
            "{path} escapes the workspace name"
        );
        assert!(!page.body.contains("<img src=x"), "{path} escapes the user name");
        assert!(page.body.contains("&lt;script&gt;") || page.body.contains("&#60;script&#62;") || path == "/settings");
    }
}

#[tokio::test]
async fn api_keys_are_created_shown_once_and_revoked_in_the_ui() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loan Factory").await;
    let none = b
        .submit("/settings/keys", "/settings/keys", &[("description", "nothing")])
        .await;
    assert_eq!(none.status, 422);
    assert!(none.body.contains("choose at least one scope"));

    let created = b
        .submit(
            "/settings/keys",
            "/settings/keys",
            &[
                ("description", "Zapier"),
                ("scopes", "read:contacts"),
                ("scopes", "write:contacts"),
                ("workspace_id", &ws),
                ("expires_at", ""),
            ],
        )
        .await;
    assert_eq!(created.status, 200);
    let start = created.body.find("pcrm_").unwrap();
    let key: String = created.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(key.len(), 78, "{key}");
    assert!(created.body.contains("will not be shown again"));
    let later = b.get("/settings/keys").await;
    assert!(!later.body.contains(&key), "never shown again");
    assert!(later.body.contains("pinned to Loan Factory"));

    let api = app.api(&key);
    assert_eq!(api.get("/api/v1/workspaces").await.status(), 200);
    let id: String = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let revoked = b
        .submit("/settings/keys", &format!("/settings/keys/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(api.get("/api/v1/workspaces").await.status(), 401);

    // Someone else cannot revoke it (404), and it is already gone anyway.
    let (_, mona) = app.user_browser("mona@example.com").await;
    assert_eq!(
        mona.submit("/settings/keys", &format!("/settings/keys/{id}/revoke"), &[])
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn pages_are_not_cached_and_carry_the_csrf_meta_tag() {
    let app = TestApp::spawn().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    for path in [
        "/",
        "/settings",
        "/settings/sessions",
        "/settings/keys",
        "/settings/audit",
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert_eq!(p.headers["cache-control"], "no-store", "{path}");
        assert_eq!(p.csrf().len(), 64);
        assert!(p.body.contains("name=\"viewport\""), "{path} is phone-ready");
    }
}

/// Every page starts with a skip link to its content, marks where you are for screen
/// readers, and its inputs are 16 px on phones (no zoom on focus in iOS).
#[tokio::test]
async fn pages_have_a_skip_link_and_mark_the_current_section() {
    let app = TestApp::spawn().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    let home = b.get("/").await;
    assert!(
        home.body
            .contains("<a href=\"#main\" class=\"skip-link\">Skip to content</a>")
    );
    assert!(home.body.contains("<main id=\"main\""));
    assert!(
        home.body
            .contains("nav-link-active\" aria-current=\"page\">Dashboard</a>"),
        "{}",
        home.body
    );
    let settings = b.get("/settings").await;
    assert!(settings.body.contains("aria-current=\"page\">Settings</a>"));
    assert!(!settings.body.contains("aria-current=\"page\">Dashboard</a>"));
    let css = app
        .anonymous()
        .get(app.url("/assets/app.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains(".skip-link"), "the skip link is styled");
}

/// First run: a new workspace opens on its (empty) contacts, which offer Add, Import and the
/// mortgage pipeline; a filter that finds nobody offers to clear it.
#[tokio::test]
async fn a_new_workspace_opens_on_its_contacts_with_next_steps_and_mortgage_stages() {
    let app = TestApp::spawn().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    let made = b.submit("/", "/workspaces", &[("name", "Loans")]).await;
    assert_eq!(made.status, 303);
    let contacts = made.location.unwrap();
    assert!(contacts.ends_with("/contacts"), "{contacts}");
    let page = b.get(&contacts).await;
    assert!(page.body.contains("No contacts yet"));
    assert!(page.body.contains("Add a contact") && page.body.contains("Import a file"));
    assert!(page.body.contains("Use mortgage stages"));
    let stages_url = contacts.replace("/contacts", "/lists/mortgage-stages");
    assert_eq!(b.post_raw(&stages_url, &[]).await.status, 403, "no CSRF token");
    let added = b.submit(&contacts, &stages_url, &[]).await;
    assert_eq!(added.status, 303);
    assert!(added.location.unwrap().ends_with("/pipeline"));
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM contact_lists WHERE is_primary = 1 ORDER BY position")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        names,
        [
            "Lead",
            "Pre-approved",
            "Application",
            "Underwriting",
            "Clear to close",
            "Closed"
        ]
    );
    assert!(
        !b.get(&contacts).await.body.contains("Use mortgage stages"),
        "offered once"
    );
    // Pressed twice (a second tab): nothing is doubled.
    b.submit(&contacts, &stages_url, &[]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM contact_lists").await, 6);
    let nobody = b.get(&format!("{contacts}?q=zebra")).await;
    assert!(nobody.body.contains("Nobody matches") && nobody.body.contains("Clear the filters"));
    assert!(!nobody.body.contains("Import a file"));
    // Someone else's workspace: 404.
    let (_, mona) = app.user_browser("mona@example.com").await;
    assert_eq!(mona.submit("/", &stages_url, &[]).await.status, 404);
}

/// On the board, "Move" offers the next stage first (never silently backwards); the last
/// stage asks where to; a move says what moved.
#[tokio::test]
async fn the_pipeline_moves_forward_by_default_and_says_what_moved() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loans").await;
    let contacts = format!("/workspaces/{ws}/contacts");
    b.submit(&contacts, &format!("/workspaces/{ws}/lists/mortgage-stages"), &[])
        .await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    for (name, list) in [("Ada", "Lead"), ("Bob", "Closed")] {
        let c: serde_json::Value = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                serde_json::json!({"first_name": name}),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = c["id"].as_str().unwrap();
        let r = api
            .client
            .put(format!(
                "{}/api/v1/workspaces/{ws}/contacts/{id}/lists/{}",
                api.base,
                app.list_id(list).await
            ))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let board = b.get(&format!("/workspaces/{ws}/pipeline")).await.body;
    let pre = app.list_id("Pre-approved").await;
    assert!(
        board.contains(&format!("<option value=\"{pre}\" selected>→ Pre-approved</option>")),
        "{board}"
    );
    assert!(
        board.contains("<option value=\"\" selected disabled>Move to…</option>"),
        "the last stage asks"
    );
    let ada: String = sqlx::query_scalar("SELECT id FROM base_contacts WHERE first_name = 'Ada'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let moved = b
        .submit(
            &format!("/workspaces/{ws}/pipeline"),
            &format!("/workspaces/{ws}/pipeline/move"),
            &[("contact_id", &ada), ("stage", &pre)],
        )
        .await;
    assert_eq!(moved.status, 303);
    let after = b.get(&moved.location.unwrap()).await.body;
    assert!(after.contains("Moved Ada to Pre-approved."), "{after}");
}

/// Each column sums the money field and each card says how long it has been in its stage; a
/// phone shows one stage, chosen from the stage chips, and a move keeps that stage in view.
#[tokio::test]
async fn the_pipeline_sums_stages_counts_days_and_switches_stages_on_a_phone() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loans").await;
    b.submit(
        &format!("/workspaces/{ws}/contacts"),
        &format!("/workspaces/{ws}/lists/mortgage-stages"),
        &[],
    )
    .await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        serde_json::json!({"field_name": "loan_amount", "label": "Loan amount", "field_type": "number"}),
    )
    .await;
    let application = app.list_id("Application").await;
    let mut ids = Vec::new();
    for (name, amount) in [("Ada", 350000), ("Bob", 200000)] {
        let c: serde_json::Value = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                serde_json::json!({"first_name": name, "custom_fields": {"loan_amount": amount}}),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = c["id"].as_str().unwrap().to_string();
        api.client
            .put(format!(
                "{}/api/v1/workspaces/{ws}/contacts/{id}/lists/{application}",
                api.base
            ))
            .send()
            .await
            .unwrap();
        ids.push(id);
    }
    // Ada has been in Application for twelve days.
    let twelve_days_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 12 + 1)).to_string();
    sqlx::query("UPDATE contact_list_assignments SET assigned_at = ? WHERE contact_id = ?")
        .bind(&twelve_days_ago)
        .bind(&ids[0])
        .execute(&app.state.db)
        .await
        .unwrap();

    let board = b.get(&format!("/workspaces/{ws}/pipeline")).await.body;
    let column = board
        .split(&format!("data-stage=\"{application}\""))
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(column.contains(">550,000<"), "the stage's sum: {column}");
    assert!(column.contains("In this stage 12 days"), "{column}");
    assert!(column.contains("In this stage today"), "{column}");
    assert!(column.contains("draggable=\"true\""), "an editor's cards drag");
    assert!(board.contains("the sum of <span class=\"font-medium text-slate-800\">Loan amount</span>"));
    // The phone shows the first stage with people in it; the chips choose another.
    assert!(
        board.contains(&format!("pipeline?stage={application}\" aria-current=\"page\"")),
        "the stage with people is the one shown"
    );
    let lead = app.list_id("Lead").await;
    let hidden = board.split(&format!("data-stage=\"{lead}\"")).next().unwrap();
    assert!(
        hidden.ends_with("aria-label=\"Lead\" ") && hidden.contains("hidden md:block"),
        "{hidden}"
    );
    let chosen = b.get(&format!("/workspaces/{ws}/pipeline?stage={lead}")).await.body;
    assert!(chosen.contains(&format!("pipeline?stage={lead}\" aria-current=\"page\"")));
    let unknown = b.get(&format!("/workspaces/{ws}/pipeline?stage=nonsense")).await;
    assert_eq!(
        unknown.status, 200,
        "an unknown stage falls back to the first with people"
    );
    // A move from the phone comes back to the stage it was showing.
    let moved = b
        .submit(
            &format!("/workspaces/{ws}/pipeline"),
            &format!("/workspaces/{ws}/pipeline/move"),
            &[("contact_id", &ids[1]), ("stage", &lead), ("shown", &application)],
        )
        .await;
    assert_eq!(moved.status, 303);
    let back = moved.location.unwrap();
    assert!(back.ends_with(&format!("&stage={application}")), "{back}");
    let after = b.get(&back).await.body;
    assert!(after.contains("Moved Bob to Lead."));
    // A viewer sees the board but no card drags.
    let (_, mona) = app.user_browser("mona@example.com").await;
    app.api(&app.key(&andy, &["manage:workspaces"], None).await)
        .post(
            &format!("/api/v1/workspaces/{ws}/members"),
            serde_json::json!({"email": "mona@example.com", "role": "viewer"}),
        )
        .await;
    let viewed = mona.get(&format!("/workspaces/{ws}/pipeline")).await;
    assert_eq!(viewed.status, 200);
    assert!(!viewed.body.contains("draggable") && viewed.body.contains("Bob"));
}

/// Times are shown in the server's zone, or the workspace's own, with the zone's name: never
/// UTC passed off as local.
#[tokio::test]
async fn times_are_shown_in_the_zone_that_applies() {
    let app = TestApp::spawn_with(|c| c.timezone = "America/Los_Angeles".into()).await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let audit = b.get("/settings/audit").await.body;
    // Recent entries read as how long ago, with the full local time on hover.
    assert!(audit.contains(" PST\"") || audit.contains(" PDT\""), "{audit}");
    assert!(audit.contains(">just now</time>"), "{audit}");
    let ws = app.workspace(&andy, "Berlin office").await;
    let api = app.api(
        &app.key(&andy, &["read:contacts", "write:contacts", "manage:workspaces"], None)
            .await,
    );
    api.patch(
        &format!("/api/v1/workspaces/{ws}"),
        serde_json::json!({"timezone": "Europe/Berlin"}),
    )
    .await;
    let c: serde_json::Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            serde_json::json!({"first_name": "Jörg"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let page = b
        .get(&format!("/workspaces/{ws}/contacts/{}", c["id"].as_str().unwrap()))
        .await
        .body;
    assert!(
        page.contains(" CET\"") || page.contains(" CEST\""),
        "the workspace's own zone: {page}"
    );
}
