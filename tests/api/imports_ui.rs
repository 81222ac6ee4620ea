//! The import pages over HTTP: upload (multipart with its CSRF token), mapping, progress,
//! report, revert; and the CLI.

use std::time::Duration;

use crate::common::{Browser, TestApp};

async fn upload(
    b: &Browser,
    ws: &str,
    name: &str,
    bytes: Vec<u8>,
    csrf: Option<String>,
) -> (u16, Option<String>, String) {
    let mut form = reqwest::multipart::Form::new();
    if let Some(token) = csrf {
        form = form.text("csrf_token", token);
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let r = b
        .client
        .post(format!("{}/workspaces/{ws}/imports", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    (status, location, r.text().await.unwrap())
}

#[tokio::test]
async fn upload_map_run_report_and_revert_in_the_ui() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let index = b.get(&format!("/workspaces/{ws}/imports")).await;
    assert_eq!(index.status, 200);
    assert!(index.body.contains("enctype=\"multipart/form-data\""));

    let csv = "Given Name,Family Name,E-mail 1 - Value,Birthday,Shoe size\nAda,Lovelace,ada@example.com,1815-12-10,38\nGrace,Hopper,grace@example.com,1906-12-09,39\n";
    let (status, _, _) = upload(&b, &ws, "g.csv", csv.as_bytes().to_vec(), None).await;
    assert_eq!(status, 403, "an upload without the CSRF token is refused");
    let (status, _, _) = upload(&b, &ws, "g.csv", csv.as_bytes().to_vec(), Some("0".repeat(64))).await;
    assert_eq!(status, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM imports").await, 0);

    let token = index.csrf();
    let (status, body_or_location, body) = upload(&b, &ws, "empty.csv", Vec::new(), Some(token.clone())).await;
    assert_eq!(status, 422, "{body_or_location:?}");
    assert!(body.contains("the file is empty"));

    let (status, location, _) = upload(&b, &ws, "google.csv", csv.as_bytes().to_vec(), Some(token)).await;
    assert_eq!(status, 303);
    let map_url = location.unwrap();
    assert!(map_url.ends_with("/map"));
    let map = b.get(&map_url).await;
    assert_eq!(map.status, 200);
    assert!(map.body.contains("Ada") && map.body.contains("Shoe size"));
    assert!(
        map.body.contains("value=\"base:first_name\" selected"),
        "recognised columns are preselected"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM base_contacts").await,
        0,
        "nothing is written before the start"
    );

    let start_url = map_url.replace("/map", "/start");
    let form = [
        ("c.0", "Given Name"),
        ("t.0", "base:first_name"),
        ("c.1", "Family Name"),
        ("t.1", "base:last_name"),
        ("c.2", "E-mail 1 - Value"),
        ("t.2", "base:primary_email"),
        ("c.3", "Birthday"),
        ("t.3", "new"),
        ("n.3", "birthday"),
        ("y.3", "date"),
        ("c.4", "Shoe size"),
        ("t.4", "new"),
        ("n.4", "shoe_size"),
        ("y.4", "number"),
        ("on_duplicate", "skip"),
    ];
    let started = b.submit(&map_url, &start_url, &form).await;
    assert_eq!(started.status, 303);
    let show_url = started.location.unwrap();
    app.drain_imports().await;
    let page = b.get(&show_url).await;
    assert!(page.body.contains("id=\"import-report\""), "{}", page.body);
    assert!(page.body.contains("Done"), "{}", page.body);
    assert!(page.body.contains("Revert this import"));
    let progress = b.get(&format!("{show_url}/progress")).await;
    assert_eq!(progress.status, 200);
    assert!(
        progress.body.starts_with("<div id=\"import-progress\""),
        "the htmx partial is the block alone"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 2);
    let shoe: String =
        sqlx::query_scalar("SELECT field_type FROM custom_field_definitions WHERE field_name = 'shoe_size'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(shoe, "number");
    assert!(
        b.get(&format!("/workspaces/{ws}/imports"))
            .await
            .body
            .contains("google.csv")
    );

    // Revert asks first, naming what goes: the two contacts and the two fields it made.
    let confirm = b.get(&format!("{show_url}/revert")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Revert google.csv?"), "{}", confirm.body);
    assert!(
        confirm.body.contains("<strong>Deletes 2 contacts</strong>")
            && confirm.body.contains("Ada Lovelace, Grace Hopper"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("birthday, shoe_size"), "{}", confirm.body);
    assert!(confirm.body.contains("Revert: delete 2 contacts"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM base_contacts").await,
        2,
        "asking deletes nothing"
    );
    let reverted = b
        .submit(&format!("{show_url}/revert"), &format!("{show_url}/revert"), &[])
        .await;
    assert_eq!(reverted.status, 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
    assert!(b.get(&show_url).await.body.contains("Reverted"));
    // Once reverted there is nothing to confirm.
    assert_eq!(b.get(&format!("{show_url}/revert")).await.status, 409);
}

#[tokio::test]
async fn a_bad_mapping_comes_back_with_the_reason_and_others_imports_are_404() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let token = b.get(&format!("/workspaces/{ws}/imports")).await.csrf();
    let (_, location, _) = upload(
        &b,
        &ws,
        "a.csv",
        b"Name,Mail\nAda,ada@example.com\n".to_vec(),
        Some(token),
    )
    .await;
    let map_url = location.unwrap();
    let start_url = map_url.replace("/map", "/start");
    let bad = b
        .submit(
            &map_url,
            &start_url,
            &[
                ("c.0", "Name"),
                ("t.0", "base:first_name"),
                ("c.1", "Mail"),
                ("t.1", "base:first_name"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("two columns are mapped to first_name"));

    let (_, mona) = app.user_browser("mona@example.com").await;
    let id = map_url.split('/').nth(4).unwrap().to_string();
    for path in [
        format!("/workspaces/{ws}/imports"),
        format!("/workspaces/{ws}/imports/{id}"),
        format!("/workspaces/{ws}/imports/{id}/map"),
        format!("/workspaces/{ws}/imports/{id}/progress"),
        format!("/workspaces/{ws}/imports/{id}/revert"),
    ] {
        assert_eq!(mona.get(&path).await.status, 404, "{path}");
    }
    assert_eq!(
        mona.submit("/", &start_url, &[("c.0", "Name"), ("t.0", "base:first_name")])
            .await
            .status,
        404
    );
    assert_eq!(
        mona.submit("/", &format!("/workspaces/{ws}/imports/{id}/revert"), &[])
            .await
            .status,
        404
    );
}

/// The mapping page counts the values its mapping cannot read, before anything is written;
/// "Check these choices" counts again for the columns as the person set them; the report
/// offers the rows with problems as a CSV, to its workspace's people only.
// The CLI runs while the server is in this process: its tasks need a thread of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mapping_page_counts_what_cannot_be_read_and_the_report_offers_the_rows() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            serde_json::json!({"field_name": "birthday", "field_type": "date"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let token = b.get(&format!("/workspaces/{ws}/imports")).await.csrf();
    let csv = "First Name,Birthday,Score\nAda,1815-12-10,5\nBob,someday,x\nCy,31/31/2000,7\nDee,someday,8\n";
    let (_, location, _) = upload(&b, &ws, "leads.csv", csv.as_bytes().to_vec(), Some(token)).await;
    let map_url = location.unwrap();
    let map = b.get(&map_url).await;
    assert_eq!(map.status, 200);
    assert!(
        map.body.contains("value=\"field:birthday\" selected"),
        "the workspace's field"
    );
    assert!(map.body.contains("3 values cannot be read"), "{}", map.body);
    assert!(map.body.contains("id=\"column-problems-1\""));
    assert!(
        map.body
            .contains("3 values can't be read — &#34;someday&#34; is not a date"),
        "{}",
        map.body
    );
    assert!(
        map.body
            .contains("also <span class=\"break-all font-mono\">31/31/2000</span>")
    );
    assert!(
        !map.body.contains("id=\"column-problems-2\""),
        "Score holds an x, so it is suggested as text"
    );

    // Score as a number: its x cannot be read either; the choices stay as set.
    let mut form = vec![
        ("c.0", "First Name"),
        ("t.0", "base:first_name"),
        ("c.1", "Birthday"),
        ("t.1", "field:birthday"),
        ("c.2", "Score"),
        ("t.2", "new"),
        ("n.2", "score"),
        ("y.2", "number"),
        ("on_duplicate", "skip"),
    ];
    let checked = b.submit(&map_url, &map_url, &form).await;
    assert_eq!(checked.status, 200);
    assert!(checked.body.contains("4 values cannot be read"), "{}", checked.body);
    assert!(checked.body.contains("id=\"column-problems-2\""));
    assert!(checked.body.contains("<option value=\"number\" selected>"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM base_contacts").await,
        0,
        "a check writes nothing"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM custom_field_definitions WHERE field_name = 'score'")
            .await,
        0
    );

    form.retain(|(k, _)| !k.ends_with(".2"));
    let started = b.submit(&map_url, &map_url.replace("/map", "/start"), &form).await;
    assert_eq!(started.status, 303);
    let show_url = started.location.unwrap();
    app.drain_imports().await;
    let page = b.get(&show_url).await;
    assert!(page.body.contains("id=\"import-report\""), "{}", page.body);
    assert!(
        page.body.contains("Download the 3 rows with problems (CSV)"),
        "{}",
        page.body
    );
    let download = format!("{show_url}/problems.csv");
    let csv = b.client.get(format!("{}{download}", b.base)).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("First Name,Birthday,Score,problem\nBob,someday,x,"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4, "{text}");

    let (_, mona) = app.user_browser("mona@example.com").await;
    assert_eq!(mona.get(&download).await.status, 404);
    assert_eq!(mona.submit("/", &map_url, &form).await.status, 404);
}

#[test]
fn the_cli_imports_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::common::cli_account(&data, "a@example.com", "Home", &[]);
    let run = |args: &[&str]| crate::common::pi_crm(&data, args, None);
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "First Name,Email\nAda,ada@example.com\nBob,bob@example.com\n").unwrap();
    let out = run(&[
        "import",
        "--user",
        "a@example.com",
        "--workspace",
        "Home",
        good.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("done (2 created"));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "First Name,Email\nCy,cy@example.com\nDee,nope\n").unwrap();
    let stop = dir.path().join("stop.json");
    std::fs::write(
        &stop,
        r#"{"columns": {"First Name": "first_name", "Email": "primary_email"}, "on_problem": "stop"}"#,
    )
    .unwrap();
    let out = run(&[
        "import",
        "--user",
        "a@example.com",
        "--workspace",
        "Home",
        "--mapping",
        stop.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, column Email"), "{err}");
    let out = run(&["export", "--user", "a@example.com", "--workspace", "Home"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "header and the two good contacts only: {text}");
    let out = run(&[
        "import",
        "--user",
        "a@example.com",
        "--workspace",
        "Home",
        good.to_str().unwrap(),
        "--on-duplicate",
        "merge",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 duplicates"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A server killed (-9) in the middle of an import, with some of its chunks committed, leaves
/// nothing of it visible; started again, it deletes what the dead run wrote, runs the import
/// from the start and finishes it, with no contact twice and no mark left.
#[test]
fn an_import_survives_kill_9_and_resumes_on_restart() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::common::cli_account(&data, "a@example.com", "Home", &[]);
    let key_out = crate::common::pi_crm(
        &data,
        &[
            "apikey",
            "create",
            "--user",
            "a@example.com",
            "--scopes",
            "read:contacts,write:contacts",
        ],
        None,
    );
    let stdout = String::from_utf8(key_out.stdout).unwrap();
    let key = stdout.trim_end().lines().last().unwrap().to_string();
    let serve = |port: u16| {
        Command::new(env!("CARGO_BIN_EXE_pi-crm"))
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("PI_CRM_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let port = crate::common::free_port();
    let mut server = serve(port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows = 100_000;
    let (ws, id) = rt.block_on(async {
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let ws: String = loop {
            if let Ok(r) = client
                .get(format!("{base}/api/v1/workspaces"))
                .header("x-api-key", &key)
                .send()
                .await
            {
                let v: serde_json::Value = r.json().await.unwrap();
                break v["items"][0]["id"].as_str().unwrap().to_string();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mut csv = String::from("First Name,Email,Notes\n");
        for i in 0..rows {
            csv.push_str(&format!("P{i},p{i}@example.com,note {i}\n"));
        }
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("big.csv"),
        );
        let r = client
            .post(format!("{base}/api/v1/workspaces/{ws}/imports"))
            .header("x-api-key", &key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        (ws, id)
    });
    // Kill it once the run has committed a few chunks.
    rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..2000 {
            let v: serde_json::Value = client
                .get(format!("http://127.0.0.1:{port}/api/v1/workspaces/{ws}/imports/{id}"))
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["progress"]["rows_done"].as_u64().unwrap_or(0) >= 2_000 {
                assert_eq!(
                    v["status"], "running",
                    "100,000 rows take longer than a transaction or two: {v}"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let _ = Command::new("kill").args(["-9", &server.id().to_string()]).status();
    let _ = server.wait();
    let counts = |data: &std::path::Path| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let db = pi_crm::storage::db::open(&data.join("pi-crm.db")).await.unwrap();
            let count = |sql: &'static str| {
                let db = db.clone();
                async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&db).await.unwrap() }
            };
            let visible = count("SELECT COUNT(*) FROM contacts").await;
            let written = count("SELECT COUNT(*) FROM base_contacts").await;
            let marked = count("SELECT COUNT(*) FROM base_contacts WHERE import_pending IS NOT NULL").await;
            let status: String = sqlx::query_scalar("SELECT status FROM imports")
                .fetch_one(&db)
                .await
                .unwrap();
            db.close().await;
            (visible, written, marked, status)
        })
    };
    let (visible, written, _, status) = counts(&data);
    assert_eq!(status, "running", "killed mid-run");
    assert!(written >= 1_000, "chunks were committed before the kill: {written}");
    assert_eq!(visible, 0, "nothing of a killed import is visible");

    let port = crate::common::free_port();
    let mut server = serve(port);
    let finished = rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..1200 {
            if let Ok(r) = client
                .get(format!("http://127.0.0.1:{port}/api/v1/workspaces/{ws}/imports/{id}"))
                .header("x-api-key", &key)
                .send()
                .await
            {
                let v: serde_json::Value = r.json().await.unwrap();
                if v["status"] == "done" || v["status"] == "failed" {
                    return v;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the import did not finish after the restart");
    });
    // The import's marks are cleared just after it is done, a batch at a time.
    for _ in 0..200 {
        if counts(&data).2 == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    assert_eq!(finished["status"], "done", "{finished}");
    assert_eq!(finished["report"]["created"], rows);
    let (visible, written, marked, _) = counts(&data);
    assert_eq!((visible, written, marked), (rows as i64, rows as i64, 0));
}

#[tokio::test]
async fn a_web_upload_over_the_limit_is_refused_after_its_token_and_leaves_nothing() {
    // The CSRF check reads only the token part; the size limit still holds on the rest.
    let app = TestApp::spawn_with(|c| c.max_upload_mb = 1).await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let token = b.get(&format!("/workspaces/{ws}/imports")).await.csrf();
    let mut big = b"Name,Email\n".to_vec();
    while big.len() < 2 * 1024 * 1024 {
        big.extend_from_slice(b"Ada Lovelace,ada@example.com\n");
    }
    let (status, _, body) = upload(&b, &ws, "big.csv", big, Some(token.clone())).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("larger than this server accepts"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM imports").await, 0);
    let left = std::fs::read_dir(app.dir.path().join("data/imports"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "a refused upload leaves no file behind");

    // A small file with the same token still goes through.
    let (status, location, _) = upload(&b, &ws, "ok.csv", b"Name\nAda\n".to_vec(), Some(token)).await;
    assert_eq!(status, 303);
    assert!(location.unwrap().ends_with("/map"));
}
