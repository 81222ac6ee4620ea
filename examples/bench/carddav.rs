//! CardDAV (SPEC §14, §16): vdirsyncer's first sync of 10,000 contacts into a folder (wall time
//! and the server's peak RSS), then what a sync with one change costs the server: the
//! `sync-collection` REPORT phones send (iOS, DAVx5), and the depth-1 PROPFIND vdirsyncer lists
//! with, each timed over 20 runs; and vdirsyncer's whole second sync.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use pi_crm::config::Config;
use pi_crm::domain::actor::{Actor, Via};
use pi_crm::domain::api_key::{self, NewKey};
use pi_crm::domain::{user, workspace};
use serde_json::json;

use super::contacts::api_client;
use super::imports::{finished, start};
use super::{free_port, ms, percentile, rss_mb, spawn_server, stop, wait_healthy};

const CONTACTS: usize = 10_000;

struct Seeded {
    user_id: String,
    ws: String,
    key: String,
    app_password: String,
}

async fn seed(data: &Path) -> Seeded {
    let state = pi_crm::app::open_state(Config {
        data_dir: data.to_path_buf(),
        ..Config::default()
    })
    .await
    .unwrap();
    let owner = user::create(
        &state.db,
        None,
        Via::Cli,
        "andy@example.com",
        "Andy",
        "benchmark password",
    )
    .await
    .unwrap();
    let actor = Actor::person(owner.id.clone(), Via::Cli);
    let ws = workspace::create(&state.db, &actor, "Loans").await.unwrap();
    let key = |description: &str, scopes: &[&str]| NewKey {
        description: description.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..NewKey::default()
    };
    let api = api_key::create(&state.db, &actor, key("bench", &["read:contacts", "write:contacts"]))
        .await
        .unwrap()
        .key;
    let phone = api_key::create(&state.db, &actor, key("vdirsyncer", &["dav"]))
        .await
        .unwrap()
        .key;
    state.db.close().await;
    Seeded {
        user_id: owner.id.to_string(),
        ws: ws.id().to_string(),
        key: api,
        app_password: phone,
    }
}

fn csv() -> Vec<u8> {
    let mut out = String::from("First Name,Last Name,Email,Phone,Company,Loan Amount\n");
    for i in 0..CONTACTS {
        out.push_str(&format!(
            "Person{i},Family{},p{i}@example.com,+1415{},Company{},{}\n",
            i % 997,
            2_000_000 + i,
            i % 50,
            100_000 + i * 10
        ));
    }
    out.into_bytes()
}

fn vdirsyncer(dir: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new("vdirsyncer")
        .arg("-c")
        .arg(dir.join("config"))
        .args(args)
        .env("HOME", dir)
        .output()
        .expect("vdirsyncer (Debian package) is installed");
    assert!(
        out.status.success(),
        "vdirsyncer {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

pub fn run(binary: &Path) {
    if Command::new("vdirsyncer").arg("--version").output().is_err() {
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "vdirsyncer"])
            .status();
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = super::runtime();
    let s = rt.block_on(seed(&data));
    println!("\n== CardDAV, {CONTACTS} contacts");
    let port = free_port();
    let mut server = spawn_server(binary, &data, port);
    wait_healthy(port);
    let base = format!("http://127.0.0.1:{port}");
    let api = api_client(&s.key);
    rt.block_on(async {
        let mapping = json!({"columns": {"First Name": "first_name", "Last Name": "last_name",
            "Email": "primary_email", "Phone": "primary_phone", "Company": "company",
            "Loan Amount": {"custom": "loan_amount", "type": "number"}}, "on_duplicate": "skip"});
        let id = start(&api, &base, &s.ws, &mapping, csv(), "people.csv").await;
        let done = finished(&api, &base, &s.ws, &id).await;
        assert_eq!(done["status"], "done", "{done}");
    });
    std::thread::sleep(Duration::from_secs(3));
    let idle = rss_mb(server.id(), "VmRSS");
    // The peak from here on is the sync's, not the import's before it.
    let _ = std::fs::write(format!("/proc/{}/clear_refs", server.id()), "5");

    let phone = dir.path().join("phone");
    std::fs::create_dir_all(phone.join("cards")).unwrap();
    let book = format!("{base}/dav/addressbooks/{}/{}/", s.user_id, s.ws);
    std::fs::write(
        phone.join("config"),
        format!(
            "[general]\nstatus_path = \"{0}/status/\"\n\n[pair crm]\na = \"phone\"\nb = \"picrm\"\ncollections = null\n\n\
             [storage phone]\ntype = \"filesystem\"\npath = \"{0}/cards/\"\nfileext = \".vcf\"\n\n\
             [storage picrm]\ntype = \"carddav\"\nurl = \"{book}\"\nusername = \"andy@example.com\"\npassword = \"{1}\"\n",
            phone.display(),
            s.app_password
        ),
    )
    .unwrap();
    vdirsyncer(&phone, &["discover", "crm"]);
    let first = vdirsyncer(&phone, &["sync", "crm"]);
    let cards = std::fs::read_dir(phone.join("cards")).unwrap().count();
    assert_eq!(cards, CONTACTS, "every contact reached the folder");
    println!(
        "vdirsyncer first sync of {CONTACTS} contacts: {:.1} s (target <= 15 s); server RSS idle before {idle:.1} MB, peak {:.1} MB (target <= 50 MB)",
        first.as_secs_f64(),
        rss_mb(server.id(), "VmHWM")
    );

    rt.block_on(async {
        let client = reqwest::Client::new();
        let report = |token: &str| {
            format!(
                r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
            )
        };
        let send = |method: &'static str, body: String, depth: &'static str| {
            client
                .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &book)
                .basic_auth("andy@example.com", Some(&s.app_password))
                .header("depth", depth)
                .body(body)
                .send()
        };
        let text = send("REPORT", report(""), "1").await.unwrap().text().await.unwrap();
        let token = text
            .split("<d:sync-token>")
            .nth(1)
            .and_then(|t| t.split('<').next())
            .unwrap()
            .to_string();
        let page: serde_json::Value = api
            .get(format!("{base}/api/v1/workspaces/{}/contacts?limit=1", s.ws))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let one = page["items"][0]["id"].as_str().unwrap().to_string();
        let r = api
            .patch(format!("{base}/api/v1/workspaces/{}/contacts/{one}", s.ws))
            .json(&json!({"company": "Changed on the laptop"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let mut times = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let r = send("REPORT", report(&token), "1").await.unwrap();
            assert_eq!(r.status(), 207);
            let text = r.text().await.unwrap();
            times.push(t.elapsed());
            assert_eq!(text.matches("<d:response>").count(), 1, "one change: {text}");
        }
        times.sort();
        println!(
            "sync-collection with one change (iOS, DAVx5): median {:.1} ms, p95 {:.1} ms (20 runs; target <= 50 ms)",
            ms(percentile(&times, 50)),
            ms(percentile(&times, 95))
        );
        let listing = r#"<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>"#;
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let r = send("PROPFIND", listing.to_string(), "1").await.unwrap();
            assert_eq!(r.status(), 207);
            r.bytes().await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "PROPFIND depth 1 of {CONTACTS} ETags (vdirsyncer's listing): median {:.1} ms (5 runs)",
            ms(percentile(&times, 50))
        );
    });
    let second = vdirsyncer(&phone, &["sync", "crm"]);
    println!(
        "vdirsyncer sync with one change: {:.2} s (it lists every ETag, then fetches the one card)",
        second.as_secs_f64()
    );
    println!("server peak RSS over all of it: {:.1} MB", rss_mb(server.id(), "VmHWM"));
    stop(&mut server);
}
