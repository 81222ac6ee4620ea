//! Backups and restore that are proven (SPEC §12), and the scheduled jobs that make them
//! (SPEC §15): the real `pi-crm` binary beside the real server, real files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

use crate::common::{TestApp, pi_crm};

const RW: &[&str] = &["read:contacts", "write:contacts"];

fn run_ok(data: &Path, args: &[&str]) -> String {
    let out = pi_crm(data, args, None);
    assert!(
        out.status.success(),
        "pi-crm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn run_refused(data: &Path, args: &[&str]) -> String {
    let out = pi_crm(data, args, None);
    assert!(!out.status.success(), "pi-crm {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

fn data_dir(app: &TestApp) -> PathBuf {
    app.state.config.data_dir.clone()
}

fn backup_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with("pi-crm-") && n.ends_with(".db"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The proof SPEC §12 asks for: a backup made while four clients write, restored into a fresh
/// data dir and served, holds every contact whose creation was answered before it began.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_made_while_four_clients_write_restores_every_contact_committed_before_it() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let key = app.key(&andy, RW, None).await;
    let api = app.api(&key);
    let stop = Arc::new(AtomicBool::new(false));
    // Each answered write is counted and rung, so the test waits for writes, not for time.
    let written = Arc::new((std::sync::atomic::AtomicUsize::new(0), tokio::sync::Notify::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let client = api.client.clone();
        let written = written.clone();
        let url = format!("{}/api/v1/workspaces/{ws}/contacts", api.base);
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .post(&url)
                    .json(&json!({"first_name": format!("W{w}"), "last_name": format!("N{i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
                answered.push((Instant::now(), id));
                written.0.fetch_add(1, Ordering::Relaxed);
                written.1.notify_waiters();
                i += 1;
            }
            answered
        }));
    }
    let until_written = |n: usize| {
        let written = written.clone();
        async move {
            while written.0.load(Ordering::Relaxed) < n {
                let rung = written.1.notified();
                if written.0.load(Ordering::Relaxed) >= n {
                    break;
                }
                rung.await;
            }
        }
    };
    until_written(40).await;
    let began = Instant::now();
    let data = data_dir(&app);
    let out = tempfile::tempdir().unwrap();
    let to = out.path().to_str().unwrap().to_string();
    let file = tokio::task::spawn_blocking(move || run_ok(&data, &["backup", "--to", &to]))
        .await
        .unwrap();
    // And a few more after it.
    until_written(written.0.load(Ordering::Relaxed) + 8).await;
    stop.store(true, Ordering::Relaxed);
    let mut before = Vec::new();
    let mut total = 0;
    for w in writers {
        let answered = w.await.unwrap();
        total += answered.len();
        before.extend(answered.into_iter().filter(|(at, _)| *at < began).map(|(_, id)| id));
    }
    assert!(
        before.len() > 20,
        "the writers were busy before the backup: {}",
        before.len()
    );
    assert!(total > before.len(), "and kept writing while it ran");

    // Restored into a fresh data dir and served: every one of them is there.
    let fresh = tempfile::tempdir().unwrap();
    let fresh_data = fresh.path().join("data");
    let said = run_ok(&fresh_data, &["restore", &file]);
    assert!(said.starts_with("restored "), "{said}");
    let restored = TestApp::spawn_with(|c| c.data_dir = fresh_data.clone()).await;
    let api = restored.api(&key);
    for id in &before {
        let r = api.get(&format!("/api/v1/workspaces/{ws}/contacts/{id}")).await;
        assert_eq!(r.status(), 200, "contact {id}, answered before the backup began");
    }
    let found = restored.count("SELECT COUNT(*) FROM base_contacts").await as usize;
    assert!(found >= before.len() && found <= total, "{found} of {total}");
}

// The CLI runs while the server is in this process: its tasks need a thread of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_backup_is_refused_by_restore_and_not_counted_as_good() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let api = app.api(&app.key(&andy, RW, None).await);
    for i in 0..300 {
        api.post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": format!("Person {i}"), "company": "x".repeat(200)}),
        )
        .await;
    }
    let data = data_dir(&app);
    let file = PathBuf::from(run_ok(&data, &["backup"]));
    assert_eq!(file.parent().unwrap(), data.join("backups"));
    assert!(
        data.join("backups/secret.key").exists(),
        "the key travels with the backups"
    );
    let list: Value = api.get("/api/v1/backups").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["verified"], true, "{list}");
    assert_eq!(list["items"][0]["file"], file.file_name().unwrap().to_str().unwrap());
    let health: Value = api.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["last_backup"]["created_at"], list["items"][0]["created_at"]);
    assert!(health["last_backup"]["age_seconds"].as_i64().unwrap() < 60, "{health}");

    // A few pages in the middle go bad, as on a failing SD card.
    let mut bytes = std::fs::read(&file).unwrap();
    assert!(bytes.len() > 64 * 1024, "{} bytes", bytes.len());
    for b in &mut bytes[20_000..40_000] {
        *b = 0x5a;
    }
    std::fs::write(&file, &bytes).unwrap();
    let list: Value = api.get("/api/v1/backups").await.json().await.unwrap();
    assert_eq!(
        list["items"][0]["verified"], false,
        "changed since it was checked: {list}"
    );
    let health: Value = api.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["last_backup"], Value::Null);

    let fresh = tempfile::tempdir().unwrap();
    let fresh_data = fresh.path().join("data");
    let said = run_refused(&fresh_data, &["restore", file.to_str().unwrap()]);
    assert!(said.contains("damaged") || said.contains("cannot be opened"), "{said}");
    assert!(!fresh_data.join("pi-crm.db").exists(), "nothing was put in place");

    // Neither is a file that is no database at all, nor a database that is not pi-crm's.
    let junk = fresh.path().join("notes.db");
    std::fs::write(&junk, b"these are my notes").unwrap();
    let said = run_refused(&fresh_data, &["restore", junk.to_str().unwrap()]);
    assert!(said.contains("cannot be opened") || said.contains("damaged"), "{said}");
    let other = fresh.path().join("other.db");
    let pool = pi_crm::storage::db::open(&other).await.unwrap();
    sqlx::query("CREATE TABLE t (x)").execute(&pool).await.unwrap();
    pool.close().await;
    let said = run_refused(&fresh_data, &["restore", other.to_str().unwrap()]);
    assert!(said.contains("not pi-crm's"), "{said}");
    let said = run_refused(&fresh_data, &["restore", "/nonexistent/pi-crm-1.db"]);
    assert!(said.contains("is not a file"), "{said}");
}

