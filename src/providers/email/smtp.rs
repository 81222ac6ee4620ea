//! Any SMTP server through lettre: Gmail with an app password (`smtp.gmail.com:587`), Google
//! Workspace's relay, Microsoft 365 SMTP AUTH, a home mail server. The `Message-ID` pi-crm
//! writes is the provider id.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::check_present;
use crate::providers::{Email, Outcome};

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    /// `starttls` (port 587), `tls` (port 465) or `none` (a relay on the LAN).
    pub security: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    pub from: String,
    /// Certificates (PEM) to trust besides the system's: a mail server on the home network
    /// with a certificate of its own.
    #[serde(default)]
    pub ca_pem: String,
    #[serde(default)]
    pub per_minute: Option<u32>,
}

impl Settings {
    pub(super) fn check(&self, out: &mut Vec<(String, String)>) {
        check_present(out, "host", &self.host);
        if self.port == 0 {
            out.push(("port".into(), "port is between 1 and 65535".into()));
        }
        if !matches!(self.security.as_str(), "starttls" | "tls" | "none") {
            out.push(("security".into(), "security is starttls, tls or none".into()));
        }
        if !self.ca_pem.trim().is_empty() && !is_pem_certificates(&self.ca_pem) {
            out.push((
                "ca_pem".into(),
                "paste the certificate as PEM, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----".into(),
            ));
        }
        if self.username.trim().is_empty() != self.password.is_empty() {
            out.push((
                "password".into(),
                "give both a username and a password, or neither".into(),
            ));
        }
    }
}

/// One or more PEM certificates, each one readable.
fn is_pem_certificates(text: &str) -> bool {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let all: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(text.trim().as_bytes()).collect();
    matches!(all, Ok(certs) if !certs.is_empty()) && Certificate::from_pem(text.trim().as_bytes()).is_ok()
}

pub async fn send(s: &Settings, email: &Email) -> Outcome {
    let message = match super::mime::build(email) {
        Ok(m) => m,
        Err(reason) => return Outcome::failed(reason),
    };
    let transport = match transport(s) {
        Ok(t) => t,
        Err(reason) => return Outcome::failed(reason),
    };
    match transport.send(message).await {
        Ok(_) => Outcome::Sent {
            provider_id: Some(super::mime::message_id(email).trim_matches(['<', '>']).to_string()),
        },
        Err(e) => classify(&e),
    }
}

fn transport(s: &Settings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = s.host.trim();
    let tls = || {
        let mut params = TlsParameters::builder(host.to_string());
        if !s.ca_pem.trim().is_empty() {
            let cert = Certificate::from_pem(s.ca_pem.trim().as_bytes())
                .map_err(|e| format!("the certificate to trust does not read: {e}"))?;
            params = params.add_root_certificate(cert);
        }
        params
            .build_rustls()
            .map_err(|e| format!("TLS for {host} could not be set up: {e}"))
    };
    let security = match s.security.as_str() {
        "tls" => Tls::Wrapper(tls()?),
        "starttls" => Tls::Required(tls()?),
        _ => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(s.port)
        .tls(security)
        .timeout(Some(Duration::from_secs(30)));
    if !s.username.trim().is_empty() {
        builder = builder.credentials(Credentials::new(s.username.trim().to_string(), s.password.clone()));
    }
    Ok(builder.build())
}

/// A 5xx reply is a refusal; a 4xx reply means "try later" and nothing was accepted; a
/// connection that never opened (or failed TLS) sent nothing; anything else may have lost the
/// server's final answer after the message went out.
fn classify(e: &lettre::transport::smtp::Error) -> Outcome {
    let said = e.to_string();
    if e.is_permanent() || e.is_client() {
        return Outcome::failed(format!("the mail server refused it: {said}"));
    }
    if e.is_transient() {
        return Outcome::Retry {
            reason: format!("the mail server asked to try later: {said}"),
            after: None,
        };
    }
    // One sentence for every failure below SMTP (refused, unreachable, no such name, TLS), so
    // the host and port settings cannot be used to tell open ports from closed ones.
    if e.is_tls() || never_connected(e) {
        return Outcome::Retry {
            reason: "could not reach the mail server at the configured host and port (nothing answered there, it refused, or TLS failed)".into(),
            after: None,
        };
    }
    Outcome::Unknown {
        reason: "the connection to the mail server broke before its final answer: the message may have been sent"
            .into(),
    }
}

fn never_connected(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::*;
    let mut cause = e.source();
    while let Some(c) = cause {
        // A TLS handshake that failed (an untrusted certificate) happens before any mail is
        // sent, whether it comes as rustls's own error or wrapped in an I/O error.
        if c.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
                || matches!(
                    io.kind(),
                    ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable
                )
                || io.to_string().contains("lookup");
        }
        cause = c.source();
    }
    false
}
