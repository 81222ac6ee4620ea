//! A revert killed half-way, proven with the real binary: the server is killed with SIGKILL
//! while it deletes a reverted import's contacts, then started again on the same data dir.
//! The revert happened for people at its hiding commit, so no contact of the import may show
//! again, before or after the restart; recovery deletes the rest, removes the field the
//! import made, and leaves a tombstone per contact for the phones that synced them.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::SqlitePool;

use crate::common::{cli_account, free_port, pi_crm};
use crate::outbox_crash::{api_key, json_of, keyed_client, serve, wait_healthy};

const ROWS: i64 = 20_000;
/// The import's contacts people see (the other workspace's saves are not among them).
const IMPORTED: &str = "SELECT COUNT(*) FROM contacts WHERE first_name LIKE 'P%'";
/// The import's contacts still in the database, shown or not.
const WRITTEN: &str = "SELECT COUNT(*) FROM base_contacts WHERE first_name LIKE 'P%'";

async fn count(db: &SqlitePool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[test]
fn a_revert_killed_while_deleting_is_finished_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    cli_account(&data, "andy@example.com", "Home", &[]);
    let file = dir.path().join("people.csv");
    let mut csv = String::from("First Name,Email,Shoe size\n");
    for i in 0..ROWS {
        csv.push_str(&format!("P{i},p{i}@example.com,{}\n", 36 + i % 10));
    }
    std::fs::write(&file, csv).unwrap();
    let out = pi_crm(
        &data,
        &[
            "import",
            "--user",
            "andy@example.com",
            "--workspace",
            "Home",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let client = keyed_client(&api_key(
        &data,
        "andy@example.com",
        "read:contacts,write:contacts,manage:workspaces",
    ));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(pi_crm::storage::db::open(&data.join("pi-crm.db"))).unwrap();
    let seen = |sql| rt.block_on(count(&db, sql));
    assert_eq!(seen(IMPORTED), ROWS);
    assert_eq!(seen("SELECT COUNT(*) FROM contact_changes WHERE deleted = 0"), ROWS);
    assert_eq!(
        seen("SELECT COUNT(*) FROM custom_field_definitions WHERE field_name = 'shoe_size'"),
        1
    );

    let port = free_port();
    let mut server = serve(&data, port, &log, 30);
    let base = format!("http://127.0.0.1:{port}");
    let (ws, id) = rt.block_on(async {
        wait_healthy(port).await;
        let ws: Value = json_of(client.get(format!("{base}/api/v1/workspaces"))).await;
        let ws = ws["items"][0]["id"].as_str().unwrap().to_string();
        let imports: Value = json_of(client.get(format!("{base}/api/v1/workspaces/{ws}/imports"))).await;
        (ws, imports["items"][0]["id"].as_str().unwrap().to_string())
    });
    // Someone saves contacts in another workspace all along, so the revert deletes in turns
    // of 50 ms (`domain::import::turns`), each a commit of its own, until the kill.
    let (began, first_save) = tokio::sync::oneshot::channel();
    let saving = {
        let (client, base) = (client.clone(), base.clone());
        let mut began = Some(began);
        rt.spawn(async move {
            let other: Value = json_of(
                client
                    .post(format!("{base}/api/v1/workspaces"))
                    .json(&json!({"name": "Other"})),
            )
            .await;
            let url = format!("{base}/api/v1/workspaces/{}/contacts", other["id"].as_str().unwrap());
            for n in 0.. {
                let saved = client
                    .post(&url)
                    .json(&json!({"first_name": "Saved", "primary_email": format!("s{n}@example.com")}))
                    .send()
                    .await;
                if saved.is_err() {
                    return n;
                }
                if let Some(began) = began.take() {
                    let _ = began.send(());
                }
            }
            unreachable!()
        })
    };
    rt.block_on(first_save).expect("the saves beside the revert began");
    let revert_url = format!("{base}/api/v1/workspaces/{ws}/imports/{id}/revert");
    let asked = rt.spawn(client.post(&revert_url).json(&json!({})).send());

    // Kill it once the first contacts are gone (deletions begin after the hiding commit); the
    // server is another process, so its progress is read from the database file as it goes.
    // Meanwhile people see all of the import or none of it, never a part.
    let mut deleting = false;
    for _ in 0..20_000 {
        let shown = seen(IMPORTED);
        assert!(shown == ROWS || shown == 0, "{shown} of the import's contacts showed");
        if seen(WRITTEN) < ROWS {
            deleting = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(deleting, "the revert did not reach its deletions");
    let _ = Command::new("kill").args(["-9", &server.id().to_string()]).status();
    let _ = server.wait();
    let _ = rt.block_on(asked);
    assert!(
        rt.block_on(saving).unwrap() > 0,
        "contacts were saved beside the revert"
    );

    let left = seen(WRITTEN);
    assert!(left > 0, "the kill came before the deletions ended: {left} left");
    assert_eq!(seen(IMPORTED), 0, "a reverted import shows nothing");
    assert_eq!(seen("SELECT COUNT(*) FROM imports WHERE status = 'reverted'"), 1);

    // Started again, recovery deletes the rest; at no moment does a contact show.
    let port = free_port();
    let mut server = serve(&data, port, &log, 30);
    let base = format!("http://127.0.0.1:{port}");
    rt.block_on(wait_healthy(port));
    let mut finished = false;
    for _ in 0..2_000 {
        assert_eq!(seen(IMPORTED), 0, "a contact of the reverted import showed");
        if seen(WRITTEN) == 0
            && seen("SELECT COUNT(*) FROM custom_field_definitions WHERE field_name = 'shoe_size'") == 0
        {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(finished, "recovery did not finish the revert");
    for (sql, expected) in [
        ("SELECT COUNT(*) FROM custom_fields", 0),
        ("SELECT COUNT(*) FROM hidden_imports", 0),
        ("SELECT COUNT(*) FROM imports WHERE lease_until IS NOT NULL", 0),
        (
            "SELECT COUNT(*) FROM contact_changes WHERE deleted = 1 AND workspace_id = (SELECT id FROM workspaces WHERE name = 'Home')",
            ROWS,
        ),
        (
            "SELECT COUNT(*) FROM contact_changes WHERE deleted = 0 AND workspace_id = (SELECT id FROM workspaces WHERE name = 'Home')",
            0,
        ),
    ] {
        assert_eq!(seen(sql), expected, "{sql}");
    }
    let (view, again) = rt.block_on(async {
        let view: Value = json_of(client.get(format!("{base}/api/v1/workspaces/{ws}/imports/{id}"))).await;
        let again = client
            .post(format!("{base}/api/v1/workspaces/{ws}/imports/{id}/revert"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        (view, again.status())
    });
    assert_eq!(view["status"], "reverted", "{view}");
    assert_eq!(again, 409, "a reverted import is not reverted twice");
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    rt.block_on(db.close());
}
