//! The contact pages over HTTP: forms, errors, escaping, isolation, CSRF.

use serde_json::{Value, json};

use crate::common::{Browser, TestApp};

async fn andy_with_workspace(app: &TestApp) -> (pi_crm::domain::user::User, Browser, String) {
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    (andy, b, ws)
}

#[tokio::test]
async fn create_edit_and_delete_a_contact_through_the_forms() {
    let app = TestApp::spawn().await;
    let (andy, b, ws) = andy_with_workspace(&app).await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "birthday", "field_type": "date", "is_required": true}),
    )
    .await;
    let new = format!("/workspaces/{ws}/contacts/new");
    let form = b.get(&new).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("placeholder=\"1980-07-04, 7/4/1980 or July 4\""),
        "a date field takes dates as people write them, a year-less birthday too"
    );

    let bad = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/contacts"),
            &[
                ("first_name", "Ada"),
                ("primary_email", "nope"),
                ("cf.birthday", "1815-12-10"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("needs an @"), "the email error is shown");
    assert!(bad.body.contains("value=\"Ada\""), "what was typed is kept");
    let missing = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/contacts"),
            &[("first_name", "Ada"), ("cf.birthday", "")],
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("Birthday is required"));

    let ok = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/contacts"),
            &[
                ("first_name", "Ada"),
                ("last_name", "Lovelace"),
                ("primary_email", "ada@example.com"),
                ("primary_phone", "415 555 0123"),
                ("cf.birthday", "1815-12-10"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    let url = ok.location.unwrap();
    let page = b.get(&url).await;
    assert!(page.body.contains("December 10, 1815"));
    assert!(page.body.contains("+1 415-555-0123"));

    let dup = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/contacts"),
            &[
                ("first_name", "Copy"),
                ("primary_email", " ADA@example.com"),
                ("cf.birthday", "1815-12-10"),
            ],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert!(dup.body.contains("already has this email"));
    assert!(
        dup.body.contains(&format!("href=\"{url}\"")),
        "links the existing contact"
    );

    let edit = b
        .submit(
            &format!("{url}/edit"),
            &url,
            &[
                ("first_name", "Augusta Ada"),
                ("last_name", "King"),
                ("primary_phone", ""),
                ("cf.birthday", "Dec 10"),
            ],
        )
        .await;
    assert_eq!(edit.status, 303);
    let page = b.get(&url).await;
    assert!(page.body.contains("Augusta Ada King"));
    assert!(
        page.body.contains("December 10<"),
        "a birthday without a year: {}",
        page.body
    );
    let form = b.get(&format!("{url}/edit")).await;
    assert!(
        form.body.contains("value=\"--12-10\""),
        "the edit form keeps it, so saving again does not lose it"
    );
    assert!(!page.body.contains("415-555-0123"), "an emptied field is cleared");

    assert!(
        b.get(&format!("{url}/delete"))
            .await
            .body
            .contains("Delete Augusta Ada King?")
    );
    let gone = b.submit(&format!("{url}/delete"), &format!("{url}/delete"), &[]).await;
    assert_eq!(gone.status, 303);
    assert_eq!(b.get(&url).await.status, 404);
}

#[tokio::test]
async fn contact_data_is_escaped_on_every_page() {
    let app = TestApp::spawn().await;
    let (andy, b, ws) = andy_with_workspace(&app).await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let evil = "<script>alert(1)</script>";
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "nickname", "label": "<b>Nick</b>"}),
    )
    .await;
    api.post(
        &format!("/api/v1/workspaces/{ws}/lists"),
        json!({"name": "<img src=x onerror=alert(2)>", "is_primary": true}),
    )
    .await;
    let c: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": evil, "last_name": evil, "company": evil, "custom_fields": {"nickname": evil}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let twin: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": evil, "last_name": evil, "company": evil}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap();
    api.post(
        &format!("/api/v1/workspaces/{ws}/contacts/{id}/communications"),
        json!({"type": "note", "content": {"body": evil}}),
    )
    .await;
    let pages = [
        format!("/workspaces/{ws}/contacts"),
        format!("/workspaces/{ws}/contacts?q=%3Cscript%3E"),
        format!("/workspaces/{ws}/contacts/{id}"),
        format!("/workspaces/{ws}/contacts/{id}/edit"),
        format!("/workspaces/{ws}/contacts/{id}/merge"),
        format!(
            "/workspaces/{ws}/contacts/{id}/merge?other={}",
            twin["id"].as_str().unwrap()
        ),
        format!("/workspaces/{ws}/duplicates"),
        format!("/workspaces/{ws}/pipeline"),
        format!("/workspaces/{ws}/lists"),
        format!("/settings/fields?scope={ws}"),
    ];
    for p in pages {
        let page = b.get(&p).await;
        assert_eq!(page.status, 200, "{p}");
        assert!(!page.body.contains("<script>alert"), "{p} lets a script through");
        assert!(!page.body.contains("<img src=x"), "{p} lets markup through");
        assert!(!page.body.contains("<b>Nick</b>"), "{p} lets markup through");
    }
}

