//! Any SMTP server through lettre: Gmail with an app password (`smtp.gmail.com:587`), Google
//! Workspace's relay, Microsoft 365 SMTP AUTH, a home mail server. The `Message-ID` pi-crm
//! writes is the provider id.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
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
    /// Where replies go when not to `from` (e.g. Andy\'s own inbox); empty: to `from`.
    #[serde(default)]
    pub reply_to: String,
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
        if !self.ca_pem.trim().is_empty()
            && let Err(why) = super::smtp_tls::certificates(&self.ca_pem)
        {
            out.push(("ca_pem".into(), why));
        }
        if self.username.trim().is_empty() != self.password.is_empty() {
            out.push((
                "password".into(),
                "give both a username and a password, or neither".into(),
            ));
        }
    }
}

/// How long each step before the message may take: the greeting, STARTTLS, signing in, each
/// command. lettre's own timeout covers only the connect (lettre issue #1027), so a server
/// that stops answering would otherwise hold a send until the connection dropped.
const STEP: Duration = Duration::from_secs(10);
/// How long the server may take to give its final answer once it has the whole message.
const FINAL_ANSWER: Duration = Duration::from_secs(60);

/// One message through one SMTP exchange, step by step, each step with its deadline. Until
/// the server has accepted DATA nothing can have been sent: any failure there is retried
/// (or, for the server's own 5xx, a refusal). Once the message is on its way, a lost answer
/// means it may have gone: `unknown`.
pub async fn send(s: &Settings, email: &Email) -> Outcome {
    let message = match super::mime::build(email) {
        Ok(m) => m,
        Err(reason) => return Outcome::failed(reason),
    };
    let envelope = message.envelope().clone();
    let bytes = message.formatted();
    match exchange(s, &envelope, &bytes).await {
        Ok(()) => Outcome::Sent {
            provider_id: Some(super::mime::message_id(email).trim_matches(['<', '>']).to_string()),
        },
        Err(outcome) => outcome,
    }
}

async fn exchange(s: &Settings, envelope: &lettre::address::Envelope, bytes: &[u8]) -> Result<(), Outcome> {
    use lettre::transport::smtp::client::AsyncSmtpConnection;
    use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
    use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

    let host = s.host.trim();
    let hello = ClientId::default();
    let pinned = !s.ca_pem.trim().is_empty() && s.security != "none";
    let mut conn = if pinned {
        let stream = pinned_connection(s, &hello).await?;
        step(
            s,
            "its greeting",
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello),
        )
        .await?
    } else {
        let implicit = if s.security == "tls" {
            Some(tls(s).map_err(Outcome::failed)?)
        } else {
            None
        };
        step(
            s,
            "its greeting",
            AsyncSmtpConnection::connect_tokio1((host, s.port), Some(STEP), &hello, implicit, None),
        )
        .await?
    };
    if s.security == "starttls" && !pinned {
        if !conn.can_starttls() {
            return Err(Outcome::failed(format!(
                "the mail server does not offer STARTTLS{}",
                likely_cause(s)
            )));
        }
        let params = tls(s).map_err(Outcome::failed)?;
        step(s, "STARTTLS", conn.starttls(params, &hello)).await?;
    }
    if !s.username.trim().is_empty() {
        use lettre::transport::smtp::authentication::Mechanism;
        let credentials = Credentials::new(s.username.trim().to_string(), s.password.clone());
        step(
            s,
            "signing in",
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
        )
        .await?;
    }
    let mut options = Vec::new();
    let non_ascii = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(Outcome::failed(
                "an address is not plain ASCII and the mail server does not take SMTPUTF8",
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    step(
        s,
        "MAIL FROM",
        conn.command(Mail::new(envelope.from().cloned(), options)),
    )
    .await?;
    for to in envelope.to() {
        step(s, "RCPT TO", conn.command(Rcpt::new(to.clone(), Vec::new()))).await?;
    }
    step(s, "DATA", conn.command(Data)).await?;
    // The message goes now: past this point an answer that does not come may hide a delivery.
    match tokio::time::timeout(FINAL_ANSWER, conn.message(bytes)).await {
        Ok(Ok(_)) => {
            let _ = tokio::time::timeout(STEP, conn.quit()).await;
            Ok(())
        }
        Ok(Err(e)) if e.is_permanent() => Err(Outcome::failed(format!("the mail server refused it: {e}"))),
        Ok(Err(e)) if e.is_transient() => Err(Outcome::Retry {
            reason: format!("the mail server asked to try later: {e}"),
            after: None,
        }),
        Ok(Err(_)) => Err(Outcome::Unknown {
            reason: "the connection to the mail server broke before its final answer: the message may have been sent"
                .into(),
        }),
        Err(_) => Err(Outcome::Unknown {
            reason: format!(
                "the mail server gave no final answer within {} seconds: the message may have been sent",
                FINAL_ANSWER.as_secs()
            ),
        }),
    }
}

/// The connection to a server whose certificate was pasted: made and encrypted here, up to
/// where lettre takes over (see `smtp_tls`).
async fn pinned_connection(
    s: &Settings,
    hello: &lettre::transport::smtp::extension::ClientId,
) -> Result<super::smtp_tls::Encrypted, Outcome> {
    use super::smtp_tls::{Failure, connect_implicit, connect_starttls, pinned_config};
    let config = pinned_config(&s.ca_pem).map_err(Outcome::failed)?;
    let host = s.host.trim();
    let connecting = async {
        if s.security == "tls" {
            connect_implicit(host, s.port, config).await
        } else {
            connect_starttls(host, s.port, &hello.to_string(), config).await
        }
    };
    match tokio::time::timeout(STEP, connecting).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(Failure::Unreachable)) => Err(unreachable(s)),
        Ok(Err(Failure::NoStartTls)) => Err(Outcome::failed(format!(
            "the mail server does not offer STARTTLS{}",
            likely_cause(s)
        ))),
        Ok(Err(Failure::Refused(line))) => Err(Outcome::failed(format!("the mail server refused STARTTLS: {line}"))),
        Err(_) => Err(Outcome::Retry {
            reason: format!(
                "the mail server did not finish its greeting and TLS within {} seconds{}",
                STEP.as_secs(),
                likely_cause(s)
            ),
            after: None,
        }),
    }
}

