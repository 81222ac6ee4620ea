//! Migrations on a database that already holds data: nothing is lost, the schema's rules
//! still hold afterwards.

use pi_crm::storage::db;
use sqlx::SqlitePool;

/// A database as version 7 of the schema left it: two contacts, with custom values, a list,
/// a log entry and their search documents.
async fn version_7_with_data(path: &std::path::Path) -> SqlitePool {
    let pool = db::open(path).await.unwrap();
    db::MIGRATOR.run_to(7, &pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO users (id, email, password_hash, name, created_at, password_changed_at)
              VALUES ('u1', 'andy@example.com', 'x', 'Andy', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO workspaces (id, user_id, name, created_at) VALUES ('w1', 'u1', 'Borrowers', '2026-01-01T00:00:00Z');
         INSERT INTO base_contacts (id, workspace_id, created_on, first_name, last_name, primary_email, primary_phone)
              VALUES ('c1', 'w1', '2026-01-01', 'Ada', 'King', 'ada@example.com', '+14155550123'),
                     ('c2', 'w1', '2026-01-01', 'Bob', 'Stone', NULL, '+14155550199');
         INSERT INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at)
              VALUES ('c1', 'w1', 'loan_number', 'LN-4417', '2026-01-01T00:00:00Z'),
                     ('c2', 'w1', 'loan_number', 'LN-9001', '2026-01-01T00:00:00Z');
         INSERT INTO contact_lists (id, workspace_id, name, created_at) VALUES ('l1', 'w1', 'VIP', '2026-01-01T00:00:00Z');
         INSERT INTO contact_list_assignments (contact_id, list_id, workspace_id, assigned_at)
              VALUES ('c1', 'l1', 'w1', '2026-01-01T00:00:00Z');
         INSERT INTO communication_logs (id, workspace_id, contact_id, type, content, timestamp)
              VALUES ('g1', 'w1', 'c1', 'note', '{\"body\":\"called\"}', '2026-01-01T00:00:00Z');
         INSERT INTO contact_search (rowid, body)
              SELECT rowid, first_name || ' ' || last_name || ' ' || (SELECT group_concat(field_value, ' ')
                       FROM custom_fields v WHERE v.contact_id = c.id)
                FROM base_contacts c;",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool
}

async fn count(pool: &SqlitePool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Searches as the product does: the search document's rowid names its contact.
async fn found_by_search(pool: &SqlitePool, word: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.id FROM contact_search s JOIN base_contacts c ON c.rowid = s.rowid
          WHERE contact_search MATCH ? ORDER BY c.id",
    )
    .bind(format!("\"{word}\""))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn phones_become_shareable_without_losing_a_row_or_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let pool = version_7_with_data(&dir.path().join("crm.db")).await;
    let shared = "INSERT INTO base_contacts (id, workspace_id, created_on, first_name, primary_phone)
                  VALUES ('c3', 'w1', '2026-01-02', 'Cleo', '+14155550123')";
    assert!(
        sqlx::query(shared).execute(&pool).await.is_err(),
        "version 7 refuses a shared phone"
    );

    db::MIGRATOR.run_to(8, &pool).await.unwrap();
    // The rebuild ran again, as after a crash before sqlx recorded it: still the same data.
    let script = db::MIGRATOR.iter().find(|m| m.version == 8).unwrap();
    sqlx::raw_sql(script.sql.clone()).execute(&pool).await.unwrap();
    db::migrate(&pool).await.unwrap();

    assert_eq!(count(&pool, "SELECT COUNT(*) FROM base_contacts").await, 2);
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM custom_fields").await, 2);
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM contact_list_assignments").await, 1);
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM communication_logs").await, 1);
    assert_eq!(found_by_search(&pool, "LN-9001").await, ["c2"], "rowids kept");
    assert_eq!(
        found_by_search(&pool, "called").await,
        ["c1"],
        "notes are searchable (0013)"
    );
    let problems: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    // Phones may be shared now; emails stay unique.
    sqlx::query(shared).execute(&pool).await.unwrap();
    let same_email = "INSERT INTO base_contacts (id, workspace_id, created_on, primary_email)
                      VALUES ('c4', 'w1', '2026-01-02', 'ada@example.com')";
    let err = sqlx::query(same_email).execute(&pool).await.unwrap_err();
    assert!(
        pi_crm::error::is_unique_violation(&err, "base_contacts.primary_email"),
        "{err}"
    );
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT id FROM base_contacts WHERE workspace_id = 'w1' AND primary_phone = '+14155550123'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(plan[0].3.contains("base_contacts_phone"), "{plan:?}");

    // Foreign keys are back on, and deleting cascades as before, search document included.
    let mut conn = pool.acquire().await.unwrap();
    let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(on, 1);
    sqlx::query("DELETE FROM base_contacts WHERE id = 'c1'")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM custom_fields").await, 1);
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM contact_list_assignments").await, 0);
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM communication_logs").await, 0);
    assert!(found_by_search(&pool, "LN-4417").await.is_empty());
    let refused = sqlx::query(
        "INSERT INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at)
         VALUES ('nobody', 'w1', 'x', 'y', 'z')",
    )
    .execute(&pool)
    .await;
    assert!(refused.is_err(), "a value without its contact is refused");
    pool.close().await;
}

/// A list sorted by a number field walks `custom_fields_numbers` (0024) from its start, or
/// from a cursor, and sorts nothing: the sort's conditions repeat the partial index's own, as
/// SQLite requires before it will use one. (The statement is the shape
/// `storage::contact_search` builds, with its constants.)
#[tokio::test]
async fn a_number_sort_walks_the_number_index() {
    use pi_crm::storage::contact_search::{number_key, number_shaped};
    let key = number_key("sv");
    let dir = tempfile::tempdir().unwrap();
    let pool = db::open(&dir.path().join("pi-crm.db")).await.unwrap();
    db::migrate(&pool).await.unwrap();
    for cursor in ["", &format!("AND {key} <= 5 AND ({key}, sv.contact_id) < (5, 'c9')")] {
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT sv.contact_id FROM custom_fields sv
              WHERE sv.workspace_id = 'w1' AND sv.field_name = 'loan_amount' AND {} {cursor}
              ORDER BY {key} DESC, sv.contact_id DESC LIMIT 51",
            number_shaped("sv")
        );
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&pool).await.unwrap();
        let steps: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert!(
            steps[0].starts_with("SEARCH sv USING INDEX custom_fields_numbers"),
            "{steps:?}"
        );
        if !cursor.is_empty() {
            assert!(steps[0].contains("<expr><?"), "starts at the cursor: {steps:?}");
        }
    }
}

