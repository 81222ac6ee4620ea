//! The test harness (DESIGN habit 6): the real server on port 0 with a fresh data dir,
//! reached over real HTTP by clients with their own cookie jars.
#![allow(dead_code)]

pub mod smtp;

use std::sync::Arc;

use pi_crm::app::{App, Workers};
use pi_crm::clock::Clock;
use pi_crm::config::Config;
use pi_crm::domain::actor::{Actor, Via};
use pi_crm::domain::api_key::{self, NewKey};
use pi_crm::domain::user::{self, User};
use pi_crm::domain::workspace;
use pi_crm::state::AppState;
use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";

/// A port nothing listens on now (bound, then let go): for a listener configured by address,
/// or an address where nothing answers.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct TestApp {
    pub base: String,
    pub port: u16,
    /// The public listener's port, when `public_bind` was set.
    pub public_port: Option<u16>,
    pub state: AppState,
    pub dir: TempDir,
    /// Whether the server's own workers run (browser tests); otherwise a test drains.
    workers: Workers,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Boots with the test defaults (generous rate limits so ordinary tests never trip them)
    /// changed by `adjust`. No background worker runs: the test drains what it waits for
    /// (`drain_outbox`, `drain_imports`, `drain_campaigns`, `run_jobs_at`).
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::start(adjust, Clock::system(), Workers::None).await
    }

    /// `spawn_with` on a fixed clock at `at`: what is due, expired or in quiet hours is
    /// judged at exact instants (`clock().set`, `run_jobs_at`).
    pub async fn spawn_at(at: &str, adjust: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::start(
            adjust,
            Clock::fixed(at.parse().expect("an RFC 3339 instant")),
            Workers::None,
        )
        .await
    }

    /// With the server's own workers running, as a person meets it (browser tests).
    pub async fn spawn_with_workers(adjust: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::start(adjust, Clock::system(), Workers::All).await
    }

    async fn start(adjust: impl FnOnce(&mut Config), clock: Clock, workers: Workers) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().join("data"),
            rate_limit_per_minute: 100_000,
            login_attempts_per_hour: 100_000,
            login_burst: 1_000,
            ..Config::default()
        };
        adjust(&mut config);
        // Port 0 unless the test named an address of its own.
        let bind = if config.bind == Config::default().bind {
            "127.0.0.1:0".parse().unwrap()
        } else {
            config.bind
        };
        let listener = tokio::net::TcpListener::bind(bind).await.expect("bind");
        let app = App::build_with_clock(config, listener, clock)
            .await
            .expect("app builds");
        let port = app.port();
        let public_port = app.public_address().map(|a| a.port());
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_with(
                async move {
                    let _ = rx.await;
                },
                workers,
            )
            .await
            .expect("server runs");
        });
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            port,
            public_port,
            state,
            dir,
            workers,
            stop: Some(tx),
            server: Some(server),
        }
    }

    /// The app's clock (fixed when started with `spawn_at`).
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `path` on the public listener.
    pub fn public(&self, path: &str) -> String {
        let port = self.public_port.expect("started with public_bind");
        format!("http://127.0.0.1:{port}{path}")
    }

    /// A client with no cookies and no credentials, that does not follow redirects.
    pub fn anonymous(&self) -> reqwest::Client {
        reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
    }

    /// A browser-like client: its own cookie jar, no redirect following.
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        Browser {
            client,
            base: self.base.clone(),
            jar,
        }
    }

    pub async fn create_user(&self, email: &str, name: &str) -> User {
        user::create(&self.state.db, None, Via::Cli, email, name, PASSWORD)
            .await
            .expect("user created")
    }

    /// An account made earlier, by its email.
    pub async fn user_by_email(&self, email: &str) -> User {
        pi_crm::storage::users::find_by_email(&self.state.db, email)
            .await
            .unwrap()
            .expect("the user exists")
    }

    /// A signed-in browser for a new user.
    pub async fn user_browser(&self, email: &str) -> (User, Browser) {
        let u = self.create_user(email, email.split('@').next().unwrap()).await;
        let b = self.browser();
        b.login(email, PASSWORD).await;
        (u, b)
    }

    pub async fn workspace(&self, owner: &User, name: &str) -> String {
        let actor = Actor::person(owner.id.clone(), Via::Cli);
        workspace::create(&self.state.db, &actor, name)
            .await
            .expect("workspace")
            .id()
            .to_string()
    }

    pub async fn key(&self, owner: &User, scopes: &[&str], pinned: Option<&str>) -> String {
        let actor = Actor::person(owner.id.clone(), Via::Cli);
        let new = NewKey {
            description: "test".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            workspace_id: pinned.map(str::to_string),
            expires_at: None,
        };
        api_key::create(&self.state.db, &actor, new).await.expect("key").key
    }

    /// An API client that sends `key` in `X-Api-Key`.
    pub fn api(&self, key: &str) -> Api {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", key.parse().unwrap());
        Api {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .default_headers(headers)
                .build()
                .unwrap(),
            base: self.base.clone(),
            state: self.state.clone(),
        }
    }

    pub async fn audit_actions(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT action, via FROM audit_logs ORDER BY id")
            .fetch_all(&self.state.db)
            .await
            .unwrap()
    }

    /// The id of the list (or stage) called `name`.
    pub async fn list_id(&self, name: &str) -> String {
        sqlx::query_scalar("SELECT id FROM contact_lists WHERE name = ?")
            .bind(name)
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.state.db).await.unwrap()
    }

    /// Sends what the outbox holds that is due, until nothing is due or in flight. With the
    /// server's own worker running too (browser tests), both claim through the database, so
    /// this also waits for the rows that worker holds.
    pub async fn drain_outbox(&self) {
        pi_crm::jobs::outbox::drain(&self.state)
            .await
            .expect("the outbox drains");
        if self.workers == Workers::None {
            return;
        }
        for _ in 0..500 {
            let busy: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM outbox WHERE state = 'sending' OR (state = 'pending' AND next_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
            )
            .fetch_one(&self.state.db)
            .await
            .unwrap();
            if busy == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            pi_crm::jobs::outbox::drain(&self.state)
                .await
                .expect("the outbox drains");
        }
        panic!("the outbox did not settle");
    }

    /// Runs the queued imports until none is left.
    pub async fn drain_imports(&self) {
        drain_imports(&self.state).await;
    }

    /// The campaigns pump's pass: starts what is due and queues every campaign's recipients.
    pub async fn drain_campaigns(&self) {
        pi_crm::jobs::campaigns::run_at(&self.state, self.state.clock.now())
            .await
            .expect("campaigns are queued");
    }

    /// Moves the fixed clock to `at` and runs the scheduled jobs due then; their names.
    pub async fn run_jobs_at(&self, at: &str) -> Vec<&'static str> {
        let at: jiff::Timestamp = at.parse().expect("an RFC 3339 instant");
        self.state.clock.set(at);
        pi_crm::jobs::scheduler::run_due(&self.state, at)
            .await
            .expect("the jobs run")
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    /// The app's state, for helpers that run queued work before they look (an import).
    pub state: AppState,
}

