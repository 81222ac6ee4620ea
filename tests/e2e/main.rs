//! End-to-end in a real headless Chromium (Debian `chromium` + `chromium-driver`), driving the
//! real server. A failing step saves a screenshot to `target/e2e-screenshots/`; with
//! `PI_CRM_SCREENSHOTS=1` every checkpoint is saved, for looking at the pages.

#[path = "../common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use common::TestApp;

struct Driver {
    process: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn start_driver() -> Driver {
    let port = common::free_port();
    let process = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (scripts/test installs Debian's chromium-driver)");
    // From here the Drop impl kills and waits for the process, whatever happens.
    let driver = Driver { process, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver, phone: bool) -> Client {
    let mut args = vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ];
    let user_data = tempfile::tempdir().unwrap().keep();
    let user_data_arg = format!("--user-data-dir={}", user_data.display());
    args.push(&user_data_arg);
    let mut options = json!({"binary": "/usr/bin/chromium", "args": args});
    if phone {
        options["mobileEmulation"] = json!({"deviceMetrics": {"width": 360, "height": 740, "pixelRatio": 2.0}});
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(shots_dir().join(format!("{name}.png")), png);
    }
}

/// Saves a screenshot at a checkpoint when asked to.
async fn checkpoint(c: &Client, name: &str) {
    if std::env::var_os("PI_CRM_SCREENSHOTS").is_some() {
        shot(c, name).await;
    }
}

/// Nothing is wider than the screen: no sideways scrolling on a phone, and nothing cut off at
/// its right edge either (an element past the screen inside a box that hides its overflow is as
/// unreadable). Only what sits in a box made to scroll sideways (a wide table) may extend.
async fn assert_fits_the_screen(c: &Client, what: &str) {
    let beyond = c
        .execute(
            r#"// On an emulated phone the layout viewport grows with a page too wide for it: the
            // screen's width is the one that counts there; on a laptop, the window's less its
            // scroll bar.
            const w = screen.width <= 500 ? Math.min(screen.width, document.documentElement.clientWidth) : document.documentElement.clientWidth;
            const out = [];
            if (document.documentElement.scrollWidth > w) out.push('the page: ' + document.documentElement.scrollWidth + ' px');
            for (const el of document.body.querySelectorAll('*')) {
              const r = el.getBoundingClientRect();
              if (r.width === 0 || r.height === 0 || r.right <= w + 1) continue;
              let p = el.parentElement, fine = false;
              while (p && !fine) {
                const s = getComputedStyle(p);
                fine = s.overflowX === 'auto' || s.overflowX === 'scroll' || s.textOverflow === 'ellipsis' || s.position === 'fixed';
                p = p.parentElement;
              }
              if (fine || getComputedStyle(el).visibility === 'hidden') continue;
              // The innermost ones say what is too wide; their boxes follow from them.
              if ([...el.children].some(ch => ch.getBoundingClientRect().right > w + 1)) continue;
              out.push('<' + el.tagName.toLowerCase() + ' class="' + el.className + '"> to ' + Math.round(r.right) + ' px: ' + (el.textContent || '').trim().slice(0, 60));
            }
            return out.slice(0, 12);"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(beyond, json!([]), "{what} is wider than the screen");
}

/// axe-core (from npm, installed by `scripts/test`) run on the page as it is: its violations
/// of serious or critical impact (contrast, names of controls, landmarks, ARIA).
async fn accessibility_faults(c: &Client) -> Vec<String> {
    let axe = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules/axe-core/axe.min.js"))
        .expect("axe-core is installed (scripts/test runs npm ci)");
    c.execute(&axe, vec![]).await.unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

async fn assert_accessible(c: &Client, what: &str) {
    let faults = accessibility_faults(c).await;
    assert!(faults.is_empty(), "accessibility of {what}:\n{}", faults.join("\n"));
}

/// Signs in through the login page as Andy (created by the test).
async fn log_in_as_andy(c: &Client, app: &TestApp) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "#email", "andy@example.com").await;
    fill(c, "#password", common::PASSWORD).await;
    click(c, "button[type=submit]").await;
}

async fn fill(c: &Client, css: &str, value: &str) {
    let field = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("field {css}"));
    field.clear().await.unwrap();
    if value.chars().all(|ch| u32::from(ch) <= 0xFFFF) {
        field.send_keys(value).await.unwrap();
        return;
    }
    // Some ChromeDriver versions (Debian's 148) type only characters of the Basic Multilingual
    // Plane and refuse an emoji: such text goes in as a paste would, with the input event the
    // page listens for.
    c.execute(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        vec![serde_json::to_value(&field).unwrap(), json!(value)],
    )
    .await
    .unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("button {css}"))
        .click()
        .await
        .unwrap();
}

