//! Isolation by construction, checked from outside: every route of the OpenAPI document and
//! every UI route, called by another person with the ids of Andy's objects, answers 404; a
//! viewer's key and session get 403 on every write; the schema itself refuses a row that
//! points across workspaces; and the faces never reach storage directly.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, TestApp};

const ALL_SCOPES: &[&str] = &[
    "read:contacts",
    "write:contacts",
    "read:templates",
    "write:templates",
    "read:campaigns",
    "write:campaigns",
    "send:messages",
    "execute:ai-workflow",
    "read:audit",
    "manage:keys",
    "manage:workspaces",
];

/// Andy's workspace with one of every kind of object in it, by the names the paths use.
struct Objects {
    ws: String,
    contact: String,
    list: String,
    field: String,
    global_field: String,
    entry: String,
    import: String,
    key: String,
    member: String,
    suppression: String,
    inbox: String,
    template: String,
    campaign: String,
}

async fn andys_objects(app: &TestApp) -> (Objects, Api) {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let api = app.api(&app.key(&andy, ALL_SCOPES, None).await);
    let id = |v: Value| v["id"].as_str().expect("an id").to_string();
    let contact = id(api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada"}),
        )
        .await
        .json()
        .await
        .unwrap());
    let list = id(api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Lead", "is_primary": true}),
        )
        .await
        .json()
        .await
        .unwrap());
    let field = id(api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "closing", "field_type": "date"}),
        )
        .await
        .json()
        .await
        .unwrap());
    let global_field = id(api
        .post(
            "/api/v1/custom-fields",
            json!({"field_name": "birthday", "field_type": "date"}),
        )
        .await
        .json()
        .await
        .unwrap());
    let entry = id(api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts/{contact}/communications"),
            json!({"type": "note", "content": {"body": "called"}}),
        )
        .await
        .json()
        .await
        .unwrap());
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"First Name,E-mail Address\nGrace,grace@example.com\n".to_vec())
            .file_name("people.csv"),
    );
    let import = id(api
        .client
        .post(format!("{}/api/v1/workspaces/{ws}/imports", api.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap());
    app.drain_imports().await;
    let keys: Value = api.get("/api/v1/keys").await.json().await.unwrap();
    let key = keys["items"][0]["id"].as_str().unwrap().to_string();
    let suppression = id(api
        .post(
            &format!("/api/v1/workspaces/{ws}/suppressions"),
            json!({"address": "gone@example.com", "channel": "email"}),
        )
        .await
        .json()
        .await
        .unwrap());
    // A text from a number nobody has, as Twilio's webhook leaves it.
    let access = pi_crm::domain::workspace::for_system(
        &pi_crm::domain::workspace::System::acting(),
        &app.state.db,
        &pi_crm::domain::ids::WorkspaceId::parse(&ws).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .0;
    let text = pi_crm::domain::messaging::inbound::InboundText {
        sid: "SMisolation",
        from: "+12025550188",
        to: "+14155550100",
        body: "hello?",
        media: Vec::new(),
    };
    pi_crm::domain::messaging::inbound::receive_text(&app.state.db, "US", &access, text)
        .await
        .unwrap();
    let inbox: String = sqlx::query_scalar("SELECT id FROM inbox_messages")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let template = id(api
        .post(
            &format!("/api/v1/workspaces/{ws}/templates"),
            json!({"name": "Rates", "channel": "text", "body": "Hi {{ first_name }}"}),
        )
        .await
        .json()
        .await
        .unwrap());
    let campaign = id(api
        .post(
            &format!("/api/v1/workspaces/{ws}/campaigns"),
            json!({"name": "Rates", "channel": "text", "template_id": template}),
        )
        .await
        .json()
        .await
        .unwrap());
    let objects = Objects {
        ws,
        contact,
        list,
        field,
        global_field,
        entry,
        import,
        key,
        member: andy.id.to_string(),
        suppression,
        inbox,
        template,
        campaign,
    };
    (objects, api)
}

/// A path of the OpenAPI document with Andy's ids in it.
fn fill(path: &str, o: &Objects) -> String {
    let id = if path.contains("/contacts/{id}") {
        &o.contact
    } else if path.contains("/lists/{id}") {
        &o.list
    } else if path.starts_with("/api/v1/workspaces/{ws}/custom-fields/{id}") {
        &o.field
    } else if path.starts_with("/api/v1/custom-fields/{id}") {
        &o.global_field
    } else if path.contains("/imports/{id}") {
        &o.import
    } else if path.starts_with("/api/v1/keys/{id}") {
        &o.key
    } else if path.contains("/suppressions/{id}") {
        &o.suppression
    } else if path.contains("/inbox/{id}") {
        &o.inbox
    } else if path.contains("/templates/") {
        &o.template
    } else if path.contains("/campaigns/") {
        &o.campaign
    } else {
        ""
    };
    path.replace("{ws}", &o.ws)
        .replace("{id}", id)
        .replace("{list_id}", &o.list)
        .replace("{entry}", &o.entry)
        .replace("{user_id}", &o.member)
}

/// Every operation of the OpenAPI document whose path names one of Andy's objects.
async fn operations(app: &TestApp) -> Vec<(Method, String)> {
    let doc: Value = app
        .anonymous()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            if let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) {
                ops.push((m, path.clone()));
            }
        }
    }
    assert!(
        ops.len() >= 30,
        "the OpenAPI document lists {} operations with ids",
        ops.len()
    );
    ops
}