impl Api {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.base, path)).send().await.unwrap()
    }
    /// A GET's answer, read as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.unwrap()
    }
    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.base, path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn patch(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .patch(format!("{}{}", self.base, path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }
}

/// Runs the queued imports until none is left (what the server's worker would do).
pub async fn drain_imports(state: &AppState) {
    pi_crm::jobs::imports::drain(state).await.expect("imports run");
}

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub jar: Arc<reqwest::cookie::Jar>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf-token\" content=\"";
        let start = self.body.find(marker).expect("page has a csrf meta tag") + marker.len();
        self.body[start..start + 64].to_string()
    }
}

async fn page(r: reqwest::Response) -> Page {
    Page {
        status: r.status().as_u16(),
        location: r.headers().get("location").map(|v| v.to_str().unwrap().to_string()),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    }
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        page(self.client.get(format!("{}{}", self.base, path)).send().await.unwrap()).await
    }

    /// Posts a form without adding a CSRF token (for testing its absence).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Page {
        page(
            self.client
                .post(format!("{}{}", self.base, path))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts a form the way the page at `from` would: with that page's CSRF token.
    pub async fn submit(&self, from: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.get(from).await.csrf();
        let mut fields: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    /// Signs in through the login form (from the settings page when already signed in, since
    /// `/login` then redirects away).
    pub async fn login(&self, email: &str, password: &str) -> Page {
        let from = if self.get("/login").await.status == 200 {
            "/login"
        } else {
            "/settings"
        };
        let p = self
            .submit(from, "/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(p.status, 303, "login of {email} failed: {}", p.body);
        p
    }

    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = self.base.parse().unwrap();
        let cookies = self.jar.cookies(&url)?;
        cookies
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix("pcrm_session=").map(str::to_string))
    }
}

/// Runs the real `pi-crm` binary against `data`, feeding `stdin` if given.
pub fn pi_crm(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_pi-crm"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("PI_CRM_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// An account made with the CLI, owning a workspace `ws` that holds `contacts` (JSON inputs).
pub fn cli_account(data: &std::path::Path, email: &str, ws: &str, contacts: &[serde_json::Value]) {
    let made = pi_crm(
        data,
        &["user", "create", "--email", email, "--name", "Cli", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = Config {
            data_dir: data.to_path_buf(),
            ..Config::default()
        };
        let state = pi_crm::app::open_state(config).await.unwrap();
        let owner = pi_crm::storage::users::find_by_email(&state.db, email)
            .await
            .unwrap()
            .unwrap();
        let actor = Actor::person(owner.id, Via::Cli);
        let ws = workspace::create(&state.db, &actor, ws).await.unwrap();
        for c in contacts {
            let input: pi_crm::api::shapes::contacts::ContactInput = serde_json::from_value(c.clone()).unwrap();
            pi_crm::domain::contact::create(&state.db, &actor, &ws, "US", input.into())
                .await
                .unwrap();
        }
        state.db.close().await;
    });
}

/// The fields named by a 422's `errors`, in order.
pub fn error_fields(e: &serde_json::Value) -> Vec<String> {
    e["error"]["errors"]
        .as_array()
        .expect("an errors list")
        .iter()
        .map(|x| x["field"].as_str().expect("a field").to_string())
        .collect()
}
