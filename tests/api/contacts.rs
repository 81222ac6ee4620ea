use serde_json::{Value, json};

use crate::common::{Api, TestApp};

const RW: &[&str] = &["read:contacts", "write:contacts"];

async fn setup(app: &TestApp) -> (Api, String) {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    (app.api(&app.key(&andy, RW, None).await), ws)
}

async fn define(api: &Api, ws: &str, body: Value) -> Value {
    let r = api
        .post(&format!("/api/v1/workspaces/{ws}/custom-fields"), body.clone())
        .await;
    assert_eq!(r.status(), 201, "defining {body}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_contact_round_trips_with_normalised_fields_and_typed_custom_values() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    define(
        &api,
        &ws,
        json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"}),
    )
    .await;
    define(&api, &ws, json!({"field_name": "loan_amount", "field_type": "number"})).await;
    define(
        &api,
        &ws,
        json!({"field_name": "first_time_buyer", "field_type": "boolean"}),
    )
    .await;
    define(
        &api,
        &ws,
        json!({"field_name": "business_phone", "field_type": "phone"}),
    )
    .await;
    define(&api, &ws, json!({"field_name": "source", "field_type": "select", "options": ["Referral", "Website"], "default_value": "Website"})).await;

    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": " Ada ", "last_name": "Lovelace", "primary_email": " ADA@Example.com",
                   "primary_phone": "(415) 555-0123", "company": "Analytical Engines",
                   "custom_fields": {"birthday": "1815-12-10", "loan_amount": "350,000", "first_time_buyer": "yes",
                                     "business_phone": "415.555.0187"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["first_name"], "Ada");
    assert_eq!(c["primary_email"], "ada@example.com");
    assert_eq!(c["primary_phone"], "+14155550123");
    assert_eq!(c["custom_fields"]["birthday"], "1815-12-10");
    assert_eq!(c["custom_fields"]["loan_amount"], 350000);
    assert_eq!(c["custom_fields"]["first_time_buyer"], true);
    assert_eq!(c["custom_fields"]["business_phone"], "+14155550187");
    assert_eq!(
        c["custom_fields"]["source"], "Website",
        "the default applies when absent"
    );
    assert_eq!(c["lists"], json!([]));
    for key in ["id", "workspace_id", "created_on"] {
        assert!(c[key].is_string(), "{key}");
    }
    let id = c["id"].as_str().unwrap();
    let fetched: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, c);

    // PATCH: absent fields stay, null clears, custom null removes.
    let r = api
        .patch(
            &format!("/api/v1/workspaces/{ws}/contacts/{id}"),
            json!({"company": null, "custom_fields": {"loan_amount": 410000.5, "first_time_buyer": null}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert!(c["company"].is_null());
    assert_eq!(c["last_name"], "Lovelace");
    assert_eq!(c["custom_fields"]["loan_amount"], 410000.5);
    assert!(c["custom_fields"].get("first_time_buyer").is_none());

    assert_eq!(
        api.delete(&format!("/api/v1/workspaces/{ws}/contacts/{id}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        api.get(&format!("/api/v1/workspaces/{ws}/contacts/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM custom_fields").await,
        0,
        "values go with the contact"
    );
}

#[tokio::test]
async fn bad_values_are_422_naming_the_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    define(&api, &ws, json!({"field_name": "birthday", "field_type": "date"})).await;
    define(&api, &ws, json!({"field_name": "loan_file", "field_type": "url"})).await;
    define(
        &api,
        &ws,
        json!({"field_name": "licence", "field_type": "text", "is_required": true}),
    )
    .await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let cases = [
        (
            json!({"first_name": "A", "primary_email": "not an email", "custom_fields": {"licence": "x"}}),
            "primary_email",
        ),
        (
            json!({"first_name": "A", "primary_phone": "12", "custom_fields": {"licence": "x"}}),
            "primary_phone",
        ),
        (
            json!({"first_name": "A", "custom_fields": {"licence": "x", "birthday": "tomorrow"}}),
            "custom_fields.birthday",
        ),
        (
            json!({"first_name": "A", "custom_fields": {"licence": "x", "loan_file": "javascript:alert(1)"}}),
            "custom_fields.loan_file",
        ),
        (
            json!({"first_name": "A", "custom_fields": {"licence": "x", "shoe_size": "9"}}),
            "custom_fields.shoe_size",
        ),
        (json!({"first_name": "A"}), "custom_fields.licence"),
        (json!({"custom_fields": {"licence": "x"}}), "first_name"),
        (
            json!({"first_name": "A", "birthday": "1815-12-10", "custom_fields": {"licence": "x"}}),
            "",
        ),
    ];
    for (body, field) in cases {
        let r = api.post(&url, body.clone()).await;
        assert_eq!(r.status(), 422, "{body}");
        let e: Value = r.json().await.unwrap();
        if !field.is_empty() {
            assert_eq!(e["error"]["field"], field, "{body}: {e}");
        }
        assert!(e["error"]["message"].as_str().unwrap().len() > 5);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
}

#[tokio::test]
async fn duplicate_email_is_a_409_naming_the_existing_contact_and_a_shared_phone_is_welcome() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let first: Value = api
        .post(
            &url,
            json!({"first_name": "Ada", "primary_email": "ada@example.com", "primary_phone": "+14155550123"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let r = api
        .post(&url, json!({"first_name": "Ada2", "primary_email": "ADA@example.com "}))
        .await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["existing_id"], first["id"]);
    assert_eq!(
        e["error"]["message"],
        "another contact in this workspace already has this email"
    );

    // Spouses share a landline (SPEC §4): both are contacts, and the duplicates view shows
    // them side by side, once, for the phone.
    let r = api
        .post(
            &url,
            json!({"first_name": "William", "last_name": "King", "primary_phone": "415-555-0123"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let spouse: Value = r.json().await.unwrap();
    assert_eq!(spouse["primary_phone"], "+14155550123");
    let duplicates = || async {
        api.get(&format!("/api/v1/workspaces/{ws}/duplicates"))
            .await
            .json::<Value>()
            .await
            .unwrap()
    };
    let dups = duplicates().await;
    let items = dups["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{dups}");
    assert_eq!(items[0]["reason"], "shared phone number");
    let mut ids = [items[0]["a"]["id"].clone(), items[0]["b"]["id"].clone()];
    ids.sort_by_key(|v| v.to_string());
    let mut expected = [first["id"].clone(), spouse["id"].clone()];
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(ids, expected);
    // The page is kept until the next write: a new number on the spouse clears it at once.
    let r = api
        .patch(
            &format!("{url}/{}", spouse["id"].as_str().unwrap()),
            json!({"primary_phone": "415-555-0199"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let dups = duplicates().await;
    assert_eq!(dups["items"].as_array().unwrap().len(), 0, "{dups}");

    // Updating another contact onto the same email is a conflict too.
    let second: Value = api
        .post(&url, json!({"first_name": "Bob", "primary_email": "bob@example.com"}))
        .await
        .json()
        .await
        .unwrap();
    let r = api
        .patch(
            &format!("{url}/{}", second["id"].as_str().unwrap()),
            json!({"primary_email": "ada@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    // Another workspace may hold the same email.
    let andy = pi_crm::storage::users::find_by_email(&app.state.db, "andy@example.com")
        .await
        .unwrap()
        .unwrap();
    let other = app.workspace(&andy, "Realtors").await;
    let r = api
        .post(
            &format!("/api/v1/workspaces/{other}/contacts"),
            json!({"primary_email": "ada@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn concurrent_duplicates_cannot_both_succeed() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = api.client.clone();
        let full = format!("{}{url}", api.base);
        tasks.push(tokio::spawn(async move {
            client
                .post(full)
                .json(&json!({"first_name": format!("N{i}"), "primary_email": "race@example.com"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
}

#[tokio::test]
async fn workspace_fields_override_globals_and_others_globals_never_apply() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let mona = app.create_user("mona@example.com", "Mona").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let api = app.api(&app.key(&andy, RW, None).await);
    let mona_api = app.api(&app.key(&mona, RW, None).await);
    let r = api
        .post(
            "/api/v1/custom-fields",
            json!({"field_name": "birthday", "field_type": "date"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let g: Value = r.json().await.unwrap();
    assert!(g["workspace_id"].is_null());
    assert_eq!(g["label"], "Birthday", "a label is derived from the name");
    mona_api
        .post("/api/v1/custom-fields", json!({"field_name": "pet_name"}))
        .await;

    let applied: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/custom-fields"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = applied["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["birthday"], "Mona's global does not apply in Andy's workspace");

    let ws_def = define(
        &api,
        &ws,
        json!({"field_name": "birthday", "label": "Birth date", "field_type": "text"}),
    )
    .await;
    let applied: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/custom-fields"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(applied["items"].as_array().unwrap().len(), 1);
    assert_eq!(applied["items"][0]["id"], ws_def["id"], "the workspace definition wins");
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "A", "custom_fields": {"birthday": "sometime in May"}}),
        )
        .await;
    assert_eq!(r.status(), 201, "text now, not date");
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "B", "custom_fields": {"pet_name": "Rex"}}),
        )
        .await;
    assert_eq!(r.status(), 422);

    // Definitions validate themselves.
    let bad = [
        json!({"field_name": "Bad Name"}),
        json!({"field_name": "company"}),
        json!({"field_name": "kind", "field_type": "colour"}),
        json!({"field_name": "stage2", "field_type": "select"}),
        json!({"field_name": "n", "field_type": "number", "default_value": "many"}),
        json!({"field_name": "t", "field_type": "text", "options": ["a"]}),
    ];
    for body in bad {
        assert_eq!(
            api.post("/api/v1/custom-fields", body.clone()).await.status(),
            422,
            "{body}"
        );
    }
    assert_eq!(
        api.post("/api/v1/custom-fields", json!({"field_name": "birthday"}))
            .await
            .status(),
        409
    );
    // Another user's definitions are 404 to change.
    let gid = g["id"].as_str().unwrap();
    assert_eq!(
        mona_api
            .patch(&format!("/api/v1/custom-fields/{gid}"), json!({"label": "x"}))
            .await
            .status(),
        404
    );
    assert_eq!(
        mona_api.delete(&format!("/api/v1/custom-fields/{gid}")).await.status(),
        404
    );
    let r = api
        .patch(&format!("/api/v1/custom-fields/{gid}"), json!({"field_type": "text"}))
        .await;
    assert_eq!(r.status(), 422, "the type cannot change");
    let r = api
        .patch(
            &format!("/api/v1/custom-fields/{gid}"),
            json!({"label": "Date of birth", "is_tracked": true}),
        )
        .await;
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["label"], "Date of birth");
}

#[tokio::test]
async fn deleting_a_definition_keeps_values_as_orphans_that_can_be_removed() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let def = define(&api, &ws, json!({"field_name": "loan_file", "field_type": "url"})).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let c: Value = api
        .post(
            &url,
            json!({"first_name": "Ada", "custom_fields": {"loan_file": "https://lf.example/1"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        api.delete(&format!(
            "/api/v1/workspaces/{ws}/custom-fields/{}",
            def["id"].as_str().unwrap()
        ))
        .await
        .status(),
        204
    );
    let after: Value = api.get(&format!("{url}/{id}")).await.json().await.unwrap();
    assert_eq!(
        after["custom_fields"]["loan_file"], "https://lf.example/1",
        "the value survives"
    );
    // Setting it is refused (undefined), removing it is allowed.
    assert_eq!(
        api.patch(
            &format!("{url}/{id}"),
            json!({"custom_fields": {"loan_file": "https://x.example"}})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        api.patch(&format!("{url}/{id}"), json!({"custom_fields": {"loan_file": null}}))
            .await
            .status(),
        200
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM custom_fields").await, 0);
}

#[tokio::test]
async fn search_by_name_email_phone_company_custom_values_and_typed_filters() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    define(&api, &ws, json!({"field_name": "loan_amount", "field_type": "number"})).await;
    define(&api, &ws, json!({"field_name": "closing_date", "field_type": "date"})).await;
    define(&api, &ws, json!({"field_name": "notes", "field_type": "long_text"})).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let people = [
        json!({"first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada@engines.example", "primary_phone": "+14155550123", "company": "Analytical Engines", "custom_fields": {"loan_amount": 350000, "closing_date": "2026-12-15"}}),
        json!({"first_name": "Grace", "last_name": "Hopper", "primary_email": "grace@navy.example", "company": "US Navy", "custom_fields": {"loan_amount": 90000, "closing_date": "2027-02-01", "notes": "prefers COBOL"}}),
        json!({"first_name": "Alan", "last_name": "Turing", "company": "Bletchley 100%", "custom_fields": {"loan_amount": 250000}}),
    ];
    for p in people {
        assert_eq!(api.post(&url, p).await.status(), 201);
    }
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["first_name"].as_str().unwrap().to_string())
            .collect()
    };
    let q = |s: &str| format!("{url}?{s}");
    assert_eq!(names(api.get(&q("q=lovelace")).await.json().await.unwrap()), ["Ada"]);
    assert_eq!(
        names(api.get(&q("q=NAVY.example")).await.json().await.unwrap()),
        ["Grace"]
    );
    assert_eq!(
        names(api.get(&q("q=%28415%29%20555")).await.json().await.unwrap()),
        ["Ada"],
        "phone in any formatting"
    );
    assert_eq!(
        names(api.get(&q("q=cobol")).await.json().await.unwrap()),
        ["Grace"],
        "custom values"
    );
    assert_eq!(
        names(api.get(&q("q=100%25")).await.json().await.unwrap()),
        ["Alan"],
        "% is literal"
    );
    assert_eq!(
        names(api.get(&q("q=ada%20engines")).await.json().await.unwrap()),
        ["Ada"],
        "every word must match"
    );
    // Search input is text, never FTS5 syntax: NUL separates words, double quotes are
    // dropped, and operators are plain words; none fails or widens the search.
    for (query, expected) in [
        ("q=love%00lace", &["Ada"][..]),
        ("q=ada%00engines", &["Ada"][..]),
        ("q=%22lovelace", &["Ada"][..]),
        ("q=lovelace%22%20OR%20%22hopper", &[][..]),
        ("q=NEAR(ada%20grace)", &[][..]),
        ("q=hopper*", &[][..]),
        ("q=-ada", &[][..]),
        ("q=ada%20AND%20NOT", &[][..]),
        ("q=%5E%22ada", &[][..]),
    ] {
        let r = api.get(&q(query)).await;
        assert_eq!(r.status(), 200, "{query}");
        assert_eq!(names(r.json().await.unwrap()), expected, "{query}");
    }
    let r = api.get(&q("q=%00")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        names(r.json().await.unwrap()).len(),
        3,
        "a query of only control characters is empty"
    );
    assert_eq!(
        names(api.get(&q("field.loan_amount=350000")).await.json().await.unwrap()),
        ["Ada"]
    );
    assert_eq!(
        names(
            api.get(&q("field.loan_amount.gte=250000&sort=name"))
                .await
                .json()
                .await
                .unwrap()
        ),
        ["Ada", "Alan"]
    );
    assert_eq!(
        names(api.get(&q("field.loan_amount.lt=100000")).await.json().await.unwrap()),
        ["Grace"],
        "numbers compare as numbers"
    );
    assert_eq!(
        names(
            api.get(&q("field.closing_date.lt=2027-01-01"))
                .await
                .json()
                .await
                .unwrap()
        ),
        ["Ada"]
    );
    assert_eq!(
        names(
            api.get(&q("field.loan_amount.gte=100000&field.closing_date.gte=2026-01-01"))
                .await
                .json()
                .await
                .unwrap()
        ),
        ["Ada"],
        "filters combine"
    );
    assert_eq!(
        names(api.get(&q("sort=name")).await.json().await.unwrap()),
        ["Grace", "Ada", "Alan"]
    );
    assert_eq!(
        names(api.get(&q("sort=oldest")).await.json().await.unwrap()),
        ["Ada", "Grace", "Alan"]
    );
    assert_eq!(
        names(api.get(&url).await.json().await.unwrap()),
        ["Alan", "Grace", "Ada"],
        "newest first"
    );

    for bad in [
        "field.nope=1",
        "field.notes.gt=a",
        "field.loan_amount.gte=lots",
        "field.loan_amount.between=1",
        "sort=height",
        "limit=0",
        "cursor=zz",
        "list=Nowhere",
    ] {
        let r = api.get(&q(bad)).await;
        assert_eq!(r.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn paging_by_name_and_by_date_visits_every_contact_once() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    for i in 0..23 {
        let last = ["Smith", "smith", "Émile", "Adams", ""][i % 5];
        let body = if last.is_empty() {
            json!({"first_name": format!("P{i:02}")})
        } else {
            json!({"first_name": format!("P{i:02}"), "last_name": last})
        };
        assert_eq!(api.post(&url, body).await.status(), 201);
    }
    for sort in ["name", "created", "oldest"] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page: Value = api
                .get(&format!("{url}?sort={sort}&limit=4{cursor}"))
                .await
                .json()
                .await
                .unwrap();
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].as_str().unwrap().to_string()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(seen.len(), 23, "{sort}");
        assert_eq!(unique.len(), 23, "{sort}: no repeats");
    }
}

#[tokio::test]
async fn lists_tags_and_stages_with_timeline_entries() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let lists = format!("/api/v1/workspaces/{ws}/lists");
    let mut stage = Vec::new();
    for name in ["Lead", "Application", "Closed"] {
        let l: Value = api
            .post(&lists, json!({"name": name, "is_primary": true}))
            .await
            .json()
            .await
            .unwrap();
        stage.push(l["id"].as_str().unwrap().to_string());
    }
    let tag: Value = api.post(&lists, json!({"name": "VIP"})).await.json().await.unwrap();
    let tag = tag["id"].as_str().unwrap().to_string();
    assert_eq!(api.post(&lists, json!({"name": "VIP"})).await.status(), 409);
    assert_eq!(api.post(&lists, json!({"name": " "})).await.status(), 422);

    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let c: Value = api.post(&url, json!({"first_name": "Ada"})).await.json().await.unwrap();
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        api.client
            .put(format!("{}{url}/{id}/lists/{}", api.base, stage[0]))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        api.client
            .put(format!("{}{url}/{id}/lists/{}", api.base, stage[1]))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        api.client
            .put(format!("{}{url}/{id}/lists/{tag}", api.base))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let c: Value = api.get(&format!("{url}/{id}")).await.json().await.unwrap();
    let in_lists: Vec<&str> = c["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(in_lists, ["Application", "VIP"], "one stage at a time, tags beside it");

    let timeline: Value = api
        .get(&format!("{url}/{id}/communications"))
        .await
        .json()
        .await
        .unwrap();
    let entries = timeline["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["type"], "stage_change");
    assert_eq!(entries[0]["content"]["from"]["name"], "Lead");
    assert_eq!(entries[0]["content"]["to"]["name"], "Application");

    let filtered: Value = api.get(&format!("{url}?list=VIP")).await.json().await.unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.get(&format!("{url}?list={}", stage[0]))
            .await
            .json::<Value>()
            .await
            .unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A tag that would put someone in two stages cannot become a stage.
    let r = api.patch(&format!("{lists}/{tag}"), json!({"is_primary": true})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        api.delete(&format!("{url}/{id}/lists/{}", stage[1])).await.status(),
        204
    );
    assert_eq!(
        api.delete(&format!("{url}/{id}/lists/{}", stage[1])).await.status(),
        404
    );
    assert_eq!(
        api.patch(
            &format!("{lists}/{tag}"),
            json!({"is_primary": true, "name": "VIP stage"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(api.delete(&format!("{lists}/{tag}")).await.status(), 204);
    let c: Value = api.get(&format!("{url}/{id}")).await.json().await.unwrap();
    assert_eq!(c["lists"], json!([]));
}

#[tokio::test]
async fn notes_and_calls_go_on_the_timeline_with_pinned_on_top() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let c: Value = api.post(&url, json!({"first_name": "Ada"})).await.json().await.unwrap();
    let comms = format!("{url}/{}/communications", c["id"].as_str().unwrap());
    let pinned: Value = api
        .post(
            &comms,
            json!({"type": "note", "content": {"body": "Allergic to cats"}, "pinned": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    api.post(
        &comms,
        json!({"type": "call", "content": {"body": "Discussed rates", "direction": "outbound"}}),
    )
    .await;
    api.post(
        &comms,
        json!({"type": "note", "content": {"body": "Sent pre-approval"}}),
    )
    .await;
    let bad = [
        json!({"type": "note", "content": {"body": "  "}}),
        json!({"type": "note", "content": "text"}),
        json!({"type": "stage_change", "content": {}}),
        json!({"type": "fax", "content": {"body": "x"}}),
        json!({"type": "email", "content": {"subject": "x"}, "status": "lost"}),
    ];
    for b in bad {
        assert_eq!(api.post(&comms, b.clone()).await.status(), 422, "{b}");
    }
    let t: Value = api.get(&comms).await.json().await.unwrap();
    let bodies: Vec<&str> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["content"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Allergic to cats", "Sent pre-approval", "Discussed rates"]);
    assert_eq!(pinned["author"], "Andy", "the answer names who wrote it");
    // What was said is found by the search (SPEC §7), and only in this workspace.
    for (q, found) in [("pre-approval", 1), ("cats", 1), ("rates", 1), ("zebra", 0)] {
        let hits: Value = api.get(&format!("{url}?q={q}")).await.json().await.unwrap();
        assert_eq!(hits["items"].as_array().unwrap().len(), found, "{q}: {hits}");
    }
    assert!(
        t["items"].as_array().unwrap().iter().all(|e| e["author"] == "Andy"),
        "each entry says who wrote it: {t}"
    );
    let page1: Value = api.get(&format!("{comms}?limit=2")).await.json().await.unwrap();
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2: Value = api
        .get(&format!("{comms}?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2["items"][0]["content"]["body"], "Discussed rates");
    let r = api
        .patch(
            &format!("{comms}/{}", pinned["id"].as_str().unwrap()),
            json!({"pinned": false}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let t: Value = api.get(&comms).await.json().await.unwrap();
    assert_eq!(t["items"][0]["content"]["body"], "Sent pre-approval");
}

#[tokio::test]
async fn tracked_fields_log_their_changes() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    define(
        &api,
        &ws,
        json!({"field_name": "rate_lock", "field_type": "date", "is_tracked": true}),
    )
    .await;
    define(&api, &ws, json!({"field_name": "nickname"})).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let c: Value = api.post(&url, json!({"first_name": "Ada"})).await.json().await.unwrap();
    let id = c["id"].as_str().unwrap();
    api.patch(
        &format!("{url}/{id}"),
        json!({"custom_fields": {"rate_lock": "2026-12-01", "nickname": "Countess"}}),
    )
    .await;
    let t: Value = api
        .get(&format!("{url}/{id}/communications"))
        .await
        .json()
        .await
        .unwrap();
    let items = t["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the tracked field is logged");
    assert_eq!(items[0]["type"], "system");
    assert_eq!(items[0]["content"]["field"], "rate_lock");
    assert_eq!(items[0]["content"]["to"], "2026-12-01");
}

#[tokio::test]
async fn merge_unites_fields_moves_lists_and_history_and_deletes_the_other() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    define(&api, &ws, json!({"field_name": "birthday", "field_type": "date"})).await;
    define(&api, &ws, json!({"field_name": "nickname"})).await;
    define(&api, &ws, json!({"field_name": "alt_email", "field_type": "email"})).await;
    let stage: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Lead", "is_primary": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let tag: Value = api
        .post(&format!("/api/v1/workspaces/{ws}/lists"), json!({"name": "VIP"}))
        .await
        .json()
        .await
        .unwrap();
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let a: Value = api.post(&url, json!({"first_name": "Ada", "last_name": "Lovelace", "company": "Engines", "custom_fields": {"nickname": "Countess", "alt_email": "ada@old.example"}})).await.json().await.unwrap();
    let b: Value = api.post(&url, json!({"first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines", "primary_email": "ada@old.example", "custom_fields": {"nickname": "Enchantress", "birthday": "1815-12-10"}})).await.json().await.unwrap();
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    api.client
        .put(format!(
            "{}{url}/{b_id}/lists/{}",
            api.base,
            stage["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    api.client
        .put(format!(
            "{}{url}/{b_id}/lists/{}",
            api.base,
            tag["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    api.post(
        &format!("{url}/{b_id}/communications"),
        json!({"type": "note", "content": {"body": "met at open house"}}),
    )
    .await;

    let dups: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/duplicates"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        dups["items"].as_array().unwrap().len(),
        1,
        "shared email (alt_email = primary): {dups}"
    );

    assert_eq!(
        api.post(&format!("{url}/{a_id}/merge"), json!({"other_id": a_id}))
            .await
            .status(),
        422
    );
    assert_eq!(
        api.post(
            &format!("{url}/{a_id}/merge"),
            json!({"other_id": b_id, "prefer": {"shoe": "other"}})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        api.post(
            &format!("{url}/{a_id}/merge"),
            json!({"other_id": b_id, "prefer": {"company": "both"}})
        )
        .await
        .status(),
        422
    );

    let r = api
        .post(
            &format!("{url}/{a_id}/merge"),
            json!({"other_id": b_id, "prefer": {"company": "other"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["id"], a_id);
    assert_eq!(m["company"], "Analytical Engines", "prefer other");
    assert_eq!(
        m["primary_email"], "ada@old.example",
        "taken from the other: this had none"
    );
    assert_eq!(m["custom_fields"]["nickname"], "Countess", "default keeps this");
    assert_eq!(m["custom_fields"]["birthday"], "1815-12-10", "united");
    let lists: Vec<&str> = m["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(lists, ["Lead", "VIP"]);
    assert_eq!(api.get(&format!("{url}/{b_id}")).await.status(), 404);
    let t: Value = api
        .get(&format!("{url}/{a_id}/communications"))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"system") && kinds.contains(&"note") && kinds.contains(&"stage_change"),
        "{kinds:?}"
    );
    let merged_log = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "system")
        .unwrap();
    assert_eq!(merged_log["content"]["merged_contact"]["id"], b_id);
    assert!(app.audit_actions().await.iter().any(|(a, _)| a == "contact.merge"));
}

#[tokio::test]
async fn another_users_contacts_lists_and_fields_are_404_and_scopes_hold() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let c: Value = api.post(&url, json!({"first_name": "Ada"})).await.json().await.unwrap();
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
    let d = define(&api, &ws, json!({"field_name": "nickname"})).await;
    let did = d["id"].as_str().unwrap();

    let mona = app.create_user("mona@example.com", "Mona").await;
    let mona_ws = app.workspace(&mona, "Mine").await;
    let mona_api = app.api(&app.key(&mona, RW, None).await);
    let paths = [
        url.clone(),
        format!("{url}/{id}"),
        format!("{url}/{id}/communications"),
        format!("/api/v1/workspaces/{ws}/lists"),
        format!("/api/v1/workspaces/{ws}/custom-fields"),
        format!("/api/v1/workspaces/{ws}/duplicates"),
        // Her own workspace with Andy's ids in it is still a 404.
        format!("/api/v1/workspaces/{mona_ws}/contacts/{id}"),
        format!("/api/v1/workspaces/{mona_ws}/contacts/{id}/communications"),
    ];
    for p in &paths {
        assert_eq!(mona_api.get(p).await.status(), 404, "GET {p}");
    }
    assert_eq!(
        mona_api
            .patch(&format!("{url}/{id}"), json!({"first_name": "x"}))
            .await
            .status(),
        404
    );
    assert_eq!(mona_api.delete(&format!("{url}/{id}")).await.status(), 404);
    assert_eq!(
        mona_api
            .post(&format!("{url}/{id}/merge"), json!({"other_id": id}))
            .await
            .status(),
        404
    );
    assert_eq!(
        mona_api
            .client
            .put(format!("{}{url}/{id}/lists/{lid}", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        mona_api
            .patch(&format!("/api/v1/workspaces/{ws}/lists/{lid}"), json!({"name": "x"}))
            .await
            .status(),
        404
    );
    assert_eq!(
        mona_api
            .delete(&format!("/api/v1/workspaces/{ws}/custom-fields/{did}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        mona_api
            .delete(&format!("/api/v1/workspaces/{mona_ws}/custom-fields/{did}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        mona_api
            .delete(&format!("/api/v1/workspaces/{mona_ws}/lists/{lid}"))
            .await
            .status(),
        404
    );
    let mona_contact: Value = mona_api
        .post(
            &format!("/api/v1/workspaces/{mona_ws}/contacts"),
            json!({"first_name": "M"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let r = mona_api
        .client
        .put(format!(
            "{}/api/v1/workspaces/{mona_ws}/contacts/{}/lists/{lid}",
            app.base,
            mona_contact["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another workspace's list");
    let r = mona_api
        .post(
            &format!(
                "/api/v1/workspaces/{mona_ws}/contacts/{}/merge",
                mona_contact["id"].as_str().unwrap()
            ),
            json!({"other_id": id}),
        )
        .await;
    assert_eq!(r.status(), 422, "cannot merge in someone else's contact");
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 2);

    // Scopes: read-only keys read, write needs write:contacts.
    let andy = pi_crm::storage::users::find_by_email(&app.state.db, "andy@example.com")
        .await
        .unwrap()
        .unwrap();
    let reader = app.api(&app.key(&andy, &["read:contacts"], None).await);
    assert_eq!(reader.get(&format!("{url}/{id}")).await.status(), 200);
    assert_eq!(reader.post(&url, json!({"first_name": "x"})).await.status(), 403);
    assert_eq!(
        reader
            .patch(&format!("{url}/{id}"), json!({"first_name": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(reader.delete(&format!("{url}/{id}")).await.status(), 403);
    assert_eq!(
        reader
            .post(&format!("/api/v1/workspaces/{ws}/lists"), json!({"name": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(
        reader
            .post(
                &format!("{url}/{id}/communications"),
                json!({"type": "note", "content": {"body": "x"}})
            )
            .await
            .status(),
        403
    );
    let nobody = app.api(&app.key(&andy, &["manage:keys"], None).await);
    assert_eq!(nobody.get(&url).await.status(), 403);

    // A viewer reads but cannot write.
    let andy_admin = app.api(&app.key(&andy, &["manage:workspaces"], None).await);
    andy_admin
        .post(
            &format!("/api/v1/workspaces/{ws}/members"),
            json!({"email": "mona@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(mona_api.get(&format!("{url}/{id}")).await.status(), 200);
    assert_eq!(
        mona_api
            .patch(&format!("{url}/{id}"), json!({"first_name": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(mona_api.post(&url, json!({"first_name": "x"})).await.status(), 403);
}

#[tokio::test]
async fn the_search_index_follows_every_write() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    define(&api, &ws, json!({"field_name": "nickname"})).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let found = |v: Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let a: Value = api
        .post(
            &url,
            json!({"first_name": "Jörg", "last_name": "Müller", "primary_phone": "+4930901820"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(
        found(api.get(&format!("{url}?q=jörg")).await.json().await.unwrap()),
        [id.as_str()]
    );
    assert_eq!(
        found(api.get(&format!("{url}?q=MÜLLER")).await.json().await.unwrap()),
        [id.as_str()],
        "case folds beyond ASCII"
    );
    assert_eq!(
        found(api.get(&format!("{url}?q=901%20820")).await.json().await.unwrap()),
        [id.as_str()],
        "phone digits"
    );
    assert_eq!(
        found(api.get(&format!("{url}?q=j")).await.json().await.unwrap()),
        [id.as_str()],
        "short words too"
    );

    api.patch(
        &format!("{url}/{id}"),
        json!({"last_name": "Schmidt", "custom_fields": {"nickname": "Jojo"}}),
    )
    .await;
    assert!(
        found(api.get(&format!("{url}?q=müller")).await.json().await.unwrap()).is_empty(),
        "old text is gone"
    );
    assert_eq!(
        found(api.get(&format!("{url}?q=schmidt%20jojo")).await.json().await.unwrap()),
        [id.as_str()]
    );

    let b: Value = api
        .post(
            &url,
            json!({"first_name": "Zed", "custom_fields": {"nickname": "Zorro"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    api.post(
        &format!("{url}/{id}/merge"),
        json!({"other_id": b["id"], "prefer": {"nickname": "other"}}),
    )
    .await;
    assert_eq!(
        found(api.get(&format!("{url}?q=zorro")).await.json().await.unwrap()),
        [id.as_str()],
        "merged values are findable"
    );
    assert!(found(api.get(&format!("{url}?q=jojo")).await.json().await.unwrap()).is_empty());

    api.delete(&format!("{url}/{id}")).await;
    assert!(found(api.get(&format!("{url}?q=zorro")).await.json().await.unwrap()).is_empty());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contact_search").await,
        0,
        "deleted contacts leave no document"
    );
}

/// Notes and calls can be corrected or deleted; what they said before stays in the audit log
/// (`details.before`), and the search follows the text. Entries that record what happened
/// (stage moves, changes) cannot be edited or deleted.
#[tokio::test]
async fn notes_and_calls_are_edited_and_deleted_with_their_history_kept() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let c: Value = api.post(&url, json!({"first_name": "Ada"})).await.json().await.unwrap();
    let comms = format!("{url}/{}/communications", c["id"].as_str().unwrap());
    let note: Value = api
        .post(
            &comms,
            json!({"type": "note", "content": {"body": "Wants a 30-year fixd"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let entry = format!("{comms}/{}", note["id"].as_str().unwrap());
    assert_eq!(api.patch(&entry, json!({"body": "  "})).await.status(), 422);
    assert_eq!(api.patch(&entry, json!({})).await.status(), 422);
    assert_eq!(
        api.patch(&entry, json!({"body": "Wants a 30-year fixed"}))
            .await
            .status(),
        204
    );
    let t: Value = api.get(&comms).await.json().await.unwrap();
    assert_eq!(t["items"][0]["content"]["body"], "Wants a 30-year fixed");
    let found = |q: &'static str| {
        let api = &api;
        let url = &url;
        async move {
            let v: Value = api.get(&format!("{url}?q={q}")).await.json().await.unwrap();
            v["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(found("fixed").await, 1);
    assert_eq!(found("fixd").await, 0, "the old text is no longer found");
    let before: Option<String> =
        sqlx::query_scalar("SELECT details FROM audit_logs WHERE action = 'communication.update' AND entity_id = ?")
            .bind(note["id"].as_str().unwrap())
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(before.as_deref(), Some(r#"{"before":"Wants a 30-year fixd"}"#));

    // Another person's key finds nothing to change.
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let other = app.api(&app.key(&mona, RW, None).await);
    assert_eq!(other.patch(&entry, json!({"body": "mine"})).await.status(), 404);
    assert_eq!(other.delete(&entry).await.status(), 404);

    // A stage move is a record, not a note.
    let stage: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Lead", "is_primary": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    api.client
        .put(format!(
            "{}{url}/{}/lists/{}",
            api.base,
            c["id"].as_str().unwrap(),
            stage["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let t: Value = api.get(&comms).await.json().await.unwrap();
    let moved = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "stage_change")
        .expect("a stage move is logged");
    let moved = format!("{comms}/{}", moved["id"].as_str().unwrap());
    assert_eq!(api.patch(&moved, json!({"body": "rewritten"})).await.status(), 404);
    assert_eq!(api.delete(&moved).await.status(), 404);

    assert_eq!(api.delete(&entry).await.status(), 204);
    assert_eq!(api.delete(&entry).await.status(), 404, "once");
    assert_eq!(found("fixed").await, 0);
    let deleted: Option<String> =
        sqlx::query_scalar("SELECT details FROM audit_logs WHERE action = 'communication.delete' AND entity_id = ?")
            .bind(note["id"].as_str().unwrap())
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(deleted.as_deref(), Some(r#"{"before":"Wants a 30-year fixed"}"#));
}