#[tokio::test]
async fn another_users_contact_pages_are_404_and_viewers_cannot_write() {
    let app = TestApp::spawn().await;
    let (andy, _, ws) = andy_with_workspace(&app).await;
    let api = app.api(
        &app.key(&andy, &["read:contacts", "write:contacts", "manage:workspaces"], None)
            .await,
    );
    let c: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap();
    let l: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Lead", "is_primary": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let lid = l["id"].as_str().unwrap();
    let d: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "nickname"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let did = d["id"].as_str().unwrap();

    let (_, mona) = app.user_browser("mona@example.com").await;
    let gets = [
        format!("/workspaces/{ws}/contacts"),
        format!("/workspaces/{ws}/contacts/new"),
        format!("/workspaces/{ws}/contacts/{id}"),
        format!("/workspaces/{ws}/contacts/{id}/edit"),
        format!("/workspaces/{ws}/contacts/{id}/delete"),
        format!("/workspaces/{ws}/contacts/{id}/merge"),
        format!("/workspaces/{ws}/duplicates"),
        format!("/workspaces/{ws}/pipeline"),
        format!("/workspaces/{ws}/lists"),
        format!("/settings/fields?scope={ws}"),
        format!("/settings/fields/{did}?scope={ws}"),
        format!("/settings/fields/{did}?scope=global"),
    ];
    for p in &gets {
        assert_eq!(mona.get(p).await.status, 404, "GET {p}");
    }
    let posts = [
        (format!("/workspaces/{ws}/contacts"), vec![("first_name", "x")]),
        (format!("/workspaces/{ws}/contacts/{id}"), vec![("first_name", "x")]),
        (format!("/workspaces/{ws}/contacts/{id}/delete"), vec![]),
        (format!("/workspaces/{ws}/contacts/{id}/stage"), vec![("stage", lid)]),
        (format!("/workspaces/{ws}/contacts/{id}/timeline"), vec![("body", "x")]),
        (
            format!("/workspaces/{ws}/pipeline/move"),
            vec![("contact_id", id), ("stage", lid)],
        ),
        (format!("/workspaces/{ws}/lists"), vec![("name", "x")]),
        (format!("/workspaces/{ws}/lists/{lid}/delete"), vec![]),
        (format!("/settings/fields/{did}/delete?scope={ws}"), vec![]),
        (format!("/settings/fields/{did}/delete?scope=global"), vec![]),
    ];
    for (p, form) in &posts {
        assert_eq!(mona.submit("/", p, form).await.status, 404, "POST {p}");
    }
    let c2: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c2["first_name"], "Ada");
    assert_eq!(c2["lists"], json!([]));
    assert_eq!(app.count("SELECT COUNT(*) FROM contact_lists").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM custom_field_definitions").await, 1);

    // As a viewer she reads, but every write is refused and no edit controls show.
    api.post(
        &format!("/api/v1/workspaces/{ws}/members"),
        json!({"email": "mona@example.com", "role": "viewer"}),
    )
    .await;
    let page = mona.get(&format!("/workspaces/{ws}/contacts/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Add to timeline"));
    assert_eq!(mona.get(&format!("/workspaces/{ws}/contacts/new")).await.status, 403);
    for (p, form) in &posts[..6] {
        assert_eq!(
            mona.submit(&format!("/workspaces/{ws}/contacts/{id}"), p, form)
                .await
                .status,
            403,
            "viewer POST {p}"
        );
    }
}

