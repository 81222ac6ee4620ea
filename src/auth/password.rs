//! Argon2id at OWASP's Pi-sized parameters (m=19456 KiB, t=2, p=1), always off the async
//! threads, one at a time, in memory that goes back to the OS after every hash.
//!
//! Why the memory care: each hash needs 19 MiB of scratch. Allocated the ordinary way, glibc
//! raises its mmap threshold after the first free and then keeps those 19 MiB in the heap of
//! every thread that ever hashed — a few logins took the server from 10 MB to 140 MB resident.
//! Reserving more than glibc's 32 MiB ceiling for that threshold makes every scratch buffer a
//! fresh mapping that is unmapped when dropped (only the 19 MiB written are ever resident), and
//! one hash at a time bounds the peak. On a 2-core Pi, parallel hashes would only queue anyway.

use std::sync::OnceLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

const HASH_LEN: usize = 32;
const SALT_LEN: usize = 16;

fn params() -> Params {
    Params::new(19_456, 2, 1, Some(HASH_LEN)).expect("valid Argon2 parameters")
}

fn one_at_a_time() -> &'static Semaphore {
    static GATE: OnceLock<Semaphore> = OnceLock::new();
    GATE.get_or_init(|| Semaphore::new(1))
}

/// Scratch memory for one hash, mapped fresh and returned to the OS on drop (see above).
fn scratch(blocks: usize) -> Vec<Block> {
    const RESERVE_BYTES: usize = 33 * 1024 * 1024;
    let reserve = RESERVE_BYTES / std::mem::size_of::<Block>();
    let mut memory = Vec::with_capacity(blocks.max(reserve));
    memory.resize(blocks, Block::new());
    memory
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> anyhow::Result<T> + Send + 'static) -> anyhow::Result<T> {
    let _turn = one_at_a_time().acquire().await?;
    tokio::task::spawn_blocking(work).await?
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub async fn hash(password: String) -> anyhow::Result<String> {
    blocking(move || hash_now(&password)).await
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let params = params();
    let mut salt_bytes = [0u8; SALT_LEN];
    getrandom::fill(&mut salt_bytes).map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
    let salt = Salt::new(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = [0u8; HASH_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, scratch(params.block_count()))
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against `stored`. With `stored = None` (no such user) the same work is
/// done against a throw-away hash, so an unknown email and a wrong password take equal time.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    blocking(move || {
        let known = stored.is_some();
        let phc = match stored {
            Some(phc) => phc,
            None => dummy_hash().to_string(),
        };
        let matches = verify_now(&password, &phc)?;
        Ok(known && matches)
    })
    .await
}

fn verify_now(password: &str, phc: &str) -> anyhow::Result<bool> {
    let bad = |what: &str| anyhow::anyhow!("a stored password hash is malformed ({what})");
    let parsed = PasswordHash::new(phc).map_err(|_| bad("syntax"))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| bad("algorithm"))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|_| bad("version"))?,
        None => Version::V0x13,
    };
    let params = Params::try_from(&parsed).map_err(|_| bad("parameters"))?;
    let salt = parsed.salt.ok_or_else(|| bad("salt"))?;
    let expected = parsed.hash.ok_or_else(|| bad("hash"))?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, scratch(params.block_count()))
        .map_err(|e| anyhow::anyhow!("verifying a password failed: {e}"))?;
    Ok(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_now("correct horse battery").unwrap();
        let b = hash_now("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify_now("correct horse battery", &a).unwrap());
        assert!(!verify_now("correct horse batterY", &a).unwrap());
        assert!(verify_now("x", "not a hash").is_err());
    }

    #[test]
    fn hashes_from_the_reference_implementation_verify() {
        // Produced by the `argon2` crate's own PasswordHasher (same parameters).
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        use argon2::PasswordHasher;
        let phc = reference.hash_password(b"hunter42 hunter42").unwrap().to_string();
        assert!(verify_now("hunter42 hunter42", &phc).unwrap());
    }
}
