//! A revert goes in short transactions (`domain::import::revert`): it marks the contacts the
//! import created under a claim, hides them all in one commit, then deletes them a batch at a
//! time. These tests leave the database as a process that died at each step would, and check
//! what recovery (`job::recover`, run by the worker and at start-up) makes of it.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::imports::{run, upload};

const CSV: &str = "First Name,Last Name,Email,Shoe size\nAda,Lovelace,ada@example.com,38\nAlan,Turing,alan@example.com,44\nGrace,Hopper,grace@example.com,37\n";

/// Andy's workspace with one finished import of three contacts (and the field it made).
async fn imported(app: &TestApp) -> (crate::common::Api, String, String) {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let mapping = json!({"columns": {"First Name": "first_name", "Last Name": "last_name",
        "Email": "primary_email", "Shoe size": {"custom": "shoe_size", "type": "number"}}});
    let done = run(&api, &ws, "people.csv", CSV.as_bytes().to_vec(), Some(mapping), None).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["report"]["created"], 3, "{done}");
    let id = done["id"].as_str().unwrap().to_string();
    (api, ws, id)
}

async fn exec(app: &TestApp, sql: &str, import: &str, until: Option<String>) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(import)
        .bind(until)
        .execute(&app.state.db)
        .await
        .unwrap();
}

async fn visible(api: &crate::common::Api, ws: &str) -> usize {
    let list: Value = api
        .get(&format!("/api/v1/workspaces/{ws}/contacts"))
        .await
        .json()
        .await
        .unwrap();
    list["items"].as_array().unwrap().len()
}

/// Nothing of the import left: no contact, value, hiding or claim.
async fn assert_nothing_left(app: &TestApp) {
    for sql in [
        "SELECT COUNT(*) FROM base_contacts",
        "SELECT COUNT(*) FROM custom_fields",
        "SELECT COUNT(*) FROM hidden_imports",
        "SELECT COUNT(*) FROM imports WHERE lease_until IS NOT NULL",
    ] {
        assert_eq!(app.count(sql).await, 0, "{sql}");
    }
}

/// The import as the API shows it.
async fn import_view(api: &crate::common::Api, ws: &str, id: &str) -> Value {
    api.get(&format!("/api/v1/workspaces/{ws}/imports/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn revert(api: &crate::common::Api, ws: &str, id: &str) -> reqwest::Response {
    api.post(&format!("/api/v1/workspaces/{ws}/imports/{id}/revert"), json!({}))
        .await
}

#[tokio::test]
async fn a_revert_that_died_while_marking_is_left_alone_while_claimed_then_undone() {
    let app = TestApp::spawn().await;
    let (api, ws, id) = imported(&app).await;
    // A revert claimed the import and marked two of its three contacts, then its process died.
    let live = pi_crm::clock::text_from_now(SignedDuration::from_secs(3600));
    exec(
        &app,
        "UPDATE imports SET lease_until = ?2 WHERE id = ?1",
        &id,
        Some(live),
    )
    .await;
    exec(
        &app,
        "UPDATE base_contacts SET import_pending = ?1 WHERE primary_email IN ('ada@example.com', 'alan@example.com')",
        &id,
        None,
    )
    .await;

    // While its claim runs, nobody clears its marks, and a second revert is refused.
    pi_crm::domain::import::job::recover(&app.state.db).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM base_contacts WHERE import_pending IS NOT NULL")
            .await,
        2
    );
    let r = revert(&api, &ws, &id).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("being reverted already"));
    assert_eq!(visible(&api, &ws).await, 3, "marks alone hide nothing");

    // Once the claim lapses, recovery clears the marks: the revert did not happen.
    let lapsed = pi_crm::clock::text_from_now(SignedDuration::from_secs(-60));
    exec(
        &app,
        "UPDATE imports SET lease_until = ?2 WHERE id = ?1",
        &id,
        Some(lapsed),
    )
    .await;
    pi_crm::domain::import::job::recover(&app.state.db).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM base_contacts WHERE import_pending IS NOT NULL")
            .await,
        0
    );
    assert_eq!(visible(&api, &ws).await, 3);
    let v = import_view(&api, &ws, &id).await;
    assert_eq!(v["status"], "done", "{v}");

    // And it can be reverted now, whole.
    let r = revert(&api, &ws, &id).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "reverted", "{v}");
    assert_eq!(v["report"]["fields_removed"], json!(["shoe_size"]), "{v}");
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn a_revert_that_died_after_hiding_is_finished_by_recovery() {
    let app = TestApp::spawn().await;
    let (api, ws, id) = imported(&app).await;
    // The revert's hiding commit landed, and one batch of deletions; then its process died.
    exec(&app, "UPDATE base_contacts SET import_pending = ?1", &id, None).await;
    exec(&app, "INSERT INTO hidden_imports (import_id) VALUES (?1)", &id, None).await;
    exec(&app, "UPDATE imports SET status = 'reverted' WHERE id = ?1", &id, None).await;
    exec(
        &app,
        "DELETE FROM base_contacts WHERE import_pending = ?1 AND primary_email = 'ada@example.com'",
        &id,
        None,
    )
    .await;
    assert_eq!(visible(&api, &ws).await, 0, "as people see it, the revert is done");

    pi_crm::domain::import::job::recover(&app.state.db).await.unwrap();
    assert_nothing_left(&app).await;
    // What the import made is removed for the person who started it.
    let v = import_view(&api, &ws, &id).await;
    assert_eq!(v["status"], "reverted", "{v}");
    assert_eq!(v["report"]["fields_removed"], json!(["shoe_size"]), "{v}");
    // Phones learn of the deletions: each deleted contact is a tombstone in the journal.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contact_changes WHERE deleted = 1")
            .await,
        3
    );
}

#[tokio::test]
async fn a_person_writes_between_a_reverts_steps_and_keeps_what_they_wrote() {
    let app = TestApp::spawn().await;
    let (api, ws, _) = imported(&app).await;
    // A second, bigger import: its revert takes several batches of marks and deletions.
    let mut csv = String::from("First Name,Email\n");
    for i in 0..5_000 {
        csv.push_str(&format!("P{i},p{i}@example.com\n"));
    }
    let r = upload(&api, &ws, "", "many.csv", csv.into_bytes(), None, None).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let done = crate::imports::finished(&api, &ws, &id).await;
    assert_eq!(done["report"]["created"], 5_000, "{done}");

    let reverting = {
        let api = crate::common::Api {
            client: api.client.clone(),
            base: api.base.clone(),
            state: api.state.clone(),
        };
        let (ws, id) = (ws.clone(), id.clone());
        tokio::spawn(async move { revert(&api, &ws, &id).await.status() })
    };
    // People keep saving contacts while it runs; every save lands and stays.
    let mut saved = 0;
    while !reverting.is_finished() || saved < 3 {
        let r = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": "Kept", "primary_email": format!("kept{saved}@example.com")}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        saved += 1;
    }
    assert_eq!(reverting.await.unwrap(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM hidden_imports").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contacts").await,
        3 + saved,
        "the first import's three and every saved contact"
    );
}
