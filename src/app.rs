//! Building and running the server: `App::build(config, listener)` then `run_until_stopped`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::api_key::CheckedKey;
use crate::auth::client_ip::client_ip;
use crate::auth::{password, session};
use crate::config::Config;
use crate::error::AppError;
use crate::state::{AppState, Limits, SecretKey};
use crate::storage::{self, db};
use crate::{api, assets, web};

/// Which background workers run beside the server: all of them (the pumps, the scheduler,
/// the session sweeper and the activity recorder), or none — a test runs the work it waits
/// for itself, until idle, instead of racing live workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    All,
    None,
}

pub struct App {
    listener: TcpListener,
    router: Router,
    /// The public listener (`public_bind`) and what it serves, when configured.
    public: Option<(TcpListener, Router)>,
    state: AppState,
    /// Held while the server runs: one server per data directory, and no restore under it.
    _lock: crate::backup::lock::DataDirLock,
}

impl App {
    /// Opens the data directory and database (migrating it), and binds nothing new: the
    /// caller hands in the listener, so tests can use port 0.
    pub async fn build(config: Config, listener: TcpListener) -> anyhow::Result<App> {
        App::build_with_clock(config, listener, crate::clock::Clock::system()).await
    }

    /// `build` with the clock its time-dependent rules read (tests give a fixed one).
    pub async fn build_with_clock(
        config: Config,
        listener: TcpListener,
        clock: crate::clock::Clock,
    ) -> anyhow::Result<App> {
        let lock = crate::backup::lock::try_take(&config.data_dir)?.ok_or_else(|| {
            anyhow::anyhow!(
                "another pi-crm server is running on {}; stop it first",
                config.data_dir.display()
            )
        })?;
        let public_listener = match config.public_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (public_bind): {e}"))?,
            ),
            None => None,
        };
        let mut state = open_state(config).await?;
        state.clock = clock;
        let router = router(state.clone());
        let public = public_listener.map(|l| (l, crate::public::router(state.clone())));
        Ok(App {
            listener,
            router,
            public,
            state,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Where the public listener is bound, when there is one.
    pub fn public_address(&self) -> Option<std::net::SocketAddr> {
        self.public.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.run_with(shutdown, Workers::All).await
    }

    /// `run_until`, with the background workers `workers` says.
    pub async fn run_with(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        workers: Workers,
    ) -> anyhow::Result<()> {
        let mut running = Vec::new();
        if workers == Workers::All {
            running.push(tokio::spawn(sweep_sessions(self.state.clone())));
            running.push(tokio::spawn(record_activity(self.state.clone())));
            running.push(tokio::spawn(crate::storage::db::shrink_when_quiet(
                self.state.db.clone(),
            )));
            running.push(crate::jobs::imports::spawn(self.state.clone()));
            running.push(crate::jobs::scheduler::spawn(self.state.clone()));
            running.push(crate::jobs::outbox::spawn(self.state.clone()));
            running.push(crate::jobs::campaigns::spawn(self.state.clone()));
        }
        password::warm_up();
        let limits = crate::serve::ConnectionLimits::from_config(&self.state.config);
        match self.public {
            None => crate::serve::serve(self.listener, self.router, limits, shutdown).await?,
            Some((public_listener, public_router)) => {
                // Both listeners stop on the one signal; the public one gets a share of the
                // connections, so outsiders can never take every one from the household.
                let (main_limits, public_limits) = limits.split_for_public();
                let shutdown = futures_util::FutureExt::shared(Box::pin(shutdown));
                let (main, public) = tokio::join!(
                    crate::serve::serve(self.listener, self.router, main_limits, shutdown.clone()),
                    crate::serve::serve(public_listener, public_router, public_limits, shutdown),
                );
                main?;
                public?;
            }
        }
        for worker in running {
            worker.abort();
        }
        if let Err(e) = self.state.activity.flush(&self.state.db).await {
            tracing::warn!(error = %crate::telemetry::chain(&e), "recording last use of sessions and keys failed at shutdown");
        }
        self.state.db.close().await;
        Ok(())
    }
}

/// Creates the data dir, secret key and database; shared by `serve` and every CLI command.
pub async fn open_state(config: Config) -> anyhow::Result<AppState> {
    // rustls with ring for every TLS connection pi-crm makes (providers); aws-lc is not built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    crate::private_files::dir(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", config.data_dir.display()))?;
    let secret = SecretKey::load_or_create(&config.data_dir.join("secret.key"))?;
    crate::private_files::database(&config.database_path())
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", config.database_path().display()))?;
    let pool = db::open(&config.database_path()).await?;
    db::migrate(&pool).await?;
    crate::domain::import::job::recover(&pool).await?;
    storage::imports::delete_stale_drafts(&pool).await?;
    let uploads = config.data_dir.join("imports");
    keep_only_waiting_uploads(&pool, &uploads).await?;
    Ok(AppState {
        activity: Arc::default(),
        imports: Arc::new(crate::domain::import::job::Jobs::new(uploads)),
        db: pool,
        limits: Arc::new(Limits::from_config(&config)),
        config: Arc::new(config),
        secret: Arc::new(secret),
        http: crate::providers::http::client(),
        outbox: Arc::default(),
        campaigns: Arc::default(),
        send_rates: Arc::default(),
        providers_changed: Arc::default(),
        stats: Arc::default(),
        clock: crate::clock::Clock::system(),
        reach: Arc::default(),
    })
}

/// Upload files on disk match the imports that still need them: files of imports queued by an
/// older version move out of the database, and files nobody waits for are removed.
async fn keep_only_waiting_uploads(pool: &sqlx::SqlitePool, dir: &std::path::Path) -> anyhow::Result<()> {
    crate::private_files::dir(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    storage::imports::move_out_legacy_files(pool, |id, bytes| {
        std::fs::write(storage::upload_files::path_for(dir, id), bytes)
    })
    .await?;
    let waiting = storage::imports::waiting_ids(pool).await?.into_iter().collect();
    let removed = storage::upload_files::sweep(dir, &waiting)?;
    if removed > 0 {
        tracing::info!(removed, "upload files no import needs were removed");
    }
    Ok(())
}

async fn record_activity(state: AppState) {
    let mut every = tokio::time::interval(crate::domain::activity::FLUSH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = state.activity.flush(&state.db).await {
            tracing::warn!(error = %crate::telemetry::chain(&e), "recording last use of sessions and keys failed; will retry");
        }
    }
}

async fn sweep_sessions(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match crate::domain::session::sweep(&state.db, session::lifetimes(&state)).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %crate::telemetry::chain(&e), "sweeping sessions failed"),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(web::router(state.clone()))
        .merge(api::router(state.config.max_upload_bytes()))
        .merge(crate::webhooks::router())
        .merge(crate::dav::router())
        .merge(web::unsubscribe::router())
        .merge(web::review::router())
        // The document is built when asked for, not at start: building it runs the schema code
        // of every route, which would keep megabytes of code and data resident in an idle Pi.
        .merge(SwaggerUi::new("/api/docs").config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")))
        .route("/api/v1/openapi.json", get(api::openapi::document))
        .route("/healthz", get(crate::health::main))
        .route("/assets/{name}", get(assets::serve).layer(asset_compression()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::api_key::layer,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), session::load_layer))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::body_deadline::layer,
        ))
        .layer(middleware::from_fn(crate::compress::whole))
        .layer(compression())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// What `compress::whole` leaves (answers streamed or larger than 4 MB: exports, downloads) is
