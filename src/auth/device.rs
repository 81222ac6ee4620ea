//! A browser that signed in to an account before (OWASP's "device cookie"): a year-long
//! cookie, signed with the data-dir secret, naming the account it signed in to. When guesses
//! from many addresses have used up an account's sign-in budget, its owner's own browser still
//! gets through with the right password; the guessers, who never signed in, stay throttled.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::cookies;
use crate::state::AppState;

const COOKIE: &str = "pcrm_device";
const LIVES_SECS: i64 = 365 * 24 * 3600;

fn mac(state: &AppState, account: &str, nonce: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(state.secret.bytes()).expect("HMAC takes any key length");
    mac.update(b"device\x1f");
    mac.update(account.as_bytes());
    mac.update(b"\x1f");
    mac.update(nonce.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Set-Cookie` for a browser that just signed in to `account` (lower-case email).
pub fn cookie(state: &AppState, account: &str) -> String {
    let nonce = super::tokens::random_hex(16);
    let value = format!("{nonce}.{}", mac(state, account, &nonce));
    cookies::set(COOKIE, &value, Some(LIVES_SECS), state.config.is_tls())
}

/// True when the request comes from a browser that signed in to `account` before.
pub fn known(state: &AppState, headers: &HeaderMap, account: &str) -> bool {
    let Some(value) = cookies::get(headers, COOKIE) else {
        return false;
    };
    let Some((nonce, given)) = value.split_once('.') else {
        return false;
    };
    super::tokens::same_token(&mac(state, account, nonce), given)
}