async fn call(api: &Api, method: &Method, path: &str) -> u16 {
    let mut req = api.client.request(method.clone(), format!("{}{}", api.base, path));
    if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        req = req.json(&json!({}));
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_api_route_hides_another_persons_objects() {
    let app = TestApp::spawn().await;
    let (o, _) = andys_objects(&app).await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let mona_api = app.api(&app.key(&mona, ALL_SCOPES, None).await);
    let mut wrong = Vec::new();
    for (method, path) in operations(&app).await {
        let status = call(&mona_api, &method, &fill(&path, &o)).await;
        if status != 404 {
            wrong.push(format!("{method} {path} → {status}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "another person's objects must be 404:\n{}",
        wrong.join("\n")
    );
    // Nothing of Andy's changed: Ada, and Grace from the import.
    assert_eq!(app.count("SELECT count(*) FROM base_contacts").await, 2);
    assert_eq!(app.count("SELECT count(*) FROM contact_lists").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")
            .await,
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn a_viewer_key_is_refused_every_write_in_the_workspace() {
    let app = TestApp::spawn().await;
    let (o, andy_api) = andys_objects(&app).await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let added = andy_api
        .post(
            &format!("/api/v1/workspaces/{}/members", o.ws),
            json!({"email": "mona@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let mona_api = app.api(&app.key(&mona, ALL_SCOPES, None).await);
    let mut wrong = Vec::new();
    for (method, path) in operations(&app).await {
        let writes = method != Method::GET && path.starts_with("/api/v1/workspaces/{ws}");
        // Leaving is the one write a viewer may make, and only about themself; a favourite
        // is their own bookmark, and a preview only reads.
        let own = path.ends_with("/members/{user_id}")
            || path.ends_with("/favorite")
            || path.ends_with("/preview")
            || path.ends_with("/audience")
            // The list's columns are the viewer's own view of it.
            || path.ends_with("/contacts/columns");
        if !writes || own {
            continue;
        }
        let status = call(&mona_api, &method, &fill(&path, &o)).await;
        if status != 403 {
            wrong.push(format!("{method} {path} → {status}"));
        }
    }
    assert!(wrong.is_empty(), "a viewer's writes must be 403:\n{}", wrong.join("\n"));
    assert_eq!(app.count("SELECT count(*) FROM base_contacts").await, 2);
    app.stop().await;
}

/// UI routes with Andy's ids, as `(method, path)`.
fn ui_routes(o: &Objects) -> Vec<(&'static str, String)> {
    let (ws, c, l, e, i, f) = (&o.ws, &o.contact, &o.list, &o.entry, &o.import, &o.field);
    let t = &o.template;
    let k = &o.campaign;
    let get = |p: String| ("GET", p);
    let post = |p: String| ("POST", p);
    vec![
        get(format!("/workspaces/{ws}")),
        post(format!("/workspaces/{ws}/rename")),
        post(format!("/workspaces/{ws}/delete")),
        post(format!("/workspaces/{ws}/members")),
        post(format!("/workspaces/{ws}/members/{}/remove", o.member)),
        get(format!("/workspaces/{ws}/contacts")),
        post(format!("/workspaces/{ws}/contacts")),
        get(format!("/workspaces/{ws}/contacts/new")),
        get(format!("/workspaces/{ws}/contacts/{c}")),
        post(format!("/workspaces/{ws}/contacts/{c}")),
        get(format!("/workspaces/{ws}/contacts/{c}/edit")),
        get(format!("/workspaces/{ws}/contacts/{c}/delete")),
        post(format!("/workspaces/{ws}/contacts/{c}/delete")),
        post(format!("/workspaces/{ws}/contacts/{c}/stage")),
        post(format!("/workspaces/{ws}/contacts/{c}/lists")),
        post(format!("/workspaces/{ws}/contacts/{c}/lists/{l}/remove")),
        post(format!("/workspaces/{ws}/contacts/{c}/timeline")),
        post(format!("/workspaces/{ws}/contacts/{c}/timeline/{e}/pin")),
        post(format!("/workspaces/{ws}/contacts/{c}/timeline/{e}/edit")),
        post(format!("/workspaces/{ws}/contacts/{c}/timeline/{e}/follow-up")),
        post(format!("/workspaces/{ws}/contacts/{c}/timeline/{e}/delete")),
        post(format!("/workspaces/{ws}/contacts/bulk")),
        post(format!("/workspaces/{ws}/contacts/columns")),
        post(format!("/workspaces/{ws}/contacts/{c}/fields/closing/remove")),
        get(format!("/workspaces/{ws}/contacts/{c}/merge")),
        post(format!("/workspaces/{ws}/contacts/{c}/merge")),
        get(format!("/workspaces/{ws}/duplicates")),
        get(format!("/workspaces/{ws}/export")),
        get(format!("/workspaces/{ws}/imports")),
        get(format!("/workspaces/{ws}/imports/{i}")),
        get(format!("/workspaces/{ws}/imports/{i}/map")),
        post(format!("/workspaces/{ws}/imports/{i}/start")),
        get(format!("/workspaces/{ws}/imports/{i}/progress")),
        get(format!("/workspaces/{ws}/imports/{i}/revert")),
        post(format!("/workspaces/{ws}/imports/{i}/revert")),
        get(format!("/workspaces/{ws}/pipeline")),
        post(format!("/workspaces/{ws}/pipeline/move")),
        get(format!("/workspaces/{ws}/lists")),
        post(format!("/workspaces/{ws}/lists")),
        post(format!("/workspaces/{ws}/lists/{l}")),
        post(format!("/workspaces/{ws}/lists/{l}/delete")),
        get(format!("/settings/fields/{f}")),
        post(format!("/settings/fields/{f}")),
        get(format!("/settings/fields/{f}/delete")),
        post(format!("/settings/fields/{f}/delete")),
        get(format!("/settings/fields/{}", o.global_field)),
        post(format!("/settings/keys/{}/revoke", o.key)),
        get(format!("/workspaces/{ws}/templates")),
        post(format!("/workspaces/{ws}/templates")),
        get(format!("/workspaces/{ws}/templates/new")),
        post(format!("/workspaces/{ws}/templates/preview")),
        get(format!("/workspaces/{ws}/templates/wizard")),
        post(format!("/workspaces/{ws}/templates/wizard")),
        get(format!("/workspaces/{ws}/templates/{t}")),
        post(format!("/workspaces/{ws}/templates/{t}")),
        get(format!("/workspaces/{ws}/templates/{t}/preview")),
        post(format!("/workspaces/{ws}/templates/{t}/delete")),
        post(format!("/workspaces/{ws}/templates/{t}/favorite")),
        post(format!("/workspaces/{ws}/templates/{t}/copy")),
        post(format!("/workspaces/{ws}/templates/{t}/share")),
        get(format!("/templates/shared/{t}/preview")),
        post(format!("/templates/shared/{t}/copy")),
        post(format!("/workspaces/{ws}/contacts/{c}/ai-draft")),
        get(format!("/workspaces/{ws}/messaging")),
        get(format!("/workspaces/{ws}/campaigns")),
        post(format!("/workspaces/{ws}/campaigns")),
        get(format!("/workspaces/{ws}/campaigns/new")),
        post(format!("/workspaces/{ws}/campaigns/audience")),
        get(format!("/workspaces/{ws}/campaigns/{k}")),
        get(format!("/workspaces/{ws}/campaigns/{k}/edit")),
        post(format!("/workspaces/{ws}/campaigns/{k}/edit")),
        get(format!("/workspaces/{ws}/campaigns/{k}/preview")),
        post(format!("/workspaces/{ws}/campaigns/{k}/submit")),
        post(format!("/workspaces/{ws}/campaigns/{k}/schedule")),
        post(format!("/workspaces/{ws}/campaigns/{k}/pause")),
        post(format!("/workspaces/{ws}/campaigns/{k}/resume")),
        post(format!("/workspaces/{ws}/campaigns/{k}/cancel")),
        post(format!("/workspaces/{ws}/campaigns/{k}/approve")),
        post(format!("/workspaces/{ws}/campaigns/{k}/reject")),
        post(format!("/workspaces/{ws}/campaigns/{k}/delete")),
        post(format!("/workspaces/{ws}/campaign-settings")),
    ]
}

#[tokio::test]
async fn every_ui_route_hides_another_persons_objects() {
    let app = TestApp::spawn().await;
    let (o, _) = andys_objects(&app).await;
    let (_, mona) = app.user_browser("mona@example.com").await;
    let mut wrong = Vec::new();
    for (method, path) in ui_routes(&o) {
        let page = if method == "GET" {
            mona.get(&path).await
        } else {
            mona.submit("/settings", &path, &[]).await
        };
        if page.status != 404 {
            wrong.push(format!("{method} {path} → {}", page.status));
        }
    }
    assert!(
        wrong.is_empty(),
        "another person's pages must be 404:\n{}",
        wrong.join("\n")
    );
    assert_eq!(app.count("SELECT count(*) FROM base_contacts").await, 2);
    app.stop().await;
}

#[tokio::test]
async fn a_viewer_session_is_refused_every_ui_write() {
    let app = TestApp::spawn().await;
    let (o, andy_api) = andys_objects(&app).await;
    let (_, mona) = app.user_browser("mona@example.com").await;
    andy_api
        .post(
            &format!("/api/v1/workspaces/{}/members", o.ws),
            json!({"email": "mona@example.com", "role": "viewer"}),
        )
        .await;
    let mut wrong = Vec::new();
    for (method, path) in ui_routes(&o) {
        let in_workspace = path.starts_with(&format!("/workspaces/{}/", o.ws));
        // Leaving, keeping a favourite (a bookmark of one's own) and previewing are not writes.
        let own = path.ends_with("/remove") && path.contains("/members/")
            || path.ends_with("/favorite")
            || path.ends_with("/preview")
            || path.ends_with("/audience")
            // The list's columns are the viewer's own view of it.
            || path.ends_with("/contacts/columns");
        if method != "POST" || !in_workspace || own {
            continue;
        }
        let page = mona.submit("/settings", &path, &[]).await;
        if page.status != 403 {
            wrong.push(format!("{method} {path} → {}", page.status));
        }
    }
    assert!(
        wrong.is_empty(),
        "a viewer's UI writes must be 403:\n{}",
        wrong.join("\n")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_schema_refuses_a_row_that_points_across_workspaces() {
    let app = TestApp::spawn().await;
    let (o, _) = andys_objects(&app).await;
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let other_ws = app.workspace(&mona, "Mine").await;
    let db = &app.state.db;
    let value = sqlx::query(
        "INSERT INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at)
         VALUES (?, ?, 'x', 'y', '2026-01-01T00:00:00Z')",
    )
    .bind(&o.contact)
    .bind(&other_ws)
    .execute(db)
    .await;
    assert!(
        value.is_err(),
        "a value in Monalisa's workspace for Andy's contact was accepted"
    );
    let assignment = sqlx::query(
        "INSERT INTO contact_list_assignments (contact_id, list_id, workspace_id, is_primary, assigned_at)
         VALUES (?, ?, ?, 0, '2026-01-01T00:00:00Z')",
    )
    .bind(&o.contact)
    .bind(&o.list)
    .bind(&other_ws)
    .execute(db)
    .await;
    assert!(assignment.is_err(), "an assignment across workspaces was accepted");
    let entry = sqlx::query(
        "INSERT INTO communication_logs (id, workspace_id, contact_id, type, content, timestamp)
         VALUES ('01a00000-0000-7000-8000-000000000001', ?, ?, 'note', '{}', '2026-01-01T00:00:00Z')",
    )
    .bind(&other_ws)
    .bind(&o.contact)
    .execute(db)
    .await;
    assert!(entry.is_err(), "a timeline entry across workspaces was accepted");
    let item = sqlx::query(
        "INSERT INTO import_items (import_id, workspace_id, contact_id, action) VALUES (?, ?, ?, 'created')",
    )
    .bind(&o.import)
    .bind(&other_ws)
    .bind(&o.contact)
    .execute(db)
    .await;
    assert!(item.is_err(), "an import item across workspaces was accepted");
    // The same rows inside the right workspace go in: the refusals above are the keys'.
    sqlx::query(
        "INSERT INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at)
         VALUES (?, ?, 'x', 'y', '2026-01-01T00:00:00Z')",
    )
    .bind(&o.contact)
    .bind(&o.ws)
    .execute(db)
    .await
    .expect("a value in the contact's own workspace");
    app.stop().await;
}

/// The `.rs` files under `root` (a folder, or one file), with their text.
fn sources(root: &str) -> Vec<(std::path::PathBuf, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(path) = dirs.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                dirs.push(entry.unwrap().path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            found.push((path, text));
        }
    }
    found
}

/// Faces parse, call the domain and render: no SQL, no storage row, in `src/web`, `src/api`,
/// `src/auth`, `src/dav`, the webhooks or the command line. (`cargo test` runs from the crate root.)
#[test]
fn faces_never_reach_storage() {
    let mut offenders = Vec::new();
    for face in [
        "src/web",
        "src/api",
        "src/auth",
        "src/dav",
        "src/webhooks",
        "src/cli.rs",
    ] {
        let files = sources(face);
        assert!(
            !files.is_empty(),
            "{face} holds no source: the guard would pass by finding nothing"
        );
        for (path, text) in files {
            for (n, line) in text.lines().enumerate() {
                if line.contains("storage::") || line.contains("sqlx::query") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "faces must go through the domain:\n{}",
        offenders.join("\n")
    );
}

/// Acting as the system — any workspace by its id alone, as its owner — is for pi-crm's own
/// work: the pumps in `src/jobs`, a webhook before its signature is checked, and a review or
/// unsubscribe link once its token is, and a forgotten password's email, which only queues a
/// notice to the account's own address through a workspace that account reaches. A person's
/// request never comes by one: no face makes a `System` or asks `for_system`.
#[test]
fn only_jobs_webhooks_and_links_act_as_the_system() {
    let may_make_one = [
        "src/jobs/",
        "src/webhooks/",
        "src/domain/campaign/approval.rs",
        "src/domain/messaging/unsubscribe.rs",
        "src/domain/password_reset.rs",
    ];
    let faces = ["src/web/", "src/api/", "src/auth/", "src/dav/", "src/cli.rs"];
    let mut offenders = Vec::new();
    let mut made = 0;
    for (path, text) in sources("src") {
        let shown = path.display().to_string();
        for (n, line) in text.lines().enumerate() {
            let makes = line.contains("System::acting()");
            made += usize::from(makes);
            let in_face = faces.iter().any(|f| shown.starts_with(f));
            if (makes && !may_make_one.iter().any(|a| shown.starts_with(a)))
                || (in_face && (line.contains("System") || line.contains("for_system")))
            {
                offenders.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        made > 0,
        "the guard found no System made at all: it would pass by finding nothing"
    );
    assert!(
        offenders.is_empty(),
        "only jobs, webhooks and token links may act as the system:\n{}",
        offenders.join("\n")
    );
}

/// The arrows run one way: storage reads and writes rows in the shapes `src/model` and its own
/// files give, and never reaches up into the domain (whose rules call it); the model reaches
/// neither. And only `domain::workspace` cuts a `WorkspaceAccess`, after the membership check.
#[test]
fn storage_and_the_model_never_reach_up() {
    let mut offenders = Vec::new();
    for (layer, above) in [
        (
            "src/storage",
            &["crate::domain", "crate::state", "crate::web", "crate::api"][..],
        ),
        ("src/model", &["crate::domain", "crate::storage", "crate::state"][..]),
    ] {
        let files = sources(layer);
        assert!(!files.is_empty(), "{layer} holds no source");
        for (path, text) in files {
            for (n, line) in text.lines().enumerate() {
                if above.iter().any(|a| line.contains(a)) {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    for (path, text) in sources("src") {
        let shown = path.display().to_string();
        for (n, line) in text.lines().enumerate() {
            if line.contains("after_membership_check(")
                && shown != "src/domain/workspace.rs"
                && !line.trim_start().starts_with("pub(crate) fn")
            {
                offenders.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "arrows that run the wrong way:\n{}",
        offenders.join("\n")
    );
}

/// The API's JSON shapes and their OpenAPI descriptions live in `src/api` (its `shapes` and
/// its handlers): the domain, storage and the model are plain Rust that the web pages, the
/// jobs and the CLI share, so a change to how the API looks never reaches them, and what the
/// document describes is what `src/api` serialises. (`app.rs` only mounts the docs page.)
#[test]
fn only_the_api_describes_its_shapes() {
    let mut offenders = Vec::new();
    let mut described = 0;
    for (path, text) in sources("src") {
        let shown = path.display().to_string();
        for (n, line) in text.lines().enumerate() {
            let describes = line.contains("utoipa") || line.contains("ToSchema") || line.contains("#[schema(");
            if shown.starts_with("src/api/") {
                described += usize::from(line.contains("ToSchema)]"));
            } else if describes && shown != "src/app.rs" {
                offenders.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        described > 50,
        "found only {described} API shapes: the guard would pass by finding nothing"
    );
    assert!(
        offenders.is_empty(),
        "API shapes belong in src/api:\n{}",
        offenders.join("\n")
    );
}
