//! Export: CSV and vCard, streamed, formulas neutralised, and read back by the importer's
//! reader to the same data.

use serde_json::json;

use crate::common::{Api, TestApp};
use pi_crm::domain::import;

async fn seeded(app: &TestApp) -> (Api, String) {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers & Co").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    for f in [
        json!({"field_name": "birthday", "field_type": "date"}),
        json!({"field_name": "notes", "field_type": "long_text"}),
        json!({"field_name": "loan_amount", "field_type": "number"}),
    ] {
        api.post(&format!("/api/v1/workspaces/{ws}/custom-fields"), f).await;
    }
    let url = format!("/api/v1/workspaces/{ws}/contacts");
    let people = [
        json!({"first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada@example.com", "primary_phone": "+14155550123",
               "company": "Analytical Engines, Ltd.", "custom_fields": {"birthday": "1815-12-10", "loan_amount": 350000,
               "notes": "Line one\nLine \"two\"; with, punctuation"}}),
        json!({"first_name": "=HYPERLINK(\"http://evil.example\")", "last_name": "@SUM(A1)", "company": "-minus"}),
        json!({"first_name": "Jörg", "last_name": "Müller", "custom_fields": {"notes": "Café ☕ — ünïcode"}}),
    ];
    for p in people {
        assert_eq!(api.post(&url, p).await.status(), 201);
    }
    (api, ws)
}

async fn download(api: &Api, ws: &str, format: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let r = api
        .get(&format!("/api/v1/workspaces/{ws}/export?format={format}"))
        .await;
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    (headers, r.bytes().await.unwrap().to_vec())
}

fn column(t: &import::table::Table, row: usize, name: &str) -> String {
    let i = t
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", t.columns));
    t.rows[row].cells[i].clone()
}

#[tokio::test]
async fn csv_has_base_then_custom_columns_neutralises_formulas_and_reads_back_the_same() {
    let app = TestApp::spawn().await;
    let (api, ws) = seeded(&app).await;
    let (headers, bytes) = download(&api, &ws, "csv").await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"Borrowers-Co-") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.starts_with(
            "first_name,last_name,primary_email,primary_phone,company,birthday [date],notes [long_text],loan_amount [number]\n"
        ),
        "{text}"
    );
    assert!(text.contains("'=HYPERLINK"), "formulas are neutralised");
    assert!(text.contains("'@SUM") && text.contains("'-minus"));
    assert!(
        text.contains(",+14155550123,") && !text.contains("'+1415"),
        "a phone number is no formula: {text}"
    );
    assert!(!text.contains(",=HYPERLINK"));

    let file = import::read(&bytes).unwrap();
    assert_eq!(file.format, "csv");
    assert_eq!(file.table.rows.len(), 3);
    assert_eq!(column(&file.table, 0, "first_name"), "Ada");
    assert_eq!(
        column(&file.table, 0, "primary_phone"),
        "+14155550123",
        "the neutralising quote comes off on import"
    );
    assert_eq!(column(&file.table, 0, "company"), "Analytical Engines, Ltd.");
    assert_eq!(
        column(&file.table, 0, "notes [long_text]"),
        "Line one\nLine \"two\"; with, punctuation"
    );
    assert_eq!(column(&file.table, 0, "loan_amount [number]"), "350000");
    assert_eq!(
        column(&file.table, 1, "first_name"),
        "=HYPERLINK(\"http://evil.example\")"
    );
    assert_eq!(column(&file.table, 2, "notes [long_text]"), "Café ☕ — ünïcode");
    let mapping = import::mapping::suggest(&file.table.columns);
    assert_eq!(
        mapping.columns["first_name"],
        import::mapping::Target::Field("first_name".into())
    );
    assert_eq!(
        mapping.columns["primary_email"],
        import::mapping::Target::Field("primary_email".into())
    );
}

