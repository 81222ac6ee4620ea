//! CardDAV (SPEC §16) over real HTTP: discovery, sign-in with app passwords, the XML of each
//! method, ETags and preconditions, sync tokens, isolation, and the request shapes iOS and
//! DAVx5 send (`tests/fixtures/carddav/`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp};
use pi_crm::domain::actor::{Actor, Via};
use pi_crm::domain::api_key::{self, NewKey};

pub struct Dav {
    client: reqwest::Client,
    base: String,
    email: String,
    password: String,
}

pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Dav {
    pub fn new(app: &TestApp, email: &str, password: &str) -> Dav {
        Dav {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.url(""),
            email: email.into(),
            password: password.into(),
        }
    }

    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut r = self
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.base),
            )
            .basic_auth(&self.email, Some(&self.password))
            .body(body.to_string());
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let etag = headers.get("etag").map(|v| v.to_str().unwrap().to_string());
        Answer {
            status,
            etag,
            headers,
            text: r.text().await.unwrap(),
        }
    }

    pub async fn propfind(&self, path: &str, depth: &str, body: &str) -> Answer {
        self.send(
            "PROPFIND",
            path,
            &[("depth", depth), ("content-type", "application/xml")],
            body,
        )
        .await
    }
}

/// An app password for a phone: a key with the `dav` scope, described as the phone.
pub async fn app_password(app: &TestApp, user: &pi_crm::domain::user::User, phone: &str) -> String {
    let actor = Actor::person(user.id.clone(), Via::Cli);
    let new = NewKey {
        description: phone.into(),
        scopes: vec!["dav".into()],
        workspace_id: None,
        expires_at: None,
    };
    api_key::create(&app.state.db, &actor, new).await.unwrap().key
}