/// A number filter (`field.loan_amount.gte=…`) walks the same index from its bound.
#[tokio::test]
async fn a_number_filter_walks_the_number_index() {
    use pi_crm::storage::contact_search::{number_key, number_shaped};
    let dir = tempfile::tempdir().unwrap();
    let pool = db::open(&dir.path().join("pi-crm.db")).await.unwrap();
    db::migrate(&pool).await.unwrap();
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT contact_id FROM custom_fields
          WHERE workspace_id = 'w1' AND field_name = 'loan_amount' AND {} AND {} >= 990000",
        number_shaped("custom_fields"),
        number_key("custom_fields")
    );
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&pool).await.unwrap();
    assert_eq!(plan.len(), 1, "{plan:?}");
    assert!(
        plan[0].3.contains("INDEX custom_fields_numbers") && plan[0].3.contains("<expr>>?"),
        "{plan:?}"
    );
}

/// Version 26 rebuilds the outbox, campaign recipients and approvals with composite keys and
/// gives outbox rows a purpose: every row of a version-25 database comes through — a queued
/// message, a campaign's recipients, its approval — the triggers that copy a message's status
/// still fire, and the new rules hold (a row pointing across workspaces is refused).
#[tokio::test]
async fn the_outbox_and_campaign_tables_keep_every_row_through_version_26() {
    let dir = tempfile::tempdir().unwrap();
    let pool = db::open(&dir.path().join("crm.db")).await.unwrap();
    db::MIGRATOR.run_to(25, &pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO users (id, email, password_hash, name, created_at, password_changed_at)
              VALUES ('u1', 'andy@example.com', 'x', 'Andy', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO workspaces (id, user_id, name, created_at) VALUES ('w1', 'u1', 'Loans', '2026-01-01T00:00:00Z'),
                                                                       ('w2', 'u1', 'Other', '2026-01-01T00:00:00Z');
         INSERT INTO base_contacts (id, workspace_id, created_on, first_name, primary_email)
              VALUES ('c1', 'w1', '2026-01-01', 'Ada', 'ada@example.com');
         INSERT INTO communication_logs (id, workspace_id, contact_id, type, content, status, timestamp)
              VALUES ('g1', 'w1', 'c1', 'email', '{}', 'queued', '2026-01-01T00:00:00Z');
         INSERT INTO campaigns (id, workspace_id, name, channel, segment, schedule, status, created_at, updated_at)
              VALUES ('k1', 'w1', 'Rates', 'email', '{}', '{}', 'sending', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO campaign_approvals (id, campaign_id, workspace_id, token_hash, snapshot, status, reviewer_email,
                                         created_at, expires_at)
              VALUES ('a1', 'k1', 'w1', 'hash', '{}', 'approved', 'pat@example.com', '2026-01-01T00:00:00Z',
                      '2026-02-01T00:00:00Z');
         INSERT INTO campaign_recipients (campaign_id, occurrence, contact_id, workspace_id, state, communication_id,
                                          created_at, message_status)
              VALUES ('k1', '', 'c1', 'w1', 'queued', 'g1', '2026-01-01T00:00:00Z', 'queued');
         INSERT INTO outbox (id, workspace_id, communication_id, channel, recipient, message, state, next_at,
                             created_at, campaign_id)
              VALUES ('o1', 'w1', 'g1', 'email', 'ada@example.com', '{}', 'pending', '2026-01-01T00:00:00Z',
                      '2026-01-01T00:00:00Z', 'k1');",
    )
    .execute(&pool)
    .await
    .unwrap();
    db::migrate(&pool).await.unwrap();

    let row: (String, String, Option<String>, String) =
        sqlx::query_as("SELECT purpose, communication_id, approval_id, campaign_id FROM outbox WHERE id = 'o1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(row, ("message".into(), "g1".into(), None, "k1".into()));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM campaign_approvals WHERE id = 'a1'").await,
        1
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM campaign_recipients").await, 1);
    // The status still follows the timeline entry.
    sqlx::query("UPDATE communication_logs SET status = 'sent' WHERE id = 'g1'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM campaign_recipients WHERE message_status = 'sent'"
        )
        .await,
        1
    );
    // The new rules: a message needs its entry in its own workspace; a review row its approval.
    let across = sqlx::query(
        "INSERT INTO outbox (id, workspace_id, purpose, communication_id, channel, recipient, message, state, next_at, created_at)
         VALUES ('o2', 'w2', 'message', 'g1', 'email', 'x@example.com', '{}', 'pending', 'now', 'now')",
    )
    .execute(&pool)
    .await;
    assert!(
        across.is_err(),
        "a message pointing at another workspace's entry was accepted"
    );
    let bare = sqlx::query(
        "INSERT INTO outbox (id, workspace_id, purpose, channel, recipient, message, state, next_at, created_at)
         VALUES ('o3', 'w1', 'review', 'email', 'pat@example.com', '{}', 'pending', 'now', 'now')",
    )
    .execute(&pool)
    .await;
    assert!(bare.is_err(), "a review email without its approval was accepted");
    // A contact deleted takes its recipient rows, and its messages, with it.
    sqlx::query("DELETE FROM base_contacts WHERE id = 'c1'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(count(&pool, "SELECT count(*) FROM campaign_recipients").await, 0);
    assert_eq!(count(&pool, "SELECT count(*) FROM outbox").await, 0);
}

/// The duplicates view finds shared names and numbers in one pass over their indexes, reading
/// no table row for them, and looks nothing up per contact (issue 35: a correlated lookup that
/// sorted every later namesake made 6,000 "John Smith" take 4.5 s).
#[tokio::test]
async fn the_duplicates_query_walks_the_indexes_once() {
    let dir = tempfile::tempdir().unwrap();
    let pool = db::open(&dir.path().join("pi-crm.db")).await.unwrap();
    db::migrate(&pool).await.unwrap();
    let sql = format!("EXPLAIN QUERY PLAN {}", pi_crm::storage::duplicates::PAIRS);
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind("w1")
        .bind("")
        .bind("")
        .bind(50)
        .fetch_all(&pool)
        .await
        .unwrap();
    let lines: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
    let text = lines.join("\n");
    // Names are grouped in the order of their index (the generated `person_key`, whose
    // value SQLite reads back from the row), and their holders found through it.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("SEARCH base_contacts USING INDEX base_contacts_same_person (workspace_id=?)")),
        "names are grouped along their index:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("USING INDEX base_contacts_same_person (workspace_id=? AND person_key=?)")),
        "only the holders of a shared name are chained:\n{text}"
    );
    assert!(
        lines.iter().any(|l| l.contains("COVERING INDEX base_contacts_phone")),
        "numbers are grouped from their index alone:\n{text}"
    );
    // The chains' windows take the indexes' order: the only sorts are the final page's
    // (its pairs, grouped by reason) and the union's, never one per contact or per name.
    let sorts = lines.iter().filter(|l| l.contains("TEMP B-TREE")).count();
    assert!(sorts <= 6, "{sorts} sorts:\n{text}");
    assert!(
        !lines.iter().any(|l| l.contains("SCAN base_contacts")),
        "no contact table scan:\n{text}"
    );
}

/// The first page of the duplicates view's pairs in workspace `w1`.
async fn first_pairs(pool: &SqlitePool) -> Vec<(String, String, String)> {
    sqlx::query_as(sqlx::AssertSqlSafe(pi_crm::storage::duplicates::PAIRS))
        .bind("w1")
        .bind("")
        .bind("")
        .bind(50)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// A contact of an import still running is in the indexes but nobody sees it yet: the
/// duplicates view chains the visible namesakes (and sharers of a number) on either side of it,
/// so they pair with each other, and never with it. A pair found twice is one pair.
#[tokio::test]
async fn duplicates_chain_around_a_running_imports_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let pool = db::open(&dir.path().join("pi-crm.db")).await.unwrap();
    db::migrate(&pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO users (id, email, password_hash, name, created_at, password_changed_at)
              VALUES ('u1', 'andy@example.com', 'x', 'Andy', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO workspaces (id, user_id, name, created_at) VALUES ('w1', 'u1', 'Borrowers', '2026-01-01T00:00:00Z');
         INSERT INTO hidden_imports (import_id) VALUES ('i1');
         INSERT INTO base_contacts (id, workspace_id, created_on, first_name, last_name, company, primary_phone, import_pending)
              VALUES ('c1', 'w1', '2026-01-01', 'John', 'Smith', 'Acme', NULL, NULL),
                     ('c2', 'w1', '2026-01-01', 'JOHN', 'Smith', 'acme', NULL, 'i1'),
                     ('c3', 'w1', '2026-01-01', 'John', 'Smith', 'Acme', NULL, NULL),
                     ('p1', 'w1', '2026-01-01', 'Ann', 'Lee', NULL, '+14155550123', NULL),
                     ('p2', 'w1', '2026-01-01', 'Bo', 'Ng', NULL, '+14155550123', 'i1'),
                     ('p3', 'w1', '2026-01-01', 'Ann', 'Lee', NULL, '+14155550123', NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let pairs = first_pairs(&pool).await;
    let pair = |a: &str, b: &str, why: &str| (a.to_string(), b.to_string(), why.to_string());
    assert_eq!(
        pairs,
        [
            pair("c1", "c3", "same name and company"),
            pair("p1", "p3", "same name and company and shared phone number")
        ]
    );
    // Once the import is done, its contacts join the chains.
    sqlx::query("DELETE FROM hidden_imports").execute(&pool).await.unwrap();
    let pairs = first_pairs(&pool).await;
    assert_eq!(
        pairs,
        [
            pair("c1", "c2", "same name and company"),
            pair("c2", "c3", "same name and company"),
            pair("p1", "p2", "shared phone number"),
            pair("p1", "p3", "same name and company"),
            pair("p2", "p3", "shared phone number"),
        ]
    );
}

/// An import sets the journal's triggers aside in each of its transactions and makes them
/// again: the schema reads back the same, and another connection that knew the old schema
/// deletes a contact in its next write transaction at the first try (SQLite's FTS5 table,
/// reached through the delete trigger while foreign keys cascade, made that first `DELETE`
/// fail once with "no such table: base_contacts"; `storage::db::see_schema_changes`).
#[tokio::test]
async fn triggers_set_aside_and_made_again_leave_the_schema_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let pool = db::open(&dir.path().join("pi-crm.db")).await.unwrap();
    db::migrate(&pool).await.unwrap();
    let schema = || async {
        sqlx::query_as::<_, (String, String)>("SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let before = schema().await;
    // A statement this connection has not prepared before: one it has is prepared again
    // another way, which works.
    let delete = |n: usize| sqlx::AssertSqlSafe(format!("DELETE FROM base_contacts WHERE id = 'nobody {n}'"));
    let mut tx = db::begin_write(&pool).await.unwrap();
    sqlx::query(delete(0)).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    for n in 1..3 {
        let mut conn = db::bulk_writer(&pool).await.unwrap();
        sqlx::query(db::BEGIN_WRITE).execute(&mut *conn).await.unwrap();
        let paused = pi_crm::storage::imports::pause_journal(&mut conn).await.unwrap();
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'contact_changes_on_%insert'")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        assert_eq!(left, 0, "both triggers are set aside");
        paused.rebuild(&mut conn).await.unwrap();
        sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
        drop(conn);
        let mut tx = db::begin_write(&pool).await.unwrap();
        sqlx::query(delete(n)).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(schema().await, before);
    }
}