#[tokio::test]
async fn vcard_40_reads_back_the_same() {
    let app = TestApp::spawn().await;
    let (api, ws) = seeded(&app).await;
    let (headers, bytes) = download(&api, &ws, "vcf").await;
    assert_eq!(headers["content-type"], "text/vcard; charset=utf-8");
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(text.matches("BEGIN:VCARD\r\nVERSION:4.0\r\n").count(), 3);
    assert!(text.lines().all(|l| l.len() <= 76), "lines are folded");
    assert!(text.contains("TEL;VALUE=uri;PREF=1:tel:+14155550123"));
    assert!(text.contains("BDAY:1815-12-10"));
    assert!(
        text.contains("X-PI-CRM-LOAN_AMOUNT;X-PI-CRM-TYPE=number:350000"),
        "{text}"
    );
    let file = import::read(&bytes).unwrap();
    assert_eq!(file.format, "vcf");
    assert_eq!(file.table.rows.len(), 3);
    assert_eq!(column(&file.table, 0, "First name"), "Ada");
    assert_eq!(column(&file.table, 0, "Last name"), "Lovelace");
    assert_eq!(column(&file.table, 0, "Email 1"), "ada@example.com");
    assert_eq!(column(&file.table, 0, "Phone 1"), "+14155550123");
    assert_eq!(column(&file.table, 0, "Organization"), "Analytical Engines, Ltd.");
    assert_eq!(column(&file.table, 0, "Birthday"), "1815-12-10");
    assert_eq!(
        column(&file.table, 0, "Notes"),
        "Line one\nLine \"two\"; with, punctuation"
    );
    assert_eq!(column(&file.table, 0, "loan_amount [number]"), "350000");
    assert_eq!(column(&file.table, 0, "birthday [date]"), "1815-12-10");
    assert_eq!(column(&file.table, 2, "Last name"), "Müller");
    assert_eq!(column(&file.table, 2, "Notes"), "Café ☕ — ünïcode");
}

#[tokio::test]
async fn large_exports_stream_every_contact_once() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Big").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let mut tx = pi_crm::storage::db::begin_write(&app.state.db).await.unwrap();
    for i in 0..1_234 {
        let id = pi_crm::domain::ids::ContactId::generate();
        sqlx::query("INSERT INTO base_contacts (id, workspace_id, created_on, first_name) VALUES (?, ?, '2026-01-01T00:00:00Z', ?)")
            .bind(id.as_str())
            .bind(&ws)
            .bind(format!("P{i:04}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let (_, bytes) = download(&api, &ws, "csv").await;
    let file = import::read(&bytes).unwrap();
    assert_eq!(file.table.rows.len(), 1_234);
    let mut names: Vec<String> = file.table.rows.iter().map(|r| r.cells[0].clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 1_234, "no contact twice, none missing across pages");
}

// The CLI runs while the server is in this process: its tasks need a thread of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_is_scoped_isolated_and_validated() {
    let app = TestApp::spawn().await;
    let (api, ws) = seeded(&app).await;
    assert_eq!(
        api.get(&format!("/api/v1/workspaces/{ws}/export?format=xlsx"))
            .await
            .status(),
        422
    );
    let mona = app.create_user("mona@example.com", "Mona").await;
    let mona_api = app.api(&app.key(&mona, &["read:contacts"], None).await);
    assert_eq!(
        mona_api.get(&format!("/api/v1/workspaces/{ws}/export")).await.status(),
        404
    );
    let andy = pi_crm::storage::users::find_by_email(&app.state.db, "andy@example.com")
        .await
        .unwrap()
        .unwrap();
    let no_scope = app.api(&app.key(&andy, &["manage:keys"], None).await);
    assert_eq!(
        no_scope.get(&format!("/api/v1/workspaces/{ws}/export")).await.status(),
        403
    );

    // The button in the UI streams the same file for a signed-in member, 404 for others.
    let b = app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let page = b.get(&format!("/workspaces/{ws}/export?format=vcf")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("BEGIN:VCARD").count(), 3);
    let m = app.browser();
    m.login("mona@example.com", crate::common::PASSWORD).await;
    assert_eq!(m.get(&format!("/workspaces/{ws}/export?format=csv")).await.status, 404);
}

#[test]
fn the_cli_exports_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::common::cli_account(
        &data,
        "a@example.com",
        "Home",
        &[json!({"first_name": "Ada", "primary_email": "ada@example.com"})],
    );
    let run = |args: &[&str]| crate::common::pi_crm(&data, args, None);
    let out = run(&[
        "export",
        "--user",
        "a@example.com",
        "--workspace",
        "Home",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "first_name,last_name,primary_email,primary_phone,company\nAda,,ada@example.com,,\n"
    );
    let out = run(&["export", "--user", "a@example.com", "--workspace", "Nope"]);
    assert!(!out.status.success());
    let out = run(&[
        "export",
        "--user",
        "a@example.com",
        "--workspace",
        "Home",
        "--format",
        "pdf",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not csv or vcf"));
}