/// Every `<d:href>` of a multistatus, in order.
fn hrefs(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    doc.descendants()
        .filter(|n| {
            n.has_tag_name(("DAV:", "href")) && n.parent().is_some_and(|p| p.has_tag_name(("DAV:", "response")))
        })
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

/// The text of the first element `(ns, name)` in a response whose propstat is 200.
fn prop(xml: &str, ns: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let found = doc.descendants().find(|n| {
        n.has_tag_name((ns, name))
            && n.ancestors()
                .find(|a| a.has_tag_name(("DAV:", "propstat")))
                .and_then(|p| p.children().find(|c| c.has_tag_name(("DAV:", "status"))))
                .and_then(|s| s.text())
                .is_some_and(|s| s.contains("200"))
    })?;
    Some(
        found
            .descendants()
            .filter(|d| d.is_text())
            .map(|d| d.text().unwrap_or(""))
            .collect::<String>()
            .trim()
            .to_string(),
    )
}

fn unfolded(card: &str) -> Vec<String> {
    card.replace("\r\n ", "").lines().map(str::to_string).collect()
}

struct Setup {
    app: TestApp,
    andy: pi_crm::domain::user::User,
    api: crate::common::Api,
    ws: String,
    dav: Dav,
    book: String,
}

/// Andy, his workspace "Loans", and an API client for him with the scopes these tests use.
pub async fn andy_and_his_workspace(app: &TestApp) -> (pi_crm::domain::user::User, String, crate::common::Api) {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let api = app.api(
        &app.key(&andy, &["read:contacts", "write:contacts", "manage:workspaces"], None)
            .await,
    );
    (andy, ws, api)
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let (andy, ws, api) = andy_and_his_workspace(&app).await;
    for field in [
        json!({"field_name": "birthday", "field_type": "date"}),
        json!({"field_name": "loan_amount", "field_type": "number"}),
        json!({"field_name": "work_email", "field_type": "email"}),
        json!({"field_name": "website", "field_type": "url"}),
    ] {
        let r = api.post(&format!("/api/v1/workspaces/{ws}/custom-fields"), field).await;
        assert_eq!(r.status(), 201);
    }
    let password = app_password(&app, &andy, "Andy's iPhone").await;
    let dav = Dav::new(&app, "andy@example.com", &password);
    let book = format!("/dav/addressbooks/{}/{ws}/", andy.id);
    Setup {
        app,
        andy,
        api,
        ws,
        dav,
        book,
    }
}

/// Makes the list `name` and puts the contact in it; the list's id.
async fn in_a_new_list(s: &Setup, contact: &str, name: &str) -> String {
    let made: Value = s
        .api
        .post(&format!("/api/v1/workspaces/{}/lists", s.ws), json!({"name": name}))
        .await
        .json()
        .await
        .unwrap();
    let list = made["id"].as_str().unwrap().to_string();
    let url = format!(
        "{}/api/v1/workspaces/{}/contacts/{contact}/lists/{list}",
        s.api.base, s.ws
    );
    let r = s.api.client.put(url).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    list
}

async fn add_contact(s: &Setup, body: Value) -> String {
    let r = s.api.post(&format!("/api/v1/workspaces/{}/contacts", s.ws), body).await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

const ETAG_AND_CARD: &str = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop></d:propfind>"#;

#[tokio::test]
async fn a_phone_finds_its_address_books_from_the_server_name_alone() {
    let s = setup().await;
    let other = s.app.workspace(&s.andy, "Family").await;
    let anon = s.app.anonymous();
    let r = anon
        .request(
            Method::from_bytes(b"PROPFIND").unwrap(),
            s.app.url("/.well-known/carddav"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "/dav/");

    let options = s.dav.send("OPTIONS", "/dav/", &[], "").await;
    assert_eq!(options.status, 200);
    assert_eq!(options.headers["dav"], "1, 3, addressbook");

    let ios = include_str!("../fixtures/carddav/ios_propfind_root.xml");
    let root = s.dav.propfind("/dav/", "0", ios).await;
    assert_eq!(root.status, 207, "{}", root.text);
    let principal = format!("/dav/principals/{}/", s.andy.id);
    assert_eq!(prop(&root.text, "DAV:", "current-user-principal").unwrap(), principal);

    let davx5 = include_str!("../fixtures/carddav/davx5_propfind_principal.xml");
    let p = s.dav.propfind(&principal, "0", davx5).await;
    assert_eq!(p.status, 207, "{}", p.text);
    let home = format!("/dav/addressbooks/{}/", s.andy.id);
    assert_eq!(
        prop(&p.text, "urn:ietf:params:xml:ns:carddav", "addressbook-home-set").unwrap(),
        home
    );

    let books = s
        .dav
        .propfind(&home, "1", include_str!("../fixtures/carddav/davx5_propfind_home.xml"))
        .await;
    assert_eq!(books.status, 207, "{}", books.text);
    let listed = hrefs(&books.text);
    for expected in [home.clone(), format!("{home}{}/", s.ws), format!("{home}{other}/")] {
        assert!(listed.contains(&expected), "{expected} in {listed:?}");
    }
    assert_eq!(listed.len(), 3, "the home and one book per workspace: {listed:?}");
    assert!(books.text.contains("<card:addressbook/>"));
    assert!(books.text.contains(">Loans<") && books.text.contains(">Family<"));
    // What DAVx5 asks that pi-crm has not (a calendar home) is a 404 propstat, not an error.
    assert!(books.text.contains("404 Not Found"));

    let ab = s
        .dav
        .propfind(
            &s.book,
            "0",
            include_str!("../fixtures/carddav/ios_propfind_addressbook.xml"),
        )
        .await;
    assert_eq!(ab.status, 207, "{}", ab.text);
    assert!(
        prop(&ab.text, "DAV:", "sync-token")
            .unwrap()
            .starts_with("http://pi-crm.invalid/sync/")
    );
    assert!(prop(&ab.text, "http://calendarserver.org/ns/", "getctag").is_some());
    assert!(ab.text.contains("<card:addressbook-multiget/>") && ab.text.contains("<d:sync-collection/>"));
    assert!(ab.text.contains("<d:write/>"), "an owner may write: {}", ab.text);
}

#[tokio::test]
async fn only_an_app_password_signs_a_phone_in() {
    let s = setup().await;
    let anon = s.app.anonymous();
    let r = anon
        .request(Method::from_bytes(b"PROPFIND").unwrap(), s.app.url("/dav/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );

    let account_password = Dav::new(&s.app, "andy@example.com", PASSWORD);
    assert_eq!(account_password.propfind("/dav/", "0", "").await.status, 401);
    let api_key = s.app.key(&s.andy, &["read:contacts", "write:contacts"], None).await;
    assert_eq!(
        Dav::new(&s.app, "andy@example.com", &api_key)
            .propfind("/dav/", "0", "")
            .await
            .status,
        401,
        "a key without the dav scope is no app password"
    );
    let app_password = app_password(&s.app, &s.andy, "Andy's iPhone").await;
    assert_eq!(
        Dav::new(&s.app, "monalisa@example.com", &app_password)
            .propfind("/dav/", "0", "")
            .await
            .status,
        401,
        "the password is the account's own"
    );
    assert_eq!(
        Dav::new(&s.app, "ANDY@example.com", &app_password)
            .propfind("/dav/", "0", "")
            .await
            .status,
        207
    );
    // And the app password opens nothing else.
    let r = s
        .app
        .api(&app_password)
        .get(&format!("/api/v1/workspaces/{}/contacts", s.ws))
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_card_carries_every_field_and_comes_back_unchanged() {
    let s = setup().await;
    let id = add_contact(
        &s,
        json!({"first_name": "Maria", "last_name": "Gonzalez", "company": "Sunrise Realty",
               "primary_email": "maria@example.com", "primary_phone": "(415) 555-0123",
               "custom_fields": {"birthday": "--03-22", "loan_amount": "350000",
                                 "work_email": "maria@sunrise.example", "website": "https://sunrise.example"}}),
    )
    .await;
    in_a_new_list(&s, &id, "Realtors").await;

    let href = format!("{}{id}.vcf", s.book);
    let got = s.dav.send("GET", &href, &[], "").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["content-type"], "text/vcard; charset=utf-8");
    let lines = unfolded(&got.text);
    for expected in [
        "VERSION:3.0",
        &format!("UID:{id}"),
        "FN:Maria Gonzalez",
        "N:Gonzalez;Maria;;;",
        "ORG:Sunrise Realty",
        "EMAIL;TYPE=INTERNET,pref:maria@example.com",
        "TEL;TYPE=VOICE,pref:+14155550123",
        "BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-22",
        "X-PICRM-LOAN-AMOUNT;TYPE=number:350000",
        "EMAIL;TYPE=INTERNET;X-PICRM-FIELD=work_email:maria@sunrise.example",
        "URL;X-PICRM-FIELD=website:https://sunrise.example/",
        "CATEGORIES:Realtors",
    ] {
        assert!(lines.iter().any(|l| l == expected), "{expected} in\n{}", got.text);
    }
    let v4 = s
        .dav
        .send("GET", &href, &[("accept", "text/vcard; version=4.0")], "")
        .await;
    assert!(unfolded(&v4.text).contains(&"BDAY:--0322".to_string()), "{}", v4.text);
    assert_eq!(v4.etag, got.etag, "one ETag per card, whatever its version");
    let etag = got.etag.clone().unwrap();

    // Given back as it came: nothing changes, not even the ETag, and nothing is logged.
    let timeline_before = s.app.count("SELECT count(*) FROM communication_logs").await;
    let same = s
        .dav
        .send(
            "PUT",
            &href,
            &[("if-match", &etag), ("content-type", "text/vcard")],
            &got.text,
        )
        .await;
    assert_eq!(same.status, 204, "{}", same.text);
    assert_eq!(same.etag.as_deref(), Some(etag.as_str()));
    assert_eq!(
        s.app.count("SELECT count(*) FROM communication_logs").await,
        timeline_before
    );

    // The phone edits the company and adds what pi-crm has no field for.
    let edited = got.text.replace("ORG:Sunrise Realty", "ORG:Sunset Realty").replace(
        "END:VCARD",
        "ADR;TYPE=work:;;1 Main St;Springfield;IL;62701;USA\r\nX-ABSHOWAS:PERSON\r\nEND:VCARD",
    );
    let stale = s.dav.send("PUT", &href, &[("if-match", "\"not-it\"")], &edited).await;
    assert_eq!(stale.status, 412);
    let created_only = s.dav.send("PUT", &href, &[("if-none-match", "*")], &edited).await;
    assert_eq!(created_only.status, 412);
    let put = s.dav.send("PUT", &href, &[("if-match", &etag)], &edited).await;
    assert_eq!(put.status, 204, "{}", put.text);
    assert_ne!(put.etag.as_deref(), Some(etag.as_str()));
    let contact: Value = s
        .api
        .get_json(&format!("/api/v1/workspaces/{}/contacts/{id}", s.ws))
        .await;
    assert_eq!(contact["company"], "Sunset Realty");
    assert_eq!(contact["custom_fields"]["loan_amount"], 350000);
    assert_eq!(contact["custom_fields"]["birthday"], "--03-22");
    assert_eq!(contact["lists"][0]["name"], "Realtors");
    let again = s.dav.send("GET", &href, &[], "").await;
    let lines = unfolded(&again.text);
    assert!(
        lines.contains(&"ADR;TYPE=work:;;1 Main St;Springfield;IL;62701;USA".to_string()),
        "{}",
        again.text
    );
    assert!(lines.contains(&"X-ABSHOWAS:PERSON".to_string()));
    assert_eq!(again.etag, put.etag);

    // On the timeline and in the audit log, naming the phone.
    let said: Vec<String> = sqlx::query_scalar(
        "SELECT json_extract(content, '$.message') FROM communication_logs WHERE contact_id = ? AND type = 'system'",
    )
    .bind(&id)
    .fetch_all(&s.app.state.db)
    .await
    .unwrap();
    assert_eq!(said, vec!["Changed from Andy's iPhone (CardDAV)".to_string()]);
    let details: String = sqlx::query_scalar(
        "SELECT details FROM audit_logs WHERE action = 'contact.update' AND entity_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&s.app.state.db)
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&details).unwrap(),
        json!({"through": "carddav", "device": "Andy's iPhone"})
    );
}

#[tokio::test]
async fn a_card_made_on_the_phone_becomes_a_contact_and_its_deletion_a_deletion() {
    let s = setup().await;
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:9C1F-PHONE\r\nN:Okafor;Chidi;;;\r\nFN:Chidi Okafor\r\n\
                ORG:Okafor Homes;Sales\r\nTEL;TYPE=CELL:(415) 555-0199\r\nEMAIL;TYPE=HOME:chidi@example.com\r\n\
                EMAIL;TYPE=WORK:chidi@okafor.example\r\nBDAY:1980-07-04\r\nCATEGORIES:Buyers,Referral partners\r\n\
                item1.X-ABLabel:Nickname\r\nEND:VCARD\r\n";
    let href = format!("{}9C1F-PHONE.vcf", s.book);
    let r = s.dav.send("PUT", &href, &[("if-none-match", "*")], card).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let etag = r.etag.clone().expect("an ETag for the new card");

    let found: Value = s
        .api
        .get_json(&format!("/api/v1/workspaces/{}/contacts?q=Okafor", s.ws))
        .await;
    let c = &found["items"][0];
    assert_eq!(c["first_name"], "Chidi");
    assert_eq!(c["company"], "Okafor Homes");
    assert_eq!(c["primary_phone"], "+14155550199");
    assert_eq!(c["primary_email"], "chidi@example.com");
    assert_eq!(c["custom_fields"]["work_email"], "chidi@okafor.example");
    assert_eq!(c["custom_fields"]["birthday"], "1980-07-04");
    let mut lists: Vec<String> = c["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    lists.sort();
    assert_eq!(lists, ["Buyers", "Referral partners"]);

    // Served under the name the phone gave it, with its own UID and what pi-crm keeps for it.
    let got = s.dav.send("GET", &href, &[], "").await;
    assert_eq!(got.etag.as_deref(), Some(etag.as_str()));
    let lines = unfolded(&got.text);
    assert!(lines.contains(&"UID:9C1F-PHONE".to_string()));
    assert!(lines.contains(&"item1.X-ABLabel:Nickname".to_string()), "{}", got.text);
    let listed = s.dav.propfind(&s.book, "1", ETAG_AND_CARD).await;
    assert!(hrefs(&listed.text).contains(&href));

    let stale = s.dav.send("DELETE", &href, &[("if-match", "\"old\"")], "").await;
    assert_eq!(stale.status, 412);
    assert_eq!(
        s.dav.send("DELETE", &href, &[("if-match", &etag)], "").await.status,
        204
    );
    assert_eq!(s.dav.send("GET", &href, &[], "").await.status, 404);
    assert_eq!(s.app.count("SELECT count(*) FROM base_contacts").await, 0);
    let details: String = sqlx::query_scalar("SELECT details FROM audit_logs WHERE action = 'contact.delete'")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert!(details.contains("Andy's iPhone"));

    // A card that is no vCard is a 400, and nothing is made.
    let bad = s.dav.send("PUT", &format!("{}x.vcf", s.book), &[], "hello").await;
    assert_eq!(bad.status, 400);
    let empty = s
        .dav
        .send(
            "PUT",
            &format!("{}x.vcf", s.book),
            &[],
            "BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n",
        )
        .await;
    assert_eq!(empty.status, 422, "a card with nothing in it: {}", empty.text);
    assert_eq!(s.app.count("SELECT count(*) FROM base_contacts").await, 0);
}

#[tokio::test]
async fn sync_collection_sends_what_changed_and_what_went() {
    let s = setup().await;
    let a = add_contact(&s, json!({"first_name": "Ann"})).await;
    let b = add_contact(&s, json!({"first_name": "Ben"})).await;
    let c = add_contact(&s, json!({"first_name": "Cy"})).await;
    let body = |token: &str| {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let first = s.dav.send("REPORT", &s.book, &[("depth", "1")], &body("")).await;
    assert_eq!(first.status, 207, "{}", first.text);
    let mut all = hrefs(&first.text);
    all.sort();
    let mut expected: Vec<String> = [&a, &b, &c].iter().map(|id| format!("{}{id}.vcf", s.book)).collect();
    expected.sort();
    assert_eq!(all, expected);
    let doc = roxmltree::Document::parse(&first.text).unwrap();
    let token = doc
        .descendants()
        .find(|n| n.has_tag_name(("DAV:", "sync-token")))
        .and_then(|n| n.text())
        .unwrap()
        .to_string();

    // Nothing changed: nothing to send, the same token.
    let quiet = s.dav.send("REPORT", &s.book, &[], &body(&token)).await;
    assert!(hrefs(&quiet.text).is_empty(), "{}", quiet.text);

    let r = s
        .api
        .patch(
            &format!("/api/v1/workspaces/{}/contacts/{a}", s.ws),
            json!({"company": "Acme"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.api
            .delete(&format!("/api/v1/workspaces/{}/contacts/{b}", s.ws))
            .await
            .status(),
        204
    );
    let next = s.dav.send("REPORT", &s.book, &[], &body(&token)).await;
    assert_eq!(next.status, 207);
    let doc = roxmltree::Document::parse(&next.text).unwrap();
    let responses: Vec<(String, Option<String>)> = doc
        .descendants()
        .filter(|n| n.has_tag_name(("DAV:", "response")))
        .map(|r| {
            let href = r
                .children()
                .find(|c| c.has_tag_name(("DAV:", "href")))
                .and_then(|h| h.text())
                .unwrap()
                .to_string();
            let status = r
                .children()
                .find(|c| c.has_tag_name(("DAV:", "status")))
                .and_then(|s| s.text())
                .map(str::to_string);
            (href, status)
        })
        .collect();
    assert_eq!(
        responses,
        vec![
            (format!("{}{a}.vcf", s.book), None),
            (format!("{}{b}.vcf", s.book), Some("HTTP/1.1 404 Not Found".into())),
        ]
    );
    let new_token = doc
        .descendants()
        .find(|n| n.has_tag_name(("DAV:", "sync-token")))
        .and_then(|n| n.text())
        .unwrap();
    assert_ne!(new_token, token);

    // A token pi-crm never gave: the client must start over.
    let bad = s
        .dav
        .send("REPORT", &s.book, &[], &body("http://pi-crm.invalid/sync/99999"))
        .await;
    assert_eq!(bad.status, 403);
    assert!(bad.text.contains("valid-sync-token"));

    // multiget: cards by href, a 404 for one that is gone.
    let multiget = format!(
        r#"<?xml version="1.0"?><c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop><d:href>{0}{a}.vcf</d:href><d:href>{0}{b}.vcf</d:href></c:addressbook-multiget>"#,
        s.book
    );
    let got = s.dav.send("REPORT", &s.book, &[("depth", "1")], &multiget).await;
    assert_eq!(got.status, 207);
    assert!(got.text.contains("ORG:Acme"), "{}", got.text);
    assert_eq!(got.text.matches("404 Not Found").count(), 1);
}

#[tokio::test]
async fn viewers_read_and_nobody_reaches_another_persons_book() {
    let s = setup().await;
    let id = add_contact(&s, json!({"first_name": "Ann"})).await;
    let monalisa = s.app.create_user("monalisa@example.com", "Monalisa").await;
    let own = s.app.workspace(&monalisa, "Mine").await;
    let r = s
        .api
        .post(
            &format!("/api/v1/workspaces/{}/members", s.ws),
            json!({"email": "monalisa@example.com", "role": "viewer"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let phone = Dav::new(
        &s.app,
        "monalisa@example.com",
        &app_password(&s.app, &monalisa, "Monalisa's Pixel").await,
    );
    let shared = format!("/dav/addressbooks/{}/{}/", monalisa.id, s.ws);
    let card = format!("{shared}{id}.vcf");
    let got = phone.send("GET", &card, &[], "").await;
    assert_eq!(got.status, 200);
    let ab = phone.propfind(&shared, "0", "").await;
    assert!(
        ab.text.contains("<d:read/>") && !ab.text.contains("<d:write/>"),
        "{}",
        ab.text
    );
    assert_eq!(
        phone
            .send("PUT", &card, &[], &got.text.replace("Ann", "Anna"))
            .await
            .status,
        403
    );
    assert_eq!(phone.send("DELETE", &card, &[], "").await.status, 403);
    assert_eq!(
        phone
            .send("PUT", &format!("{shared}new.vcf"), &[], &got.text)
            .await
            .status,
        403
    );

    // Andy's own path, Andy's principal, Monalisa's workspace under Andy: all 404.
    assert_eq!(
        phone.send("GET", &format!("{}{id}.vcf", s.book), &[], "").await.status,
        404
    );
    assert_eq!(
        phone
            .propfind(&format!("/dav/principals/{}/", s.andy.id), "0", "")
            .await
            .status,
        404
    );
    assert_eq!(
        s.dav
            .propfind(&format!("/dav/addressbooks/{}/{own}/", s.andy.id), "0", "")
            .await
            .status,
        404
    );
    assert_eq!(
        s.dav
            .send("GET", &format!("{}not-a-card.vcf", s.book), &[], "")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn settings_make_a_phones_app_password_and_say_what_to_type_in() {
    let app = TestApp::spawn().await;
    let (_andy, b) = app.user_browser("andy@example.com").await;
    let ws = {
        let andy = app.user_by_email("andy@example.com").await;
        app.workspace(&andy, "Loans").await
    };
    let page = b.get("/settings/keys").await;
    assert!(page.body.contains("For a phone"));
    let server = app.url("/dav/");
    assert!(page.body.contains(&server), "the server address to type in: {server}");

    let made = b
        .submit(
            "/settings/keys",
            "/settings/keys",
            &[("scopes", "dav"), ("description", "Andy's iPhone")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let start = made
        .body
        .find("id=\"app-password\"")
        .expect("the password is shown once");
    let rest = &made.body[start..];
    let password = rest[rest.find('>').unwrap() + 1..rest.find("</code>").unwrap()].to_string();
    assert!(password.starts_with("pcrm_"));
    assert!(
        made.body.contains("Andy&#39;s iPhone can now sign in") || made.body.contains("Andy's iPhone can now sign in")
    );
    assert!(made.body.contains(">andy@example.com<"));

    let phone = Dav::new(&app, "andy@example.com", &password);
    let books = phone
        .propfind(&format!("/dav/addressbooks/{}/", _andy.id), "1", "")
        .await;
    assert_eq!(books.status, 207);
    assert!(hrefs(&books.text).iter().any(|h| h.ends_with(&format!("{ws}/"))));
    // Listed with the other keys, so it can be revoked when the phone is lost.
    assert!(b.get("/settings/keys").await.body.contains("Andy&#39;s iPhone"));
}

#[tokio::test]
async fn imports_and_renamed_lists_reach_a_phone_on_its_next_sync() {
    let s = setup().await;
    let ann = add_contact(&s, json!({"first_name": "Ann"})).await;
    let ben = add_contact(&s, json!({"first_name": "Ben"})).await;
    let list = in_a_new_list(&s, &ann, "Buyers").await;
    let sync = |token: &str| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let first = s.dav.send("REPORT", &s.book, &[], &sync("")).await;
    let token = prop_token(&first.text);

    let csv = b"first_name,last_name,email\nZoe,Zed,zoe@example.com\nYan,Yu,yan@example.com\n".to_vec();
    let done = crate::imports::run(&s.api, &s.ws, "people.csv", csv, None, None).await;
    assert_eq!(done["status"], "done", "{done}");
    let r = s
        .api
        .patch(
            &format!("/api/v1/workspaces/{}/lists/{list}", s.ws),
            json!({"name": "Home buyers"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let next = s.dav.send("REPORT", &s.book, &[], &sync(&token)).await;
    assert_eq!(next.status, 207, "{}", next.text);
    let changed = hrefs(&next.text);
    assert_eq!(
        changed.len(),
        3,
        "the two imported and the one whose list was renamed: {changed:?}"
    );
    assert!(changed.contains(&format!("{}{ann}.vcf", s.book)));
    assert!(!changed.contains(&format!("{}{ben}.vcf", s.book)), "Ben did not change");
    let card = s.dav.send("GET", &format!("{}{ann}.vcf", s.book), &[], "").await;
    assert!(card.text.contains("CATEGORIES:Home buyers"), "{}", card.text);
}

fn prop_token(xml: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name(("DAV:", "sync-token")))
        .and_then(|n| n.text())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_deleted_workspace_takes_its_address_book_and_journal_with_it() {
    let s = setup().await;
    add_contact(
        &s,
        json!({"first_name": "Ann", "custom_fields": {"loan_amount": 1, "birthday": "1980-01-02"}}),
    )
    .await;
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p1\r\nFN:Pat Phone\r\nN:Phone;Pat;;;\r\nCATEGORIES:Buyers\r\nX-EXTRA:kept\r\nEND:VCARD\r\n";
    assert_eq!(
        s.dav.send("PUT", &format!("{}p1.vcf", s.book), &[], card).await.status,
        201
    );
    assert!(s.app.count("SELECT count(*) FROM contact_cards").await == 1);
    let r = s.api.delete(&format!("/api/v1/workspaces/{}", s.ws)).await;
    assert_eq!(r.status(), 204);
    assert_eq!(s.app.count("SELECT count(*) FROM contact_changes").await, 0);
    assert_eq!(s.app.count("SELECT count(*) FROM contact_cards").await, 0);
    assert_eq!(s.dav.propfind(&s.book, "0", "").await.status, 404);
}

#[tokio::test]
async fn bad_requests_get_clear_answers_and_change_nothing() {
    let s = setup().await;
    let id = add_contact(&s, json!({"first_name": "Ann"})).await;
    let card = format!("{}{id}.vcf", s.book);

    let broken = s
        .dav
        .propfind(&s.book, "0", "<d:propfind xmlns:d=\"DAV:\"><d:prop>")
        .await;
    assert_eq!(broken.status, 400);
    assert!(broken.text.contains("XML"), "{}", broken.text);
    let not_propfind = s.dav.propfind(&s.book, "0", "<x xmlns=\"urn:x\"/>").await;
    assert_eq!(not_propfind.status, 400);
    let unknown_report = s
        .dav
        .send("REPORT", &s.book, &[], r#"<d:expand-property xmlns:d="DAV:"/>"#)
        .await;
    assert_eq!(unknown_report.status, 403);
    assert!(unknown_report.text.contains("supported-report"));
    let filtered = s
        .dav
        .send(
            "REPORT",
            &s.book,
            &[],
            r#"<c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop><c:filter><c:prop-filter name="FN"/></c:filter></c:addressbook-query>"#,
        )
        .await;
    assert_eq!(filtered.status, 501);
    let unfiltered = s
        .dav
        .send(
            "REPORT",
            &s.book,
            &[],
            r#"<c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop></c:addressbook-query>"#,
        )
        .await;
    assert_eq!(hrefs(&unfiltered.text), vec![card.clone()]);

    // Methods an address book or a card does not take.
    assert_eq!(s.dav.send("PUT", &s.book, &[], "x").await.status, 405);
    assert_eq!(
        s.dav.send("MKCOL", &format!("{}new/", s.book), &[], "").await.status,
        404
    );
    assert_eq!(s.dav.send("POST", &card, &[], "").await.status, 405);
    assert_eq!(s.dav.send("DELETE", &s.book, &[], "").await.status, 405);

    // A card too large, not UTF-8, or two cards in one: refused, the contact as it was.
    let huge = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nNOTE:{}\r\nEND:VCARD\r\n",
        "x".repeat(3 * 1024 * 1024)
    );
    assert_eq!(s.dav.send("PUT", &card, &[], &huge).await.status, 413);
    let r = s
        .dav
        .client
        .put(format!("{}{card}", s.dav.base))
        .basic_auth(&s.dav.email, Some(&s.dav.password))
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let two = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:B\r\nEND:VCARD\r\n";
    assert_eq!(s.dav.send("PUT", &card, &[], two).await.status, 400);
    let name_of = |v: Value| v["first_name"].clone();
    let now: Value = s
        .api
        .get_json(&format!("/api/v1/workspaces/{}/contacts/{id}", s.ws))
        .await;
    assert_eq!(name_of(now), "Ann");

    // HEAD answers the ETag without the card.
    let head = s.dav.send("HEAD", &card, &[], "").await;
    assert_eq!(head.status, 200);
    assert!(head.etag.is_some() && head.text.is_empty());
}

#[tokio::test]
async fn a_vcard_4_from_a_phone_reads_as_its_3_0_twin() {
    let s = setup().await;
    let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:4f1c\r\nFN:Lan Nguyen\r\nN:Nguyen;Lan;;;\r\n\
                TEL;VALUE=uri;PREF=1:tel:+1-415-555-0142\r\nEMAIL;PREF=1:lan@example.com\r\n\
                BDAY:--0322\r\nX-PICRM-LOAN-AMOUNT;TYPE=number:500000\r\nEND:VCARD\r\n";
    let href = format!("{}lan.vcf", s.book);
    assert_eq!(
        s.dav.send("PUT", &href, &[("if-none-match", "*")], card).await.status,
        201
    );
    let found: Value = s
        .api
        .get_json(&format!("/api/v1/workspaces/{}/contacts?q=Nguyen", s.ws))
        .await;
    let c = &found["items"][0];
    assert_eq!(c["primary_phone"], "+14155550142");
    assert_eq!(c["primary_email"], "lan@example.com");
    assert_eq!(c["custom_fields"]["birthday"], "--03-22");
    assert_eq!(c["custom_fields"]["loan_amount"], 500000);
    let v4 = s
        .dav
        .send("GET", &href, &[("accept", "text/vcard; version=4.0")], "")
        .await;
    let lines = unfolded(&v4.text);
    assert!(lines.contains(&"UID:urn:uuid:4f1c".to_string()), "{}", v4.text);
    assert!(lines.contains(&"BDAY:--0322".to_string()));
    assert!(lines.contains(&"TEL;PREF=1:+14155550142".to_string()));
}

#[tokio::test]
async fn a_phone_has_a_rate_limit_of_its_own() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_minute = 2).await;
    let (andy, _ws, _api) = andy_and_his_workspace(&app).await;
    let phone = Dav::new(
        &app,
        "andy@example.com",
        &app_password(&app, &andy, "Andy's iPhone").await,
    );
    // Ten times the API's budget, counted per app password.
    for n in 0..20 {
        assert_eq!(phone.propfind("/dav/", "0", "").await.status, 207, "request {n}");
    }
    let limited = phone.propfind("/dav/", "0", "").await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.get("retry-after").is_some());
    assert_eq!(limited.headers["content-type"], "text/plain; charset=utf-8");
    let other = Dav::new(
        &app,
        "andy@example.com",
        &app_password(&app, &andy, "Andy's iPad").await,
    );
    assert_eq!(
        other.propfind("/dav/", "0", "").await.status,
        207,
        "another phone has its own"
    );
}