/// gzipped here as it streams, at the fastest level. Pages are made per request on a 2-core
/// Pi, where brotli's fastest cost the contacts page 27 % of its throughput against gzip's
/// 12 % (`docs/benchmarks.md`), so a browser that offers both gets gzip.
pub(crate) fn compression() -> tower_http::compression::CompressionLayer {
    tower_http::compression::CompressionLayer::new()
        .no_br()
        .quality(tower_http::CompressionLevel::Fastest)
}

/// The fingerprinted CSS and JS, fetched once per browser and kept for a year: brotli (or
/// gzip) at a middle level, 15–20 % smaller than the pages' setting. The outer `compression`
/// leaves an answer that is already encoded as it is.
pub(crate) fn asset_compression() -> tower_http::compression::CompressionLayer {
    tower_http::compression::CompressionLayer::new().quality(tower_http::CompressionLevel::Precise(5))
}

async fn method_not_allowed(req: Request) -> Response {
    let e = AppError::MethodNotAllowed(req.method().to_string());
    if req.uri().path().starts_with("/api/") {
        api::error::ApiError(e).into_response()
    } else {
        web::error::PageError(e).into_response()
    }
}

async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/dav") {
        crate::dav::error_response(AppError::NotFound)
    } else if req.uri().path().starts_with("/api/") {
        api::error::ApiError(AppError::NotFound).into_response()
    } else {
        web::error::PageError(AppError::NotFound).into_response()
    }
}

