//! Secrets at rest (provider API keys, tokens, passwords): sealed with XChaCha20-Poly1305
//! under a key derived from the data dir's `secret.key`, and bound to where they belong
//! (`context`, e.g. a workspace and channel), so a sealed value copied to another row or
//! another data dir does not open. Opening with the wrong key is an error, never garbage.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::Mac;
use sha2::Sha256;

use crate::state::SecretKey;

const NONCE_LEN: usize = 24;

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error)]
#[error(
    "stored secrets cannot be opened with this data dir's secret.key (was the key replaced, or \
     the database copied from elsewhere?); enter them again"
)]
pub struct CannotOpen;

/// The cipher for secrets, keyed apart from every other use of `secret.key`.
fn cipher(key: &SecretKey) -> XChaCha20Poly1305 {
    let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(key.bytes()).expect("HMAC takes any key length");
    mac.update(b"pi-crm sealed secrets v1");
    let derived = mac.finalize().into_bytes();
    XChaCha20Poly1305::new_from_slice(&derived).expect("a 32-byte key")
}

/// `nonce || ciphertext` of `plain`, authenticated together with `context`.
pub fn seal(key: &SecretKey, context: &str, plain: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the system's random source works");
    let sealed = cipher(key)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain,
                aad: context.as_bytes(),
            },
        )
        .expect("a short secret always encrypts");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out
}

pub fn open(key: &SecretKey, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CannotOpen> {
    if sealed.len() < NONCE_LEN {
        return Err(CannotOpen);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CannotOpen)?;
    cipher(key)
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: body,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| CannotOpen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_bytes(vec![byte; 32])
    }

    #[test]
    fn opens_what_it_sealed_and_nothing_else() {
        let k = key(7);
        let sealed = seal(&k, "ws1/email", b"key-3ax6xnjp29jd6fds4gc373sgvjxteol0");
        assert_eq!(
            open(&k, "ws1/email", &sealed).unwrap(),
            b"key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
        );
        // Another key, another place, a flipped bit, a truncated value: all refused.
        assert!(open(&key(8), "ws1/email", &sealed).is_err());
        assert!(open(&k, "ws2/email", &sealed).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open(&k, "ws1/email", &flipped).is_err());
        assert!(open(&k, "ws1/email", &sealed[..10]).is_err());
        // The same secret sealed twice looks different (fresh nonce).
        assert_ne!(seal(&k, "ws1/email", b"x"), seal(&k, "ws1/email", b"x"));
    }
}
