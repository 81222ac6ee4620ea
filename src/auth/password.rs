//! Argon2id at OWASP's Pi-sized parameters (m=19456 KiB, t=2, p=1), always off the async
//! threads: one hash takes tens of milliseconds of solid CPU.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (salt and parameters included).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Checks `password` against `stored`. With `stored = None` (no such user) the same work is
/// done against a throw-away hash, so an unknown email and a wrong password take equal time.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = match stored {
            Some(phc) => phc,
            None => dummy_hash().to_string(),
        };
        let parsed =
            PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("a stored password hash is malformed: {e}"))?;
        let matches = hasher().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && matches)
    })
    .await?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("pi-crm timing equaliser").expect("hashing works"))
}

/// Computes the throw-away hash ahead of the first failed login, so that first one is not
/// slower than the rest.
pub fn warm_up() {
    tokio::task::spawn_blocking(dummy_hash);
}