// The CLI runs while the server is in this process: its tasks need a thread of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_data_dir_a_running_server_holds_and_keeps_what_it_replaces() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    app.workspace(&andy, "Borrowers").await;
    let data = data_dir(&app);
    let file = run_ok(&data, &["backup"]);
    let said = run_refused(&data, &["restore", &file]);
    assert!(said.contains("server is running"), "{said}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces").await,
        1,
        "the live database is untouched"
    );
    let said = run_refused(&data, &["serve", "--bind", "127.0.0.1:0"]);
    assert!(said.contains("pi-crm server is running"), "{said}");

    // A stopped data dir with a database of its own: restored, and the old one kept whole.
    let other = tempfile::tempdir().unwrap();
    let other_data = other.path().join("data");
    let made = pi_crm(
        &other_data,
        &[
            "user",
            "create",
            "--email",
            "mona@example.com",
            "--name",
            "Mona",
            "--password-stdin",
        ],
        Some(&format!("{}\n", crate::common::PASSWORD)),
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let said = run_ok(&other_data, &["restore", &file]);
    assert!(said.contains("the database it replaced is kept as"), "{said}");
    let kept: Vec<PathBuf> = std::fs::read_dir(&other_data)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains("pi-crm.db.before-restore-") && !p.to_string_lossy().ends_with("-wal"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let old = pi_crm::storage::db::open(&kept[0]).await.unwrap();
    let mona: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'mona@example.com'")
        .fetch_one(&old)
        .await
        .unwrap();
    assert_eq!(mona, 1, "the replaced database opens with everything it had");
    old.close().await;
    let users = run_ok(&other_data, &["user", "list"]);
    assert!(
        users.contains("andy@example.com") && !users.contains("mona@example.com"),
        "{users}"
    );
}

// The CLI runs while the server is in this process: its tasks need a thread of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_beside_a_running_server_is_claimed_through_the_database() {
    let app = TestApp::spawn().await;
    let data = data_dir(&app);
    let listed = run_ok(&data, &["jobs", "list"]);
    assert!(listed.contains("backup") && listed.contains("never"), "{listed}");
    // While the server runs the job (its claim is in the database), a run by hand is refused.
    sqlx::query(
        "UPDATE jobs SET running_until = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour') WHERE name = 'backup'",
    )
    .execute(&app.state.db)
    .await
    .unwrap();
    let said = run_refused(&data, &["jobs", "run", "backup"]);
    assert!(said.contains("running right now"), "{said}");
    assert!(backup_files(&data.join("backups")).is_empty());
    sqlx::query("UPDATE jobs SET running_until = NULL")
        .execute(&app.state.db)
        .await
        .unwrap();
    let file = run_ok(&data, &["jobs", "run", "backup"]);
    assert!(file.contains("/backups/pi-crm-"), "{file}");
    assert_eq!(backup_files(&data.join("backups")).len(), 1);
    let row = pi_crm::storage::jobs::find(&app.state.db, "backup")
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.last_run_at.is_some() && row.last_error.is_none() && row.running_until.is_none(),
        "{row:?}"
    );
    let said = run_refused(&data, &["jobs", "run", "newsletter"]);
    assert!(said.contains("no job called \"newsletter\""), "{said}");
    assert!(said.contains("backup, outbox"), "the jobs are named: {said}");
}

