//! Property tests over the running server: whatever is typed into the search box, a filter, a
//! cursor, a sign-in `next` or an import's mapping JSON, the answer is a clear 2xx/3xx/4xx,
//! never a 500. `PROPTEST_CASES=20000 cargo test --test api fuzz_inputs` runs a long session.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{Api, Browser, TestApp};

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(150);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Text people and scripts actually send: any Unicode, plus FTS5 and SQL syntax, NUL and
/// other control characters, quotes and wildcards, more often than chance would give them.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<String>(),
        Just("\"".to_string()),
        Just("\0".to_string()),
        Just("\u{1}\t\n\r".to_string()),
        Just("NEAR(".to_string()),
        Just(" OR ".to_string()),
        Just("*".to_string()),
        Just("^".to_string()),
        Just("%_\\".to_string()),
        Just("'; DROP TABLE base_contacts; --".to_string()),
        Just("ü🙂".to_string()),
        "[a-z0-9 .@+-]{0,12}",
    ];
    proptest::collection::vec(pieces, 0..6).prop_map(|v| v.concat())
}

struct Setup {
    rt: tokio::runtime::Runtime,
    app: TestApp,
    api: Api,
    browser: Browser,
    ws: String,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (app, api, browser, ws) = rt.block_on(async {
        let app = TestApp::spawn().await;
        let (andy, browser) = app.user_browser("andy@example.com").await;
        let ws = app.workspace(&andy, "Borrowers").await;
        let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
        for (first, email) in [("Ada", "ada@example.com"), ("Grace", "grace@example.com")] {
            let r = api
                .post(
                    &format!("/api/v1/workspaces/{ws}/contacts"),
                    serde_json::json!({"first_name": first, "primary_email": email}),
                )
                .await;
            assert_eq!(r.status(), 201);
        }
        let r = api
            .post(
                &format!("/api/v1/workspaces/{ws}/custom-fields"),
                serde_json::json!({"field_name": "loan_amount", "field_type": "number"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        (app, api, browser, ws)
    });
    Setup {
        rt,
        app,
        api,
        browser,
        ws,
    }
}

#[test]
fn search_filters_cursors_and_sorts_never_fail_the_server() {
    let s = setup();
    let strategy = (
        hostile_text(),
        prop_oneof![Just("loan_amount".to_string()), hostile_text()],
        prop_oneof![
            Just("".to_string()),
            Just(".gte".to_string()),
            Just(".contains".to_string()),
            hostile_text()
        ],
        hostile_text(),
        hostile_text(),
        hostile_text(),
    );
    runner()
        .run(&strategy, |(q, field, op, value, cursor, sort)| {
            let url = format!(
                "/api/v1/workspaces/{}/contacts?q={}&field.{}{}={}&cursor={}&sort={}",
                s.ws,
                encode(&q),
                encode(&field),
                encode(&op),
                encode(&value),
                encode(&cursor),
                encode(&sort)
            );
            let status = s.rt.block_on(async { s.api.get(&url).await.status().as_u16() });
            prop_assert!(status == 200 || status == 422, "{status} for {url}");
            // The search box alone always answers 200.
            let url = format!("/api/v1/workspaces/{}/contacts?q={}", s.ws, encode(&q));
            let status = s.rt.block_on(async { s.api.get(&url).await.status().as_u16() });
            prop_assert_eq!(status, 200, "{}", url);
            let page = format!("/workspaces/{}/contacts?q={}", s.ws, encode(&q));
            let status = s.rt.block_on(async { s.browser.get(&page).await.status });
            prop_assert_eq!(status, 200, "{}", page);
            Ok(())
        })
        .unwrap();
    drop(s.app);
}

#[test]
fn a_sign_in_destination_is_always_a_local_path() {
    let s = setup();
    runner()
        .run(&hostile_text(), |next| {
            let p =
                s.rt.block_on(async { s.browser.get(&format!("/login?next={}", encode(&next))).await });
            prop_assert_eq!(p.status, 303);
            let to = p.location.unwrap_or_default();
            prop_assert!(to.starts_with('/') && !to.starts_with("//"), "{to:?}");
            prop_assert!(!to.contains('\\') && !to.chars().any(char::is_control), "{to:?}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn an_import_mapping_is_accepted_or_refused_clearly() {
    let s = setup();
    let mapping = prop_oneof![
        hostile_text(),
        hostile_text().prop_map(|t| serde_json::json!({"columns": {"Name": t}}).to_string()),
        (hostile_text(), hostile_text()).prop_map(|(k, t)| {
            serde_json::json!({"columns": {k: {"custom": t, "type": "date"}}, "on_duplicate": "merge"}).to_string()
        }),
        hostile_text().prop_map(|t| serde_json::json!({"columns": {}, "on_duplicate": t}).to_string()),
    ];
    runner()
        .run(&mapping, |mapping| {
            let status = s.rt.block_on(async {
                let form = reqwest::multipart::Form::new().text("mapping", mapping.clone()).part(
                    "file",
                    reqwest::multipart::Part::bytes(b"Name,Email\nZed,zed@example.com\n".to_vec()).file_name("a.csv"),
                );
                s.api
                    .client
                    .post(s.app.url(&format!("/api/v1/workspaces/{}/imports", s.ws)))
                    .multipart(form)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
            prop_assert!(matches!(status, 202 | 400 | 422), "{status} for {mapping}");
            Ok(())
        })
        .unwrap();
}