#[tokio::test]
async fn contact_forms_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let (_, b, ws) = andy_with_workspace(&app).await;
    let r = b
        .post_raw(&format!("/workspaces/{ws}/contacts"), &[("first_name", "Ada")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
}

#[tokio::test]
async fn the_list_page_searches_filters_and_pages() {
    let app = TestApp::spawn().await;
    let (andy, b, ws) = andy_with_workspace(&app).await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "loan_amount", "field_type": "number"}),
    )
    .await;
    for i in 0..55 {
        api.post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": format!("Person{i:02}"), "custom_fields": {"loan_amount": i * 10000}}),
        )
        .await;
    }
    let first = b.get(&format!("/workspaces/{ws}/contacts")).await;
    assert_eq!(first.body.matches("id=\"contact-table\"").count(), 1);
    assert!(
        first.body.contains("Person54") && !first.body.contains("Person04"),
        "newest 50 first"
    );
    let next_start = first
        .body
        .find("rel=\"next\"")
        .map(|_| first.body.find("Next page").unwrap())
        .expect("a next page link");
    assert!(next_start > 0);
    let href = first
        .body
        .split("href=\"")
        .find(|s| s.contains("cursor=") && s.contains("/contacts?"))
        .unwrap();
    let next_url = href.split('"').next().unwrap().replace("&amp;", "&");
    let second = b.get(&next_url).await;
    assert!(second.body.contains("Person04") && !second.body.contains("Person54"));

    let filtered = b
        .get(&format!("/workspaces/{ws}/contacts?ff=loan_amount&fo=gte&fv=500000"))
        .await;
    assert!(
        filtered.body.contains("Person50") && filtered.body.contains("Person54") && !filtered.body.contains("Person49")
    );
    assert!(filtered.body.contains("540,000"), "numbers are grouped for reading");
    let searched = b.get(&format!("/workspaces/{ws}/contacts?q=person07")).await;
    assert!(searched.body.contains("Person07") && !searched.body.contains("Person08"));
    let bad = b
        .get(&format!("/workspaces/{ws}/contacts?ff=loan_amount&fo=gte&fv=lots"))
        .await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("is not a number"));
}

#[tokio::test]
async fn orphaned_values_are_shown_and_can_be_removed() {
    let app = TestApp::spawn().await;
    let (andy, b, ws) = andy_with_workspace(&app).await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let d: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "loan_file", "field_type": "url"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let c: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "custom_fields": {"loan_file": "https://lf.example/1"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let did = d["id"].as_str().unwrap();
    let warn = b.get(&format!("/settings/fields/{did}/delete?scope={ws}")).await;
    assert!(warn.body.contains("1 contact value uses this field"), "{}", warn.body);
    let del = b
        .submit(
            &format!("/settings/fields/{did}/delete?scope={ws}"),
            &format!("/settings/fields/{did}/delete?scope={ws}"),
            &[],
        )
        .await;
    assert_eq!(del.status, 303);
    let url = format!("/workspaces/{ws}/contacts/{}", c["id"].as_str().unwrap());
    let page = b.get(&url).await;
    assert!(page.body.contains("Values without a field"));
    assert!(page.body.contains("https://lf.example/1"));
    let removed = b.submit(&url, &format!("{url}/fields/loan_file/remove"), &[]).await;
    assert_eq!(removed.status, 303);
    assert!(!b.get(&url).await.body.contains("Values without a field"));
}

/// Every mistake at once (issue 13): a bad email, an unreadable date and a missing required
/// field are all shown, each beside its input, with what was typed kept; the API lists them
/// too, the first as `field`.
#[tokio::test]
async fn every_mistake_in_a_contact_form_is_shown_at_once_with_what_was_typed() {
    let app = TestApp::spawn().await;
    let (andy, b, ws) = andy_with_workspace(&app).await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    for field in [
        json!({"field_name": "birthday", "field_type": "date"}),
        json!({"field_name": "loan_amount", "field_type": "number", "is_required": true}),
        json!({"field_name": "closing", "field_type": "date"}),
    ] {
        let r = api.post(&format!("/api/v1/workspaces/{ws}/custom-fields"), field).await;
        assert_eq!(r.status(), 201);
    }
    let new = format!("/workspaces/{ws}/contacts/new");
    let bad = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/contacts"),
            &[
                ("first_name", "Ada"),
                ("primary_email", "nope"),
                ("cf.birthday", "sometime in June"),
                ("cf.loan_amount", ""),
                ("cf.closing", "2026-08-01"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("needs an @"), "the email's error");
    assert!(
        bad.body.contains("is not a date pi-crm can read"),
        "the birthday's error"
    );
    assert!(
        bad.body.contains("Loan amount is required"),
        "the missing field's error"
    );
    assert!(
        bad.body.contains("value=\"sometime in June\""),
        "the bad date stays in its input"
    );
    assert!(bad.body.contains("value=\"nope\""));
    assert!(bad.body.contains("2026-08-01"), "and the good one too");
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);

    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "primary_email": "nope", "custom_fields": {"birthday": "sometime"}}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "primary_email");
    let fields = crate::common::error_fields(&e);
    assert_eq!(
        fields,
        ["primary_email", "custom_fields.birthday", "custom_fields.loan_amount"]
    );
    // One mistake alone is answered as before, without the list.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "custom_fields": {"loan_amount": "lots"}}),
        )
        .await;
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "custom_fields.loan_amount");
    assert!(e["error"].get("errors").is_none(), "{e}");
}

