//! Imports over the API: dry run, the job, all-or-nothing, duplicates, revert, isolation.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Api, TestApp};

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/corpus")
            .join(name),
    )
    .unwrap()
}

pub(crate) async fn upload(
    api: &Api,
    ws: &str,
    query: &str,
    name: &str,
    bytes: Vec<u8>,
    mapping: Option<Value>,
    policy: Option<&str>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    if let Some(m) = mapping {
        form = form.text("mapping", m.to_string());
    }
    if let Some(p) = policy {
        form = form.text("on_duplicate", p.to_string());
    }
    api.client
        .post(format!("{}/api/v1/workspaces/{ws}/imports{query}", api.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Runs the queued imports (as the server's worker would), then answers this one as the API
/// shows it, finished.
pub(crate) async fn finished(api: &Api, ws: &str, id: &str) -> Value {
    crate::common::drain_imports(&api.state).await;
    let v: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/imports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(!matches!(v["status"].as_str(), Some("queued" | "running")), "{v}");
    v
}

pub(crate) async fn run(
    api: &Api,
    ws: &str,
    name: &str,
    bytes: Vec<u8>,
    mapping: Option<Value>,
    policy: Option<&str>,
) -> Value {
    let r = upload(api, ws, "", name, bytes, mapping, policy).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    // Nothing runs it until the test drains the queue.
    assert_eq!(v["status"], "queued", "{v}");
    finished(api, ws, v["id"].as_str().unwrap()).await
}

/// A workspace's contacts, by name, as the API lists them.
async fn contacts_by_name(api: &Api, ws: &str) -> Vec<Value> {
    let list: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?sort=name"))
        .await
        .json()
        .await
        .unwrap();
    list["items"].as_array().unwrap().clone()
}

/// A contact's timeline entries, newest first, through the API.
async fn timeline(api: &Api, ws: &str, contact: &Value) -> Vec<Value> {
    let page: Value = api
        .get(&format!(
            "/api/v1/workspaces/{ws}/contacts/{}/communications",
            contact["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

/// Each contact's base fields and custom values, for exact comparisons.
fn base_and_custom(contacts: &[Value]) -> Vec<Value> {
    contacts
        .iter()
        .map(|c| {
            json!([
                c["first_name"],
                c["last_name"],
                c["primary_email"],
                c["primary_phone"],
                c["company"],
                c["custom_fields"]
            ])
        })
        .collect()
}

async fn setup(app: &TestApp) -> (Api, String) {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    (
        app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await),
        ws,
    )
}

#[tokio::test]
async fn a_dry_run_previews_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let r = upload(
        &api,
        &ws,
        "?dry_run=true",
        "tb.csv",
        corpus("contacts_csv/thunderbird_semicolon.csv"),
        None,
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    for key in [
        "format",
        "encoding",
        "delimiter",
        "columns",
        "suggested_mapping",
        "sample_rows",
    ] {
        assert!(p.get(key).is_some(), "{key}: {p}");
    }
    assert_eq!(p["delimiter"], ";");
    assert_eq!(p["suggested_mapping"]["on_duplicate"], "skip");
    assert_eq!(p["problems_total"], 0);

    // With a mapping given, the dry run counts what that mapping cannot read, by column.
    let csv = "Name,Closing,Amount\nAda,2026-07-04,\"$350,000\"\nBob,soon,lots\nCy,tbd,12\nDee,soon,\n";
    let mapping = json!({"columns": {"Name": "first_name",
        "Closing": {"custom": "closing", "type": "date"}, "Amount": {"custom": "amount", "type": "number"}}});
    let r = upload(&api, &ws, "?dry_run=true", "m.csv", csv.into(), Some(mapping), None).await;
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["problems_total"], 4, "{p}");
    assert_eq!(p["problems"][0]["column"], "Closing");
    assert_eq!(p["problems"][0]["count"], 3);
    assert_eq!(p["problems"][0]["examples"], json!(["soon", "tbd"]));
    assert_eq!(p["problems"][1]["column"], "Amount");
    assert_eq!(p["problems"][1]["count"], 1);
    assert_eq!(p["problems"][1]["examples"], json!(["lots"]));
    assert!(p["problems"][1]["message"].as_str().unwrap().contains("lots"), "{p}");
    let bad = json!({"columns": {"Nope": "first_name"}});
    let r = upload(&api, &ws, "?dry_run=true", "m.csv", csv.into(), Some(bad), None).await;
    assert_eq!(
        r.status(),
        422,
        "a mapping that cannot work is refused, as by the import"
    );

    assert_eq!(app.count("SELECT COUNT(*) FROM imports").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM custom_field_definitions").await, 0);
}

#[tokio::test]
async fn google_csv_imports_with_extra_fields_created() {
    // A German Google export: its phones are German numbers.
    let app = TestApp::spawn_with(|c| c.default_phone_region = "DE".into()).await;
    let (api, ws) = setup(&app).await;
    let v = run(
        &api,
        &ws,
        "google.csv",
        corpus("contacts_csv/google_legacy_tine20_5rows.csv"),
        None,
        None,
    )
    .await;
    // One row carries a number that is no phone number anywhere: left out of that contact and
    // reported, saying where; the file goes in.
    assert_eq!(v["status"], "done", "{v}");
    // Google's numbered phones are read under the kind their label names.
    assert_eq!(v["report"]["problems"][0]["column"], "Mobile phone");
    assert_eq!(v["report"]["problems"][0]["line"], 4);
    assert_eq!(v["report"]["created"], 5, "{v}");
    assert_eq!(v["progress"]["rows_done"], 5);
    assert_eq!(v["progress"]["rows_total"], 5);
    let contacts: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?limit=10&sort=name"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(contacts["items"].as_array().unwrap().len(), 5);
    assert!(
        contacts["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["first_name"].is_string() || c["last_name"].is_string())
    );
    // Searching finds imported people (the search index was refreshed).
    let name = contacts["items"][0]["last_name"]
        .as_str()
        .or(contacts["items"][0]["first_name"].as_str())
        .unwrap()
        .to_string();
    let found: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?q={name}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(!found["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_row_fails_the_whole_file_with_line_and_column() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = "First Name,Email,Birthday\nAda,ada@example.com,1815-12-10\nBob,not-an-email,1900-01-01\nCy,cy@example.com,someday\n";
    let stop = json!({"columns": {"First Name": "first_name", "Email": "primary_email",
        "Birthday": {"custom": "birthday", "type": "date"}}, "on_problem": "stop"});
    let v = run(&api, &ws, "bad.csv", csv.as_bytes().to_vec(), Some(stop), None).await;
    assert_eq!(v["status"], "failed");
    let errors = v["report"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{v}");
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(errors[0]["column"], "Email");
    assert_eq!(errors[1]["line"], 4);
    assert_eq!(errors[1]["column"], "Birthday");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM base_contacts").await,
        0,
        "all or nothing"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM custom_field_definitions").await,
        0,
        "not even the new fields"
    );
}

/// By default a cell that cannot be read is left empty and reported (SPEC §11.2): the rest
/// of its row and of the file go in.
#[tokio::test]
async fn a_bad_cell_is_left_empty_and_reported_and_the_file_goes_in() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = "First Name,Email,Birthday,Phone\nAda,ada@example.com,1815-12-10,\nBob,not-an-email,1900-01-01,\nCy,cy@example.com,someday,\n,,,business 1\n";
    let v = run(&api, &ws, "bad.csv", csv.as_bytes().to_vec(), None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["mapping"]["on_problem"], "skip_cell");
    assert_eq!(v["report"]["created"], 3);
    assert_eq!(v["report"]["skipped"], 1, "a row with nothing readable left");
    assert_eq!(v["report"]["errors"], json!([]));
    assert_eq!(v["report"]["problems_total"], 3);
    let problems: Vec<(u64, &str, &str)> = v["report"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["column"].as_str().unwrap(),
                p["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (3, "Email", "not-an-email"),
            (4, "Birthday", "someday"),
            (5, "Phone", "business 1")
        ]
    );
    let bob: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?q=Bob"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bob["items"][0]["primary_email"], Value::Null);
    assert_eq!(
        bob["items"][0]["custom_fields"]["birthday"], "1900-01-01",
        "the rest of the row went in"
    );
}

/// SPEC §11.2: the rows that had a problem come back as the file had them, with a last
/// column saying what was wrong, to be fixed and imported again (the `problem` column is then
/// skipped). Nobody else can fetch them.
#[tokio::test]
async fn the_problem_rows_download_as_a_csv_to_fix_and_import_again() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = "First Name,Email,Birthday,Phone,Notes\n\
               Ada,ada@example.com,1815-12-10,,\n\
               Bob,not-an-email,1900-01-01,,\"Said \"\"call me\"\", later\"\n\
               \"=HYPERLINK(\"\"http://x\"\")\",,someday,,\n\
               ,,,,just a note\n\
               ,,,business 1,\n";
    let v = run(&api, &ws, "June leads.csv", csv.as_bytes().to_vec(), None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 3, "{v}");
    assert_eq!(v["report"]["problem_rows"], 4, "{v}");
    let id = v["id"].as_str().unwrap();
    let url = format!("/api/v1/workspaces/{ws}/imports/{id}/problems.csv");
    let r = api.get(&url).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"June-leads-problems.csv\""
    );
    let body = r.text().await.unwrap();
    assert_eq!(
        body,
        "First Name,Email,Birthday,Phone,Notes,problem\n\
         Bob,not-an-email,1900-01-01,,\"Said \"\"call me\"\", later\",line 3: Email: an email address needs an @\n\
         \"'=HYPERLINK(\"\"http://x\"\")\",,someday,,,\"line 4: Birthday: \"\"someday\"\" is not a date pi-crm can read \
         (1980-07-04, 7/4/1980, 4.7.1980, Jul 4 1980 or --07-04)\"\n\
         ,,,,just a note,\"line 5: row left out: a contact needs at least a name, an email, a phone number or a company\"\n\
         ,,,business 1,,\"line 6: Phone: \"\"business 1\"\" is not a phone number\"\n"
    );

    // Fixed and imported again into another workspace: the problem column stays out.
    let fixed = body
        .replace("not-an-email", "bob@example.com")
        .replace("someday", "1970-01-01")
        .replace(",,,,just a note", "Dee,,,,just a note")
        .replace("business 1", "415-555-0123");
    let andy = pi_crm::storage::users::find_by_email(&app.state.db, "andy@example.com")
        .await
        .unwrap()
        .unwrap();
    let other = app.workspace(&andy, "Fixed").await;
    let again = run(&api, &other, "fixed.csv", fixed.into_bytes(), None, None).await;
    assert_eq!(again["status"], "done", "{again}");
    assert_eq!(again["mapping"]["columns"]["problem"], "skip", "{again}");
    assert_eq!(again["report"]["created"], 4, "{again}");
    assert_eq!(again["report"]["problem_rows"], 0, "{again}");

    // Another person's key cannot fetch them; a key without read:contacts cannot either.
    let mona = app.create_user("mona@example.com", "Mona").await;
    let mona_api = app.api(&app.key(&mona, &["read:contacts"], None).await);
    assert_eq!(mona_api.get(&url).await.status(), 404);
    let narrow = app.api(&app.key(&andy, &["write:contacts"], None).await);
    assert_eq!(narrow.get(&url).await.status(), 403);
    let missing = format!("/api/v1/workspaces/{ws}/imports/01a216d1-09a9-7030-8234-bb2ab7af57f9/problems.csv");
    assert_eq!(api.get(&missing).await.status(), 404);
}

#[tokio::test]
async fn duplicates_are_skipped_updated_or_merged_and_an_import_reverts() {
    // These files come from a German address book: their phones are German numbers.
    let app = TestApp::spawn_with(|c| c.default_phone_region = "DE".into()).await;
    let (api, ws) = setup(&app).await;
    let first = run(
        &api,
        &ws,
        "1.csv",
        corpus("contacts_csv/tine20_latin1_duplicate_import_1.csv"),
        None,
        None,
    )
    .await;
    assert_eq!(first["status"], "done", "{first}");
    let created = first["report"]["created"].as_u64().unwrap();
    assert!(created >= 2);
    let again = run(
        &api,
        &ws,
        "2.csv",
        corpus("contacts_csv/tine20_latin1_duplicate_import_2.csv"),
        None,
        Some("skip"),
    )
    .await;
    assert_eq!(again["report"]["created"], 0, "{again}");
    assert_eq!(again["report"]["duplicates"], created);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await as u64, created);

    let merged = run(
        &api,
        &ws,
        "2.csv",
        corpus("contacts_csv/tine20_latin1_duplicate_import_2.csv"),
        None,
        Some("merge"),
    )
    .await;
    assert_eq!(merged["status"], "done", "{merged}");
    assert!(
        merged["report"]["updated"].as_u64().unwrap() >= 1,
        "the extra phone/e-mail fill gaps: {merged}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await as u64, created);

    // Reverting the merge puts the contacts back as they were; reverting the first removes them.
    let before_values = app.count("SELECT COUNT(*) FROM custom_fields").await;
    let r = api
        .post(
            &format!(
                "/api/v1/workspaces/{ws}/imports/{}/revert",
                merged["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(app.count("SELECT COUNT(*) FROM custom_fields").await <= before_values);
    let r = api
        .post(
            &format!(
                "/api/v1/workspaces/{ws}/imports/{}/revert",
                first["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "reverted");
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
    let r = api
        .post(
            &format!(
                "/api/v1/workspaces/{ws}/imports/{}/revert",
                first["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 409, "only once");

    // Each import and revert sets the search index up for a bulk write, then back for
    // everyday ones: merging on, the small buffer of pending entries.
    let config = [
        app.count("SELECT v FROM contact_search_config WHERE k = 'automerge'")
            .await,
        app.count("SELECT v FROM contact_search_config WHERE k = 'crisismerge'")
            .await,
        app.count("SELECT v FROM contact_search_config WHERE k = 'hashsize'")
            .await,
    ];
    assert_eq!(config, [4, 16, 1 << 20]);
}

#[tokio::test]
async fn duplicates_inside_one_file_are_counted() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = "Name,Email,Phone\nAda,ada@example.com,\nAda L,ADA@example.com,+1 415 555 0123\nBob,,415-555-0123\nBob,,(415) 555-0123\n";
    let v = run(&api, &ws, "d.csv", csv.as_bytes().to_vec(), None, Some("update")).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 2, "Bob shares Ada's phone but is not Ada: {v}");
    assert_eq!(v["report"]["duplicates"], 2);
    let c = contacts_by_name(&api, &ws).await;
    let names: Vec<&str> = c.iter().map(|c| c["first_name"].as_str().unwrap()).collect();
    // The lone "Name" column is split: "Ada L" is Ada, last name L.
    // Sorted by name, last names first: Bob (none), then Ada L.
    assert_eq!(names, ["Bob", "Ada"], "update: later rows win");
    assert_eq!(c[1]["last_name"], "L", "update: later rows win");
    assert!(c.iter().all(|c| c["primary_phone"] == "+14155550123"));
}

/// SPEC §4: a row with an email is the same person as the contact with that email; a row
/// without one is the same person only when phone and name (ignoring case, accents and
/// spacing) both match — a contact that was there before, or an earlier row of the file.
/// Spouses on one landline are two contacts.
#[tokio::test]
async fn a_shared_phone_makes_a_duplicate_only_with_the_same_name() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Maria", "last_name": "Lopez", "primary_phone": "+14155550111"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let csv = "First Name,Last Name,E-mail Address,Mobile Phone,Company\n\
               Ada,,ada@example.com,,\n\
               Ada,L,ADA@example.com,+1 415 555 0123,\n\
               Bob,King,,415-555-0123,\n\
               Bob,King,,(415) 555-0123,King Realty\n\
               bob , KING,,415.555.0123,\n\
               Ana,King,,415-555-0123,\n\
               Jos\u{e9},Garc\u{ed}a,,415-555-0188,\n\
               Jose,Garcia,,415-555-0188,Casa\n\
               Jose,Garcia,,415-555-0199,\n\
               Maria,Lopez,,415 555 0111,Acme\n";
    let v = run(&api, &ws, "shared.csv", csv.as_bytes().to_vec(), None, Some("merge")).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 5, "{v}");
    assert_eq!(v["report"]["duplicates"], 5, "{v}");
    assert_eq!(v["report"]["updated"], 1, "Maria was there before: {v}");
    assert_eq!(v["report"]["problems"], json!([]));
    let got = base_and_custom(&contacts_by_name(&api, &ws).await);
    let want = [
        json!(["Jose", "Garcia", null, "+14155550199", null, {}]),
        json!(["Jos\u{e9}", "Garc\u{ed}a", null, "+14155550188", "Casa", {}]),
        json!(["Ana", "King", null, "+14155550123", null, {}]),
        json!(["Bob", "King", null, "+14155550123", "King Realty", {}]),
        json!(["Ada", "L", "ada@example.com", "+14155550123", null, {}]),
        json!(["Maria", "Lopez", null, "+14155550111", "Acme", {}]),
    ];
    assert_eq!(got, want);
}

#[tokio::test]
async fn vcards_import_and_exports_reimport_to_the_same_contacts() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let v = run(
        &api,
        &ws,
        "tb.vcf",
        corpus("vcard/thunderbird_export_v40_2cards.vcf"),
        None,
        None,
    )
    .await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 2);
    let v = run(
        &api,
        &ws,
        "gmail.vcf",
        corpus("vcard/ezvcard_gmail-list.vcf"),
        None,
        None,
    )
    .await;
    assert_eq!(v["report"]["created"], 3, "{v}");

    let csv = api
        .get(&format!("/api/v1/workspaces/{ws}/export?format=csv"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let andy = pi_crm::storage::users::find_by_email(&app.state.db, "andy@example.com")
        .await
        .unwrap()
        .unwrap();
    let copy = app.workspace(&andy, "Copy").await;
    let fields: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/custom-fields"))
        .await
        .json()
        .await
        .unwrap();
    let mut columns = serde_json::Map::new();
    for f in fields["items"].as_array().unwrap() {
        // The export heads a custom column `name [type]`.
        columns.insert(
            format!(
                "{} [{}]",
                f["field_name"].as_str().unwrap(),
                f["field_type"].as_str().unwrap()
            ),
            json!({"custom": f["field_name"], "type": f["field_type"]}),
        );
    }
    for b in ["first_name", "last_name", "primary_email", "primary_phone", "company"] {
        columns.insert(b.into(), json!(b));
    }
    let back = run(
        &api,
        &copy,
        "export.csv",
        csv,
        Some(json!({"columns": columns, "on_duplicate": "skip"})),
        None,
    )
    .await;
    assert_eq!(back["status"], "done", "{back}");
    let strip = |v: Value| -> Vec<Value> {
        let mut items: Vec<Value> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let mut c = c.clone();
                for k in ["id", "workspace_id", "created_on", "lists"] {
                    c.as_object_mut().unwrap().remove(k);
                }
                c
            })
            .collect();
        items.sort_by_key(|c| c.to_string());
        items
    };
    let original = strip(
        api.get(&format!("/api/v1/workspaces/{ws}/contacts?limit=200"))
            .await
            .json()
            .await
            .unwrap(),
    );
    let copied = strip(
        api.get(&format!("/api/v1/workspaces/{copy}/contacts?limit=200"))
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(original, copied, "an export re-imports to identical data");
}

#[tokio::test]
async fn junk_phone_numbers_are_reported_or_stop_the_file_as_asked() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let preview: Value = upload(
        &api,
        &ws,
        "?dry_run=true",
        "a.vcf",
        corpus("vcard/ezvcard_John_Doe_ANDROID.vcf"),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let mut stop = preview["suggested_mapping"].clone();
    stop["on_problem"] = json!("stop");
    let v = run(
        &api,
        &ws,
        "android.vcf",
        corpus("vcard/ezvcard_John_Doe_ANDROID.vcf"),
        Some(stop),
        None,
    )
    .await;
    assert_eq!(v["status"], "failed");
    let errors = v["report"]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["column"] == "Mobile phone 1" && e["message"].as_str().unwrap().contains("123456789")),
        "{v}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
    // By default the number is left out of its contact, reported, and the rest goes in.
    let v = run(
        &api,
        &ws,
        "android.vcf",
        corpus("vcard/ezvcard_John_Doe_ANDROID.vcf"),
        None,
        None,
    )
    .await;
    assert_eq!(v["status"], "done", "{v}");
    assert!(
        v["report"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["column"] == "Mobile phone 1" && p["value"] == "123456789"),
        "{v}"
    );
    assert!(v["report"]["created"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn bad_uploads_are_refused_clearly_and_write_nothing() {
    let app = TestApp::spawn_with(|c| c.max_upload_mb = 1).await;
    let (api, ws) = setup(&app).await;
    for (bytes, status, why) in [
        (Vec::new(), 422, "empty"),
        (vec![0u8, 1, 2, 3, 255, 254, 0, 0, 7, 8, 9], 422, "binary"),
        (vec![b'a'; 2 * 1024 * 1024], 413, "larger"),
        (
            (0..10_000)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(",")
                .into_bytes(),
            422,
            "columns",
        ),
        (corpus("vcard/monica_broken_begin_line.vcard"), 422, "vCard"),
    ] {
        let r = upload(&api, &ws, "", "x", bytes, None, None).await;
        assert_eq!(r.status(), status, "{why}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"]["message"].as_str().unwrap().contains(why), "{why}: {e}");
    }
    let r = upload(
        &api,
        &ws,
        "",
        "x.csv",
        b"Name\nAda\n".to_vec(),
        Some(json!({"columns": {"Nope": "first_name"}})),
        None,
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = upload(
        &api,
        &ws,
        "",
        "x.csv",
        b"Name\nAda\n".to_vec(),
        Some(json!({"columns": {"Name": "shoe_size"}})),
        None,
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = upload(&api, &ws, "", "x.csv", b"Name\nAda\n".to_vec(), None, Some("sometimes")).await;
    assert_eq!(r.status(), 422);
    let r = api
        .client
        .post(format!("{}/api/v1/workspaces/{ws}/imports", api.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(app.count("SELECT COUNT(*) FROM imports").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
    assert_eq!(
        app.anonymous().get(app.url("/healthz")).send().await.unwrap().status(),
        200,
        "the server stays up"
    );
}

/// Rows of a plausible contact file, `size` bytes or a little more.
fn rows_of_size(size: usize) -> Vec<u8> {
    let mut csv = b"Name,Email,Notes\n".to_vec();
    let mut i = 0;
    while csv.len() < size {
        csv.extend_from_slice(format!("Person {i},p{i}@example.com,\"met at the open house, row {i}\"\n").as_bytes());
        i += 1;
    }
    csv
}

fn upload_files_left(app: &TestApp) -> usize {
    std::fs::read_dir(app.dir.path().join("data/imports"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_50_mb_file_is_read_through_and_refused_whole_when_its_end_is_bad() {
    // The default upload limit is 50 MB: a file of that size arrives (to disk, not memory),
    // is read through at upload, and a binary tail refuses all of it.
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let mut big = rows_of_size(50 * 1000 * 1000 - 16);
    big.extend_from_slice(b"Zed,z@example.com,\x00\x01\n");
    assert!(big.len() >= 50_000_000 && big.len() < 50 * 1024 * 1024);
    let r = upload(&api, &ws, "", "big.csv", big, None, None).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("binary"), "{e}");

    // Over the limit (and the room left for the multipart wrapping): 413, nothing kept.
    let r = upload(
        &api,
        &ws,
        "",
        "huge.csv",
        rows_of_size(50 * 1024 * 1024 + 128 * 1024),
        None,
        None,
    )
    .await;
    assert_eq!(r.status(), 413);

    // A quote that never closes would make the rest of the file one field: it is refused with
    // the line it starts on.
    let mut open_quote = b"Name,Notes\nAda,fine\nBob,\"never closed\n".to_vec();
    open_quote.extend(b"Cy,plain text without quotes\n".repeat(200_000));
    let r = upload(&api, &ws, "", "q.csv", open_quote, None, None).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("line 3"), "{e}");

    assert_eq!(app.count("SELECT COUNT(*) FROM imports").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
    assert_eq!(upload_files_left(&app), 0, "refused uploads leave no file behind");
    assert_eq!(
        app.anonymous().get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_large_file_imports_in_chunks_and_its_file_is_removed() {
    // Many of the writer's chunks (each a transaction of its own), and duplicates across chunk
    // edges, kept for the last transaction: every row lands once, the later row wins an
    // update, and the indexes answer filters and the sort by name.
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let mut csv = String::from("Name,Last,Email,Phone,Score,City\n");
    for i in 0..20_000 {
        csv.push_str(&format!(
            "P{i},Family {:03},p{i}@example.com,+1415{:07},{},City {}\n",
            (i * 7919) % 997,
            2_000_000 + i,
            i % 100,
            i % 50
        ));
    }
    // The same people again, later in the file: duplicates of rows in earlier chunks.
    for i in (0..20_000).step_by(2000) {
        csv.push_str(&format!(
            "Again {i},Family {:03},P{i}@EXAMPLE.com,,{},\n",
            (i * 7919) % 997,
            1000 + i
        ));
    }
    let mapping = json!({"columns": {"Name": "first_name", "Last": "last_name", "Email": "primary_email",
        "Phone": "primary_phone", "Score": {"custom": "score", "type": "number"},
        "City": {"custom": "city", "type": "text"}},
        "on_duplicate": "update"});
    let v = run(&api, &ws, "big.csv", csv.into_bytes(), Some(mapping), None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 20_000);
    assert_eq!(v["report"]["duplicates"], 10);
    assert_eq!(
        v["report"]["updated"], 0,
        "contacts this import created are not 'updated'"
    );
    assert_eq!(v["progress"]["rows_done"], 20_010);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 20_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM custom_fields").await, 40_000);
    assert_eq!(app.count(INDEXES_SET_ASIDE).await, 2, "both indexes are back");
    let found: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?field.score=3000"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(
        found["items"][0]["first_name"], "Again 2000",
        "update: the later row wins"
    );
    let by_name: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?sort=name&limit=3"))
        .await
        .json()
        .await
        .unwrap();
    let firsts: Vec<(&str, &str)> = by_name["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["last_name"].as_str().unwrap(), c["first_name"].as_str().unwrap()))
        .collect();
    // Family 000 is i = 0 and every 997th i after it: P0 (updated to "Again 0"), P10967, P11964…
    assert_eq!(
        firsts,
        [
            ("Family 000", "Again 0"),
            ("Family 000", "P10967"),
            ("Family 000", "P11964")
        ],
        "{by_name}"
    );
    let searched: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?q=p4321@example"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        searched["items"][0]["first_name"], "P4321",
        "created contacts are searchable"
    );
    // The file goes just after the commit that makes the import done.
    assert_eq!(upload_files_left(&app), 0, "a finished import's file is removed");

    // Reverting 20,000 contacts and their 40,000 values also sets both indexes aside and
    // builds them again; the search documents go with the contacts.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/imports/{}/revert", v["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM custom_fields").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM contact_search").await, 0);
    assert_eq!(app.count(INDEXES_SET_ASIDE).await, 2);
}

/// The JSON a GET answers.
async fn json_of(api: &Api, path: &str) -> Value {
    api.get(path).await.json().await.unwrap()
}

/// Asks for a new contact in `ws`.
async fn new_contact(api: &Api, ws: &str, body: Value) -> reqwest::Response {
    api.post(&format!("/api/v1/workspaces/{ws}/contacts"), body).await
}

/// A running import writes chunk after chunk, yet shows nothing until it is done: not in the
/// list, a search, a count or a look-up by id. Meanwhile everyone keeps writing — in another
/// workspace and in the import's own — and a contact made meanwhile with an email further down
/// the file makes that row a duplicate. Done, everything shows at once and no mark is left.
#[tokio::test]
async fn a_running_import_shows_nothing_until_done_while_others_keep_writing() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let mona = app.create_user("mona@example.com", "Mona").await;
    let mona_ws = app.workspace(&mona, "Her own").await;
    let mona_api = app.api(&app.key(&mona, &["read:contacts", "write:contacts"], None).await);
    let rows = 100_000;
    let mut csv = String::from("Name,Email,City\n");
    for i in 0..rows {
        csv.push_str(&format!("Person{i},person{i}@example.com,City {}\n", i % 40));
    }
    let r = upload(&api, &ws, "", "many.csv", csv.into_bytes(), None, None).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    // The import runs beside this test, as the server's worker would run it.
    let worker = tokio::spawn({
        let state = app.state.clone();
        async move { crate::common::drain_imports(&state).await }
    });
    loop {
        let v: Value = json_of(&api, &format!("/api/v1/workspaces/{ws}/imports/{id}")).await;
        assert!(
            matches!(v["status"].as_str(), Some("queued" | "running")),
            "100,000 rows take longer than this watch: {v}"
        );
        if v["progress"]["rows_done"].as_u64().unwrap() >= 1_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Take the write lock as any writer would (`begin_write`, at its turn): the import stops
    // at its next transaction, which waits for this one, so what follows runs while it is
    // mid-file however fast the machine.
    let held = pi_crm::storage::db::begin_write(&app.state.db).await.unwrap();
    let v: Value = json_of(&api, &format!("/api/v1/workspaces/{ws}/imports/{id}")).await;
    assert_eq!(v["status"], "running", "{v}");
    let written = app.count("SELECT COUNT(*) FROM base_contacts").await;
    assert!(written >= 1_000, "chunks are committed as the import runs: {written}");
    let hidden: String = sqlx::query_scalar("SELECT id FROM base_contacts LIMIT 1")
        .fetch_one(&app.state.db)
        .await
        .unwrap();

    let list: Value = json_of(&api, &format!("/api/v1/workspaces/{ws}/contacts")).await;
    assert_eq!(list["items"], json!([]), "{list}");
    let searched: Value = json_of(&api, &format!("/api/v1/workspaces/{ws}/contacts?q=person1")).await;
    assert_eq!(searched["items"], json!([]), "{searched}");
    let filtered: Value = json_of(&api, &format!("/api/v1/workspaces/{ws}/contacts?field.city=City%201")).await;
    assert_eq!(
        filtered["error"]["message"], "no custom field named city here",
        "the fields a file brings come with its contacts: {filtered}"
    );
    let one = api.get(&format!("/api/v1/workspaces/{ws}/contacts/{hidden}")).await;
    assert_eq!(one.status(), 404, "a hidden contact is not found by its id either");

    // Writes beside the import, sent while it waits: they queue for the write lock with it and
    // go before its next transaction (turns are fair), which writes a few thousand rows at
    // most. His, in the import's own workspace — one with the email of the file's last row,
    // one with the email of a row already written — and hers in her workspace.
    let last = rows - 1;
    let late_email = format!("person{last}@example.com");
    let writes = async {
        tokio::join!(
            api.client
                .delete(format!("{}/api/v1/workspaces/{ws}/contacts/{hidden}", api.base))
                .send(),
            new_contact(&api, &ws, json!({"first_name": "Early", "primary_email": late_email})),
            new_contact(
                &api,
                &ws,
                json!({"first_name": "Twin", "primary_email": "person0@example.com"})
            ),
            new_contact(
                &api,
                &ws,
                json!({"first_name": "Walk-in", "primary_email": "walk-in@example.com"})
            ),
            new_contact(
                &mona_api,
                &mona_ws,
                json!({"first_name": "Friend", "primary_email": "friend@example.com"})
            ),
        )
    };
    let release = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.rollback().await.unwrap();
    };
    let ((deleted, early, twin, walk_in, friend), ()) = tokio::join!(writes, release);
    assert_eq!(deleted.unwrap().status(), 404, "a hidden contact cannot be deleted");
    for r in [early, walk_in, friend] {
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    // An email the import has already written is taken, though nobody sees its contact yet.
    assert_eq!(twin.status(), 409);
    let body: Value = twin.json().await.unwrap();
    assert_eq!(
        body["error"]["message"], "a contact with this email is being imported into this workspace",
        "{body}"
    );

    worker.await.unwrap();
    let v = finished(&api, &ws, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], rows - 1, "{v}");
    assert_eq!(
        v["report"]["duplicates"], 1,
        "his contact, made first, made the last row a duplicate: {v}"
    );
    let holders: Value = json_of(&api, &format!("/api/v1/workspaces/{ws}/contacts?q={late_email}")).await;
    assert_eq!(holders["items"].as_array().unwrap().len(), 1, "{holders}");
    assert_eq!(holders["items"][0]["first_name"], "Early", "{holders}");
    let all: Value = json_of(&api, &format!("/api/v1/workspaces/{ws}/contacts?q=person1234@")).await;
    assert_eq!(all["items"][0]["first_name"], "Person1234", "{all}");
    let one = api.get(&format!("/api/v1/workspaces/{ws}/contacts/{hidden}")).await;
    assert_eq!(one.status(), 200, "shown once the import is done");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contacts").await,
        i64::from(rows) + 2,
        "the import's 99,999 contacts, his two and hers"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM hidden_imports").await, 0);
    // The marks are cleared just after, a batch at a time, before the run ends.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM base_contacts WHERE import_pending IS NOT NULL")
            .await,
        0
    );
}

/// A file stopped by a bad row near its end (`on_problem: stop`) after many chunks were
/// committed leaves nothing: no contact, value, search document, record or field.
#[tokio::test]
async fn an_import_stopped_after_many_chunks_leaves_nothing() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let mut csv = String::from("Name,Email,Birthday\n");
    for i in 0..5_000 {
        csv.push_str(&format!("P{i},p{i}@example.com,1980-01-{:02}\n", i % 28 + 1));
    }
    csv.push_str("Late,late@example.com,someday\n");
    let stop = json!({"columns": {"Name": "first_name", "Email": "primary_email",
        "Birthday": {"custom": "birthday", "type": "date"}}, "on_problem": "stop"});
    let v = run(&api, &ws, "late.csv", csv.into_bytes(), Some(stop), None).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["report"]["errors"][0]["line"], 5_002, "{v}");
    for sql in [
        "SELECT COUNT(*) FROM base_contacts",
        "SELECT COUNT(*) FROM custom_fields",
        "SELECT COUNT(*) FROM contact_search",
        "SELECT COUNT(*) FROM import_items",
        "SELECT COUNT(*) FROM import_problem_rows",
        "SELECT COUNT(*) FROM hidden_imports",
        "SELECT COUNT(*) FROM custom_field_definitions",
    ] {
        assert_eq!(app.count(sql).await, 0, "{sql}");
    }
}

/// The indexes a large revert drops and builds again; both must exist afterwards.
const INDEXES_SET_ASIDE: &str = "SELECT COUNT(*) FROM sqlite_schema
    WHERE type = 'index' AND name IN ('custom_fields_lookup', 'base_contacts_by_name')";

#[tokio::test]
async fn files_of_imports_queued_by_an_older_version_move_out_of_the_database_at_start() {
    // Before uploads were kept on disk, a waiting import's file sat in `imports.file`.
    let app = TestApp::spawn().await;
    let (_, ws) = setup(&app).await;
    let user: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'andy@example.com'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let id = "01a216d1-09a9-7030-8234-bb2ab7af57f9";
    sqlx::query(
        "INSERT INTO imports (id, workspace_id, user_id, filename, format, encoding, status, file, rows_total, via, created_at)
         VALUES (?, ?, ?, 'old.csv', 'csv', 'UTF-8', 'draft', ?, 1, 'ui', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
    )
    .bind(id)
    .bind(&ws)
    .bind(&user)
    .bind(b"Name\nAda\n".to_vec())
    .execute(&app.state.db)
    .await
    .unwrap();
    std::fs::write(app.dir.path().join("data/imports/stray-file"), b"left by a crash").unwrap();
    let restarted = pi_crm::app::open_state((*app.state.config).clone()).await.unwrap();
    let on_disk = std::fs::read(app.dir.path().join("data/imports").join(id)).unwrap();
    assert_eq!(on_disk, b"Name\nAda\n");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM imports WHERE file IS NOT NULL").await,
        0
    );
    assert!(
        !app.dir.path().join("data/imports/stray-file").exists(),
        "a file no import waits for is swept"
    );
    restarted.db.close().await;
}

#[tokio::test]
async fn imports_are_isolated_and_scoped() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let v = run(&api, &ws, "a.csv", b"Name\nAda\n".to_vec(), None, None).await;
    let id = v["id"].as_str().unwrap();
    let mona = app.create_user("mona@example.com", "Mona").await;
    let mona_ws = app.workspace(&mona, "Mine").await;
    let mona_api = app.api(&app.key(&mona, &["read:contacts", "write:contacts"], None).await);
    assert_eq!(
        mona_api.get(&format!("/api/v1/workspaces/{ws}/imports")).await.status(),
        404
    );
    assert_eq!(
        mona_api
            .get(&format!("/api/v1/workspaces/{ws}/imports/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        mona_api
            .get(&format!("/api/v1/workspaces/{mona_ws}/imports/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        mona_api
            .post(&format!("/api/v1/workspaces/{mona_ws}/imports/{id}/revert"), json!({}))
            .await
            .status(),
        404
    );
    assert_eq!(
        upload(&mona_api, &ws, "", "x.csv", b"Name\nEve\n".to_vec(), None, None)
            .await
            .status(),
        404
    );
    let andy = pi_crm::storage::users::find_by_email(&app.state.db, "andy@example.com")
        .await
        .unwrap()
        .unwrap();
    let reader = app.api(&app.key(&andy, &["read:contacts"], None).await);
    assert_eq!(
        upload(&reader, &ws, "", "x.csv", b"Name\nEve\n".to_vec(), None, None)
            .await
            .status(),
        403
    );
    assert_eq!(
        reader
            .post(&format!("/api/v1/workspaces/{ws}/imports/{id}/revert"), json!({}))
            .await
            .status(),
        403
    );
    let list: Value = reader
        .get(&format!("/api/v1/workspaces/{ws}/imports"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_file_with_hundreds_of_custom_columns_imports_every_value() {
    // 400 custom fields × 600 rows: more values per statement than SQLite's 32,766 parameters
    // if a statement took a whole chunk of rows.
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let fields: Vec<String> = (0..400).map(|f| format!("Extra {f:03}")).collect();
    let mut csv = format!("Email,{}\n", fields.join(","));
    for i in 0..600 {
        let cells: Vec<String> = (0..400).map(|f| format!("v{i}-{f}")).collect();
        csv.push_str(&format!("wide{i}@example.com,{}\n", cells.join(",")));
    }
    let mut columns = serde_json::Map::new();
    columns.insert("Email".into(), json!("primary_email"));
    for (f, header) in fields.iter().enumerate() {
        columns.insert(
            header.clone(),
            json!({"custom": format!("extra_{f:03}"), "type": "text"}),
        );
    }
    let v = run(
        &api,
        &ws,
        "wide.csv",
        csv.into_bytes(),
        Some(json!({"columns": columns})),
        None,
    )
    .await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 600);
    assert_eq!(app.count("SELECT COUNT(*) FROM custom_fields").await, 240_000);
    let found: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?field.extra_399=v599-399"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["primary_email"], "wide599@example.com", "{found}");
}

/// Dates and amounts as people and exporters write them (issue 11 point 2): Outlook's
/// `12/9/1906` and its `0/0/00` for "no date", Google's year-less `--07-04`, month names,
/// European `D.M.YYYY`; amounts with a currency sign and thousands separators.
#[tokio::test]
async fn dates_and_amounts_are_read_as_people_write_them() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = "Name,E-mail,Birthday,Loan amount\n\
        Ann,ann@example.com,12/9/1906,\"$350,000.00\"\n\
        Bo,bo@example.com,0/0/00,\"1,500\"\n\
        Cy,cy@example.com,--07-04,250000\n\
        Di,di@example.com,\"Jul 4, 1980\",\"1.234.567,50 €\"\n\
        Ed,ed@example.com,24.12.1975,\n\
        Flo,flo@example.com,00.00.0000,\n";
    let mapping = json!({"columns": {"Name": "first_name", "E-mail": "primary_email",
        "Birthday": {"custom": "birthday", "type": "date"},
        "Loan amount": {"custom": "loan_amount", "type": "number"}}});
    let v = run(&api, &ws, "people.csv", csv.as_bytes().to_vec(), Some(mapping), None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 6);
    let list: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts?sort=oldest&limit=10"))
        .await
        .json()
        .await
        .unwrap();
    let got: Vec<(String, Value, Value)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["first_name"].as_str().unwrap().to_string(),
                c["custom_fields"]["birthday"].clone(),
                c["custom_fields"]["loan_amount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("Ann".into(), json!("1906-12-09"), json!(350000)),
            ("Bo".into(), Value::Null, json!(1500)),
            ("Cy".into(), json!("--07-04"), json!(250000)),
            ("Di".into(), json!("1980-07-04"), json!(1234567.5)),
            ("Ed".into(), json!("1975-12-24"), Value::Null),
            ("Flo".into(), Value::Null, Value::Null),
        ]
    );
    // The same reading serves the API's own writes.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Gus", "custom_fields": {"birthday": "4 July", "loan_amount": "$1,000"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["custom_fields"]["birthday"], "--07-04");
    assert_eq!(c["custom_fields"]["loan_amount"], 1000);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Hal", "custom_fields": {"birthday": "2/30/1980"}}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("not a day of the calendar"));
}

/// Google Contacts' current export (2024 header, CRLF, a quoted address over two lines), as
/// Google writes it: the phonetic-name columns are no phones, the mobile is the primary phone,
/// a birthday without a year is kept as one, and a Beijing mobile is a phone number.
#[tokio::test]
async fn a_current_google_export_imports_with_nothing_mapped_by_hand() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let bytes = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imports/google_contacts_current.csv"),
    )
    .unwrap();
    // The dry run names the noise it skips and the fields the import would make.
    let preview: Value = upload(&api, &ws, "?dry_run=true", "contacts.csv", bytes.clone(), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        preview["noise"],
        json!(["Phonetic First Name", "Phonetic Last Name"]),
        "{preview}"
    );
    let to_create = preview["fields_to_create"].as_array().unwrap().len();
    let v = run(&api, &ws, "contacts.csv", bytes, None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 3, "{v}");
    assert_eq!(
        v["report"]["fields_created"].as_array().unwrap().len(),
        to_create,
        "the dry run's count is what the import made: {v}"
    );
    assert_eq!(
        v["mapping"]["columns"]["Phonetic First Name"], "skip",
        "no phone, and noise for a CRM"
    );
    // Google's numbered phones and addresses are folded by their labels, row by row, into the
    // columns a vCard's would be (`grouped`): the labels and an address's parts are no columns.
    for folded in [
        "Phone 1 - Label",
        "Phone 1 - Value",
        "Address 1 - Label",
        "Address 1 - City",
    ] {
        assert!(v["mapping"]["columns"].get(folded).is_none(), "{folded}: {v}");
    }
    assert_eq!(v["mapping"]["columns"]["Mobile phone"], "primary_phone");
    assert_eq!(v["mapping"]["columns"]["Work phone"]["custom"], "work_phone");
    assert_eq!(v["mapping"]["columns"]["Address"]["custom"], "address");
    assert_eq!(v["mapping"]["columns"]["Photo"], "skip", "empty throughout");
    let people: Vec<Value> = contacts_by_name(&api, &ws)
        .await
        .iter()
        .map(|c| {
            json!({"name": [c["first_name"], c["last_name"]], "email": c["primary_email"],
                   "phone": c["primary_phone"], "company": c["company"], "custom": c["custom_fields"]})
        })
        .collect();
    assert_eq!(
        people,
        vec![
            json!({"name": ["Maria", "Gonzalez"], "email": "maria.gonzalez@example.com", "phone": "+14155550134",
                   "company": "Pacific Realty", "custom": {
                       "address": "12 Elm St\nSan Mateo, CA 94401", "alternate_email": "maria@pacificrealty.example",
                       "birthday": "--07-04", "job_title": "Broker",
                       "notes": "Met at the open house on Elm St", "work_phone": "+14155550199"}}),
            json!({"name": ["Tom", "O'Brien"], "email": null, "phone": "+14155550177", "company": null,
                   "custom": {"birthday": "1975-12-09", "name_prefix": "Dr.",
                              "nickname": "Tommy"}}),
            json!({"name": ["Wei", "Zhang"], "email": "wei.zhang@example.com", "phone": "+8613910998888",
                   "company": null, "custom": {"birthday": "1980-03-22"}}),
        ]
    );
    // Labels are lists; Google's system label "* myContacts" is none.
    let lists: Vec<(Value, Vec<Value>)> = contacts_by_name(&api, &ws)
        .await
        .iter()
        .map(|c| {
            (
                c["first_name"].clone(),
                c["lists"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["name"].clone())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        lists,
        [
            (json!("Maria"), vec![]),
            (json!("Tom"), vec![json!("Realtors")]),
            (json!("Wei"), vec![])
        ]
    );
    assert_eq!(v["report"]["lists_created"], json!(["Realtors"]), "{v}");
}

/// pi-crm's own exports, CSV and vCard, re-import with nothing lost and nothing mapped by
/// hand: into a fresh workspace (each custom field made again with its own name and type, which
/// the export carries: a ZIP code stays text, notes stay long text, `nickname`, `work_email`
/// and `alt_email` stay themselves), and into a workspace that already has some of the fields
/// under other labels (`work_email` goes to `work_email`, not to a new `alternate_email`).
#[tokio::test]
async fn our_own_csv_export_reimports_with_every_value() {
    reimport_own_export("csv").await;
}

#[tokio::test]
async fn our_own_vcard_export_reimports_with_every_value() {
    reimport_own_export("vcf").await;
}

async fn reimport_own_export(format: &str) {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let (from, fresh, other) = (
        app.workspace(&andy, "Borrowers").await,
        app.workspace(&andy, "Fresh").await,
        app.workspace(&andy, "Other").await,
    );
    for (ws, name, t, label) in [
        (&from, "loan_amount", "number", "Loan amount"),
        (&from, "closing", "date", "Closing"),
        (&from, "realtor", "text", "Realtor"),
        (&from, "zip", "text", "ZIP"),
        (&from, "first_time_buyer", "boolean", "First-time buyer"),
        (&from, "birthday", "date", "Birthday"),
        (&from, "nickname", "text", "Nickname"),
        (&from, "work_email", "email", "Work email"),
        (&from, "alt_email", "email", "Alt email"),
        (&from, "notes", "long_text", "Notes"),
        (&from, "rate", "text", "Rate"),
        (&other, "closing", "date", "Closing date"),
        (&other, "work_email", "email", "Office email"),
    ] {
        let r = api
            .post(
                &format!("/api/v1/workspaces/{ws}/custom-fields"),
                json!({"field_name": name, "field_type": t, "label": label}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    for c in [
        json!({"first_name": "Ann", "last_name": "Lee", "primary_email": "ann@example.com", "primary_phone": "+14155550134",
               "company": "=Acme", "custom_fields": {"loan_amount": 350000, "closing": "2026-03-01", "realtor": "Bo Tate",
               "zip": "02139", "first_time_buyer": true, "birthday": "--07-04", "nickname": "Annie",
               "work_email": "ann@acme.example", "alt_email": "ann.lee@gmail.example", "notes": "Prefers texts.\nCall after 5.",
               "rate": "6.25"}}),
        json!({"first_name": "Cy", "custom_fields": {"loan_amount": 1250.5, "first_time_buyer": false, "zip": "94401",
               "nickname": "Cyclone", "rate": "7"}}),
    ] {
        let r = api.post(&format!("/api/v1/workspaces/{from}/contacts"), c).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let file = api
        .get(&format!("/api/v1/workspaces/{from}/export?format={format}"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let want = base_and_custom(&contacts_by_name(&api, &from).await);
    assert_eq!(want.len(), 2);
    for ws in [&fresh, &other] {
        let v = run(&api, ws, &format!("export.{format}"), file.clone(), None, None).await;
        assert_eq!(v["status"], "done", "{v}");
        assert_eq!(
            base_and_custom(&contacts_by_name(&api, ws).await),
            want,
            "into {ws}: {}",
            v["mapping"]
        );
    }
    let fields: Value = api
        .get(&format!("/api/v1/workspaces/{fresh}/custom-fields"))
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<(String, String)> = fields["items"]
        .as_array()
        .unwrap_or_else(|| fields.as_array().unwrap())
        .iter()
        .map(|f| {
            (
                f["field_name"].as_str().unwrap().into(),
                f["field_type"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut types = types;
    types.sort();
    let mut expected: Vec<(String, String)> = [
        ("alt_email", "email"),
        ("birthday", "date"),
        ("closing", "date"),
        ("first_time_buyer", "boolean"),
        ("loan_amount", "number"),
        ("nickname", "text"),
        ("notes", "long_text"),
        ("rate", "text"),
        ("realtor", "text"),
        ("work_email", "email"),
        ("zip", "text"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    expected.sort();
    assert_eq!(
        types, expected,
        "every field again, with its own name and type, and no other"
    );
    // The workspace that had `work_email` under another label filled it, and made no
    // `alternate_email` beside it.
    let other_fields = api
        .get(&format!("/api/v1/workspaces/{other}/custom-fields"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!other_fields.contains("alternate_email"), "{other_fields}");
}

/// A header that is an existing field's name maps to it, even where a guess would have made
/// another field of it (SPEC §11.2: `work_email` is not a second address to call
/// `alternate_email` in a workspace that has `work_email`).
#[tokio::test]
async fn a_header_naming_an_existing_field_maps_to_it() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "work_email", "field_type": "email", "label": "Office email"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let csv = b"Name,Surname,Email,work_email\nMaria,Gonzalez,maria@example.com,maria@sunrise.example\n".to_vec();
    let v = run(&api, &ws, "people.csv", csv, None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(
        v["mapping"]["columns"]["work_email"],
        json!({"custom": "work_email", "type": "email"}),
        "{v}"
    );
    assert_eq!(v["mapping"]["columns"]["Email"], "primary_email", "{v}");
}

/// Other programs' vCards keep what pi-crm has no base field for: ANNIVERSARY and CATEGORIES
/// become fields; a photo is a column the mapping skips, so the report names it.
#[tokio::test]
async fn a_vcards_anniversary_categories_and_photo_are_kept_or_named() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Maria Gonzalez\r\nN:Gonzalez;Maria;;;\r\n\
                ANNIVERSARY:20100612\r\nCATEGORIES:Realtors,Past clients\r\n\
                PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRg==\r\nTEL;TYPE=cell:+14155550134\r\nEND:VCARD\r\n";
    let v = run(&api, &ws, "maria.vcf", card.as_bytes().to_vec(), None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(
        v["mapping"]["columns"]["Anniversary"],
        json!({"custom": "anniversary", "type": "date"}),
        "{v}"
    );
    assert_eq!(
        v["mapping"]["columns"]["Photo"], "skip",
        "a photo is named in the mapping, as skipped: {v}"
    );
    let people = contacts_by_name(&api, &ws).await;
    let maria = &people[0];
    assert_eq!(maria["custom_fields"]["anniversary"], "2010-06-12", "{maria}");
    let on: Vec<&str> = maria["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(on, ["Realtors", "Past clients"], "CATEGORIES are lists: {maria}");
    assert_eq!(maria["primary_phone"], "+14155550134");
}

/// Every real-world file of the corpus imports under the default settings (issue 11): what
/// cannot be read is reported, nothing is refused wholesale — except the deliberately broken
/// vCard, refused with the reason.
#[tokio::test]
async fn every_corpus_file_imports_with_the_defaults() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let mut files: Vec<PathBuf> = ["contacts_csv", "vcard"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("csv" | "vcf" | "vcard")))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{files:?}");
    for (i, path) in files.iter().enumerate() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let ws = app.workspace(&andy, &format!("File {i}")).await;
        let r = upload(&api, &ws, "", name, std::fs::read(path).unwrap(), None, None).await;
        if name == "monica_broken_begin_line.vcard" {
            assert_eq!(r.status(), 422, "{name}");
            assert!(r.text().await.unwrap().contains("no vCard found"), "{name}");
            continue;
        }
        assert_eq!(r.status(), 202, "{name}: {}", r.text().await.unwrap());
        let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        let v = finished(&api, &ws, &id).await;
        assert_eq!(v["status"], "done", "{name}: {v}");
        assert!(v["report"]["created"].as_u64().unwrap() >= 1, "{name}: {v}");
    }
}

/// Outlook's English CSV export, as Outlook writes it: `0/0/00` is no date, `12/9/1906` is
/// December 9th, the mobile (not the assistant's line, listed first) is the primary phone,
/// and every other number lands in a field named after its column.
#[tokio::test]
async fn an_outlook_export_imports_with_nothing_mapped_by_hand() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let bytes =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imports/outlook_en.csv")).unwrap();
    let v = run(&api, &ws, "outlook.csv", bytes, None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["created"], 3, "{v}");
    assert_eq!(v["report"]["problems_total"], 0, "{v}");
    let people = base_and_custom(&contacts_by_name(&api, &ws).await);
    assert_eq!(
        people,
        vec![
            // No mobile: the first personal number is the primary phone, for this contact.
            json!(["Sam", "Lee", null, "+14155550150", null, {
                "birthday": "1980-07-04", "name_suffix": "Jr.", "phone_3": "+14155550151"}]),
            json!(["Linda", "Park", "linda.park@example.com", "+16505550140", null, {
                "address": "12 Oak Ave\nPalo Alto, CA 02139", "assistants_phone": "+16505550190",
                "name_prefix": "Ms.", "notes": "Pre-approved for $450,000"}]),
            json!(["Raj", "Patel", "raj@patelrealty.example", "+14085550111", "Patel Realty", {
                "alternate_email": "raj.patel@example.com", "anniversary": "2015-06-15",
                "assistants_phone": "+14085550100", "birthday": "1906-12-09", "business_fax": "+14085550199",
                "company_main_phone": "+14085550100", "job_title": "Realtor",
                "middle_name": "K.", "pager": "+14085550112", "website": "http://patelrealty.example/",
                "work_phone": "+14085550123"}]),
        ]
    );
    let on_lists: Vec<(String, Vec<String>)> = contacts_by_name(&api, &ws)
        .await
        .iter()
        .filter(|c| !c["lists"].as_array().unwrap().is_empty())
        .map(|c| {
            let names = c["lists"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["name"].as_str().unwrap().to_string())
                .collect();
            (c["first_name"].as_str().unwrap().to_string(), names)
        })
        .collect();
    assert_eq!(
        v["report"]["lists_created"],
        json!(["Borrowers", "Realtors", "VIP"]),
        "{v}"
    );
    assert_eq!(on_lists.len(), 3, "{on_lists:?}");
}

/// Imports one of our own fixtures (`tests/fixtures/imports/`) with the defaults, with the
/// given default phone region, into a fresh workspace: the import and the contacts by name.
/// A fixture imported into a fresh workspace: the job's view, each contact's base fields and
/// custom values, and the lists each contact is on (`(first name, [list names])`, for the
/// contacts on any).
async fn import_fixture(region: &str, name: &str) -> (Value, Vec<Value>, Vec<(String, Vec<String>)>) {
    let region = region.to_string();
    let app = TestApp::spawn_with(move |c| c.default_phone_region = region).await;
    let (api, ws) = setup(&app).await;
    let bytes = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/imports")
            .join(name),
    )
    .unwrap();
    let v = run(&api, &ws, name, bytes, None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    let contacts = contacts_by_name(&api, &ws).await;
    let lists = contacts
        .iter()
        .filter_map(|c| {
            let names: Vec<String> = c["lists"]
                .as_array()?
                .iter()
                .map(|l| l["name"].as_str().unwrap().to_string())
                .collect();
            (!names.is_empty()).then(|| (c["first_name"].as_str().unwrap_or_default().to_string(), names))
        })
        .collect();
    (v, base_and_custom(&contacts), lists)
}

/// Outlook (German), Windows-1252: `D.M.YYYY` dates, `0.0.00` for no date, Exchange's year
/// 1604 for a birthday without a year, a landline shared by a family (the primary phone when
/// there is no mobile), French numbers in a German book, Outlook's bookkeeping columns
/// (E-Mail-Typ, Priorität, Initialen…) left out, and an unknown column (Hobby) kept.
#[tokio::test]
async fn an_outlook_export_in_german_imports_with_nothing_mapped_by_hand() {
    let (v, people, lists) = import_fixture("DE", "outlook_de.csv").await;
    assert_eq!(
        v["report"],
        json!({"created": 4, "duplicates": 0, "errors": [], "fields_created": ["name_prefix", "department", "job_title", "work_address", "address", "telefon_assistent", "fax_geschaeftlich", "work_phone", "other_phone", "alternate_email", "birthday", "geschlecht", "hobby", "anniversary", "notes", "website"], "lists_created": ["Kunden", "Familie"], "problem_rows": 0, "problems": [], "problems_total": 0, "skipped": 0, "updated": 0})
    );
    assert_eq!(
        people,
        vec![
            json!(["Pierre", "Dubois", "pierre.dubois@example.fr", "+33612345678", "Banque Exemple", {"alternate_email": "p.dubois@example.com", "anniversary": "2015-06-15", "birthday": "1975-12-31", "geschlecht": "Männlich", "name_prefix": "Herr", "notes": "Kontakt über Jürgen\nRückruf erbeten", "telefon_assistent": "+33142685310", "work_phone": "+33142685300"}]),
            json!(["Anna", "Weiß", null, "+4940123456", null, {"birthday": "--03-12", "geschlecht": "Weiblich", "name_prefix": "Frau"}]),
            json!(["Jürgen", "Weiß", "juergen.weiss@example.de", "+491712345678", "Müller & Söhne GmbH", {"address": "Elbchaussee 1\n22763 Hamburg", "birthday": "1980-07-04", "department": "Vertrieb", "fax_geschaeftlich": "+4940643213199", "geschlecht": "Männlich", "hobby": "Segeln", "job_title": "Geschäftsführer", "name_prefix": "Herr", "notes": "Finanzierung für Haus in Altona", "other_phone": "+4940123456", "website": "https://www.mueller-soehne.example/", "work_address": "Pickhuben 2\n20457 Hamburg\nDeutschland", "work_phone": "+494064321310"}]),
            json!(["Lena", "Weiß", null, "+4940123456", null, {"geschlecht": "Keine Angabe"}]),
        ]
    );
    // Outlook's Categories are lists, not a text field.
    assert_eq!(
        lists,
        [
            ("Anna".to_string(), vec!["Kunden".to_string(), "Familie".to_string()]),
            ("Jürgen".to_string(), vec!["Kunden".to_string()])
        ]
    );
}

/// Outlook (French), Windows-1252: `D/M/YYYY` dates by the French convention, `00/00/00` for
/// no date, "Anniversaire" (the birthday) beside "Anniversaire de mariage ou fête", a shared
/// home number, a US number in a French book, a postal code with a leading zero.
#[tokio::test]
async fn an_outlook_export_in_french_imports_with_nothing_mapped_by_hand() {
    let (v, people, lists) = import_fixture("FR", "outlook_fr.csv").await;
    assert_eq!(
        v["report"],
        json!({"created": 4, "duplicates": 0, "errors": [], "fields_created": ["name_prefix", "job_title", "work_address", "telephone_de_lassistant_e", "work_phone", "telephone_societe", "other_phone", "birthday", "anniversary", "notes", "website", "passe_temps", "sexe"], "lists_created": ["Clients", "Famille"], "problem_rows": 0, "problems": [], "problems_total": 0, "skipped": 0, "updated": 0})
    );
    assert_eq!(
        people,
        vec![
            json!(["Chloé", "Lefèvre", null, "+33142685300", null, {"sexe": "Non spécifié", "work_address": "06000 Nice"}]),
            json!(["Marc", "Lefèvre", null, "+33142685300", null, {"birthday": "--11-23", "name_prefix": "M.", "sexe": "Masculin"}]),
            json!(["Élodie", "Lefèvre", "elodie.lefevre@example.fr", "+33612345678", "Crédit Exemple", {"anniversary": "2015-06-15", "birthday": "1980-07-04", "job_title": "Chargée de clientèle", "name_prefix": "Mme", "notes": "Prêt immobilier, appeler le mardi", "other_phone": "+33142685300", "passe_temps": "Voile", "sexe": "Féminin", "telephone_societe": "+33144556600", "website": "https://credit-exemple.example/lefevre", "work_address": "12 rue de la Paix\n75002 Paris\nFrance", "work_phone": "+33144556677"}]),
            json!(["Sophie", "Martin", "sophie@bayrealty.example", "+14155550177", "Bay Realty", {"birthday": "1990-02-01", "sexe": "Non spécifié", "telephone_de_lassistant_e": "+14155550178"}]),
        ]
    );
    assert_eq!(
        lists,
        [("Élodie".to_string(), vec!["Clients".to_string(), "Famille".to_string()])]
    );
}

/// Yahoo Mail's export: phone columns named by place alone ("Home", "Work"), a birthday
/// without a year (`7/4`), a couple sharing a home number, a Japanese mobile, a ZIP with a
/// leading zero, a "Custom 1" column kept.
#[tokio::test]
async fn a_yahoo_export_imports_with_nothing_mapped_by_hand() {
    let (v, people, lists) = import_fixture("US", "yahoo.csv").await;
    assert_eq!(
        v["report"],
        json!({"created": 3, "duplicates": 0, "errors": [], "fields_created": ["nickname", "other_phone", "work_phone", "alternate_email", "business_website", "job_title", "work_address", "address", "birthday", "anniversary", "custom_1", "notes"], "lists_created": ["Realtors"], "problem_rows": 0, "problems": [], "problems_total": 0, "skipped": 0, "updated": 0})
    );
    assert_eq!(
        people,
        vec![
            json!(["Kate", "O'Brien", null, "+14155550101", null, {"anniversary": "2008-06-15", "birthday": "1982-12-25", "custom_1": "Tom's wife"}]),
            json!(["Tom", "O'Brien", "tom.obrien@yahoo.example", "+14155550102", "O'Brien Homes", {"alternate_email": "tom@obrienhomes.example", "birthday": "--07-04", "business_website": "http://obrienhomes.example/", "custom_1": "Referred by Maria", "job_title": "Broker", "nickname": "Tommy", "notes": "Golf on Saturdays", "other_phone": "+14155550101", "work_address": "500 Market St\nSan Francisco, CA 94105\nUSA", "work_phone": "+14155550200"}]),
            json!(["Hiroshi", "Tanaka", "hiroshi@example.jp", "+819012345678", null, {"address": "Cambridge, MA 02139", "birthday": "1970-01-02"}]),
        ]
    );
    assert_eq!(lists, [("Tom".to_string(), vec!["Realtors".to_string()])]);
}

/// HubSpot's contacts export: date-times (`2024-03-12 09:15`) as date-times, a year-less
/// closing anniversary (`06-15`), spouses on one number, and the same Luis twice (no email,
/// same phone, name with and without its accent): one contact and a duplicate.
#[tokio::test]
async fn a_hubspot_export_imports_with_nothing_mapped_by_hand() {
    let (v, people, lists) = import_fixture("US", "hubspot.csv").await;
    assert_eq!(
        v["report"],
        json!({"created": 3, "duplicates": 1, "errors": [], "fields_created": ["record_id", "other_phone", "job_title", "contact_owner", "lifecycle_stage", "lead_status", "create_date", "last_activity_date", "city", "state_region", "postal_code", "country_region", "birthday", "closing_anniversary", "marketing_contact_status"], "problem_rows": 0, "problems": [], "problems_total": 0, "skipped": 1, "updated": 0})
    );
    assert_eq!(
        people,
        vec![
            json!(["Luis", "Gonzalez", null, "+14155550134", null, {"closing_anniversary": "--11-02", "contact_owner": "Andy Loan", "create_date": "2024-03-12T09:20:00Z", "last_activity_date": "2024-05-01T14:02:00Z", "lifecycle_stage": "Customer", "marketing_contact_status": "Non-marketing contact", "record_id": 52}]),
            json!(["Maria", "Gonzalez", "maria@example.com", "+14155550134", "Bay Realty", {"birthday": "1985-02-14", "city": "San Francisco", "closing_anniversary": "--06-15", "contact_owner": "Andy Loan", "country_region": "United States", "create_date": "2024-03-12T09:15:00Z", "job_title": "Realtor", "lead_status": "New", "lifecycle_stage": "Lead", "marketing_contact_status": "Marketing contact", "postal_code": "94110", "record_id": 51, "state_region": "CA"}]),
            json!(["Priya", "Sharma", "priya@example.in", "+919876543210", "Sharma Mortgage", {"city": "Fremont", "create_date": "2024-04-02T11:00:00Z", "lifecycle_stage": "Opportunity", "marketing_contact_status": "Marketing contact", "postal_code": "94538", "record_id": 53, "state_region": "CA"}]),
        ]
    );
    assert!(lists.is_empty(), "{lists:?}");
}

/// A sheet typed by hand and saved from US Excel: Windows-1252, trailing empty columns, a
/// blank row, Excel's `4-Jul` for a birthday without a year, `$1,250,000`, `0/0/00`, a
/// Mexican number, and one European date (`31/12/1979`) that a US sheet cannot hold: that
/// cell is reported and left empty, the rest of the row goes in.
#[tokio::test]
async fn a_hand_made_excel_sheet_imports_with_its_one_bad_date_reported() {
    let (v, people, lists) = import_fixture("US", "handmade_excel.csv").await;
    assert_eq!(
        v["report"],
        json!({"created": 4, "duplicates": 0, "errors": [], "fields_created": ["other_phone", "spouse", "birthday", "loan_amount", "closing_date", "notes"], "problem_rows": 1, "problems": [{"column": "Birthday", "line": 5, "message": "\"31/12/1979\" is not a day of the calendar", "value": "31/12/1979"}], "problems_total": 1, "skipped": 0, "updated": 0})
    );
    assert_eq!(
        people,
        vec![
            // The sheet's one "Name" column is split into first and last names.
            json!(["Lily", "Chen", "lily@example.com", "+16505550123", null, {"birthday": "--02-29", "loan_amount": 425000, "notes": "Call after 5pm, \"not before\""}]),
            json!(["Bill", "Murphy", "bill@example.com", "+14155550190", null, {"birthday": "--07-04", "closing_date": "2024-03-15", "loan_amount": 350000, "notes": "Needs jumbo quote", "other_phone": "+14155550191", "spouse": "Sue"}]),
            json!(["Sue", "Murphy", null, "+14155550191", null, {"birthday": "1981-12-01", "spouse": "Bill"}]),
            json!(["José", "Núñez", "jose@example.mx", "+525512345678", null, {"loan_amount": 1250000, "notes": "Referred by Bill"}]),
        ]
    );
    assert!(lists.is_empty(), "{lists:?}");
}

/// Apple Contacts' vCard 3.0: `X-APPLE-OMIT-YEAR` birthdays, `item1.` groups, a photo, a
/// business card (`X-ABShowAs:COMPANY`: its name is the company), N's prefix, middle name and
/// suffix, a London number, a couple's shared home line.
#[tokio::test]
async fn an_apple_contacts_vcard_imports_with_nothing_mapped_by_hand() {
    let (v, people, lists) = import_fixture("US", "apple_contacts.vcf").await;
    assert_eq!(
        v["report"],
        json!({"created": 4, "duplicates": 0, "errors": [], "fields_created": ["job_title", "birthday", "notes", "middle_name", "name_prefix", "name_suffix", "alternate_email", "other_phone", "phone_3", "work_phone", "address", "website"], "problem_rows": 0, "problems": [], "problems_total": 0, "skipped": 0, "updated": 0})
    );
    assert_eq!(
        people,
        vec![
            json!([null, null, null, "+14085550199", "Cupertino Title Co.", {}]),
            json!(["Jane", "Appleseed", null, "+14085550151", null, {"birthday": "1982-03-10"}]),
            json!(["Johnny", "Appleseed", "johnny@example.com", "+14085550150", "Apple Realty", {"address": "1 Infinite Loop\nCupertino, CA 95014\nUnited States", "alternate_email": "j.appleseed@applerealty.example", "birthday": "--07-04", "job_title": "Broker", "middle_name": "Q.", "name_prefix": "Dr.", "name_suffix": "Jr.", "notes": "Met at the open house\nPrefers texts", "other_phone": "+14085550151", "phone_3": "+442079460958", "website": "https://applerealty.example/"}]),
            // TEL;type=WORK is kept as the work number it is.
            json!(["Jörg", "Müller", "joerg.mueller@example.de", "+491701234567", null, {"birthday": "1975-12-31", "work_phone": "+4930901820"}]),
        ]
    );
    assert!(lists.is_empty(), "{lists:?}");
}

/// Names as people write them (issue 33): "Name" beside "Surname" is the first name; a whole
/// name alone ("Full Name", "Name", "Contact") is split into first and last, `Smith, John` too;
/// the localised exports' "Vorname/Nachname", "Prénom/Nom", "Nombre/Apellido".
#[tokio::test]
async fn names_are_read_as_people_write_them() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let names = |people: &[Value]| -> Vec<(Value, Value)> {
        let mut out: Vec<(Value, Value)> = people
            .iter()
            .map(|c| (c["first_name"].clone(), c["last_name"].clone()))
            .collect();
        out.sort_by_key(|(f, l)| format!("{f}{l}"));
        out
    };
    let pair = |f: &str, l: Option<&str>| (json!(f), l.map_or(Value::Null, |l| json!(l)));
    type Names = Vec<(Value, Value)>;
    let cases: [(&str, &[u8], Names); 5] = [
        (
            "hand-made.csv",
            b"Name,Surname,E-Mail,Cell\nMaria,Gonzalez,maria@example.com,(415) 555-0134\nTom,O'Brien,tom@example.com,\n",
            vec![pair("Maria", Some("Gonzalez")), pair("Tom", Some("O'Brien"))],
        ),
        (
            "full-names.csv",
            "Full Name,Email\n\"Smith, John\",john@example.com\nMary Ann Smith,mary@example.com\nLudwig van Beethoven,lvb@example.com\nCher,cher@example.com\nJohn Smith Jr.,jr@example.com\n".as_bytes(),
            vec![
                pair("Cher", None),
                pair("John", Some("Smith Jr.")),
                pair("John", Some("Smith")),
                pair("Ludwig", Some("van Beethoven")),
                pair("Mary Ann", Some("Smith")),
            ],
        ),
        (
            "kontakte.csv",
            "Vorname;Nachname;E-Mail-Adresse\nJürgen;Weiß;juergen@example.de\n".as_bytes(),
            vec![pair("Jürgen", Some("Weiß"))],
        ),
        (
            "contactos.csv",
            "Nombre,Apellido,Correo electrónico\nMaría,González Pérez,maria@example.es\n".as_bytes(),
            vec![pair("María", Some("González Pérez"))],
        ),
        (
            "contacts.csv",
            "Contact,Phone\nElodie Lefèvre,+33612345678\n".as_bytes(),
            vec![pair("Elodie", Some("Lefèvre"))],
        ),
    ];
    for (i, (file, bytes, want)) in cases.into_iter().enumerate() {
        let ws = app.workspace(&andy, &format!("Names {i}")).await;
        let v = run(&api, &ws, file, bytes.to_vec(), None, None).await;
        assert_eq!(v["status"], "done", "{file}: {v}");
        assert_eq!(v["report"]["problems_total"], 0, "{file}: {v}");
        assert_eq!(
            names(&contacts_by_name(&api, &ws).await),
            want,
            "{file}: {}",
            v["mapping"]
        );
    }
}

/// A revert takes back the fields its import made, when nothing holds a value in them any
/// more; a field someone has used since stays, and the report says which went (issue 33).
#[tokio::test]
async fn a_revert_removes_the_fields_its_import_made_and_left_empty() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv =
        b"First Name,Last Name,Loan Amount,Realtor,Labels\nAda,Lovelace,350000,Bo Tate,Past clients ::: * myContacts\n"
            .to_vec();
    let v = run(&api, &ws, "people.csv", csv, None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["fields_created"], json!(["loan_amount", "realtor"]), "{v}");
    assert_eq!(v["report"]["lists_created"], json!(["Past clients"]), "{v}");
    // Since the import, Andy has used the realtor field on a contact of his own.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Grace", "custom_fields": {"realtor": "Sunrise Realty"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/imports/{}/revert", v["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let reverted: Value = r.json().await.unwrap();
    assert_eq!(
        reverted["report"]["fields_removed"],
        json!(["loan_amount"]),
        "{reverted}"
    );
    assert_eq!(
        reverted["report"]["lists_removed"],
        json!(["Past clients"]),
        "{reverted}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contact_lists WHERE is_primary = 0")
            .await,
        0
    );
    let fields: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/custom-fields"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = fields["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["realtor"], "the used one stays");
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|(action, _)| action == "custom_field.delete"),
        "the deletion is in the audit log"
    );
}

/// A column is of the type most of its values read as (≥ 80 %): a closing date column with one
/// "TBD" is a date field; the TBD is reported with its line and kept as a note on its contact's
/// timeline, so nothing in the file is lost (issue 33).
#[tokio::test]
async fn a_columns_type_is_its_values_majority_and_the_rest_is_kept_as_a_note() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = "First Name,Last Name,Closing Date\n\
               Ann,Lee,3/15/2025\nBo,Tate,2025-06-01\nCy,Young,\"June 30, 2025\"\nDee,Park,TBD\n\
               Eve,Stone,7/1/2025\nFay,Wong,2025-08-15\nGus,Hill,9/30/2025\nHal,King,2025-10-01\n\
               Ida,Moss,11/14/2025\nJo,Lane,12/1/2025\n";
    let v = run(&api, &ws, "pipeline.csv", csv.as_bytes().to_vec(), None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(
        v["mapping"]["columns"]["Closing Date"],
        json!({"custom": "closing_date", "type": "date"}),
        "{v}"
    );
    assert_eq!(v["report"]["created"], 10);
    assert_eq!(v["report"]["problems_total"], 1, "{v}");
    let problem = &v["report"]["problems"][0];
    assert_eq!(
        (
            problem["line"].as_u64(),
            problem["column"].as_str(),
            problem["value"].as_str()
        ),
        (Some(5), Some("Closing Date"), Some("TBD"))
    );
    let people = contacts_by_name(&api, &ws).await;
    let by_first = |name: &str| people.iter().find(|c| c["first_name"] == name).unwrap().clone();
    assert_eq!(by_first("Cy")["custom_fields"]["closing_date"], "2025-06-30");
    assert_eq!(by_first("Ann")["custom_fields"]["closing_date"], "2025-03-15");
    let dee = by_first("Dee");
    assert!(dee["custom_fields"].get("closing_date").is_none(), "{dee}");
    let entries = timeline(&api, &ws, &dee).await;
    let notes: Vec<&str> = entries
        .iter()
        .filter(|e| e["type"] == "note")
        .map(|e| e["content"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 1, "{entries:?}");
    assert!(notes[0].ends_with("\nClosing Date: TBD"), "{}", notes[0]);
    // Contacts whose every value was read have no such note.
    assert_eq!(timeline(&api, &ws, &by_first("Ann")).await, Vec::<Value>::new());
}

/// Google's multi-value cells keep every value (issue 33): the first where the column maps,
/// the rest in a field of their kind the row leaves empty (a second phone in `other_phone`);
/// one with nowhere to go is reported and kept on the contact's timeline, never dropped.
#[tokio::test]
async fn every_value_of_a_multi_value_cell_is_kept_or_reported() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = "First Name,Last Name,E-mail 1 - Value,Phone 1 - Value,Phone 2 - Value\n\
               Ann,Lee,ann@example.com ::: ann.lee@work.example,+1 415-555-0134 ::: +1 415-555-0199,\n\
               Bo,Tate,bo@example.com,+1 415-555-0177,+1 415-555-0178\n";
    let v = run(&api, &ws, "contacts.csv", csv.as_bytes().to_vec(), None, None).await;
    assert_eq!(v["status"], "done", "{v}");
    let people = contacts_by_name(&api, &ws).await;
    let ann = people.iter().find(|c| c["first_name"] == "Ann").unwrap();
    assert_eq!(ann["primary_phone"], "+14155550134");
    assert_eq!(ann["custom_fields"]["other_phone"], "+14155550199", "{ann}");
    assert_eq!(ann["primary_email"], "ann@example.com");
    // The file has no second email column: the second address is reported, and kept.
    assert_eq!(v["report"]["problems_total"], 1, "{v}");
    let problem = &v["report"]["problems"][0];
    assert_eq!(problem["column"], "E-mail 1 - Value");
    assert_eq!(problem["value"], "ann.lee@work.example");
    let entries = timeline(&api, &ws, ann).await;
    let note = entries[0]["content"]["body"].as_str().unwrap();
    assert!(note.ends_with("\nE-mail 1 - Value: ann.lee@work.example"), "{note}");
    let bo = people.iter().find(|c| c["first_name"] == "Bo").unwrap();
    assert_eq!(bo["custom_fields"]["other_phone"], "+14155550178");
}

/// "Create none of these fields": the columns that would have made new fields are kept as a
/// note on each new contact's timeline instead, and the workspace gains no field (issue 33).
#[tokio::test]
async fn new_fields_can_be_kept_as_a_note_instead() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let csv = b"First Name,Last Name,Spouse,Hobby\nAda,Lovelace,William,Chess\nBo,Tate,,\n".to_vec();
    let preview: Value = upload(&api, &ws, "?dry_run=true", "people.csv", csv.clone(), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["fields_to_create"], json!(["spouse", "hobby"]), "{preview}");
    let mut mapping = preview["suggested_mapping"].clone();
    mapping["new_fields"] = json!("note");
    let v = run(&api, &ws, "people.csv", csv, Some(mapping), None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert!(v["report"].get("fields_created").is_none(), "{v}");
    let fields: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/custom-fields"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fields["items"], json!([]), "no field made");
    let people = contacts_by_name(&api, &ws).await;
    let ada = people.iter().find(|c| c["first_name"] == "Ada").unwrap();
    let entries = timeline(&api, &ws, ada).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        entries[0]["content"]["body"],
        "From the import:\nSpouse: William\nHobby: Chess"
    );
    let bo = people.iter().find(|c| c["first_name"] == "Bo").unwrap();
    assert_eq!(
        timeline(&api, &ws, bo).await,
        Vec::<Value>::new(),
        "nothing to keep for Bo"
    );
}

/// Every non-empty cell of every real export ends somewhere a person can see it (issue 33):
/// on its contact (the field or list its column maps to, or the note of kept values), named
/// in the report as a problem on its line and column, or in a column the mapping skips (the
/// mapping the import answers names it). Rows that duplicate another are counted as such.
#[tokio::test]
async fn every_non_empty_cell_of_every_fixture_is_stored_or_reported() {
    for (region, name) in [
        ("US", "google_contacts_current.csv"),
        ("US", "outlook_en.csv"),
        ("DE", "outlook_de.csv"),
        ("FR", "outlook_fr.csv"),
        ("US", "yahoo.csv"),
        ("US", "hubspot.csv"),
        ("US", "handmade_excel.csv"),
        ("US", "apple_contacts.vcf"),
    ] {
        let region_owned = region.to_string();
        let app = TestApp::spawn_with(move |c| c.default_phone_region = region_owned).await;
        let (api, ws) = setup(&app).await;
        let bytes = std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/imports")
                .join(name),
        )
        .unwrap();
        let file = pi_crm::domain::import::read(&bytes).unwrap();
        let v = run(&api, &ws, name, bytes, None, None).await;
        assert_eq!(v["status"], "done", "{name}: {v}");
        let mapping = &v["mapping"]["columns"];
        let problems = v["report"]["problems"].as_array().unwrap();
        let contacts: Vec<Value> = contacts_by_name(&api, &ws).await;
        let mut unaccounted = Vec::new();
        for row in &file.table.rows {
            let contact: Option<String> = sqlx::query_scalar("SELECT contact_id FROM import_items WHERE line = ?")
                .bind(row.line as i64)
                .fetch_optional(&app.state.db)
                .await
                .unwrap();
            let Some(contact) = contact else {
                // Not a contact of its own: a duplicate of another row, or a row left out.
                let counted = v["report"]["duplicates"].as_u64().unwrap() + v["report"]["skipped"].as_u64().unwrap();
                assert!(
                    counted > 0,
                    "{name}: line {} made no contact and is not counted: {v}",
                    row.line
                );
                continue;
            };
            let c = contacts.iter().find(|c| c["id"] == contact.as_str()).unwrap();
            let notes: Vec<String> = timeline(&api, &ws, c)
                .await
                .iter()
                .filter_map(|e| e["content"]["body"].as_str().map(str::to_string))
                .collect();
            for (column, cell) in file.table.columns.iter().zip(&row.cells) {
                // Outlook's `0/0/00` is its way of writing no date (SPEC §11.2).
                if cell.trim().is_empty() || pi_crm::domain::dates::is_placeholder(cell) {
                    continue;
                }
                let reported = problems
                    .iter()
                    .any(|p| p["line"].as_u64() == Some(row.line) && p["column"] == column.as_str());
                let kept = match &mapping[column] {
                    Value::Null => false,
                    Value::String(t) if t == "skip" => true,
                    Value::String(t) if t == "lists" => {
                        !c["lists"].as_array().unwrap().is_empty()
                            || pi_crm::domain::import::mapping::group_names(cell).is_empty()
                    }
                    Value::String(t) if t == "full_name" => !c["first_name"].is_null(),
                    Value::String(base) => !c[base.as_str()].is_null(),
                    custom => {
                        c["custom_fields"].get(custom["custom"].as_str().unwrap()).is_some()
                            // A further number becomes the primary phone on a row without
                            // one in the primary column (`plan::promote_phone`).
                            || (custom["type"] == "phone" && same_number(cell, &c["primary_phone"]))
                    }
                };
                let in_note = notes.iter().any(|n| n.contains(&format!("{column}: ")));
                if !(kept || reported || in_note) {
                    unaccounted.push(format!("line {} {column:?} = {cell:?} → {}", row.line, mapping[column]));
                }
            }
        }
        assert!(
            unaccounted.is_empty(),
            "{name}: cells neither stored nor reported:\n{}",
            unaccounted.join("\n")
        );
    }
}

/// Whether `cell` is the number `stored` (E.164) holds: the same last seven digits.
fn same_number(cell: &str, stored: &Value) -> bool {
    let digits = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
    let (written, stored) = (digits(cell), digits(stored.as_str().unwrap_or_default()));
    written.len() >= 7 && stored.ends_with(&written[written.len() - 7..])
}

/// Three exports of the same 20 people — Google's CSV, Outlook's CSV (Windows-1252) and an
/// iCloud vCard — imported one after another into one workspace, merging the duplicates:
/// 20 contacts, and no more custom fields than the people's data needs (SPEC §11.2, "a tidy
/// workspace"). Each export spells an address its own way (Google's formatted text beside
/// its parts, Outlook's street/city/state/ZIP columns, a vCard's ADR) and each lands in one
/// home and one work address field; each export's second email, home and work numbers land
/// in the same fields as the others'.
#[tokio::test]
async fn three_exports_of_the_same_people_make_one_tidy_set_of_fields() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let mut made: Vec<String> = Vec::new();
    let mut ids = Vec::new();
    for name in ["same20_google.csv", "same20_outlook.csv", "same20_icloud.vcf"] {
        let bytes = std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/imports")
                .join(name),
        )
        .unwrap();
        let v = run(&api, &ws, name, bytes, None, Some("merge")).await;
        assert_eq!(v["status"], "done", "{v}");
        assert_eq!(v["report"]["problems_total"], 0, "{name}: {v}");
        ids.push(v["id"].as_str().unwrap().to_string());
        for f in v["report"]["fields_created"].as_array().cloned().unwrap_or_default() {
            made.push(f.as_str().unwrap().to_string());
        }
        eprintln!("{name}: {}", v["report"]);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 20);
    made.sort();
    assert_eq!(
        made,
        [
            "address",
            "alternate_email",
            "birthday",
            "job_title",
            "middle_name",
            "name_prefix",
            "notes",
            "other_phone",
            "website",
            "work_address",
            "work_phone",
        ],
        "{} fields",
        made.len()
    );
    assert!(made.len() <= 12);

    let people = contacts_by_name(&api, &ws).await;
    let jennifer = people.iter().find(|c| c["first_name"] == "Jennifer").unwrap();
    assert_eq!(
        jennifer["custom_fields"],
        json!({
            "address": "14 Maple Way\nCupertino, CA 95014",
            "alternate_email": "jennifer@leerealty.example",
            "job_title": "Realtor",
            "other_phone": "+14085550178",
            "website": "https://leerealty.example/",
            "work_address": "200 Stevens Creek Blvd\nCupertino, CA 95014",
            "work_phone": "+14085550179",
        })
    );
    let lists: Vec<&str> = jennifer["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(lists, ["Starred", "Realtors", "VIP"]);

    // Outlook's categories joined the contacts it duplicated to "VIP", a list it made;
    // reverting it takes them off again and the list, empty, goes.
    let r = api
        .post(&format!("/api/v1/workspaces/{ws}/imports/{}/revert", ids[1]), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["report"]["lists_removed"], json!(["VIP"]), "{v}");
    let people = contacts_by_name(&api, &ws).await;
    let jennifer = people.iter().find(|c| c["first_name"] == "Jennifer").unwrap();
    let lists: Vec<&str> = jennifer["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(lists, ["Starred", "Realtors"]);

    // Each export alone, into a workspace of its own, makes fields from the same set and puts
    // Jennifer's numbers and addresses in the same ones.
    let andy = app.user_by_email("andy@example.com").await;
    for name in ["same20_outlook.csv", "same20_icloud.vcf"] {
        let other = app.workspace(&andy, name).await;
        let bytes = std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/imports")
                .join(name),
        )
        .unwrap();
        let v = run(&api, &other, name, bytes, None, None).await;
        assert_eq!(v["report"]["problems_total"], 0, "{name}: {v}");
        let alone: Vec<&str> = v["report"]["fields_created"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert!(alone.iter().all(|f| made.contains(&f.to_string())), "{name}: {alone:?}");
        let people = contacts_by_name(&api, &other).await;
        let jennifer = people.iter().find(|c| c["first_name"] == "Jennifer").unwrap();
        let custom = &jennifer["custom_fields"];
        assert_eq!(
            [&custom["other_phone"], &custom["work_phone"]],
            ["+14085550178", "+14085550179"],
            "{name}"
        );
        assert!(
            custom["address"]
                .as_str()
                .unwrap()
                .starts_with("14 Maple Way\nCupertino, CA 95014"),
            "{name}: {custom}"
        );
        assert!(
            custom["work_address"]
                .as_str()
                .unwrap()
                .starts_with("200 Stevens Creek Blvd\nCupertino, CA 95014"),
            "{name}: {custom}"
        );
    }
}

/// A row that updates an existing contact keeps what lands on no field as a note on that
/// contact, as a new contact's row does (issue 33: nothing lost); the import's revert takes
/// the note away with the update.
#[tokio::test]
async fn an_updating_row_keeps_its_unread_values_as_a_note_and_revert_removes_it() {
    let app = TestApp::spawn().await;
    let (api, ws) = setup(&app).await;
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "closing_date", "label": "Closing date", "field_type": "date"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "primary_email": "ada@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let ada: Value = r.json().await.unwrap();
    let csv = b"First Name,Email,Closing date,Company\nAda,ada@example.com,TBD,Analytical Engines\n".to_vec();
    let mapping = json!({"columns": {"First Name": "first_name", "Email": "primary_email",
        "Closing date": {"custom": "closing_date"}, "Company": "company"},
        "on_duplicate": "update", "on_problem": "skip_cell"});
    let v = run(&api, &ws, "update.csv", csv, Some(mapping), None).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["report"]["updated"], 1, "{v}");
    assert_eq!(v["report"]["problems_total"], 1, "{v}");
    let entries = timeline(&api, &ws, &ada).await;
    let notes: Vec<&Value> = entries.iter().filter(|e| e["type"] == "note").collect();
    assert_eq!(notes.len(), 1, "{entries:?}");
    assert_eq!(
        notes[0]["content"]["body"],
        "Kept from the import: these values could not be read as their fields' types.\nClosing date: TBD"
    );
    let id = v["id"].as_str().unwrap();
    let r = api
        .post(&format!("/api/v1/workspaces/{ws}/imports/{id}/revert"), json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let entries = timeline(&api, &ws, &ada).await;
    assert!(entries.iter().all(|e| e["type"] != "note"), "{entries:?}");
    let back: Value = api
        .get(&format!(
            "/api/v1/workspaces/{ws}/contacts/{}",
            ada["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["company"], Value::Null, "the update is undone too");
}
