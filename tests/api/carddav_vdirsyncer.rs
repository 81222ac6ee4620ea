//! CardDAV against a real client nobody here wrote: vdirsyncer (Debian package `vdirsyncer`,
//! installed by `scripts/test`) syncing a folder of `.vcf` files — a phone's address book, as
//! far as pi-crm can tell — with a pi-crm address book, both ways, over real HTTP.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::carddav::{andy_and_his_workspace, app_password};
use crate::common::TestApp;

struct Phone {
    dir: tempfile::TempDir,
}

struct Run {
    ok: bool,
    output: String,
}

impl Phone {
    /// A vdirsyncer pair: the folder `cards/` (a) and the address book at `url` (b).
    fn new(url: &str, email: &str, password: &str, conflicts: Option<&str>) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cards")).unwrap();
        let phone = Phone { dir };
        phone.configure(url, email, password, conflicts);
        phone
    }

    fn configure(&self, url: &str, email: &str, password: &str, conflicts: Option<&str>) {
        let root = self.dir.path().display();
        let resolution = conflicts
            .map(|c| format!("conflict_resolution = \"{c}\"\n"))
            .unwrap_or_default();
        let config = format!(
            "[general]\nstatus_path = \"{root}/status/\"\n\n\
             [pair crm]\na = \"phone\"\nb = \"picrm\"\ncollections = null\n{resolution}\n\
             [storage phone]\ntype = \"filesystem\"\npath = \"{root}/cards/\"\nfileext = \".vcf\"\n\n\
             [storage picrm]\ntype = \"carddav\"\nurl = \"{url}\"\nusername = \"{email}\"\npassword = \"{password}\"\n"
        );
        std::fs::write(self.dir.path().join("config"), config).unwrap();
    }

    async fn vdirsyncer(&self, args: &[&str]) -> Run {
        // On a blocking thread: the server answering vdirsyncer runs on this test's runtime.
        let home = self.dir.path().to_path_buf();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("vdirsyncer")
                .arg("-c")
                .arg(home.join("config"))
                .args(&args)
                .env("HOME", &home)
                .stdin(std::process::Stdio::null())
                .output()
        })
        .await
        .unwrap()
        .expect("vdirsyncer runs (scripts/test installs the Debian package)");
        Run {
            ok: out.status.success(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    async fn sync(&self) -> Run {
        let discovered = self.vdirsyncer(&["discover", "crm"]).await;
        assert!(discovered.ok, "vdirsyncer discover: {}", discovered.output);
        self.vdirsyncer(&["sync", "crm"]).await
    }

    fn cards(&self) -> Vec<(PathBuf, String)> {
        let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(self.dir.path().join("cards"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "vcf"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect();
        out.sort();
        out
    }

    fn card_with(&self, needle: &str) -> (PathBuf, String) {
        self.cards()
            .into_iter()
            .find(|(_, text)| text.contains(needle))
            .unwrap_or_else(|| panic!("a card with {needle} among {:?}", self.cards()))
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join("cards").join(name), text).unwrap();
    }
}

fn remove(path: &Path) {
    std::fs::remove_file(path).unwrap();
}

async fn contacts(api: &crate::common::Api, ws: &str) -> Vec<Value> {
    let page: Value = api
        .get_json(&format!("/api/v1/workspaces/{ws}/contacts?limit=200"))
        .await;
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn vdirsyncer_keeps_a_folder_and_an_address_book_in_step_both_ways() {
    let app = TestApp::spawn().await;
    let (andy, ws, api) = andy_and_his_workspace(&app).await;
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "loan_amount", "field_type": "number"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mut ids = Vec::new();
    for (first, last, company, amount) in [
        ("Maria", "Gonzalez", "Sunrise Realty", 350000),
        ("Chidi", "Okafor", "Okafor Homes", 410000),
        ("Björk", "Guðmundsdóttir", "Reykjavík Loans", 275000),
    ] {
        let r = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": first, "last_name": last, "company": company,
                       "custom_fields": {"loan_amount": amount}}),
            )
            .await;
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    let password = app_password(&app, &andy, "vdirsyncer").await;
    let url = app.url(&format!("/dav/addressbooks/{}/{ws}/", andy.id));
    let phone = Phone::new(&url, "andy@example.com", &password, None);

    // The first sync brings every contact, with the fields only pi-crm knows.
    let first = phone.sync().await;
    assert!(first.ok, "{}", first.output);
    assert_eq!(phone.cards().len(), 3);
    let (_, maria) = phone.card_with("FN:Maria Gonzalez");
    assert!(maria.contains("X-PICRM-LOAN-AMOUNT;TYPE=number:350000"), "{maria}");
    assert!(
        phone
            .card_with("FN:Björk Guðmundsdóttir")
            .1
            .contains("ORG:Reykjavík Loans")
    );

    // A card made on the phone side appears in pi-crm with its fields.
    phone.write(
        "new-on-phone.vcf",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:new-on-phone\r\nN:Nguyen;Lan;;;\r\nFN:Lan Nguyen\r\n\
         TEL;TYPE=CELL:+1 415 555 0142\r\nEMAIL:lan@example.com\r\nX-PICRM-LOAN-AMOUNT;TYPE=number:500000\r\n\
         NOTE:met at the open house\r\nEND:VCARD\r\n",
    );
    let up = phone.sync().await;
    assert!(up.ok, "{}", up.output);
    let all = contacts(&api, &ws).await;
    let lan = all
        .iter()
        .find(|c| c["first_name"] == "Lan")
        .expect("Lan reached pi-crm");
    assert_eq!(lan["last_name"], "Nguyen");
    assert_eq!(lan["primary_phone"], "+14155550142");
    assert_eq!(lan["primary_email"], "lan@example.com");
    assert_eq!(lan["custom_fields"]["loan_amount"], 500000);
    let lan_id = lan["id"].as_str().unwrap().to_string();

    // An edit in pi-crm reaches the file on the next sync.
    let r = api
        .patch(
            &format!("/api/v1/workspaces/{ws}/contacts/{}", ids[1]),
            json!({"company": "Okafor & Daughters"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let down = phone.sync().await;
    assert!(down.ok, "{}", down.output);
    assert!(phone.card_with("FN:Chidi Okafor").1.contains("ORG:Okafor & Daughters"));

    // A delete on either side propagates.
    let (maria_file, _) = phone.card_with("FN:Maria Gonzalez");
    remove(&maria_file);
    assert_eq!(
        api.delete(&format!("/api/v1/workspaces/{ws}/contacts/{lan_id}"))
            .await
            .status(),
        204
    );
    let deletes = phone.sync().await;
    assert!(deletes.ok, "{}", deletes.output);
    let left: Vec<String> = contacts(&api, &ws)
        .await
        .iter()
        .map(|c| c["first_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.contains(&"Maria".to_string()) && !left.contains(&"Lan".to_string()));
    assert_eq!(phone.cards().len(), 2);
    assert!(phone.cards().iter().all(|(_, t)| !t.contains("Lan Nguyen")));

    // Both sides edit the same card: vdirsyncer refuses to choose, and pi-crm keeps its own.
    let (chidi_file, chidi) = phone.card_with("FN:Chidi Okafor");
    std::fs::write(
        &chidi_file,
        chidi.replace("ORG:Okafor & Daughters", "ORG:Phone Edit Inc"),
    )
    .unwrap();
    let r = api
        .patch(
            &format!("/api/v1/workspaces/{ws}/contacts/{}", ids[1]),
            json!({"company": "Server Edit LLC", "custom_fields": {"loan_amount": 420000}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let conflict = phone.sync().await;
    assert!(
        !conflict.ok,
        "a conflict is an error without a rule: {}",
        conflict.output
    );
    assert!(
        conflict.output.to_lowercase().contains("conflict"),
        "{}",
        conflict.output
    );
    let chidi_now: Value = api
        .get_json(&format!("/api/v1/workspaces/{ws}/contacts/{}", ids[1]))
        .await;
    assert_eq!(chidi_now["company"], "Server Edit LLC");
    assert_eq!(chidi_now["custom_fields"]["loan_amount"], 420000);

    // With the rule "pi-crm wins", the folder takes pi-crm's version.
    phone.configure(&url, "andy@example.com", &password, Some("b wins"));
    let resolved = phone.sync().await;
    assert!(resolved.ok, "{}", resolved.output);
    let (_, chidi) = phone.card_with("FN:Chidi Okafor");
    assert!(
        chidi.contains("ORG:Server Edit LLC") && chidi.contains("420000"),
        "{chidi}"
    );

    // With "the phone wins", its edit lands, and the fields only pi-crm shows survive it.
    let (chidi_file, chidi) = phone.card_with("FN:Chidi Okafor");
    std::fs::write(&chidi_file, chidi.replace("ORG:Server Edit LLC", "ORG:Phone Wins Ltd")).unwrap();
    let r = api
        .patch(
            &format!("/api/v1/workspaces/{ws}/contacts/{}", ids[1]),
            json!({"last_name": "Okafor-Obi"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    phone.configure(&url, "andy@example.com", &password, Some("a wins"));
    let phone_wins = phone.sync().await;
    assert!(phone_wins.ok, "{}", phone_wins.output);
    let chidi_now: Value = api
        .get_json(&format!("/api/v1/workspaces/{ws}/contacts/{}", ids[1]))
        .await;
    assert_eq!(chidi_now["company"], "Phone Wins Ltd");
    assert_eq!(chidi_now["custom_fields"]["loan_amount"], 420000);
}

#[tokio::test]
async fn a_viewers_sync_reads_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_andy, ws, api) = andy_and_his_workspace(&app).await;
    let monalisa = app.create_user("monalisa@example.com", "Monalisa").await;
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/members"),
            json!({"email": "monalisa@example.com", "role": "viewer"}),
        )
        .await;
    assert!(r.status().is_success());
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Maria", "company": "Sunrise Realty"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let password = app_password(&app, &monalisa, "Monalisa's Pixel").await;
    let url = app.url(&format!("/dav/addressbooks/{}/{ws}/", monalisa.id));
    let phone = Phone::new(&url, "monalisa@example.com", &password, None);
    let first = phone.sync().await;
    assert!(first.ok, "{}", first.output);
    assert_eq!(phone.cards().len(), 1);

    let (file, text) = phone.card_with("FN:Maria");
    std::fs::write(&file, text.replace("ORG:Sunrise Realty", "ORG:Changed By Viewer")).unwrap();
    phone.write(
        "viewer-made.vcf",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:viewer-made\r\nFN:Nobody\r\nN:;Nobody;;;\r\nEND:VCARD\r\n",
    );
    let refused = phone.sync().await;
    assert!(!refused.ok, "a viewer's upload fails: {}", refused.output);
    assert!(refused.output.contains("403"), "{}", refused.output);
    let all: Value = api.get_json(&format!("/api/v1/workspaces/{ws}/contacts")).await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["company"], "Sunrise Realty");
}