/// A Pi that was off for three days runs the missed backup once at start, not three times,
/// and then keeps to 03:00 in its zone. The clock is fixed by handing `run_due` its "now";
/// no server runs here, so its own scheduler cannot take the run first.
#[tokio::test]
async fn a_job_missed_for_three_days_runs_once_and_a_failure_is_retried_in_an_hour() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_crm::config::Config {
        data_dir: dir.path().join("data"),
        timezone: "America/Los_Angeles".into(),
        ..Default::default()
    };
    let mut state = pi_crm::app::open_state(config).await.unwrap();
    let now: jiff::Timestamp = "2026-11-27T20:00:00Z".parse().unwrap();
    state.clock = pi_crm::clock::Clock::fixed(now);
    let state = &state;
    pi_crm::jobs::scheduler::ensure_row(state, pi_crm::jobs::Job::Backup, now)
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET next_run_at = '2026-11-24T11:00:00Z', last_run_at = '2026-11-23T11:00:05Z'")
        .execute(&state.db)
        .await
        .unwrap();
    let ran = pi_crm::jobs::scheduler::run_due(state, now).await.unwrap();
    assert_eq!(ran, ["backup"]);
    assert!(
        pi_crm::jobs::scheduler::run_due(state, now).await.unwrap().is_empty(),
        "once"
    );
    assert_eq!(backup_files(&state.config.backup_dir()).len(), 1);
    let row = pi_crm::storage::jobs::find(&state.db, "backup").await.unwrap().unwrap();
    // The next 03:00 in Los Angeles after the run (PST: 11:00 UTC).
    assert_eq!(row.next_run_at, "2026-11-28T11:00:00Z", "{row:?}");

    // The backup directory becomes unusable (a file where it should be): the run fails, the
    // error is kept and shown, and the next try is an hour later.
    std::fs::remove_dir_all(state.config.backup_dir()).unwrap();
    std::fs::write(state.config.backup_dir(), b"not a directory").unwrap();
    sqlx::query("UPDATE jobs SET next_run_at = '2026-11-27T19:00:00Z'")
        .execute(&state.db)
        .await
        .unwrap();
    assert_eq!(pi_crm::jobs::scheduler::run_due(state, now).await.unwrap(), ["backup"]);
    let row = pi_crm::storage::jobs::find(&state.db, "backup").await.unwrap().unwrap();
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("backup directory"),
        "{row:?}"
    );
    assert_eq!(
        row.next_run_at, "2026-11-27T21:00:00Z",
        "an hour after the failed run: {row:?}"
    );
}