/// Each timeline entry says who wrote it: Andy's note and Monalisa's call on a shared
/// contact read as theirs.
#[tokio::test]
async fn timeline_entries_name_their_author() {
    let app = TestApp::spawn().await;
    let (andy, b, ws) = andy_with_workspace(&app).await;
    let (_, mona) = app.user_browser("mona@example.com").await;
    let api = app.api(
        &app.key(&andy, &["read:contacts", "write:contacts", "manage:workspaces"], None)
            .await,
    );
    api.post(
        &format!("/api/v1/workspaces/{ws}/members"),
        json!({"email": "mona@example.com", "role": "editor"}),
    )
    .await;
    let c: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let page = format!("/workspaces/{ws}/contacts/{}", c["id"].as_str().unwrap());
    let add = format!("{page}/timeline");
    assert_eq!(
        b.submit(&page, &add, &[("body", "Asked about rates"), ("kind", "note")])
            .await
            .status,
        303
    );
    assert_eq!(
        mona.submit(&page, &add, &[("body", "Called back"), ("kind", "call")])
            .await
            .status,
        303
    );
    let shown = b.get(&page).await.body;
    // user_browser names people after their email's local part.
    assert!(shown.contains(">mona · "), "{shown}");
    assert!(shown.contains(">andy · "));
}

/// The same on the contact page: a note edited and deleted through its forms, with the token.
#[tokio::test]
async fn a_note_is_edited_and_deleted_on_the_contact_page() {
    let app = TestApp::spawn().await;
    let (andy, b, ws) = andy_with_workspace(&app).await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let c: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let page = format!("/workspaces/{ws}/contacts/{}", c["id"].as_str().unwrap());
    b.submit(
        &page,
        &format!("{page}/timeline"),
        &[("body", "Call Tuesday"), ("kind", "note")],
    )
    .await;
    let id: String = sqlx::query_scalar("SELECT id FROM communication_logs WHERE type = 'note'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let shown = b.get(&page).await.body;
    assert!(shown.contains(&format!("action=\"{page}/timeline/{id}/edit\"")));
    assert_eq!(
        b.post_raw(&format!("{page}/timeline/{id}/edit"), &[("body", "x")])
            .await
            .status,
        403
    );
    let saved = b
        .submit(
            &page,
            &format!("{page}/timeline/{id}/edit"),
            &[("body", "Call Wednesday")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let shown = b.get(&page).await.body;
    assert!(shown.contains("Call Wednesday") && !shown.contains("Call Tuesday"));
    let deleted = b.submit(&page, &format!("{page}/timeline/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    let shown = b.get(&page).await.body;
    assert!(shown.contains("Its text stays in the audit log.") && !shown.contains("Call Wednesday"));
}
