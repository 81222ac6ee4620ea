//! What every request handler can reach.

use std::path::Path;
use std::sync::Arc;

use sqlx::SqlitePool;

use crate::auth::rate_limit::Buckets;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub config: Arc<Config>,
    /// The data-dir secret: keys pre-session CSRF tokens (and later, encrypted settings).
    pub secret: Arc<SecretKey>,
    pub limits: Arc<Limits>,
    /// When sessions and keys were last used, waiting to be written.
    pub activity: Arc<crate::domain::activity::Activity>,
    /// Progress of running imports, and the worker's wake-up bell.
    pub imports: Arc<crate::domain::import::job::Jobs>,
    /// The one HTTP client for every provider (its connections are pooled).
    pub http: reqwest::Client,
    /// Rung when a message is queued, so the outbox worker sends it at once.
    pub outbox: Arc<tokio::sync::Notify>,
    /// Rung when a campaign starts, so the campaigns pump queues it at once.
    pub campaigns: Arc<tokio::sync::Notify>,
    /// Sends in the last minute per workspace provider (`per_minute`).
    pub send_rates: Arc<crate::domain::messaging::senders::Rates>,
    /// Counts changes to provider settings, so the outbox worker reads them again.
    pub providers_changed: Arc<std::sync::atomic::AtomicU64>,
    /// Where the rules that depend on the time read it (what is due, what expired, quiet
    /// hours, yearly dates): the system's clock, or a fixed one in tests.
    pub clock: crate::clock::Clock,
    /// The dashboard's costly numbers, until the next write.
    pub stats: Arc<crate::domain::stats_cache::StatsCache>,
    /// The one-time codes of reachability checks in flight (`/healthz` echoes them).
    pub reach: Arc<crate::domain::reachability::Codes>,
}

pub struct Limits {
    /// Per API key, per session, or per IP when neither is presented.
    pub requests: Buckets,
    /// Per app password, for CardDAV (`/dav/`): ten times `requests`.
    pub dav: Buckets,
    /// Sign-in attempts at one account from one address: the budget a guesser spends and the
    /// owner, signing in from elsewhere, never shares.
    pub login_per_source: Buckets,
    /// Sign-in attempts at one account from anywhere: ten sources' worth, against guessing
    /// spread over many addresses.
    pub login_per_account: Buckets,
    /// Sign-in attempts from one address at any account, against spraying many accounts.
    pub login_per_ip: Buckets,
    /// Attempts at an account whose budget guessers spent, from a source with no failures:
    /// a few an hour, each answered as throttled unless the password is right.
    pub login_past_spent_account: Buckets,
}

impl Limits {
    pub fn from_config(c: &Config) -> Limits {
        let login_rate = f64::from(c.login_attempts_per_hour) / 3600.0;
        Limits {
            requests: Buckets::per_minute(c.rate_limit_per_minute),
            dav: Buckets::per_minute(c.rate_limit_per_minute.saturating_mul(10)),
            login_per_source: Buckets::new(c.login_burst, login_rate),
            login_per_account: Buckets::new(c.login_burst * 10, login_rate * 10.0),
            // A household shares one IP behind its router: allow it twice an account's budget.
            login_per_ip: Buckets::new(c.login_burst * 2, login_rate * 2.0),
            login_past_spent_account: Buckets::new(3, 3.0 / 3600.0),
        }
    }
}

/// 32 random bytes kept in `data_dir/secret.key` (mode 0600). Its `Debug` never shows it.
pub struct SecretKey(Vec<u8>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    #[cfg(test)]
    pub fn from_bytes(bytes: Vec<u8>) -> SecretKey {
        SecretKey(bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads the key, creating it on first start.
    pub fn load_or_create(path: &Path) -> anyhow::Result<SecretKey> {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read the secret key {}: {e}", path.display()))?;
            let bytes = hex::decode(text.trim())
                .map_err(|_| anyhow::anyhow!("the secret key {} is damaged", path.display()))?;
            if bytes.len() != 32 {
                anyhow::bail!("the secret key {} is damaged", path.display());
            }
            let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
            return Ok(SecretKey(bytes));
        }
        let hex_key = crate::auth::tokens::random_hex(32);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| anyhow::anyhow!("cannot create the secret key {}: {e}", path.display()))?;
        file.write_all(hex_key.as_bytes())?;
        file.sync_all()?;
        Ok(SecretKey(hex::decode(hex_key)?))
    }
}