/// The page's text, or nothing while a navigation replaces the document.
async fn body_text(c: &Client) -> String {
    match c.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn wait_for_text(c: &Client, text: &str) {
    for _ in 0..50 {
        if body_text(c).await.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page never showed {text:?}; it shows: {}", body_text(c).await);
}

/// Runs `steps`, keeping a screenshot if they fail.
async fn run<F, Fut>(name: &str, phone: bool, steps: F)
where
    F: FnOnce(Client, TestApp) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    run_with(name, phone, |_| {}, steps).await
}

/// `run` on a server whose configuration `adjust` changes.
async fn run_with<F, Fut>(name: &str, phone: bool, adjust: impl FnOnce(&mut pi_crm::config::Config), steps: F)
where
    F: FnOnce(Client, TestApp) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let driver = start_driver();
    let app = TestApp::spawn_with_workers(adjust).await;
    let c = browser(&driver, phone).await;
    let keep = c.clone();
    let outcome = tokio::spawn(steps(c, app)).await;
    if outcome.is_err() {
        shot(&keep, &format!("{name}-failure")).await;
    }
    let _ = keep.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_login_workspace_key_logout_on_a_laptop() {
    run("laptop", false, |c, app| async move {
        c.goto(&app.url("/")).await.unwrap();
        assert!(c.current_url().await.unwrap().path().ends_with("/setup"));
        checkpoint(&c, "01-setup").await;
        fill(&c, "#name", "Andy Nguyen").await;
        fill(&c, "#email", "andy@example.com").await;
        fill(&c, "#password", "correct horse battery").await;
        click(&c, "button[type=submit]").await;
        wait_for_text(&c, "Hello, Andy").await;

        click(&c, "form[action='/logout'] button").await;
        wait_for_text(&c, "You have been logged out.").await;
        checkpoint(&c, "02-login").await;
        fill(&c, "#email", "andy@example.com").await;
        fill(&c, "#password", "wrong password!!").await;
        click(&c, "button[type=submit]").await;
        wait_for_text(&c, "do not match an account").await;
        fill(&c, "#password", "correct horse battery").await;
        click(&c, "button[type=submit]").await;
        wait_for_text(&c, "Hello, Andy").await;

        fill(&c, "#ws-name", "Loan Factory").await;
        click(&c, "#new-workspace button").await;
        wait_for_text(&c, "Workspace created.").await;
        // A new workspace opens on its contacts, with what to do first.
        wait_for_text(&c, "No contacts yet").await;
        wait_for_text(&c, "Use mortgage stages").await;
        checkpoint(&c, "03-workspace").await;
        // Its settings page: the owner sets the workspace's own time zone.
        let contacts_url = c.current_url().await.unwrap();
        let ws_url = contacts_url.as_str().trim_end_matches("/contacts").to_string();
        c.goto(&ws_url).await.unwrap();
        fill(&c, "#timezone", "America/Los_Angeles").await;
        click(&c, "form[action$='/timezone'] button").await;
        wait_for_text(&c, "Time zone saved.").await;
        checkpoint(&c, "03b-workspace-settings").await;

        c.goto(&app.url("/settings/keys")).await.unwrap();
        fill(&c, "#description", "Zapier sync").await;
        click(&c, "input[value='read:contacts']").await;
        click(&c, "input[value='manage:workspaces']").await;
        click(&c, "#new-key-form button[type=submit]").await;
        wait_for_text(&c, "will not be shown again").await;
        checkpoint(&c, "04-key").await;
        let key = c.find(Locator::Css("#new-key")).await.unwrap().text().await.unwrap();
        let listed = app.api(key.trim()).get("/api/v1/workspaces").await;
        assert_eq!(listed.status(), 200, "the key shown in the page works");
        let body: serde_json::Value = listed.json().await.unwrap();
        assert_eq!(body["items"][0]["name"], "Loan Factory");

        // A phone's app password: the page says what to type into the phone, and it works.
        fill(&c, "#phone-description", "Andy's iPhone").await;
        click(&c, "#phone-form button[type=submit]").await;
        wait_for_text(&c, "can now sign in").await;
        checkpoint(&c, "04b-phone-password").await;
        let password = c
            .find(Locator::Css("#app-password"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let home = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(b"PROPFIND").unwrap(), app.url("/dav/"))
            .basic_auth("andy@example.com", Some(password.trim()))
            .header("depth", "0")
            .send()
            .await
            .unwrap();
        assert_eq!(home.status(), 207, "the app password shown in the page works");

        c.goto(&app.url("/settings/audit")).await.unwrap();
        wait_for_text(&c, "api_key.create").await;
        checkpoint(&c, "05-audit").await;

        click(&c, "form[action='/logout'] button").await;
        wait_for_text(&c, "You have been logged out.").await;
        c.goto(&app.url("/settings")).await.unwrap();
        assert!(
            c.current_url().await.unwrap().path().ends_with("/login"),
            "signed out for real"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_and_forms_work_on_a_phone() {
    run("phone", true, |c, app| async move {
        let andy = app.create_user("andy@example.com", "Andy").await;
        app.workspace(&andy, "Borrowers").await;
        c.goto(&app.url("/login")).await.unwrap();
        fill(&c, "#email", "andy@example.com").await;
        fill(&c, "#password", common::PASSWORD).await;
        checkpoint(&c, "10-phone-login").await;
        click(&c, "button[type=submit]").await;
        wait_for_text(&c, "Hello, Andy").await;
        checkpoint(&c, "11-phone-dashboard").await;

        // The page fits: nothing wider than the screen.
        assert_fits_the_screen(&c, "no sideways scrolling on a 360px phone").await;

        // The desktop nav is hidden; the menu button opens a menu with Settings.
        assert!(
            !c.find(Locator::Css("nav[aria-label=Main]"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );
        click(&c, "summary[aria-label=Menu]").await;
        checkpoint(&c, "12-phone-menu").await;
        c.find(Locator::LinkText("Settings"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&c, "Change password").await;
        checkpoint(&c, "13-phone-settings").await;

        c.goto(&app.url("/settings/keys")).await.unwrap();
        checkpoint(&c, "14-phone-keys").await;
        assert_fits_the_screen(&c, "the keys page fits a phone").await;
        fill(&c, "#phone-description", "Andy's iPhone").await;
        click(&c, "#phone-form button[type=submit]").await;
        wait_for_text(&c, "can now sign in").await;
        checkpoint(&c, "14b-phone-app-password").await;
        assert_fits_the_screen(&c, "the app password and server address fit a phone").await;
    })
    .await;
}

async fn select(c: &Client, css: &str, value: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("select {css}"));
    el.select_by_value(value)
        .await
        .unwrap_or_else(|_| panic!("option {value} in {css}"));
}

/// Andy's day: a custom field, a contact with it, the pipeline, and a merge of a duplicate.
async fn contacts_flow(c: Client, app: TestApp, phone: bool) {
    let tag = if phone { "phone" } else { "laptop" };
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;

    // A custom field, in settings.
    c.goto(&app.url(&format!("/settings/fields?scope={ws}"))).await.unwrap();
    fill(&c, "#field_name", "loan_amount").await;
    fill(&c, "#label", "Loan amount").await;
    select(&c, "#field_type", "number").await;
    click(&c, "form[action^='/settings/fields'] button[type=submit]").await;
    wait_for_text(&c, "Field “Loan amount” added.").await;
    fill(&c, "#field_name", "birthday").await;
    fill(&c, "#label", "Birthday").await;
    select(&c, "#field_type", "date").await;
    click(&c, "form[action^='/settings/fields'] button[type=submit]").await;
    wait_for_text(&c, "Field “Birthday” added.").await;
    checkpoint(&c, &format!("20-{tag}-fields")).await;

    // Stages.
    c.goto(&app.url(&format!("/workspaces/{ws}/lists"))).await.unwrap();
    for stage in ["Lead", "Application", "Closed"] {
        fill(&c, "#list-name", stage).await;
        click(&c, "form[action$='/lists'] button[type=submit]").await;
        wait_for_text(&c, &format!("“{stage}” created.")).await;
    }

    // A contact with a bad value first: the form comes back with the error beside the field.
    c.goto(&app.url(&format!("/workspaces/{ws}/contacts/new")))
        .await
        .unwrap();
    fill(&c, "#f-first_name", "Ada").await;
    fill(&c, "#f-last_name", "Lovelace").await;
    fill(&c, "#f-primary_email", "ada@engines.example").await;
    fill(&c, "#f-primary_phone", "(415) 555-0123").await;
    fill(&c, "#f-company", "Analytical Engines").await;
    fill(&c, "#f-cf-loan_amount", "350000").await;
    // A birthday as people say it, without a year: typed, not picked.
    fill(&c, "#f-cf-birthday", "Dec 10").await;
    click(&c, "form button[type=submit]").await;
    wait_for_text(&c, "Contact added.").await;
    wait_for_text(&c, "+1 415-555-0123").await;
    wait_for_text(&c, "December 10").await;
    checkpoint(&c, &format!("21-{tag}-contact")).await;

    // Into the pipeline from the detail page, then across the board.
    let stage_id = app.list_id("Lead").await;
    select(&c, "#stage", &stage_id).await;
    click(&c, "form[action$='/stage'] button").await;
    wait_for_text(&c, "Moved to Lead").await;
    c.goto(&app.url(&format!("/workspaces/{ws}/pipeline"))).await.unwrap();
    wait_for_text(&c, "Ada Lovelace").await;
    checkpoint(&c, &format!("22-{tag}-pipeline")).await;
    let next = app.list_id("Application").await;
    select(&c, "#board select[name=stage]", &next).await;
    click(&c, "#board form button").await;
    for _ in 0..50 {
        let stage: Option<String> = sqlx::query_scalar(
            "SELECT l.name FROM contact_list_assignments a JOIN contact_lists l ON l.id = a.list_id WHERE a.is_primary = 1",
        )
        .fetch_optional(&app.state.db)
        .await
        .unwrap();
        if stage.as_deref() == Some("Application") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The board says what moved and keeps the keyboard on the moved card's choice.
    wait_for_text(&c, "Moved Ada Lovelace to Application.").await;
    let focused = c
        .execute("return document.activeElement && document.activeElement.id;", vec![])
        .await
        .unwrap();
    // On a phone the card went to a stage not on screen: the message saying so has the focus.
    assert!(
        focused.as_str().is_some_and(|id| if phone {
            id == "board-status"
        } else {
            id.starts_with("move-")
        }),
        "focus after the move: {focused}"
    );
    checkpoint(&c, &format!("23-{tag}-pipeline-moved")).await;
    if phone {
        assert_fits_the_screen(&c, "the board scrolls inside itself on a phone").await;
    }

    // A duplicate, found and merged.
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines", "primary_phone": "+14155550999", "custom_fields": {"loan_amount": 410000}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    c.goto(&app.url(&format!("/workspaces/{ws}/duplicates"))).await.unwrap();
    wait_for_text(&c, "same name and company").await;
    checkpoint(&c, &format!("24-{tag}-duplicates")).await;
    c.find(Locator::LinkText("Compare & merge"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "Merge contacts").await;
    checkpoint(&c, &format!("25-{tag}-merge")).await;
    click(&c, "input[name='prefer.loan_amount'][value=other]").await;
    click(&c, "form[action$='/merge'] button[type=submit]").await;
    wait_for_text(&c, "Merged.").await;
    checkpoint(&c, &format!("26-{tag}-merged")).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 1);
    let kept: String = sqlx::query_scalar("SELECT field_value FROM custom_fields WHERE field_name = 'loan_amount'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(kept, "410000", "the other contact's loan amount was chosen");

    c.goto(&app.url(&format!("/workspaces/{ws}/contacts"))).await.unwrap();
    wait_for_text(&c, "Ada Lovelace").await;
    checkpoint(&c, &format!("27-{tag}-list")).await;
    if phone {
        assert_fits_the_screen(&c, "the contact list fits a phone").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_custom_field_pipeline_and_merge_on_a_laptop() {
    run("contacts-laptop", false, |c, app| contacts_flow(c, app, false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_custom_field_pipeline_and_merge_on_a_phone() {
    run("contacts-phone", true, |c, app| contacts_flow(c, app, true)).await;
}

/// Importing a file as a person would: upload, check the columns, watch it run, read the report.
async fn import_flow(c: Client, app: TestApp, phone: bool) {
    let tag = if phone { "phone" } else { "laptop" };
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("google-contacts.csv");
    std::fs::write(
        &file,
        "Given Name,Phonetic First Name,Family Name,E-mail 1 - Value,Phone 1 - Value,Birthday,Notes\n\
         Ada,Ay-da,Lovelace,ada@example.com,+1 415 555 0123,1815-12-10,Met at the open house\n\
         Grace,,Hopper,grace@example.com,+1 415 555 0124,1906-12-09,\"Prefers email, not calls\"\n\
         Alan,,Turing,alan@example.com,+1 415 555 0125,sometime in June,Birthday unreadable\n\
         Joan,,Clarke,joan@example.com,+1 415 555 0126,--06-24,A birthday without a year\n",
    )
    .unwrap();
    c.goto(&app.url(&format!("/workspaces/{ws}/imports"))).await.unwrap();
    checkpoint(&c, &format!("30-{tag}-imports")).await;
    c.find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(&c, "form[enctype] button[type=submit]").await;
    wait_for_text(&c, "Check the columns").await;
    // Before anything is written, the page says what the mapping cannot read, and where.
    wait_for_text(&c, "1 value cannot be read").await;
    wait_for_text(&c, "1 value can't be read").await;
    // It says what it will add to the workspace, and what it leaves out as noise.
    wait_for_text(&c, "This import will create 2 new fields: birthday, notes.").await;
    wait_for_text(&c, "skipped: noise").await;
    checkpoint(&c, &format!("31-{tag}-mapping")).await;
    if phone {
        assert_fits_the_screen(&c, "the mapping fits a phone").await;
    }
    click(&c, "form[action$='/start'] button[type=submit]").await;
    wait_for_text(&c, "Revert this import").await;
    // The unreadable birthday is listed, the rest of the file went in.
    wait_for_text(&c, "1 value could not be read").await;
    wait_for_text(&c, "sometime in June").await;
    wait_for_text(&c, "Download the 1 row with problems (CSV)").await;
    checkpoint(&c, &format!("32-{tag}-report")).await;
    let report_url = c.current_url().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 4);
    c.goto(&app.url(&format!("/workspaces/{ws}/contacts?q=hopper")))
        .await
        .unwrap();
    wait_for_text(&c, "Grace Hopper").await;
    if phone {
        assert_fits_the_screen(&c, "fits a phone").await;
    }
    // Reverting asks first, naming what goes; keeping it changes nothing, confirming reverts.
    c.goto(report_url.as_str()).await.unwrap();
    wait_for_text(&c, "Revert this import").await;
    click(&c, "#revert-import").await;
    wait_for_text(&c, "Revert google-contacts.csv?").await;
    wait_for_text(&c, "Deletes 4 contacts").await;
    wait_for_text(&c, "birthday, notes").await;
    checkpoint(&c, &format!("33-{tag}-revert-confirm")).await;
    if phone {
        assert_fits_the_screen(&c, "the revert confirmation fits a phone").await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 4);
    click(&c, "#confirm-revert").await;
    wait_for_text(&c, "Import reverted").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM base_contacts").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_a_google_export_on_a_laptop() {
    run("import-laptop", false, |c, app| import_flow(c, app, false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_a_google_export_on_a_phone() {
    run("import-phone", true, |c, app| import_flow(c, app, true)).await;
}

/// Backups as a person meets them: the settings page, "back up now", the list and the
/// dashboard's line.
async fn backups_flow(c: Client, app: TestApp, phone: bool) {
    let tag = if phone { "phone" } else { "laptop" };
    app.create_user("andy@example.com", "Andy").await;
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "No backup yet.").await;
    c.goto(&app.url("/settings/backups")).await.unwrap();
    wait_for_text(&c, "No backup yet").await;
    click(&c, "form[action='/settings/backups'] button[type=submit]").await;
    wait_for_text(&c, "Backup made and checked.").await;
    wait_for_text(&c, "Last good backup just now").await;
    // Andy set pi-crm up: each backup has a Download link (the file itself is checked in
    // tests/api/backups.rs; a browser download here would only land in a temp folder).
    wait_for_text(&c, "You set up pi-crm").await;
    let link = c
        .find(Locator::Css("#backup-list a[download]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(link.starts_with("/settings/backups/pi-crm-"), "{link}");
    checkpoint(&c, &format!("40-{tag}-backups")).await;
    if phone {
        assert_fits_the_screen(&c, "the backups page fits a phone").await;
    }
    c.goto(&app.url("/")).await.unwrap();
    wait_for_text(&c, "Last good backup just now.").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_on_a_laptop() {
    run("backups-laptop", false, |c, app| backups_flow(c, app, false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_on_a_phone() {
    run("backups-phone", true, |c, app| backups_flow(c, app, true)).await;
}

/// Monalisa joins: Andy makes an invite link that shares a workspace, signs out, and the
/// link, opened in that browser, makes her account and signs her in.
async fn invite_flow(c: Client, app: TestApp, phone: bool) {
    let tag = if phone { "phone" } else { "laptop" };
    let andy = app.create_user("andy@example.com", "Andy").await;
    app.workspace(&andy, "Family").await;
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;
    c.goto(&app.url("/settings/people")).await.unwrap();
    fill(&c, "#invite-email", "mona@example.com").await;
    c.find(Locator::Css("#invite-ws option:nth-child(2)"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "form[action='/settings/people'] button[type=submit]").await;
    wait_for_text(&c, "Invite made.").await;
    checkpoint(&c, &format!("50-{tag}-invite")).await;
    if phone {
        assert_fits_the_screen(&c, "the people page fits a phone").await;
    }
    let link = c
        .find(Locator::Css("#invite-link input"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .expect("the link");
    if phone {
        click(&c, "summary[aria-label=Menu]").await;
        click(&c, "details[open] form[action='/logout'] button").await;
    } else {
        click(&c, "form[action='/logout'] button").await;
    }
    wait_for_text(&c, "You have been logged out.").await;
    c.goto(&link).await.unwrap();
    wait_for_text(&c, "You are invited to pi-crm").await;
    fill(&c, "#name", "Monalisa").await;
    fill(&c, "#password", common::PASSWORD).await;
    checkpoint(&c, &format!("51-{tag}-accept")).await;
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "Hello, Monalisa").await;
    wait_for_text(&c, "Family").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_accepted_on_a_laptop() {
    run("invite-laptop", false, |c, app| invite_flow(c, app, false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_accepted_on_a_phone() {
    run("invite-phone", true, |c, app| invite_flow(c, app, true)).await;
}

/// Andy sets up Mailgun and Twilio (local fakes that answer as they do), emails and texts Ada
/// from her page, watches the email's status move to "delivered" when Mailgun reports it, and
/// Ada unsubscribes through the link.
async fn messaging_flow(c: Client, app: TestApp, phone: bool) {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let tag = if phone { "phone" } else { "laptop" };
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/v3/.*/messages$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "<e2e.1@mg.example.com>", "message": "Queued. Thank you."})),
        )
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/2010-04-01/Accounts/.*/Messages.json$"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"sid": "SMe2e0000000000000000000000000001", "status": "queued"})),
        )
        .mount(&fake)
        .await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app.key(&andy, &["write:contacts"], None).await;
    let ada = app
        .api(&key)
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada@example.com", "primary_phone": "+14155550123"}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;

    c.goto(&app.url(&format!("/workspaces/{ws}/messaging"))).await.unwrap();
    wait_for_text(&c, "Email provider").await;
    click(&c, "#form-mailgun summary").await;
    fill(&c, "#mailgun-domain", "mg.example.com").await;
    fill(&c, "#mailgun-from", "Andy Lee <andy@mg.example.com>").await;
    fill(&c, "#mailgun-api_key", "key-e2e-secret").await;
    fill(&c, "#mailgun-webhook_signing_key", "whsec-e2e").await;
    // The region choice cannot name a fake: the base address is set through the API's field.
    c.execute(
        "var s = document.getElementById('mailgun-api_base'); var o = document.createElement('option'); o.value = arguments[0]; o.selected = true; s.appendChild(o);",
        vec![json!(fake.uri())],
    )
    .await
    .unwrap();
    fill(&c, "#mailgun-per_minute", "0").await;
    checkpoint(&c, &format!("60-{tag}-mailgun-form")).await;
    click(&c, "#form-mailgun button[type=submit]").await;
    wait_for_text(&c, "Provider saved.").await;
    click(&c, "#form-twilio summary").await;
    fill(&c, "#twilio-account_sid", "AC0123456789abcdef0123456789abcdef").await;
    fill(&c, "#twilio-auth_token", "twilio-e2e-token").await;
    fill(&c, "#twilio-from", "+1 415 555 0100").await;
    fill(&c, "#twilio-per_minute", "0").await;
    c.execute(
        "var f = document.querySelector('#form-twilio form'); var i = document.createElement('input'); i.type = 'hidden'; i.name = 'api_base'; i.value = arguments[0]; f.appendChild(i);",
        vec![json!(fake.uri())],
    )
    .await
    .unwrap();
    click(&c, "#form-twilio button[type=submit]").await;
    wait_for_text(&c, "Provider saved.").await;
    wait_for_text(&c, "from Andy Lee <andy@mg.example.com>").await;
    checkpoint(&c, &format!("61-{tag}-messaging")).await;
    if phone {
        assert_fits_the_screen(&c, "the messaging page fits a phone").await;
    }

    // An email from Ada's page.
    c.goto(&app.url(&format!("/workspaces/{ws}/contacts/{ada}")))
        .await
        .unwrap();
    wait_for_text(&c, "Write an email").await;
    click(&c, "#send-email summary").await;
    fill(&c, "#email-subject", "Your rate lock").await;
    fill(&c, "#email-body", "Hi Ada,\n\nYour rate is locked until 12/20.").await;
    click(&c, "#send-email button[type=submit]").await;
    wait_for_text(&c, "Email on its way.").await;
    wait_for_text(&c, "Your rate lock").await;
    // Mailgun reports the delivery; the page shows it without a reload.
    let outbox_id = loop {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM outbox WHERE state = 'sent' AND channel = 'email'")
            .fetch_optional(&app.state.db)
            .await
            .unwrap();
        if let Some(id) = id {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    let token = format!("e2e-token-{tag}");
    let event = json!({
        "signature": {"timestamp": timestamp, "token": token,
                      "signature": pi_crm::webhooks::mailgun::signature("whsec-e2e", &timestamp, &token)},
        "event-data": {"event": "delivered", "recipient": "ada@example.com",
                       "user-variables": {"outbox_id": outbox_id},
                       "message": {"headers": {"message-id": "e2e.1@mg.example.com"}}}
    });
    let r = app
        .anonymous()
        .post(app.url(&format!("/webhooks/mailgun/{ws}/events")))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_text(&c, "delivered").await;
    checkpoint(&c, &format!("62-{tag}-email-delivered")).await;

    // A text, with the live counter.
    click(&c, "#send-text summary").await;
    fill(
        &c,
        "#text-body",
        "Congrats on the house! 🏡 Call me when you are settled.",
    )
    .await;
    wait_for_text(&c, "(emoji or special letters: 70 per text)").await;
    checkpoint(&c, &format!("63-{tag}-text-counter")).await;
    click(&c, "#send-text button[type=submit]").await;
    wait_for_text(&c, "Text on its way.").await;
    wait_for_text(&c, "Congrats on the house!").await;
    for _ in 0..50 {
        if c.find(Locator::Css("[data-status='sent']")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.find(Locator::Css("[data-status='sent']"))
        .await
        .expect("the text shows as sent");
    checkpoint(&c, &format!("64-{tag}-contact-messages")).await;
    if phone {
        assert_fits_the_screen(&c, "the contact page with messages fits a phone").await;
    }

    // Ada unsubscribes from the link in a campaign email.
    let wsid = pi_crm::domain::ids::WorkspaceId::parse(&ws).unwrap();
    let token = pi_crm::domain::messaging::unsubscribe::token(&app.state.secret, &wsid, "ada@example.com");
    c.goto(&app.url(&format!("/u/{token}"))).await.unwrap();
    wait_for_text(&c, "Unsubscribe?").await;
    checkpoint(&c, &format!("65-{tag}-unsubscribe")).await;
    if phone {
        assert_fits_the_screen(&c, "the unsubscribe page fits a phone").await;
    }
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "You are unsubscribed").await;
    c.goto(&app.url(&format!("/workspaces/{ws}/contacts/{ada}")))
        .await
        .unwrap();
    click(&c, "#send-email summary").await;
    // An unsubscribe is from marketing (SPEC §8.4): Andy can still write to her himself, and
    // her page and the form say she unsubscribed.
    wait_for_text(&c, "Unsubscribed from marketing on").await;
    c.find(Locator::Css("#marketing-off"))
        .await
        .expect("her email says she unsubscribed");
    c.find(Locator::Css("#send-email form"))
        .await
        .expect("the email form is still there");
    checkpoint(&c, &format!("66-{tag}-unsubscribed-from-marketing")).await;
    if phone {
        assert_fits_the_screen(&c, "the contact page of an unsubscribed contact fits a phone").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_and_text_on_a_laptop() {
    run_with(
        "messaging-laptop",
        false,
        |c| c.public_url = Some("https://crm.lee-family.example".into()),
        |c, app| messaging_flow(c, app, false),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_and_text_on_a_phone() {
    run_with(
        "messaging-phone",
        true,
        |c| c.public_url = Some("https://crm.lee-family.example".into()),
        |c, app| messaging_flow(c, app, true),
    )
    .await;
}

/// Templates and AI (SPEC §9): the AI service set on the Messaging page, the wizard (its
/// prompt shown first) against a fake OpenAI, the draft edited with a live preview for Ada,
/// a favourite, a share to Monalisa; a template with a `<script>` shared by her never runs
/// in Andy's pages; the dashboard's insights, dismissed.
async fn templates_flow(c: Client, app: TestApp, phone: bool) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let tag = if phone { "phone" } else { "laptop" };
    let fake = MockServer::start().await;
    let draft = json!({"name": "Rates fell", "subject": "{{ first_name | default(\"Hi\") }}, rates just fell",
        "preheader": "A good week to look again",
        "body": "<p>Hi {{ first_name | default(\"there\") }},</p><p>Rates fell this week. Want to look at your numbers?</p><p>{{ sender.name }}</p>"});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": draft.to_string()}}],
            "usage": {"prompt_tokens": 200, "completion_tokens": 80, "total_tokens": 280}}),
        ))
        .mount(&fake)
        .await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app
        .key(&andy, &["write:contacts", "read:contacts", "manage:workspaces"], None)
        .await;
    let api = app.api(&key);
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"}),
    )
    .await;
    let soon = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date() + jiff::Span::new().days(3);
    let ada = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada@example.com",
                   "custom_fields": {"birthday": format!("--{:02}-{:02}", soon.month(), soon.day())}}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A follow-up field due yesterday for Ada, and a pipeline stage with a loan amount.
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "next_call", "label": "Next call", "field_type": "date", "is_follow_up": true}),
    )
    .await;
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "loan_amount", "label": "Loan amount", "field_type": "number"}),
    )
    .await;
    let yesterday = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::system()).date() - jiff::Span::new().days(1);
    api.patch(
        &format!("/api/v1/workspaces/{ws}/contacts/{ada}"),
        json!({"custom_fields": {"next_call": yesterday.to_string(), "loan_amount": "425000"}}),
    )
    .await;
    let stage = api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Application", "is_primary": true}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.post(
        &format!("/api/v1/workspaces/{ws}/lists"),
        json!({"name": "Closing", "is_primary": true}),
    )
    .await;
    api.client
        .put(app.url(&format!("/api/v1/workspaces/{ws}/contacts/{ada}/lists/{stage}")))
        .send()
        .await
        .unwrap();
    // Monalisa has a template with a script in it, shared with Andy.
    let mona = app.create_user("mona@example.com", "Monalisa").await;
    let hers = app.workspace(&mona, "Mona's").await;
    let mona_api = app.api(
        &app.key(
            &mona,
            &["read:templates", "write:templates", "read:contacts", "write:contacts"],
            None,
        )
        .await,
    );
    // It fills in a field of hers that Andy's workspace lacks.
    let r = mona_api
        .post(
            &format!("/api/v1/workspaces/{hers}/custom-fields"),
            json!({"field_name": "closing_date", "label": "Closing date", "field_type": "date"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let evil = mona_api
        .post(
            &format!("/api/v1/workspaces/{hers}/templates"),
            json!({"name": "Sneaky", "channel": "email", "subject": "Hi",
                   "body": "<p>Hello, closing on {{ custom.closing_date }}</p><script>alert('pwned')</script><img src=x onerror=\"alert('img')\">"}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = mona_api
        .post(
            &format!("/api/v1/workspaces/{hers}/templates/{evil}/share"),
            json!({"email": "andy@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 204);

    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;
    // The AI service, on the Messaging page.
    c.goto(&app.url(&format!("/workspaces/{ws}/messaging"))).await.unwrap();
    wait_for_text(&c, "AI service").await;
    click(&c, "#form-openai summary").await;
    fill(&c, "#openai-base_url", &format!("{}/v1", fake.uri())).await;
    fill(&c, "#openai-model", "gpt-test").await;
    fill(&c, "#openai-api_key", "sk-e2e").await;
    click(&c, "#form-openai button[type=submit]").await;
    wait_for_text(&c, "Provider saved.").await;
    wait_for_text(&c, "gpt-test at").await;

    // The wizard: the prompt first, then the draft in the editor.
    c.goto(&app.url(&format!("/workspaces/{ws}/templates"))).await.unwrap();
    wait_for_text(&c, "No templates yet.").await;
    if phone {
        assert_fits_the_screen(&c, "the template list fits a phone").await;
    }
    click(&c, &format!("a[href='/workspaces/{ws}/templates/wizard']")).await;
    wait_for_text(&c, "Write a template with AI").await;
    fill(&c, "#w-goal", "Tell past clients that rates fell this week").await;
    fill(&c, "#w-cta", "Book a 15-minute call").await;
    click(&c, "button[value=prompt]").await;
    wait_for_text(&c, "Goal: Tell past clients that rates fell this week").await;
    checkpoint(&c, &format!("70-{tag}-wizard")).await;
    if phone {
        assert_fits_the_screen(&c, "the wizard fits a phone").await;
    }
    assert!(
        fake.received_requests().await.unwrap().is_empty(),
        "nothing is sent before asked"
    );
    click(&c, "button[value=draft]").await;
    wait_for_text(&c, "Drafted by AI and saved.").await;
    wait_for_text(&c, "AI draft — read it through").await;
    // The preview, filled in for Ada, inside the sandboxed frame.
    c.find(Locator::Css("#tpl-contact"))
        .await
        .unwrap()
        .select_by_value(&ada)
        .await
        .unwrap();
    click(&c, "[data-preview-button]").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    c.clone().enter_frame(0).await.unwrap();
    for _ in 0..30 {
        if body_text(&c).await.contains("Ada, rates just fell") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let framed = body_text(&c).await;
    assert!(
        framed.contains("Ada, rates just fell") && framed.contains("Hi Ada,"),
        "{framed}"
    );
    c.clone().enter_parent_frame().await.unwrap();
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    checkpoint(&c, &format!("71-{tag}-editor")).await;
    if phone {
        assert_fits_the_screen(&c, "the editor fits a phone").await;
    }
    // Edit and save; favourite; share.
    fill(&c, "#tpl-name", "Rates fell — November").await;
    click(&c, "#template-form button.btn-primary").await;
    wait_for_text(&c, "Template saved.").await;
    click(&c, "form[action$='/favorite'] button").await;
    wait_for_text(&c, "In your favourites").await;
    fill(&c, "#share-email", "mona@example.com").await;
    click(&c, "form[action$='/share'] button").await;
    wait_for_text(&c, "Shared with mona@example.com").await;

    // What Monalisa shared: framed, sandboxed; its script never runs here.
    c.goto(&app.url("/templates/shared")).await.unwrap();
    wait_for_text(&c, "Sneaky").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        c.get_alert_text().await.is_err(),
        "a shared template's script must not run"
    );
    let sandbox = c
        .find(Locator::Css("iframe"))
        .await
        .unwrap()
        .attr("sandbox")
        .await
        .unwrap();
    assert_eq!(sandbox.as_deref(), Some(""), "the frame allows nothing");
    checkpoint(&c, &format!("72-{tag}-shared")).await;
    if phone {
        assert_fits_the_screen(&c, "shared templates fit a phone").await;
    }
    // Copying it into Andy's workspace, which has no closing date: an offer, not a dead end.
    click(&c, "form[action$='/copy'] button[type=submit]").await;
    wait_for_text(&c, "has no field for what this template fills in").await;
    wait_for_text(&c, "Closing date (Date)").await;
    checkpoint(&c, &format!("72b-{tag}-create-fields")).await;
    if phone {
        assert_fits_the_screen(&c, "the offer fits a phone").await;
    }
    click(&c, "#create-fields").await;
    wait_for_text(&c, "The fields it needed were made there too.").await;
    assert_eq!(
        app.count("SELECT count(*) FROM custom_field_definitions WHERE field_name = 'closing_date'")
            .await,
        2,
        "hers, and now one in Andy's workspace"
    );

    // The dashboard: Ada's birthday shows live, before any morning job has run.
    c.goto(&app.url("/")).await.unwrap();
    wait_for_text(&c, "Birthdays and anniversaries").await;
    let yearly = c
        .find(Locator::Css("#yearly-dates li"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        yearly.contains("Ada Lovelace") && yearly.contains("in 3 days"),
        "Ada's birthday is listed live: {yearly}"
    );
    wait_for_text(&c, "1 day late").await;
    // Three weeks on, the morning job finds her deal stalled; it is dismissed.
    let later = app.state.clock.now() + jiff::SignedDuration::from_hours(24 * 22);
    pi_crm::jobs::insights::run_at(&app.state, later).await.unwrap();
    c.goto(&app.url("/")).await.unwrap();
    wait_for_text(&c, "Worth a look today").await;
    wait_for_text(&c, "Ada Lovelace has been in Application for 22 days").await;
    wait_for_text(&c, "1 in the pipeline · Loan amount 425,000").await;
    checkpoint(&c, &format!("73-{tag}-dashboard")).await;
    if phone {
        assert_fits_the_screen(&c, "the dashboard fits a phone").await;
    }
    c.execute("document.getElementById('insights').scrollIntoView()", vec![])
        .await
        .unwrap();
    click(&c, "#insights form button").await;
    wait_for_text(&c, "Dismissed.").await;
    wait_for_text(&c, "Nothing needs you right now.").await;
    assert!(c.get_alert_text().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_and_ai_on_a_laptop() {
    run("templates-laptop", false, |c, app| templates_flow(c, app, false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_and_ai_on_a_phone() {
    run("templates-phone", true, |c, app| templates_flow(c, app, true)).await;
}

/// Andy writes a campaign in the UI, submits it; the reviewer opens the emailed link in a
/// browser that is not signed in and approves; Andy sends it, pauses, resumes, and reads the
/// per-recipient log. The dashboard announces the approval waiting, then the decision.
async fn campaigns_flow(c: Client, app: TestApp, phone: bool) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let tag = if phone { "phone" } else { "laptop" };
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "<e2e@mg.example.com>", "message": "Queued. Thank you."}))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&fake)
        .await;
    let andy = app.create_user("andy@example.com", "Andy Lee").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app
        .key(
            &andy,
            &[
                "write:contacts",
                "read:contacts",
                "manage:workspaces",
                "write:templates",
                "read:templates",
            ],
            None,
        )
        .await;
    let api = app.api(&key);
    let r = api
        .client
        .put(app.url(&format!("/api/v1/workspaces/{ws}/providers/email")))
        .json(
            &json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": "key-e2e-0123456789",
                      "webhook_signing_key": "sign-e2e-0123456789", "from": "Andy Lee <andy@mg.example.com>",
                      "api_base": fake.uri(), "per_minute": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    api.patch(
        &format!("/api/v1/workspaces/{ws}"),
        json!({"approval": {"required": true, "reviewer_email": "compliance@loanfactory.example", "reviewer_name": "Pat Reviewer"}}),
    )
    .await;
    let list = api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Past clients"}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..20 {
        let id = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": format!("Client{i:02}"), "last_name": "Test",
                       "primary_email": format!("client{i:02}@example.com")}),
            )
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        api.client
            .put(app.url(&format!("/api/v1/workspaces/{ws}/contacts/{id}/lists/{list}")))
            .send()
            .await
            .unwrap();
    }
    api.post(
        &format!("/api/v1/workspaces/{ws}/templates"),
        json!({"name": "Rates fell", "channel": "email", "subject": "Rates for {{ first_name }}",
               "body": "<p>Hi {{ first_name }},</p><p>Rates fell this week.</p><p>{{ sender.name }}</p>"}),
    )
    .await;

    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;
    c.goto(&app.url(&format!("/workspaces/{ws}/campaigns"))).await.unwrap();
    wait_for_text(&c, "No campaigns yet").await;
    click(&c, &format!("a[href='/workspaces/{ws}/campaigns/new']")).await;
    wait_for_text(&c, "Who gets it").await;
    fill(&c, "#name", "December rates").await;
    let template = c
        .execute(
            "return document.querySelector('#template_id option:nth-child(2)').value;",
            vec![],
        )
        .await
        .unwrap();
    select(&c, "#template_id", template.as_str().unwrap()).await;
    click(&c, &format!("input[name=lists_any][value='{list}']")).await;
    wait_for_text(&c, "20 people will get it").await;
    checkpoint(&c, &format!("campaign-edit-{tag}")).await;
    assert_fits_the_screen(&c, "the campaign editor").await;
    click(&c, "#campaign-form button[type=submit]").await;
    wait_for_text(&c, "Campaign saved as a draft.").await;
    click(&c, "form[action$='/submit'] button").await;
    wait_for_text(&c, "Sent for review to compliance@loanfactory.example").await;
    wait_for_text(&c, "Waiting for Pat Reviewer").await;

    // The dashboard's first widget: the approval waiting.
    c.goto(&app.url("/")).await.unwrap();
    wait_for_text(&c, "Campaign approvals").await;
    wait_for_text(&c, "Waiting for approval").await;
    checkpoint(&c, &format!("campaign-dashboard-waiting-{tag}")).await;

    // The reviewer's link, as emailed (the outbox sends it; the test drains what is due, beside
    // the server's own worker); opened by a browser with no pi-crm session.
    app.drain_outbox().await;
    let requests = fake.received_requests().await.unwrap();
    let review = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).to_string())
        .find(|b| b.contains("compliance@loanfactory.example"))
        .expect("the reviewer was emailed");
    let at = review.find("/review/").unwrap();
    let token = &review[at + 8..at + 8 + 64];
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url(&format!("/review/{token}"))).await.unwrap();
    wait_for_text(&c, "What would be sent").await;
    wait_for_text(&c, "20 people").await;
    assert!(
        !body_text(&c).await.contains("Sign out"),
        "the reviewer is not signed in"
    );
    checkpoint(&c, &format!("campaign-review-{tag}")).await;
    assert_fits_the_screen(&c, "the review page").await;
    fill(&c, "#notes", "Fine to send. NMLS line is present.").await;
    click(&c, "button[value=approve]").await;
    wait_for_text(&c, "Approved. Thank you").await;
    wait_for_text(&c, "Approved by Pat Reviewer").await;

    // Back as Andy: the decision is announced until he opens the campaign.
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;
    wait_for_text(&c, "Approved").await;
    click(&c, "#approvals a").await;
    wait_for_text(&c, "Approved by Pat Reviewer").await;
    click(&c, "form[action$='/schedule'] button").await;
    wait_for_text(&c, "Sending now.").await;
    click(&c, "form[action$='/pause'] button").await;
    wait_for_text(&c, "Paused: nothing more goes until you resume.").await;
    checkpoint(&c, &format!("campaign-paused-{tag}")).await;
    click(&c, "form[action$='/resume'] button").await;
    wait_for_text(&c, "Resumed.").await;
    // The page shows its progress as it goes (it refreshes itself); the list says when all
    // have gone (the fake takes 1.5 s each, 16 at a time).
    wait_for_text(&c, "Recipients").await;
    let mut done = false;
    for _ in 0..60 {
        c.goto(&app.url(&format!("/workspaces/{ws}/campaigns"))).await.unwrap();
        if body_text(&c).await.contains("20 of 20 sent") {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(done, "the campaign finished sending: {}", body_text(&c).await);
    click(&c, "ul a[href*='/campaigns/']").await;
    click(&c, "a.tab[href$='status=sent']").await;
    wait_for_text(&c, "Client00 Test").await;
    checkpoint(&c, &format!("campaign-sent-{tag}")).await;
    assert_fits_the_screen(&c, "the campaign page").await;
    c.goto(&app.url("/")).await.unwrap();
    wait_for_text(&c, "Hello, Andy").await;
    assert!(
        !body_text(&c).await.contains("Campaign approvals"),
        "a seen decision is not announced again"
    );
    // Each client got exactly one email.
    let sent: Vec<String> = fake
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).to_string())
        .filter(|b| b.contains("Rates for Client"))
        .collect();
    assert_eq!(sent.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_reviewed_and_sent_on_a_laptop() {
    run_with(
        "campaigns-laptop",
        false,
        |c| c.public_url = Some("https://crm.lee-family.example".into()),
        |c, app| campaigns_flow(c, app, false),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_reviewed_and_sent_on_a_phone() {
    run_with(
        "campaigns-phone",
        true,
        |c| c.public_url = Some("https://crm.lee-family.example".into()),
        |c, app| campaigns_flow(c, app, true),
    )
    .await;
}

/// Andy's morning (issue 13): the dashboard's follow-ups, one marked done; a call logged on a
/// contact with its own follow-up day; two contacts ticked in the list and moved to a stage;
/// then a card moved on the board — dragged on a laptop, with the stage chips and Move on a
/// phone. Nothing is wider than a phone's screen on any of these pages.
async fn morning_flow(c: Client, app: TestApp, phone: bool) {
    let tag = if phone { "phone" } else { "laptop" };
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "loan_amount", "label": "Loan amount", "field_type": "number"}),
    )
    .await;
    let mut ids = Vec::new();
    for (first, amount) in [("Ada", 350000), ("Grace", 420000), ("Linus", 180000)] {
        let c: serde_json::Value = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": first, "last_name": "Client", "custom_fields": {"loan_amount": amount}}),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let yesterday =
        (jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::system()).date() - jiff::Span::new().days(1)).to_string();
    api.post(
        &format!("/api/v1/workspaces/{ws}/contacts/{}/communications", ids[0]),
        json!({"type": "call", "content": {"body": "Send Ada the rate sheet", "follow_up_on": yesterday}}),
    )
    .await;

    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Send Ada the rate sheet").await;
    wait_for_text(&c, "1 day late").await;
    checkpoint(&c, &format!("40-{tag}-morning-dashboard")).await;
    assert_accessible(&c, "the dashboard").await;
    if phone {
        assert_fits_the_screen(&c, "the dashboard fits a phone").await;
    }
    click(&c, "#follow-ups form button[type=submit]").await;
    wait_for_text(&c, "Follow-up done.").await;
    let follow_ups = c
        .execute("return document.getElementById('follow-ups').innerText;", vec![])
        .await
        .unwrap();
    assert!(
        !follow_ups.as_str().unwrap().contains("Send Ada the rate sheet"),
        "{follow_ups}"
    );

    // Grace's page: a call with a follow-up day picked in the date input.
    c.goto(&app.url(&format!("/workspaces/{ws}/contacts/{}", ids[1])))
        .await
        .unwrap();
    wait_for_text(&c, "Grace Client").await;
    fill(&c, "#entry-body", "Grace wants to lock the rate").await;
    select(&c, "select[name=kind]", "call").await;
    let in_two_days =
        (jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::system()).date() + jiff::Span::new().days(2)).to_string();
    c.execute(
        "document.getElementById('entry-follow-up').value = arguments[0];",
        vec![json!(in_two_days)],
    )
    .await
    .unwrap();
    click(&c, "form[action$='/timeline'] button[type=submit]").await;
    wait_for_text(&c, "Call logged.").await;
    wait_for_text(&c, "Follow up").await;
    checkpoint(&c, &format!("41-{tag}-morning-call")).await;
    assert_accessible(&c, "a contact's page").await;
    if phone {
        assert_fits_the_screen(&c, "the contact page fits a phone").await;
    }
    let stored: String = sqlx::query_scalar(
        "SELECT json_extract(content, '$.follow_up_on') FROM communication_logs WHERE type = 'call' AND contact_id = ?",
    )
    .bind(&ids[1])
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(stored, in_two_days);

    // Stages, then two contacts ticked in the list and moved into one.
    c.goto(&app.url(&format!("/workspaces/{ws}/pipeline"))).await.unwrap();
    click(&c, "form[action$='/mortgage-stages'] button").await;
    wait_for_text(&c, "Pre-approved").await;
    c.goto(&app.url(&format!("/workspaces/{ws}/contacts?sort=-field.loan_amount")))
        .await
        .unwrap();
    wait_for_text(&c, "1–3 of 3").await;
    for id in &ids[..2] {
        let boxes = c
            .find_all(Locator::Css(&format!("input[name=ids][value='{id}']")))
            .await
            .unwrap();
        for b in boxes {
            if b.is_displayed().await.unwrap_or(false) {
                b.click().await.unwrap();
            }
        }
    }
    let application = app.list_id("Application").await;
    select(&c, "#bulk-action", &format!("stage:{application}")).await;
    checkpoint(&c, &format!("42-{tag}-morning-ticked")).await;
    assert_accessible(&c, "the contacts list").await;
    if phone {
        assert_fits_the_screen(&c, "the contacts list fits a phone").await;
    }
    click(&c, "#bulk button[type=submit]").await;
    wait_for_text(&c, "Moved 2 contacts.").await;

    // The board: Grace goes on to Underwriting.
    c.goto(&app.url(&format!("/workspaces/{ws}/pipeline"))).await.unwrap();
    wait_for_text(&c, "Grace Client").await;
    let underwriting = app.list_id("Underwriting").await;
    let grace = &ids[1];
    if phone {
        assert_fits_the_screen(&c, "the board fits a phone").await;
        checkpoint(&c, &format!("43-{tag}-morning-board")).await;
        select(&c, &format!("#move-{grace}"), &underwriting).await;
        click(&c, &format!("li[data-card='{grace}'] form button")).await;
        wait_for_text(&c, "Moved Grace Client to Underwriting.").await;
        // The phone still shows Application, and the chips take it to Underwriting.
        click(&c, &format!("#stage-switcher a[href$='stage={underwriting}']")).await;
        wait_for_text(&c, "In this stage today").await;
        assert_fits_the_screen(&c, "another stage fits a phone").await;
    } else {
        checkpoint(&c, &format!("43-{tag}-morning-board")).await;
        // All six stages side by side at 1,280 px: Closed is a drop away, no sideways scroll.
        let stages = c
            .execute(
                "const w = document.documentElement.clientWidth;
                 return [...document.querySelectorAll('section[data-stage]')]
                   .map(s => [s.getAttribute('aria-label'), s.getBoundingClientRect().right <= w]);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            stages,
            json!([
                ["Lead", true],
                ["Pre-approved", true],
                ["Application", true],
                ["Underwriting", true],
                ["Clear to close", true],
                ["Closed", true]
            ]),
            "every stage fits a 1,280 px window"
        );
        // Each card shows its loan amount.
        let amount = c
            .find(Locator::Css(&format!("li[data-card='{grace}'] [data-card-value]")))
            .await
            .expect("Grace's card shows her loan amount")
            .text()
            .await
            .unwrap();
        assert!(amount.chars().any(|ch| ch.is_ascii_digit()), "{amount}");
        // Chromium's native drag gesture is not driven by WebDriver; the events it would fire
        // are, with a real DataTransfer, so the page's own handlers do the move.
        c.execute(
            "const card = document.querySelector(`li[data-card='${arguments[0]}']`);
             const column = document.querySelector(`section[data-stage='${arguments[1]}']`);
             const dt = new DataTransfer();
             card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
             column.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
             column.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));
             card.dispatchEvent(new DragEvent('dragend', {bubbles: true, dataTransfer: dt}));",
            vec![json!(grace), json!(underwriting)],
        )
        .await
        .unwrap();
        wait_for_text(&c, "Moved Grace Client to Underwriting.").await;
    }
    checkpoint(&c, &format!("44-{tag}-morning-moved")).await;
    assert_accessible(&c, "the pipeline").await;
    let now_in: String = sqlx::query_scalar(
        "SELECT l.name FROM contact_list_assignments a JOIN contact_lists l ON l.id = a.list_id WHERE a.is_primary = 1 AND a.contact_id = ?",
    )
    .bind(grace)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(now_in, "Underwriting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_morning_routine_on_a_laptop() {
    run("morning-laptop", false, |c, app| morning_flow(c, app, false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_morning_routine_on_a_phone() {
    run("morning-phone", true, |c, app| morning_flow(c, app, true)).await;
}

/// Every page a signed-in person reaches, at a phone's width: nothing wider than the screen,
/// and axe-core finds no serious or critical accessibility fault.
async fn every_page_flow(c: Client, app: TestApp, phone: bool) {
    let andy = app.create_user("andy@example.com", "Andy").await;
    let ws = app.workspace(&andy, "Loans").await;
    let api = app.api(
        &app.key(
            &andy,
            &[
                "read:contacts",
                "write:contacts",
                "write:templates",
                "write:campaigns",
                "manage:workspaces",
            ],
            None,
        )
        .await,
    );
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "loan_amount", "label": "Loan amount", "field_type": "number"}),
    )
    .await;
    api.post(
        &format!("/api/v1/workspaces/{ws}/lists"),
        json!({"name": "Application", "is_primary": true}),
    )
    .await;
    let contact: serde_json::Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            json!({"first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada.lovelace.analytical.engine.notes@babbage-and-lovelace-computing.example", "primary_phone": "+14155550123",
                   "company": "Supercalifragilisticexpialidocious-Realty-Partners-International-LLC", "custom_fields": {"loan_amount": 350000}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = contact["id"].as_str().unwrap();
    api.post(
        &format!("/api/v1/workspaces/{ws}/contacts/{id}/communications"),
        json!({"type": "note", "content": {"body": "Prefers texts after 5pm", "follow_up_on": "2026-01-05"}}),
    )
    .await;
    // What phones choke on (issue 34): a campaign email's unsubscribe link and a pasted
    // tracking URL, each one unbroken word longer than the screen.
    api.post(
        &format!("/api/v1/workspaces/{ws}/contacts/{id}/communications"),
        json!({"type": "email", "content": {"subject": "December rates for Ada",
               "body": "Rates fell this week.\n\nUnsubscribe: https://crm.lee-family.example/u/eyJ3cyI6IjAxOTNhYmNkLWVmMDEtNzIzNC04NTY3LTg5YWJjZGVmMDEyMyIsImEiOiJhZGFAZXhhbXBsZS5jb20ifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi10aGF0LWlzLWxvbmc"}}),
    )
    .await;
    api.post(
        &format!("/api/v1/workspaces/{ws}/contacts/{id}/communications"),
        json!({"type": "note", "content": {"body": "Appraisal: https://appraisals.example.com/reports/2026/12/0193abcd-ef01-7234-8567-89abcdef0123/final-report-with-comparables.pdf?download=1&token=abcdef0123456789abcdef0123456789"}}),
    )
    .await;
    let template: serde_json::Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/templates"),
            json!({"name": "Rate drop", "channel": "email", "subject": "Rates fell, {{ first_name }}", "body": "Hello {{ first_name }}, rates fell this week."}),
        )
        .await
        .json()
        .await
        .unwrap();
    let campaign: serde_json::Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/campaigns"),
            json!({"name": "December rates", "channel": "email", "template_id": template["id"], "segment": {}, "schedule": {"kind": "now"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut pages = vec![
        "/".to_string(),
        "/settings".into(),
        "/settings/reach".into(),
        "/settings/people".into(),
        "/settings/sessions".into(),
        "/settings/keys".into(),
        "/settings/fields".into(),
        "/settings/audit".into(),
        "/settings/backups".into(),
        "/templates/shared".into(),
        format!("/workspaces/{ws}"),
        format!("/workspaces/{ws}/contacts"),
        format!("/workspaces/{ws}/contacts/new"),
        format!("/workspaces/{ws}/contacts/{id}"),
        format!("/workspaces/{ws}/contacts/{id}/edit"),
        format!("/workspaces/{ws}/contacts/{id}/delete"),
        format!("/workspaces/{ws}/duplicates"),
        format!("/workspaces/{ws}/pipeline"),
        format!("/workspaces/{ws}/lists"),
        format!("/workspaces/{ws}/imports"),
        format!("/workspaces/{ws}/inbox"),
        format!("/workspaces/{ws}/messaging"),
        format!("/workspaces/{ws}/templates"),
        format!("/workspaces/{ws}/templates/new"),
        format!("/workspaces/{ws}/campaigns"),
        format!("/workspaces/{ws}/campaigns/new"),
    ];
    if let Some(k) = campaign["id"].as_str() {
        pages.push(format!("/workspaces/{ws}/campaigns/{k}"));
        pages.push(format!("/workspaces/{ws}/campaigns/{k}/edit"));
    }
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;
    let mut faults = Vec::new();
    for page in &pages {
        c.goto(&app.url(page)).await.unwrap();
        let shown = body_text(&c).await;
        assert!(
            !shown.contains("Back to the dashboard"),
            "{page} is an error page: {shown}"
        );
        if phone {
            checkpoint(&c, &format!("every-page{}", page.replace('/', "_"))).await;
            assert_fits_the_screen(&c, page).await;
        }
        faults.extend(
            accessibility_faults(&c)
                .await
                .into_iter()
                .map(|f| format!("{page}: {f}")),
        );
    }
    assert!(faults.is_empty(), "accessibility:\n{}", faults.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_and_passes_axe() {
    run("every-page-phone", true, |c, app| every_page_flow(c, app, true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_on_a_laptop() {
    run("every-page-laptop", false, |c, app| every_page_flow(c, app, false)).await;
}

/// Settings → Reach from outside: a check that fails says why, one that passes says so
/// (issue 30), on the page as a person meets it.
async fn reach_flow(c: Client, app: TestApp, phone: bool, passes: bool) {
    let tag = if phone { "phone" } else { "laptop" };
    let outcome = if passes { "passing" } else { "failing" };
    app.create_user("andy@example.com", "Andy").await;
    log_in_as_andy(&c, &app).await;
    wait_for_text(&c, "Hello, Andy").await;
    c.goto(&app.url("/settings/reach")).await.unwrap();
    wait_for_text(&c, "not checked").await;
    click(&c, "form[action='/settings/reach/check'] button[type=submit]").await;
    if passes {
        wait_for_text(&c, "Outsiders can reach pi-crm.").await;
        wait_for_text(&c, "over plain http").await;
    } else {
        wait_for_text(&c, "Outsiders cannot reach pi-crm yet").await;
        wait_for_text(&c, "the connection was refused").await;
    }
    checkpoint(&c, &format!("60-{tag}-reach-{outcome}")).await;
    if phone {
        assert_fits_the_screen(&c, "the reach page fits a phone").await;
    }
    assert_accessible(&c, "the reach page").await;
}

async fn reach_check(phone: bool) {
    let tag = if phone { "phone" } else { "laptop" };
    let dead = common::free_port();
    run_with(
        &format!("reach-failing-{tag}"),
        phone,
        |cfg| cfg.public_url = Some(format!("http://127.0.0.1:{dead}")),
        move |c, app| reach_flow(c, app, phone, false),
    )
    .await;
    let public = common::free_port();
    run_with(
        &format!("reach-passing-{tag}"),
        phone,
        |cfg| {
            cfg.public_bind = Some(format!("127.0.0.1:{public}").parse().unwrap());
            cfg.public_url = Some(format!("http://127.0.0.1:{public}"));
        },
        move |c, app| reach_flow(c, app, phone, true),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reach_from_outside_checked_on_a_laptop() {
    reach_check(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reach_from_outside_checked_on_a_phone() {
    reach_check(true).await;
}