#[tokio::test]
async fn the_backups_page_lists_them_and_backs_up_now_with_its_token() {
    let app = TestApp::spawn().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    let page = b.get("/settings/backups").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No backup yet"));
    let refused = b.post_raw("/settings/backups", &[]).await;
    assert_eq!(refused.status, 403, "no CSRF token");
    assert!(backup_files(&app.state.config.backup_dir()).is_empty());
    let done = b.submit("/settings/backups", "/settings/backups", &[]).await;
    assert_eq!(done.status, 303);
    let files = backup_files(&app.state.config.backup_dir());
    assert_eq!(files.len(), 1);
    let page = b.get("/settings/backups").await;
    assert!(page.body.contains("Backup made and checked."), "{}", page.body);
    assert!(page.body.contains("Last good backup just now"));
    assert!(page.body.contains(&files[0]));
    assert!(page.body.contains("checked"));
    let home = b.get("/").await;
    assert!(home.body.contains("Last good backup just now"));

    // When the backup directory cannot be written, the button says why and so does the
    // dashboard, until a backup succeeds again.
    std::fs::remove_dir_all(app.state.config.backup_dir()).unwrap();
    std::fs::write(app.state.config.backup_dir(), b"not a directory").unwrap();
    let failed = b.submit("/settings/backups", "/settings/backups", &[]).await;
    assert_eq!(failed.status, 303);
    let page = b.get("/settings/backups").await;
    assert!(
        page.body
            .contains("The backup failed: cannot create the backup directory"),
        "{}",
        page.body
    );
    let home = b.get("/").await;
    assert!(home.body.contains("The last backup failed"), "{}", home.body);
    // Signed out, neither the page nor the API answers.
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .get(format!("{}/api/v1/backups", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// The person who set up pi-crm downloads a backup — the exact file, audited; a household
/// member sees who can and gets a 404 for the file, as does a made-up or traversing name.
#[tokio::test]
async fn only_the_person_who_set_up_pi_crm_downloads_a_backup() {
    let app = TestApp::spawn().await;
    let (_, andy) = app.user_browser("andy@example.com").await;
    let (_, mona) = app.user_browser("mona@example.com").await;
    let done = andy.submit("/settings/backups", "/settings/backups", &[]).await;
    assert_eq!(done.status, 303);
    let file = backup_files(&app.state.config.backup_dir()).remove(0);
    let page = andy.get("/settings/backups").await;
    assert!(
        page.body
            .contains(&format!("href=\"/settings/backups/{file}\" download")),
        "{}",
        page.body
    );
    assert!(page.body.contains("You set up pi-crm"));

    let r = andy
        .client
        .get(format!("{}/settings/backups/{file}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.sqlite3");
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"{file}\"").as_str()
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let bytes = r.bytes().await.unwrap();
    let on_disk = std::fs::read(app.state.config.backup_dir().join(&file)).unwrap();
    assert_eq!(bytes.len(), on_disk.len());
    assert!(bytes == on_disk, "the download is the backup, byte for byte");
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_logs WHERE action = 'backup.download'")
            .await,
        1
    );

    // Monalisa: told who can, and the file is not there for her.
    let page = mona.get("/settings/backups").await;
    assert!(page.body.contains(&file), "she sees the list");
    assert!(!page.body.contains(&format!("/settings/backups/{file}\"")));
    assert!(
        page.body.contains("only andy, who set up pi-crm, can download one"),
        "{}",
        page.body
    );
    assert_eq!(mona.get(&format!("/settings/backups/{file}")).await.status, 404);
    // Nor a name that is not a listed backup, for anyone.
    for bad in ["pi-crm.db", "..%2Fpi-crm.db", "pi-crm-20990101-000000.db", "key"] {
        assert_eq!(andy.get(&format!("/settings/backups/{bad}")).await.status, 404, "{bad}");
    }
    // Signed out: the sign-in page, not the file.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/settings/backups/{file}", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection() || r.status() == 401, "{}", r.status());
    assert_eq!(
        app.count("SELECT count(*) FROM audit_logs WHERE action = 'backup.download'")
            .await,
        1
    );
}

/// `backup_copy_to` (a USB disk): each backup is copied there, checked there, and kept by the
/// same rule; the key travels too. Settings come from the environment, as on a Pi.
#[tokio::test]
async fn each_backup_is_copied_and_checked_in_the_second_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let usb = dir.path().join("usb/pi-crm");
    let backup = |extra: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pi-crm"));
        cmd.arg("--data-dir").arg(&data).arg("backup");
        cmd.env("PI_CRM_BACKUP_COPY_TO", &usb);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    };
    let first = backup(&[]);
    let name = first.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(backup_files(&usb), [name.as_str()]);
    assert!(usb.join("secret.key").exists());
    assert_eq!(
        std::fs::read(usb.join("secret.key")).unwrap(),
        std::fs::read(data.join("secret.key")).unwrap()
    );
    let here = pi_crm::backup::list(&data.join("backups")).unwrap();
    assert!(here[0].verified);
    assert_eq!(here[0].copied_to, [usb.display().to_string()]);
    let there = pi_crm::backup::list(&usb).unwrap();
    assert!(there[0].verified, "checked in its second place too");

    // With one daily backup kept, the next one (in the same second or not) replaces the first
    // in both places.
    let second = backup(&[("PI_CRM_BACKUP_KEEP_DAILY", "1"), ("PI_CRM_BACKUP_KEEP_WEEKLY", "0")]);
    let second = second.file_name().unwrap().to_str().unwrap().to_string();
    assert_ne!(second, name);
    assert_eq!(backup_files(&data.join("backups")), [second.as_str()]);
    assert_eq!(backup_files(&usb), [second]);
}

