//! Settings in layers: built-in defaults, then a TOML file, then `PI_CRM_*` environment
//! variables, then command-line flags (highest). See SPEC §2 for the names.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// The address people reach pi-crm at (e.g. `https://crm.example.home`). When it is https,
    /// cookies are marked `Secure` and HSTS is sent.
    pub public_url: Option<String>,
    /// A second listener serving only what outsiders need (review and unsubscribe pages,
    /// webhooks, `/healthz`); a tunnel or proxy points at it, never at `bind`. None by default.
    pub public_bind: Option<SocketAddr>,
    pub rate_limit_per_minute: u32,
    pub login_attempts_per_hour: u32,
    pub login_burst: u32,
    /// Peers whose `X-Forwarded-For` is believed. Empty: the header is ignored.
    /// A TOML array, or a comma-separated list in `PI_CRM_TRUSTED_PROXIES`.
    #[serde(deserialize_with = "ip_list")]
    pub trusted_proxies: Vec<IpAddr>,
    pub default_phone_region: String,
    pub max_upload_mb: u64,
    /// A session unused this long is over.
    pub session_idle_minutes: i64,
    /// A session is over this long after login, however busy.
    pub session_absolute_hours: i64,
    /// Log filter in `tracing` syntax, e.g. `info` or `pi_crm=debug`.
    pub log: String,
    /// A connection must send a request's head within this many seconds; it is also how long
    /// a kept-alive connection may wait silently for its next request.
    pub header_read_timeout_secs: u64,
    /// A connection whose request body or response stalls this long is closed.
    pub idle_timeout_secs: u64,
    /// A request body must arrive whole within this many seconds (webhooks, forms, JSON);
    /// a large upload gets this plus its size at 32 KiB/s.
    pub body_deadline_secs: u64,
    /// Open connections at most (further ones are closed at once); also kept below the
    /// process's open-file limit.
    pub max_connections: usize,
    /// The IANA time zone that decides "today" and when daily jobs run (`America/Los_Angeles`).
    /// Empty: the system's zone, else UTC.
    pub timezone: String,
    /// Where backups are written; `<data_dir>/backups` when not set.
    pub backup_dir: Option<PathBuf>,
    /// A second home for every backup (a USB disk, a NAS mount).
    pub backup_copy_to: Option<PathBuf>,
    /// When the daily backup runs, `HH:MM` in `timezone`.
    pub backup_time: String,
    pub backup_keep_daily: usize,
    pub backup_keep_weekly: usize,
    /// The first retry of a message refused before anything was sent waits this long; each
    /// further one twice as long (capped at an hour).
    pub outbox_retry_base_seconds: u64,
    /// How long a worker may hold a message while sending it. Past this, a message whose
    /// worker died is marked `unknown` (it may have been sent). Longer than a provider's
    /// 30-second answer time.
    pub outbox_lease_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".parse().expect("valid default address"),
            data_dir: PathBuf::from("./data"),
            public_url: None,
            public_bind: None,
            rate_limit_per_minute: 100,
            login_attempts_per_hour: 20,
            login_burst: 10,
            trusted_proxies: Vec::new(),
            default_phone_region: "US".into(),
            max_upload_mb: 50,
            session_idle_minutes: 60 * 24 * 2,
            session_absolute_hours: 24 * 30,
            log: "info".into(),
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            body_deadline_secs: 10,
            max_connections: 4096,
            timezone: String::new(),
            backup_dir: None,
            backup_copy_to: None,
            backup_time: "03:00".into(),
            backup_keep_daily: 7,
            backup_keep_weekly: 4,
            outbox_retry_base_seconds: 30,
            outbox_lease_seconds: 120,
        }
    }
}

/// Values given on the command line; each one set overrides every other layer.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_bind: Option<SocketAddr>,
}

impl Config {
    /// Loads the layers. `config_file` comes from `--config` or `PI_CRM_CONFIG`; a named file
    /// that does not exist is an error (a typo should not silently fall back to defaults).
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = config_file {
            if !file.is_file() {
                anyhow::bail!("the config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let env = Env::prefixed("PI_CRM_")
            .ignore(&["config"])
            .map(|key| key.as_str().to_ascii_lowercase().into());
        let figment = figment.merge(env).merge(Serialized::defaults(overrides));
        let mut config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("the configuration is invalid: {e}"))?;
        config.normalise()?;
        Ok(config)
    }

    fn normalise(&mut self) -> anyhow::Result<()> {
        if let Some(url) = &self.public_url {
            let trimmed = url.trim().trim_end_matches('/').to_string();
            if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
                anyhow::bail!("public_url must start with http:// or https://");
            }
            self.public_url = Some(trimmed);
        }
        if let Some(public) = self.public_bind
            && public == self.bind
            && public.port() != 0
        {
            anyhow::bail!("public_bind must differ from bind: the public listener serves less than the main one");
        }
        if self.rate_limit_per_minute == 0 || self.login_attempts_per_hour == 0 {
            anyhow::bail!("rate limits must be at least 1");
        }
        if self.session_idle_minutes <= 0 || self.session_absolute_hours <= 0 {
            anyhow::bail!("session timeouts must be positive");
        }
        if self.header_read_timeout_secs == 0
            || self.idle_timeout_secs == 0
            || self.body_deadline_secs == 0
            || self.max_connections == 0
        {
            anyhow::bail!("connection timeouts and max_connections must be at least 1");
        }
        self.default_phone_region = self.default_phone_region.to_ascii_uppercase();
        self.time_zone()?;
        crate::schedule::TimeOfDay::parse(&self.backup_time).map_err(|e| anyhow::anyhow!("backup_time: {e}"))?;
        if self.backup_keep_daily == 0 {
            anyhow::bail!("backup_keep_daily must be at least 1: the newest backup is always kept");
        }
        Ok(())
    }

    /// The configured time zone (`timezone`), the system's when none is set, else UTC.
    pub fn time_zone(&self) -> anyhow::Result<jiff::tz::TimeZone> {
        let name = self.timezone.trim();
        if name.is_empty() {
            return Ok(jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC));
        }
        jiff::tz::TimeZone::get(name)
            .map_err(|_| anyhow::anyhow!("timezone {name:?} is not an IANA time zone name like America/Los_Angeles"))
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.backup_dir.clone().unwrap_or_else(|| self.data_dir.join("backups"))
    }

    /// True when pi-crm is reached over TLS (directly or through a proxy).
    pub fn is_tls(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// The largest upload accepted, in bytes (multipart overhead included).
    pub fn max_upload_bytes(&self) -> usize {
        (self.max_upload_mb as usize)
            .saturating_mul(1024 * 1024)
            .saturating_add(64 * 1024)
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("pi-crm.db")
    }
}

/// Accepts `["10.0.0.1", "::1"]` or `"10.0.0.1, ::1"` (what an environment variable holds).
fn ip_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Text(String),
        List(Vec<String>),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::Text(s) => s.split(',').map(str::to_string).collect(),
        OneOrMany::List(v) => v,
    };
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an IP address")))
        })
        .collect()
}
