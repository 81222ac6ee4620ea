//! An in-process SMTP server for tests: speaks enough of RFC 5321 (EHLO, STARTTLS, AUTH
//! PLAIN/LOGIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, QUIT) for lettre to deliver real
//! mail to it, and keeps what it received. `refuse` makes it answer DATA with a chosen reply.
//! `start_tls` offers STARTTLS with a certificate for `localhost` from its own test CA.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[derive(Debug, Clone, Default)]
pub struct Received {
    /// `(username, password)` from AUTH.
    pub auth: Option<(String, String)>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent (CRLF line ends, dots unstuffed).
    pub data: String,
    /// It came over TLS (after STARTTLS).
    pub encrypted: bool,
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// When set, the reply to the end of DATA (e.g. "550 5.1.1 no such user").
    pub refuse: Arc<Mutex<Option<String>>>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// TLS from the first byte (port 465 style) instead of STARTTLS.
    implicit: bool,
    /// The test CA's certificate (PEM), for the client to trust.
    pub ca_pem: String,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::listen(SmtpSink::default()).await
    }

    /// A sink that offers STARTTLS, with a certificate for `localhost` signed by a CA of its
    /// own (`ca_pem`).
    pub async fn start_tls() -> SmtpSink {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "pi-crm test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap();
        SmtpSink::listen(SmtpSink {
            tls: Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
            ca_pem: ca.pem(),
            ..SmtpSink::default()
        })
        .await
    }

    /// A sink whose certificate is what `openssl req -x509 -newkey rsa -subj /CN=localhost`
    /// makes for a home server: self-signed, marked as a CA (basicConstraints CA:TRUE), the
    /// host only in the common name (no subjectAltName). `ca_pem` is that certificate. With
    /// `implicit`, TLS starts at the first byte (port 465); otherwise after STARTTLS.
    pub async fn start_self_signed(implicit: bool) -> SmtpSink {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        let cert = params.self_signed(&key).unwrap();
        let der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], der)
            .unwrap();
        SmtpSink::listen(SmtpSink {
            tls: Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
            implicit,
            ca_pem: cert.pem(),
            ..SmtpSink::default()
        })
        .await
    }

    async fn listen(mut sink: SmtpSink) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        sink.port = listener.local_addr().unwrap().port();
        let shared = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = shared.clone();
                tokio::spawn(async move {
                    match (&sink.tls, sink.implicit) {
                        (Some(acceptor), true) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                let _ = sink.session(Box::new(tls), true).await;
                            }
                        }
                        _ => {
                            let _ = sink.session(Box::new(stream), false).await;
                        }
                    }
                });
            }
        });
        sink
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn session(
        &self,
        stream: Box<dyn Io>,
        encrypted: bool,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send + '_>> {
        Box::pin(self.converse(stream, encrypted))
    }

    async fn converse(&self, stream: Box<dyn Io>, encrypted: bool) -> std::io::Result<()> {
        let mut lines = BufReader::new(stream);
        let mut current = Received {
            encrypted,
            ..Received::default()
        };
        // No second greeting after STARTTLS; one at the start of an implicit-TLS session.
        if !encrypted || self.implicit {
            lines.write_all(b"220 sink.test ESMTP ready\r\n").await?;
        }
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                let starttls = if self.tls.is_some() && !encrypted {
                    "250-STARTTLS\r\n"
                } else {
                    ""
                };
                format!("250-sink.test\r\n{starttls}250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8")
            } else if upper == "STARTTLS" && !encrypted && self.tls.is_some() {
                lines.write_all(b"220 2.0.0 ready to start TLS\r\n").await?;
                let acceptor = self.tls.clone().unwrap();
                let upgraded = acceptor.accept(lines.into_inner()).await?;
                return self.session(Box::new(upgraded), true).await;
            } else if upper.starts_with("AUTH PLAIN") {
                let b64 = command.split_whitespace().nth(2).unwrap_or_default();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                let parts: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8_lossy(p).into())
                    .collect();
                current.auth = Some((
                    parts.get(1).cloned().unwrap_or_default(),
                    parts.get(2).cloned().unwrap_or_default(),
                ));
                "235 2.7.0 accepted".into()
            } else if upper.starts_with("AUTH LOGIN") {
                let b64 = base64::engine::general_purpose::STANDARD;
                lines.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
                let user = String::from_utf8_lossy(&b64.decode(line.trim()).unwrap_or_default()).to_string();
                lines.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
                let pass = String::from_utf8_lossy(&b64.decode(line.trim()).unwrap_or_default()).to_string();
                current.auth = Some((user, pass));
                "235 2.7.0 accepted".into()
            } else if upper.starts_with("MAIL FROM:") {
                current.mail_from = command[10..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .split('>')
                    .next()
                    .unwrap_or_default()
                    .into();
                "250 2.1.0 ok".into()
            } else if upper.starts_with("RCPT TO:") {
                current
                    .rcpt_to
                    .push(command[8..].trim().trim_matches(['<', '>']).into());
                "250 2.1.5 ok".into()
            } else if upper == "DATA" {
                lines.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(
                        line.strip_prefix('.')
                            .filter(|_| line.starts_with(".."))
                            .unwrap_or(&line),
                    );
                }
                current.data = data;
                match self.refuse.lock().unwrap().clone() {
                    Some(reply) => reply,
                    None => {
                        let done = std::mem::replace(
                            &mut current,
                            Received {
                                encrypted,
                                ..Received::default()
                            },
                        );
                        self.received.lock().unwrap().push(done);
                        "250 2.0.0 queued".into()
                    }
                }
            } else if upper == "RSET" {
                current = Received {
                    encrypted,
                    ..Received::default()
                };
                "250 ok".into()
            } else if upper == "QUIT" {
                lines.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else if upper == "NOOP" {
                "250 ok".into()
            } else {
                "502 5.5.2 not implemented".into()
            };
            lines.write_all(format!("{reply}\r\n").as_bytes()).await?;
        }
    }
}
