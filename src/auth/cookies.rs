//! Reading and writing the few cookies pi-crm sets. Values are hex tokens or percent-encoded
//! text, so no cookie value ever needs quoting.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION: &str = "pcrm_session";
/// Identifies a browser that is not signed in, so its forms still carry a CSRF token.
pub const PRE_SESSION: &str = "pcrm_pre";
pub const FLASH: &str = "pcrm_flash";

pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure behind TLS.
pub fn set(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", Some(0), secure)
}