/// One sentence for every failure below SMTP (refused, unreachable, no such name, TLS, not a
/// mail server), so the settings cannot be used to tell open ports from closed.
fn unreachable(s: &Settings) -> Outcome {
    Outcome::Retry {
        reason: format!(
            "could not reach the mail server at the configured host and port (nothing answered there, it refused, or TLS failed){}",
            likely_cause(s)
        ),
        after: None,
    }
}

/// One step before the message, within `STEP`: what its failure means (nothing was sent).
async fn step<T>(
    s: &Settings,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Outcome> {
    match tokio::time::timeout(STEP, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) if e.is_permanent() => Err(Outcome::failed(format!("the mail server refused it: {e}"))),
        Ok(Err(e)) if e.is_transient() => Err(Outcome::Retry {
            reason: format!("the mail server asked to try later: {e}"),
            after: None,
        }),
        Ok(Err(e)) if e.is_client() => Err(Outcome::failed(format!("the mail server could not be used: {e}"))),
        Ok(Err(_)) => Err(unreachable(s)),
        Err(_) => Err(Outcome::Retry {
            reason: format!(
                "the mail server did not answer {what} within {} seconds{}",
                STEP.as_secs(),
                likely_cause(s)
            ),
            after: None,
        }),
    }
}

/// What the port and security settings suggest when an exchange fails: the usual mismatch
/// of implicit TLS and STARTTLS. Judged from the settings alone, never from what answered.
pub fn likely_cause(s: &Settings) -> &'static str {
    match (s.security.as_str(), s.port) {
        ("starttls" | "none", 465) => "; port 465 expects TLS from the start, not STARTTLS: set security to tls",
        ("tls", 587 | 25) => "; ports 587 and 25 expect STARTTLS, not TLS from the start: set security to starttls",
        _ => "",
    }
}

/// TLS with the system's trusted roots (no certificate pasted).
fn tls(s: &Settings) -> Result<TlsParameters, String> {
    let host = s.host.trim();
    TlsParameters::builder(host.to_string())
        .build_rustls()
        .map_err(|e| format!("TLS for {host} could not be set up: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(security: &str, port: u16) -> Settings {
        Settings {
            host: "mail.example.com".into(),
            port,
            security: security.into(),
            username: String::new(),
            password: String::new(),
            from: "a@example.com".into(),
            reply_to: String::new(),
            ca_pem: String::new(),
            per_minute: None,
        }
    }

    #[test]
    fn the_usual_port_and_security_mismatches_are_named() {
        assert!(likely_cause(&settings("starttls", 465)).contains("port 465 expects TLS"));
        assert!(likely_cause(&settings("tls", 587)).contains("expect STARTTLS"));
        assert_eq!(likely_cause(&settings("starttls", 587)), "");
        assert_eq!(likely_cause(&settings("tls", 465)), "");
    }
}
