//! TLS to a mail server whose certificate the owner pasted (`ca_pem`): a home server's usual
//! self-signed certificate, or the CA that signed its certificate.
//!
//! webpki refuses a certificate marked as a CA when it is the server's own (`CaUsedAsEndEntity`),
//! and `openssl req -x509 -newkey …` marks its certificate so. A pasted certificate is therefore
//! *pinned*: the server may present exactly that certificate (the handshake still proves it holds
//! the key), or one that chains to it and names the host. lettre takes no rustls configuration of
//! ours, so this module makes the TLS connection itself — implicit TLS, or the STARTTLS exchange
//! up to the handshake — and hands lettre the encrypted stream.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The certificates in `pem`, each one a readable X.509 certificate, or why they cannot be used.
pub fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    const HOW: &str = "paste the certificate as PEM, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----";
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.trim().as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| HOW.to_string())?;
    if certs.is_empty() {
        return Err(HOW.into());
    }
    for cert in &certs {
        // Reading it as a trust anchor parses the whole certificate: base64 that decodes to
        // something else is refused here, when it is pasted, not at the first send.
        RootCertStore::empty()
            .add(cert.clone())
            .map_err(|_| "the pasted text is PEM but not a readable certificate".to_string())?;
    }
    Ok(certs)
}

/// A client configuration that trusts the pasted certificates as described above.
pub fn pinned_config(pem: &str) -> Result<Arc<ClientConfig>, String> {
    let pinned = certificates(pem)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    // A certificate webpki cannot take as a root (an unusual self-signed one) is still pinned.
    let (_added, _ignored) = roots.add_parsable_certificates(pinned.iter().cloned());
    let chained = if roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("the pasted certificate cannot be trusted: {e}"))?,
        )
    };
    let verifier = Pinned {
        pinned,
        chained,
        provider: provider.clone(),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS could not be set up: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

struct Pinned {
    pinned: Vec<CertificateDer<'static>>,
    chained: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pinned({} certificates)", self.pinned.len())
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.chained {
            Some(chained) => chained.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Why a connection failed before SMTP began, in the words the send reports.
#[derive(Debug)]
pub enum Failure {
    /// The network or the TLS handshake (one sentence for all: see `smtp::step`).
    Unreachable,
    /// The server answered, but not as a mail server that offers STARTTLS.
    NoStartTls,
    /// The server refused STARTTLS or answered something that is not SMTP.
    Refused(String),
}

/// Implicit TLS (port 465): TLS from the first byte.
pub async fn connect_implicit(host: &str, port: u16, config: Arc<ClientConfig>) -> Result<Encrypted, Failure> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|_| Failure::Unreachable)?;
    let tls = handshake(host, tcp, config).await?;
    Ok(Encrypted { greeting: None, tls })
}

/// STARTTLS (port 587): the plain greeting and EHLO, STARTTLS, the handshake. lettre then reads
/// a greeting that the server does not send again after STARTTLS, so the stream gives it the one
/// the server sent at the start, and lettre's EHLO over TLS is the fresh one RFC 3207 asks for.
pub async fn connect_starttls(
    host: &str,
    port: u16,
    hello: &str,
    config: Arc<ClientConfig>,
) -> Result<Encrypted, Failure> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|_| Failure::Unreachable)?;
    let mut plain = BufReader::new(tcp);
    let greeting = reply(&mut plain).await?;
    if !greeting.starts_with("220") {
        return Err(Failure::Refused(first_line(&greeting)));
    }
    plain
        .get_mut()
        .write_all(format!("EHLO {hello}\r\n").as_bytes())
        .await
        .map_err(|_| Failure::Unreachable)?;
    let ehlo = reply(&mut plain).await?;
    let offers = ehlo
        .lines()
        .any(|l| l.len() > 4 && l[4..].trim().eq_ignore_ascii_case("STARTTLS"));
    if !ehlo.starts_with("250") || !offers {
        return Err(Failure::NoStartTls);
    }
    plain
        .get_mut()
        .write_all(b"STARTTLS\r\n")
        .await
        .map_err(|_| Failure::Unreachable)?;
    let go = reply(&mut plain).await?;
    if !go.starts_with("220") {
        return Err(Failure::Refused(first_line(&go)));
    }
    // Nothing may follow the 220 before the handshake (a server that sends more is not
    // trusted with it: the bytes would be read as if they came over TLS).
    if !plain.buffer().is_empty() {
        return Err(Failure::Refused(
            "the server sent data after agreeing to STARTTLS".into(),
        ));
    }
    let tls = handshake(host, plain.into_inner(), config).await?;
    Ok(Encrypted {
        greeting: Some(greeting.into_bytes()),
        tls,
    })
}

async fn handshake(host: &str, tcp: TcpStream, config: Arc<ClientConfig>) -> Result<TlsStream<TcpStream>, Failure> {
    let name = ServerName::try_from(host.to_string()).map_err(|_| Failure::Unreachable)?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|_| Failure::Unreachable)
}

/// One SMTP reply, every line of it (`250-…` continues, `250 …` ends), at most 64 KiB.
async fn reply(r: &mut BufReader<TcpStream>) -> Result<String, Failure> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).await.map_err(|_| Failure::Unreachable)?;
        if n == 0 || all.len() > 64 * 1024 {
            return Err(Failure::Unreachable);
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return Ok(all);
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().chars().take(200).collect()
}

/// An encrypted connection to the mail server, for lettre's `connect_with_transport`.
pub struct Encrypted {
    /// The greeting to give lettre before reading from TLS (after STARTTLS).
    greeting: Option<Vec<u8>>,
    tls: TlsStream<TcpStream>,
}

impl fmt::Debug for Encrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Encrypted")
    }
}

impl AsyncRead for Encrypted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if let Some(mut greeting) = self.greeting.take() {
            let n = greeting.len().min(buf.remaining());
            buf.put_slice(&greeting[..n]);
            greeting.drain(..n);
            if !greeting.is_empty() {
                self.greeting = Some(greeting);
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for Encrypted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for Encrypted {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.tls.get_ref().0.peer_addr()
    }
}
