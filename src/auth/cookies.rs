//! Reading and writing the few cookies pi-crm sets, with the `cookie` crate (through
//! `axum_extra`'s `CookieJar`), which percent-encodes values on the way out and decodes them
//! on the way in, so any text can be a value.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

pub const SESSION: &str = "pcrm_session";
/// Identifies a browser that is not signed in, so its forms still carry a CSRF token.
pub const PRE_SESSION: &str = "pcrm_pre";
pub const FLASH: &str = "pcrm_flash";

/// The named cookie's value, when the request has it and it is not empty.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure behind TLS.
pub fn set(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> String {
    let cookie = Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure);
    let encoded = cookie.build().encoded().to_string();
    // `Max-Age` written here rather than through the builder, which takes the `time` crate's
    // duration: pi-crm keeps one time library (jiff).
    match max_age_secs {
        Some(age) => format!("{encoded}; Max-Age={age}"),
        None => encoded,
    }
}

pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_several_headers_and_writes_the_attributes() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", "a=1; pcrm_session=abc".parse().unwrap());
        headers.append("cookie", "pcrm_flash=".parse().unwrap());
        assert_eq!(get(&headers, SESSION).as_deref(), Some("abc"));
        assert_eq!(get(&headers, FLASH), None, "an empty value is no cookie");
        assert_eq!(get(&headers, PRE_SESSION), None);
        let session = set(SESSION, "abc", Some(60), true);
        for part in [
            "pcrm_session=abc",
            "Path=/",
            "HttpOnly",
            "SameSite=Lax",
            "Max-Age=60",
            "Secure",
        ] {
            assert!(session.contains(part), "{session}");
        }
        assert!(!clear(FLASH, false).contains("Secure"));

        let text = "Saved; 100% done, \"Zoë\" = fine";
        let written = set(FLASH, text, None, false);
        let value = written.split(';').next().unwrap().to_string();
        assert!(!value[FLASH.len() + 1..].contains([' ', '"', ',', ';']), "{written}");
        let mut back = HeaderMap::new();
        back.insert("cookie", value.parse().unwrap());
        assert_eq!(get(&back, FLASH).as_deref(), Some(text));
    }
}