/// 100 requests a minute (configurable) per valid API key, per live browser session, or per
/// IP for anyone else: a made-up key or cookie counts against its IP, so inventing one buys no
/// fresh budget. Static assets are exempt. Runs after the session and key are checked.
pub(crate) async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Webhooks come in bursts from a provider's few addresses and carry their own proof (a
    // signature checked before anything changes): a per-IP budget would drop real events.
    if req.uri().path().starts_with("/assets/") || req.uri().path().starts_with("/webhooks/") {
        return next.run(req).await;
    }
    let key_bucket = req
        .extensions()
        .get::<CheckedKey>()
        .and_then(|k| k.0.as_ref())
        .and_then(|actor| actor.key.as_ref())
        .map(|k| format!("key:{}", k.key_id));
    let session_bucket = || {
        req.extensions()
            .get::<session::Session>()
            .map(|s| format!("session:{}", s.0.id))
    };
    let bucket = match key_bucket.or_else(session_bucket) {
        Some(bucket) => bucket,
        None => {
            let (parts, body) = req.into_parts();
            let ip = client_ip(&parts, &state.config.trusted_proxies)
                .map(|ip| crate::auth::client_ip::source_of(ip).to_string())
                .unwrap_or_default();
            return match state.limits.requests.take(&format!("ip:{ip}")) {
                Ok(()) => next.run(Request::from_parts(parts, body)).await,
                Err(wait) => limited(parts.uri.path(), wait),
            };
        }
    };
    // A phone's sync comes as many small requests (DAVx5 fetches ten cards at a time): its
    // budget is the key's own, ten times the API's.
    let budget = if req.uri().path().starts_with("/dav") {
        &state.limits.dav
    } else {
        &state.limits.requests
    };
    match budget.take(&bucket) {
        Ok(()) => next.run(req).await,
        Err(wait) => limited(req.uri().path(), wait),
    }
}

fn limited(path: &str, wait: u64) -> Response {
    let e = AppError::RateLimited { retry_after_secs: wait };
    if path.starts_with("/dav") {
        crate::dav::error_response(e)
    } else if path.starts_with("/api/") {
        api::error::ApiError(e).into_response()
    } else {
        web::error::PageError(e).into_response()
    }
}

/// Headers on every response. The CSP allows no inline script anywhere; Swagger UI alone
/// needs inline styles.
pub(crate) async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_docs = req.uri().path().starts_with("/api/docs");
    let is_api = req.uri().path().starts_with("/api/v1/");
    let is_head_or_get = matches!(*req.method(), Method::GET | Method::HEAD);
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let style = if is_docs {
        "style-src 'self' 'unsafe-inline'"
    } else {
        "style-src 'self'"
    };
    let csp = format!(
        "default-src 'self'; script-src 'self'; {style}; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    // A response with its own policy (a template preview, framed sandboxed by pi-crm's own
    // pages) keeps it, and may be framed by this origin only.
    let own_policy = h.contains_key(header::CONTENT_SECURITY_POLICY);
    if !own_policy && let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(if own_policy { "SAMEORIGIN" } else { "DENY" }),
    );
    if state.config.is_tls() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && is_head_or_get && !is_docs {
        // Pages hold CSRF tokens and private data: never cache them.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // Nor the API's answers (every one is someone's data), unless a handler said otherwise.
    if is_api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