/// Issue 31 point 7: a database with writes still in its log (as the kept `before-restore`
/// copy of a server stopped uncleanly is) restores with every one of them, and two restores
/// within one second keep both databases they replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_reads_a_source_with_its_log_and_never_overwrites_a_kept_copy() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let api = app.api(&app.key(&andy, RW, None).await);
    let data = data_dir(&app);
    for i in 0..120 {
        let r = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": format!("Ann {i}")}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    // Everything in the main file, then a copy of it to work on.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&app.state.db)
        .await
        .unwrap();
    let work_dir = tempfile::tempdir().unwrap();
    let work = work_dir.path().join("work.db");
    std::fs::copy(data.join("pi-crm.db"), &work).unwrap();
    app.stop().await;
    // A server stopped uncleanly: its last writes are only in the log. One connection that
    // never checkpoints renames everyone, and the files are copied while it is open.
    let source_dir = tempfile::tempdir().unwrap();
    let source = source_dir.path().join("kept.db");
    {
        use sqlx::{ConnectOptions, Connection};
        let mut writer = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&work)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", "0")
            .connect()
            .await
            .unwrap();
        sqlx::query("UPDATE base_contacts SET first_name = 'Logged ' || first_name")
            .execute(&mut writer)
            .await
            .unwrap();
        std::fs::copy(&work, &source).unwrap();
        std::fs::copy(
            work_dir.path().join("work.db-wal"),
            source_dir.path().join("kept.db-wal"),
        )
        .unwrap();
        writer.close().await.unwrap();
    }
    let logged = "SELECT COUNT(*) FROM base_contacts WHERE first_name LIKE 'Logged %'";
    // Read without its log, the source's main file alone lacks those writes.
    let alone = {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&source)
            .read_only(true)
            .immutable(true)
            .connect()
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(logged).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        n
    };
    assert_eq!(alone, 0, "the writes are in the log only");

    let target = tempfile::tempdir().unwrap();
    let target_data = target.path().join("data");
    let said = run_ok(&target_data, &["restore", source.to_str().unwrap()]);
    assert!(said.starts_with("restored "), "{said}");
    let restored = pi_crm::storage::db::open(&target_data.join("pi-crm.db")).await.unwrap();
    let found: i64 = sqlx::query_scalar(logged).fetch_one(&restored).await.unwrap();
    restored.close().await;
    assert_eq!(found, 120, "every write in the source's log was restored");
    assert!(
        std::fs::metadata(source_dir.path().join("kept.db-wal")).unwrap().len() > 0,
        "the source was not touched"
    );

    // Twice more at once: each replaced database is kept under its own name.
    for _ in 0..2 {
        run_ok(&target_data, &["restore", source.to_str().unwrap()]);
    }
    let kept: Vec<String> = std::fs::read_dir(&target_data)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".before-restore-") && !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
}

/// Issue 31 point 8: whatever the umask, pi-crm's directories are 0700 and its files 0600 —
/// the database and its log, backups and their notes, the secret key, uploads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_and_backups_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let api = app.api(&app.key(&andy, RW, None).await);
    let r = crate::imports::upload(&api, &ws, "", "few.csv", b"first_name\nAda\n".to_vec(), None, None).await;
    assert!(r.status().is_success());
    let data = data_dir(&app);
    let backup = PathBuf::from(run_ok(&data, &["backup"]));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in ["pi-crm.db", "pi-crm.db-wal", "pi-crm.db-shm", "secret.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&data.join("imports")), 0o700);
    for upload in std::fs::read_dir(data.join("imports")).unwrap() {
        let upload = upload.unwrap().path();
        assert_eq!(mode(&upload), 0o600, "{}", upload.display());
    }
    let backups = backup.parent().unwrap();
    assert_eq!(mode(backups), 0o700, "the backup directory");
    for entry in std::fs::read_dir(backups).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    app.stop().await;
}
