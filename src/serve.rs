//! The HTTP server loop: the router behind hyper, with the limits `axum::serve` leaves unset.
//!
//! - A connection must send a request's head within `header_read_timeout`; hyper applies the
//!   same timer while a kept-alive connection waits for its next request, so silent and
//!   half-open connections (slowloris) are closed instead of piling up.
//! - A body or response that stalls for `idle_timeout` ends its connection.
//! - At most `max_connections` are open at once, kept below the open-file limit (raised to its
//!   hard maximum at start); a connection beyond that is closed at once, so accepting never
//!   fails for want of file descriptors and the server stays reachable.
//! - One source (an IPv4 address, an IPv6 /64) holds at most an eighth of them: one client
//!   cannot take every connection. Trusted proxies, which carry everyone's requests, are not
//!   held to it. (A request body's total deadline is `body_deadline`, in the router.)

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower_service::Service;

use crate::config::Config;

/// Descriptors kept free for the database, upload files and logs.
const RESERVED_FILES: u64 = 64;
/// How long requests in flight may take to finish after shutdown begins (the systemd unit
/// allows 20 s before it kills).
const DRAIN: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read: Duration,
    pub idle: Duration,
    pub max_connections: usize,
    /// Open connections at most from one source.
    pub per_source: usize,
    /// Peers not held to `per_source` (the trusted proxies).
    pub exempt: Arc<Vec<IpAddr>>,
}

impl ConnectionLimits {
    /// The configured limits, with `max_connections` fitted under the open-file limit.
    pub fn from_config(c: &Config) -> ConnectionLimits {
        let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        let fits = usize::try_from(files.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(usize::MAX);
        if c.max_connections > fits {
            tracing::warn!(
                configured = c.max_connections,
                open_file_limit = files,
                "max_connections lowered to fit the open-file limit"
            );
        }
        let max_connections = c.max_connections.min(fits);
        ConnectionLimits {
            header_read: Duration::from_secs(c.header_read_timeout_secs),
            idle: Duration::from_secs(c.idle_timeout_secs),
            max_connections,
            per_source: per_source(max_connections),
            exempt: Arc::new(c.trusted_proxies.clone()),
        }
    }
}

/// An eighth of the connections (at least 16, a household's browsers and phones behind one
/// router), never more than all of them.
fn per_source(max_connections: usize) -> usize {
    (max_connections / 8).max(16).min(max_connections)
}

/// Open connections per source.
#[derive(Default)]
struct Sources(Mutex<HashMap<IpAddr, usize>>);

impl Sources {
    /// Counts a connection from `ip`, or `None` when its source holds `cap` already.
    fn admit(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<SourceSlot> {
        let source = crate::auth::client_ip::source_of(ip);
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(source).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(SourceSlot {
            sources: self.clone(),
            source,
        })
    }
}

/// A connection's place in its source's count, given back when the connection ends.
struct SourceSlot {
    sources: Arc<Sources>,
    source: IpAddr,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = self.sources.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.source);
            }
        }
    }
}

impl ConnectionLimits {
    /// The main listener's and the public listener's shares: a quarter for outsiders.
    pub fn split_for_public(self) -> (ConnectionLimits, ConnectionLimits) {
        let public = (self.max_connections / 4).max(1);
        let main = self.max_connections.saturating_sub(public).max(1);
        (
            ConnectionLimits {
                max_connections: main,
                per_source: per_source(main),
                ..self.clone()
            },
            ConnectionLimits {
                max_connections: public,
                per_source: per_source(public),
                ..self
            },
        )
    }
}

/// Serves `router` until `shutdown` resolves, then lets requests in flight finish (up to 15 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut make_service: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        router.into_make_service_with_connect_info::<SocketAddr>();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let sources = Arc::new(Sources::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait a moment
                    // rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = if limits.exempt.contains(&peer.ip()) {
            None
        } else {
            match sources.admit(peer.ip(), limits.per_source) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "this source holds its share of connections: closing a new one");
                    continue;
                }
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection limit reached: closing a new connection");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut timed = TimeoutStream::new(stream);
        timed.set_read_timeout(Some(limits.idle));
        timed.set_write_timeout(Some(limits.idle));
        let io = TokioIo::new(Box::pin(timed));
        let Ok(tower_service) = make_service.call(peer).await;
        let connection = http.serve_connection(io, TowerToHyperService::new(tower_service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still running when the server stopped");
    }
    Ok(())
}
